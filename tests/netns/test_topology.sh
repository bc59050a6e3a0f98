#!/bin/bash
# ctest netns/topology: a 3-path topology shaped 20/10/5 Mbit/s comes up,
# every path answers ping both ways, the shaping and the default route are
# what was asked, and teardown leaves no namespace behind.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
topo=$here/topology.sh
fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "must run as root (network namespaces, veth, tc); not skipped"
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
