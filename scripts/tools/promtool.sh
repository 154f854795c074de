#!/usr/bin/env bash
# Installs promtool (Prometheus' own checker of the text exposition format, a client nobody
# here wrote) from Debian's `prometheus` package once, and prints its path. Later runs find
# it and print the path at once. The package's service is never started (no systemd here,
# and a policy-rc.d says no while it installs).
#
# Exits non-zero, saying why on stderr, when it cannot be installed (not root, apt fails).
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then command -v promtool; exit 0; fi
[ "$(id -u)" = 0 ] || { echo "promtool.sh: must run as root to apt-get install prometheus" >&2; exit 1; }

ours=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  ours=1
fi
trap '[ -n "$ours" ] && rm -f /usr/sbin/policy-rc.d' EXIT
echo "promtool.sh: installing the Debian package prometheus (for promtool)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 \
  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null; } \
  || { echo "promtool.sh: apt-get install prometheus failed" >&2; exit 1; }
command -v promtool
