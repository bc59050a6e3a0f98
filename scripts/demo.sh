#!/bin/sh
# The whole product without hardware (docs/demo.md): a gateway with three
# simulated SIM7100 modems on the seed carriers (China Unicom 46001, China
# Mobile 46000, China Telecom 46003 CDMA), a real pppd per carrier in its own
# network namespace, each carrier's path to the receiver through the link
# emulator (linkem) replaying a different real LTE trace, modemd dialing all
# three with real chat + pppd and bundling them (MP over UDP) to a modemd
# receiver in its own namespace. Prints `mpctl status` on both sides, runs
# iperf3 through the bundle and shows each link's share; shuts down cleanly.
# Exit 0 only if all of it worked.
#
#   scripts/demo.sh [BUILD_DIR] [-- DEMO_OPTIONS]   (default ./build; build it first:
#                                                   cmake -S . -B build && make -C build)
#   DEMO_OPTIONS: --seconds N (iperf3, default 10), --scale X (trace rate factor,
#                 default 0.15), --debug; see tests/e2e/demo_guest.py --help
#   DEMO_UML=auto|always|never   auto (default): user-mode Linux unless this
#                 kernel has PPP (/dev/ppp), then a private mount namespace here
#
# POSIX sh on purpose: ./run-demo runs it with sh.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=build
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
	B=$1
	shift
fi
[ "${1:-}" = "--" ] && shift
BUILD=$(cd "$B" 2>/dev/null && pwd) || { echo "demo: no build directory $B" >&2; exit 2; }
for exe in modemd/modemd mpctl/mpctl tests/linkem/linkem; do
	[ -x "$BUILD/$exe" ] || { echo "demo: $BUILD/$exe not built" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "demo: needs root (network namespaces, pppd)" >&2; exit 2; }
for tool in pppd chat iperf3 ethtool ip python3; do
	command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] ||
		{ echo "demo: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done
WORK="$BUILD/demo-run"
rm -rf "$WORK"
mkdir -p "$WORK"
set -- python3 "$SRC/tests/e2e/demo_guest.py" --build "$BUILD" --workdir "$WORK/work" "$@"

host_has_ppp() {
	[ -c /dev/ppp ] && return 0
	modprobe -q ppp_async 2>/dev/null && [ -c /dev/ppp ]
}

mode=${DEMO_UML:-auto}
if [ "$mode" = auto ]; then
	if host_has_ppp; then mode=never; else mode=always; fi
fi
case $mode in
always)
	echo "demo: this kernel has no PPP: running inside user-mode Linux (tests/uml/uml-run)"
	exec "$SRC/tests/uml/uml-run" --timeout 170 --dir "$WORK" -- "$@"
	;;
never)
	echo "demo: running on this kernel, in a private mount namespace (own /run)"
	for m in ppp_generic ppp_async tun veth; do modprobe -q "$m" 2>/dev/null || true; done
	# A private /run keeps the demo's sockets, namespaces and pppd's lock and
	# tdb files away from the host's (the same as inside user-mode Linux).
	# shellcheck disable=SC2016 # expanded by the inner shell
	exec unshare -m --propagation private sh -c \
		'mount -t tmpfs tmpfs /run && mkdir -p /run/lock /run/netns && exec "$@"' demo \
		timeout 170 "$@"
	;;
*)
	echo "demo: DEMO_UML must be auto, always or never" >&2
	exit 2
	;;
esac
