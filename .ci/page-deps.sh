#!/usr/bin/env bash
# What the browser tests (pytest -m browser) need from Debian: chromium, driven through Playwright
# (installed by pip with the [test] extra; its own browser download, `playwright install`, is never used),
# and a CJK font so pages and the README screenshot show Chinese rather than boxes.
# Idempotent: installs only what is missing.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list 2>/dev/null | grep -qi "CJK" || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
