#!/bin/bash
# ctest netns/topology: a 3-path topology shaped 20/10/5 Mbit/s comes up,
# every path answers ping both ways, the shaping and the default route are
# what was asked, and teardown leaves no namespace behind.
#
#   test_topology.sh                      the above
#   test_topology.sh --emulated LINKEM    ctest netns/topology-emulated: a
#       2-path topology with the emulator namespace in the middle; with a
#       transparent linkem (LINKEM binary) running there, every path answers
#       both ways, offloads are off on all four ends of path 1, and teardown
#       removes all three namespaces.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
topo=$here/topology.sh
fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "must run as root (network namespaces, veth, tc); not skipped"
if [ "${1:-}" = --emulated ]; then
	linkem=${2:?usage: test_topology.sh --emulated LINKEM}
	[ -x "$linkem" ] || fail "$linkem not built"
	p="nte$$-"
	dir=$(mktemp -d)
	lpid=
	trap '[ -z "$lpid" ] || kill "$lpid" 2>/dev/null || true; "$topo" down "$p" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
	eval "$("$topo" up "$p" 2 --emulated)"
	[ "$PATHS" = 2 ] || fail "info says $PATHS paths"
	[ "$EM_NS" = "${p}em" ] || fail "info says EM_NS=${EM_NS:-}"
	[ "$PATH2_EM_GW_IF" = g2 ] && [ "$PATH2_EM_RX_IF" = r2 ] || fail "info lacks the emulator interfaces"
	for dev in "$GW_NS path1" "$EM_NS g1" "$EM_NS r1" "$RX_NS path1"; do
		set -- $dev
		ip netns exec "$1" ethtool -k "$2" | grep -q '^tcp-segmentation-offload: off' ||
			fail "TSO still on for $2 in $1"
		ip netns exec "$1" ethtool -k "$2" | grep -q '^generic-receive-offload: off' ||
			fail "GRO still on for $2 in $1"
	done
	cat >"$dir/p.conf" <<-EOF
		links = ( { name = "l1"; a = "g1"; b = "r1"; }, { name = "l2"; a = "g2"; b = "r2"; } );
	EOF
	ip netns exec "$EM_NS" "$linkem" -c "$dir/p.conf" -s "$dir/ctl" 2>"$dir/log" &
	lpid=$!
	for _ in $(seq 100); do
		[ -S "$dir/ctl" ] && break
		kill -0 "$lpid" 2>/dev/null || fail "linkem exited: $(cat "$dir/log")"
		sleep 0.05
	done
	[ -S "$dir/ctl" ] || fail "linkem control socket never appeared"
	"$topo" check "$p" || fail "ping check through linkem"
	kill "$lpid"
	wait "$lpid" || true
	lpid=
	"$topo" down "$p"
	if ip netns list | grep -qE "^${p}(gw|em|rx)( |$)"; then
		fail "namespaces left after down"
	fi
	trap - EXIT
	rm -rf "$dir"
	echo "PASS netns/topology-emulated"
	exit 0
fi

p="nt$$-"
trap '"$topo" down "$p" >/dev/null 2>&1 || true' EXIT

eval "$("$topo" up "$p" 3 1=20mbit 2=10mbit 3=5mbit)"
[ "$PATHS" = 3 ] || fail "info says $PATHS paths"
"$topo" check "$p" || fail "ping check"

rates=(20Mbit 10Mbit 5Mbit)
for k in 1 2 3; do
	for ns in "$GW_NS" "$RX_NS"; do
		tc -n "$ns" qdisc show dev "path$k" | grep -q "tbf .* rate ${rates[k - 1]} " ||
			fail "path$k in $ns: no TBF at ${rates[k - 1]}: $(tc -n "$ns" qdisc show dev "path$k")"
	done
done
def=$(ip -n "$GW_NS" route show default)
[[ $def == "default via 10.200.1.1 dev path1"* ]] || fail "gateway default route: $def"

"$topo" down "$p"
if ip netns list | grep -qE "^${p}(gw|rx)( |$)"; then
	fail "namespaces left after down"
fi
trap - EXIT
echo "PASS netns/topology"
