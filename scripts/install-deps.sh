#!/bin/sh
# Installs everything modemd needs to build, test and run its demo on Debian 12.
# Idempotent; needs root (or sudo).
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PKGS="build-essential cmake pkg-config clang clang-format python3 \
  libudev-dev libserialport-dev libconfig-dev libmnl-dev libjson-c-dev libsystemd-dev libsodium-dev nettle-dev \
  libcmocka-dev umockdev libumockdev-dev \
  ppp user-mode-linux kmod iproute2 procps psmisc util-linux systemd tshark iperf3 \
  openvpn mptcpd ethtool \
  mobile-broadband-provider-info"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "install-deps: installing:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
