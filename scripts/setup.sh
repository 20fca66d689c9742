#!/usr/bin/env bash
# Installs what building and testing need beyond Rust, when it is missing: Node.js and
# npm (server/build.rs fetches the phone app's npm package with them), Debian's
# Chromium and a font with Vietnamese diacritics (the browser tests), PostgreSQL (the
# tests start their own throwaway cluster with its initdb), through apt as root or
# with sudo; then the browser tests' npm packages (playwright-core).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s fonts-noto-core >/dev/null 2>&1 || missing+=(fonts-noto-core)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
