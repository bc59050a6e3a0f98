#!/bin/sh
# Lint a udev rules file with `udevadm verify` (systemd >= 254). Older udevadm
# (Debian 12 has 252) or none: skip (exit 77), it is a lint, not behaviour.
rules=${1:?usage: verify-rules.sh FILE}
udevadm=$(command -v udevadm || ls /usr/bin/udevadm /bin/udevadm /sbin/udevadm 2>/dev/null | head -n1)
if [ -z "$udevadm" ]; then
	echo "SKIP: udevadm not installed"
	exit 77
fi
if ! "$udevadm" verify --help >/dev/null 2>&1; then
	echo "SKIP: $("$udevadm" --version) has no 'udevadm verify'"
	exit 77
fi
exec "$udevadm" verify --resolve-names=never "$rules"
