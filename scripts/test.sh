#!/usr/bin/env bash
# Runs the whole test suite. The browser tests drive Debian's Chromium with
# playwright-core from npm, so this first installs what is missing: the chromium,
# nodejs, npm and Noto font packages (apt, as root or through sudo), and the npm
# packages pinned in tests/browser/package-lock.json. Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Vietnamese diacritics in screenshots need a font that has them.
dpkg -s fonts-noto-core >/dev/null 2>&1 || missing+=(fonts-noto-core)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
cargo test --workspace --all-features "$@"
