#!/usr/bin/env bash
# What the document-format tests need from Debian: a TrueType CJK font for fpdf2 to write test PDFs
# (fonts-noto-cjk ships CFF-flavoured OpenType collections, which fpdf2 cannot embed).
# Idempotent: installs only what is missing.
set -euo pipefail
if [ ! -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends fonts-droid-fallback >/dev/null
fi
