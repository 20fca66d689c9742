#!/usr/bin/env bash
# Runs the whole test suite: first installs what is missing (scripts/setup.sh: Node.js,
# npm, Debian's Chromium, a Vietnamese font, PostgreSQL, playwright-core), then
# `cargo test --workspace --all-features`, then the end-to-end suite again on
# PostgreSQL (a throwaway cluster the tests start and stop themselves). Extra
# arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --workspace --all-features "$@"
TUNGNHA_TEST_STORE=postgres cargo test -p tungnha-tests --test e2e "$@"
