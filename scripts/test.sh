#!/usr/bin/env bash
# Runs every Stepwise test: formatting, lints, unit tests, the conformance corpus replay
# (../shared/conformance, skipped with a message where absent) and the CLI end-to-end tests.
# Installs what it needs first, so it works on a fresh machine with only rustup/cargo.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust from https://rustup.rs" >&2
  exit 1
fi
if command -v rustup >/dev/null 2>&1; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
