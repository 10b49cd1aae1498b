#!/usr/bin/env bash
# The front-door tests (tests/serve/) start their own redis-server and nginx on loopback, and make a
# throwaway certificate with openssl; this installs Debian's packages when they are missing.
# Idempotent: installs only what is missing. The tests never use the system services the packages start.
set -euo pipefail
need=()
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || need+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
