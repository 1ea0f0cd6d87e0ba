#!/usr/bin/env bash
# Install Debian packages only when missing. `run`: fonts for PDFs; `test`: also PostgreSQL 15
# and Chromium for the suite's database and browser runs.
set -euo pipefail
need=${1:-test}
missing=()
# The PDFs' fonts, by the paths app/fonts.py reads: DejaVu Sans; Noto for Arabic, Hebrew and
# symbols (core), Chinese, Japanese and Korean (cjk); Noto Color Emoji for emoji.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
[ -f /usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf ] || missing+=(fonts-noto-core)
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing+=(fonts-noto-color-emoji)
if [ "$need" = test ]; then
  [ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "Please install: ${missing[*]} (apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
  echo "Installing ${missing[*]} ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
