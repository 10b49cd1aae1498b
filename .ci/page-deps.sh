#!/usr/bin/env bash
# Browser tests (pytest -m browser) drive Debian's chromium through Playwright; install it when missing.
# Idempotent: does nothing when /usr/bin/chromium is already there. Playwright itself comes from pip
# (the [test] extra); its own browser download (`playwright install`) is never used.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # fonts-noto-cjk: the page is Chinese; without a CJK font the screenshot shows boxes
  apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null
fi
