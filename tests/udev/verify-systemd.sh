#!/bin/sh
# Lint what systemd/ installs: the configured modemd.service with
# `systemd-analyze verify`, and the sysusers.d and tmpfiles.d entries by
# applying them to a scratch root. Needs systemd-analyze (package systemd).
# usage: verify-systemd.sh BUILD/systemd/modemd.service SRC/systemd
unit=${1:?usage: verify-systemd.sh modemd.service systemd-src-dir}
src=${2:?usage: verify-systemd.sh modemd.service systemd-src-dir}
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "FAIL: systemd-analyze not installed (scripts/install-deps.sh installs systemd)"
	exit 1
fi
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
fail=0

# The unit names the installed binary, which may not exist yet: verify a copy
# whose ExecStart is /bin/true.
sed 's|^ExecStart=[^ ]*|ExecStart=/bin/true|' "$unit" >"$dir/modemd.service" || exit 1
out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$dir/modemd.service" 2>&1)
rc=$?
[ -n "$out" ] && printf '%s\n' "$out"
# Any complaint about our own unit counts, even with exit code 0.
if [ $rc -ne 0 ] || printf '%s\n' "$out" | grep -q 'modemd.service'; then
	echo "FAIL: systemd-analyze verify found problems in modemd.service"
	fail=1
fi

# sysusers, then tmpfiles (which needs the group) in a scratch root.
root="$dir/root"
mkdir -p "$root/etc" "$root/run" "$root/var/lib"
cp "$src/modemd.tmpfiles" "$dir/modemd-tmpfiles.conf"
if command -v systemd-sysusers >/dev/null 2>&1; then
	if ! systemd-sysusers --root="$root" "$src/modemd.sysusers" ||
		! grep -q '^modemd:' "$root/etc/group"; then
		echo "FAIL: systemd-sysusers did not create group modemd"
		fail=1
	fi
fi
if command -v systemd-tmpfiles >/dev/null 2>&1; then
	if ! systemd-tmpfiles --root="$root" --create "$dir/modemd-tmpfiles.conf"; then
		echo "FAIL: systemd-tmpfiles rejected modemd.tmpfiles"
		fail=1
	fi
	for d in run/modemd var/lib/modemd; do
		mode=$(stat -c %a "$root/$d" 2>/dev/null)
		if [ "$mode" != 750 ]; then
			echo "FAIL: /$d mode '$mode', want 750"
			fail=1
		fi
	done
fi
[ $fail -eq 0 ] && echo "ok: modemd.service, sysusers and tmpfiles entries"
exit $fail
