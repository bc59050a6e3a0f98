#!/bin/sh
# The main job, end to end: three simulated SIM7100 modems on the seed
# carriers (China Unicom 46001, China Mobile 46000, China Telecom 46003 CDMA
# #777 with user/password), a real pppd per carrier, and modemd dialing them
# with real chat + pppd, inside user-mode Linux (kernel PPP). Prints
# `mpctl status` when all are connected, then shuts down cleanly.
# Exit 0 only if all three connected.
#
#   scripts/demo.sh [BUILD_DIR]      (default: ./build; build it first:
#                                     cmake -S . -B build && make -C build)
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-build}" 2>/dev/null && pwd) || { echo "demo: no build directory ${1:-build}" >&2; exit 2; }
for exe in modemd/modemd mpctl/mpctl; do
	[ -x "$BUILD/$exe" ] || { echo "demo: $BUILD/$exe not built" >&2; exit 2; }
done
WORK="$BUILD/demo-run"
rm -rf "$WORK"
mkdir -p "$WORK"
exec "$SRC/tests/uml/uml-run" --timeout 170 --dir "$WORK" -- \
	python3 "$SRC/tests/e2e/demo_guest.py" --build "$BUILD" --workdir "$WORK/work"
