#!/bin/bash
# Gateway/receiver test topology in network namespaces: N veth paths between
# a gateway namespace and a receiver namespace, each path its own subnet,
# optionally rate-shaped with TBF per direction. Usage: docs/transport.md.
#
#   topology.sh up    PREFIX NPATHS [--emulated] [SHAPE...]
#                                                create (prints the info lines)
#   topology.sh down  PREFIX                     delete everything
#   topology.sh info  PREFIX                     KEY=VALUE lines, for `eval`/source
#   topology.sh check PREFIX                     ping every path both ways
#
# SHAPE: K=RATE[,burst=SIZE][,latency=TIME]   path K, both directions
#        K:up=...   gateway -> receiver only   (TBF on the gateway's end)
#        K:down=... receiver -> gateway only   (TBF on the receiver's end)
# RATE/SIZE/TIME in tc(8) units: 20mbit, 32kb, 50ms.
#
# Namespaces PREFIXgw and PREFIXrx; interface pathK on both sides;
# path K is 10.200.K.0/24 and fd00:200:K::/64 (gateway .2 / ::2, receiver
# .1 / ::1); the receiver also has 10.201.0.1 and fd00:201::1 on lo (its
# "public" address). The gateway's default routes point at path 1 only:
# using the other paths is the engine's job (route_link_policy).
#
# --emulated: a third namespace PREFIXem sits in the middle of every path,
# gateway pathK <-> em gK and em rK <-> receiver pathK (two veth pairs, same
# addresses as without it), for the link emulator (tests/linkem, docs/linkem.md)
# to bridge gK <-> rK; nothing crosses until linkem runs there. Offloads
# (TSO/GSO/GRO/tx checksum) are off on all four ends so packets cross as real
# MTU-sized frames; the em namespace has IPv6 disabled and no addresses, so
# it sends nothing of its own. `info` then adds EM_NS and PATHk_EM_GW_IF /
# PATHk_EM_RX_IF.
set -euo pipefail

MAX_PATHS=16
DEF_BURST=32kb
DEF_LATENCY=50ms
RX_ADDR=10.201.0.1
RX_ADDR6=fd00:201::1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "topology.sh: $*" >&2; exit 1; }

check_prefix() {
	[[ ${1:-} =~ ^[A-Za-z0-9_-]{1,32}$ ]] || die "PREFIX must be 1-32 of [A-Za-z0-9_-], got '${1:-}'"
}

need_root() {
	[ "$(id -u)" = 0 ] || die "must run as root (ip netns, veth, tc)"
}

ns_exists() {
	ip netns list | grep -qE "^$1( |\$)"
}

npaths() {
	ip -n "$1gw" -o link show 2>/dev/null | grep -c ': path[0-9]*@' || true
}

info() {
	local p=$1 n k
	ns_exists "${p}gw" || die "no topology '$p' (namespace ${p}gw missing)"
	n=$(npaths "$p")
	echo "GW_NS=${p}gw"
	echo "RX_NS=${p}rx"
	echo "PATHS=$n"
	echo "RX_ADDR=$RX_ADDR"
	echo "RX_ADDR6=$RX_ADDR6"
	if ns_exists "${p}em"; then
		echo "EM_NS=${p}em"
	fi
	for ((k = 1; k <= n; k++)); do
		echo "PATH${k}_IF=path$k"
		echo "PATH${k}_GW_ADDR=10.200.$k.2"
		echo "PATH${k}_RX_ADDR=10.200.$k.1"
		echo "PATH${k}_GW_ADDR6=fd00:200:$k::2"
		echo "PATH${k}_RX_ADDR6=fd00:200:$k::1"
		if ns_exists "${p}em"; then
			echo "PATH${k}_EM_GW_IF=g$k"
			echo "PATH${k}_EM_RX_IF=r$k"
		fi
	done
}

# offloads_off NS IF: the emulator must see (and send) real frames.
offloads_off() {
	command -v ethtool >/dev/null || die "ethtool not installed (Debian: ethtool)"
	ip netns exec "$1" ethtool -K "$2" tso off gso off gro off tx off >/dev/null 2>&1 ||
		die "ethtool could not turn offloads off on $2 in $1"
}

# shape NS IF SPEC: SPEC is RATE[,burst=SIZE][,latency=TIME]
shape() {
	local ns=$1 dev=$2 spec=$3 rate burst=$DEF_BURST latency=$DEF_LATENCY opt
	IFS=, read -r rate opts <<<"$spec"
	[ -n "$rate" ] || die "empty rate in '$spec'"
	if [ -n "${opts:-}" ]; then
		IFS=, read -ra list <<<"$opts"
		for opt in "${list[@]}"; do
			case $opt in
			burst=?*) burst=${opt#burst=} ;;
			latency=?*) latency=${opt#latency=} ;;
			*) die "unknown shaping option '$opt' in '$spec'" ;;
			esac
		done
	fi
	tc -n "$ns" qdisc replace dev "$dev" root tbf rate "$rate" burst "$burst" latency "$latency" ||
		die "tc refused 'rate $rate burst $burst latency $latency' on $dev in $ns"
}

