#!/usr/bin/env bash
# Runs the whole test suite: first installs what is missing (scripts/setup.sh: Node.js,
# npm, Debian's Chromium, a Vietnamese font, playwright-core), then
# `cargo test --workspace --all-features`. Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --workspace --all-features "$@"
