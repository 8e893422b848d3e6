#!/usr/bin/env bash
# Installs what the interop tests (test/interop) need on a bare Debian
# machine: Debian's vsftpd, which the tests start themselves on 127.0.0.1.
# Runs as root. Does nothing when vsftpd is already there.
set -euo pipefail

if [ -x /usr/sbin/vsftpd ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-interop: /usr/sbin/vsftpd is missing and installing it needs root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends vsftpd
# The tests run their own vsftpd instances; the packaged service is not needed.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now vsftpd >/dev/null 2>&1 || true
fi
test -x /usr/sbin/vsftpd