up() {
	local p=$1 n=$2 k spec dirs emulated=0 a
	local -a shapes=()
	shift 2
	for a in "$@"; do
		if [ "$a" = --emulated ]; then
			emulated=1
		else
			shapes+=("$a")
		fi
	done
	set -- ${shapes[@]+"${shapes[@]}"}
	if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > MAX_PATHS)); then
		die "NPATHS must be 1..$MAX_PATHS"
	fi
	# Validate every shape before creating anything.
	for spec in "$@"; do
		[[ $spec =~ ^([0-9]+)(:(up|down))?=.+$ ]] || die "bad SHAPE '$spec' (K[:up|:down]=RATE[,burst=..][,latency=..])"
		k=${BASH_REMATCH[1]}
		((k >= 1 && k <= n)) || die "SHAPE '$spec': no path $k"
	done
	if ns_exists "${p}gw" || ns_exists "${p}rx" || ns_exists "${p}em"; then
		die "topology '$p' exists already (topology.sh down $p)"
	fi
	# Half-built is worse than nothing: any failure from here removes it.
	undo_prefix=$p
	trap '[ -z "$undo_prefix" ] || down "$undo_prefix" >/dev/null 2>&1 || true' EXIT
	ip netns add "${p}gw"
	ip netns add "${p}rx"
	local g="ip -n ${p}gw" r="ip -n ${p}rx"
	$g link set lo up
	$r link set lo up
	$r addr add "$RX_ADDR/32" dev lo
	$r addr add "$RX_ADDR6/128" dev lo
	# Answer ARP only for addresses on the asking link, like a real
	# router: traffic for RX_ADDR must be routed, not assumed on-link.
	ip netns exec "${p}rx" sysctl -qw net.ipv4.conf.all.arp_ignore=1
	if ((emulated)); then
		ip netns add "${p}em"
		ip -n "${p}em" link set lo up
		# Before the interfaces exist, so they never get an IPv6 address.
		ip netns exec "${p}em" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "${p}em" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	fi
	for ((k = 1; k <= n; k++)); do
		if ((emulated)); then
			local e="ip -n ${p}em"
			$e link add "g$k" type veth peer name "path$k" netns "${p}gw"
			$e link add "r$k" type veth peer name "path$k" netns "${p}rx"
			$e link set "g$k" up
			$e link set "r$k" up
			offloads_off "${p}em" "g$k"
			offloads_off "${p}em" "r$k"
			offloads_off "${p}gw" "path$k"
			offloads_off "${p}rx" "path$k"
		else
			$g link add "path$k" type veth peer name "path$k" netns "${p}rx"
		fi
		$g addr add "10.200.$k.2/24" dev "path$k"
		$g addr add "fd00:200:$k::2/64" dev "path$k" nodad
		$r addr add "10.200.$k.1/24" dev "path$k"
		$r addr add "fd00:200:$k::1/64" dev "path$k" nodad
		$g link set "path$k" up
		$r link set "path$k" up
	done
	$g route add default via 10.200.1.1 dev path1
	$g -6 route add default via fd00:200:1::1 dev path1
	for spec in "$@"; do
		[[ $spec =~ ^([0-9]+)(:(up|down))?=(.+)$ ]]
		k=${BASH_REMATCH[1]}
		dirs=${BASH_REMATCH[3]:-both}
		[ "$dirs" = down ] || shape "${p}gw" "path$k" "${BASH_REMATCH[4]}"
		[ "$dirs" = up ] || shape "${p}rx" "path$k" "${BASH_REMATCH[4]}"
	done
	undo_prefix=
	info "$p"
}

down() {
	local p=$1 ns
	for ns in "${p}gw" "${p}em" "${p}rx"; do
		if ns_exists "$ns"; then
			ip netns del "$ns"
		fi
	done
}

# ping4 NS IFACE ADDR: one echo, 2 s to answer. No ping binary on the
# build machines: fall back to the repository's raw-socket pinger.
ping4() {
	local ns=$1 dev=$2 addr=$3
	if command -v ping >/dev/null; then
		ip netns exec "$ns" ping -q -n -c 1 -W 2 ${dev:+-I "$dev"} "$addr" >/dev/null
	else
		ip netns exec "$ns" python3 "$here/../uml/icmp_ping.py" -c 1 -W 2 ${dev:+-I "$dev"} "$addr" >/dev/null
	fi
}

check() {
	local p=$1 n k bad=0
	n=$(npaths "$p")
	((n > 0)) || die "no paths in topology '$p'"
	for ((k = 1; k <= n; k++)); do
		if ping4 "${p}gw" "path$k" "10.200.$k.1" && ping4 "${p}rx" "path$k" "10.200.$k.2"; then
			echo "path$k: ok (10.200.$k.2 <-> 10.200.$k.1)"
		else
			echo "path$k: FAILED (10.200.$k.2 <-> 10.200.$k.1)"
			bad=1
		fi
	done
	if ping4 "${p}gw" "" "$RX_ADDR"; then
		echo "receiver $RX_ADDR: ok (default route, path1)"
	else
		echo "receiver $RX_ADDR: FAILED (default route, path1)"
		bad=1
	fi
	return $bad
}

cmd=${1:-}
case $cmd in
up)
	(($# >= 3)) || die "usage: topology.sh up PREFIX NPATHS [--emulated] [SHAPE...]"
	check_prefix "$2"
	need_root
	up "${@:2}"
	;;
down | info | check)
	(($# == 2)) || die "usage: topology.sh $cmd PREFIX"
	check_prefix "$2"
	need_root
	"$cmd" "$2"
	;;
*)
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
