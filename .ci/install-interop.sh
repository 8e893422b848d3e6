#!/usr/bin/env bash
# Installs what the interop tests (test/interop) need on a bare Debian
# machine, all started by the tests themselves on 127.0.0.1:
# - Debian's vsftpd and OpenSSH server, installed as packages;
# - Debian's pure-ftpd, unpacked into /opt/onss-interop/pure-ftpd: its package
#   conflicts with vsftpd's (both provide ftp-server), and the tests only need
#   its binary, which uses libraries the machine already has.
# Runs as root. Does nothing for what is already there.
set -euo pipefail

PURE_FTPD_ROOT=/opt/onss-interop/pure-ftpd
have_all() {
  [ -x /usr/sbin/vsftpd ] && [ -x /usr/sbin/sshd ] && [ -x "$PURE_FTPD_ROOT/usr/sbin/pure-ftpd" ]
}

if have_all; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-interop: vsftpd, sshd and pure-ftpd are needed and installing them needs root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
# policy-rc.d keeps the packages' own services from starting: the tests run their own.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y --no-install-recommends vsftpd openssh-server
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  for service in vsftpd ssh; do
    systemctl disable --now "$service" >/dev/null 2>&1 || true
  done
fi
if [ ! -x "$PURE_FTPD_ROOT/usr/sbin/pure-ftpd" ]; then
  work=$(mktemp -d)
  (cd "$work" && chmod 777 . && apt-get download pure-ftpd)
  mkdir -p "$PURE_FTPD_ROOT"
  dpkg-deb -x "$work"/pure-ftpd_*.deb "$PURE_FTPD_ROOT"
  rm -rf "$work"
fi
have_all
