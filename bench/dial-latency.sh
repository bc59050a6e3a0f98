#!/bin/sh
# Dial latency: time from a simulated modem's appearance to pppd started and
# to link up, with 1 and with 4 modems at once, with the simulator's default
# delays and with none, inside user-mode Linux (real chat + pppd). Prints a
# small table. Build first; nothing is built here.
#
#   bench/dial-latency.sh [BUILD_DIR]     (default: ./build)
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-build}" 2>/dev/null && pwd) || { echo "dial-latency: no build directory ${1:-build}" >&2; exit 2; }
for exe in modemd/modemd mpctl/mpctl; do
	[ -x "$BUILD/$exe" ] || { echo "dial-latency: $BUILD/$exe not built" >&2; exit 2; }
done
WORK="$BUILD/bench-dial-latency"
rm -rf "$WORK"
mkdir -p "$WORK"
exec "$SRC/tests/uml/uml-run" --timeout 400 --dir "$WORK" -- \
	python3 "$SRC/tests/e2e/bench_dial.py" --build "$BUILD" --workdir "$WORK/work"
