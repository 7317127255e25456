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
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  # Reference JSONata 2.0.6 for crates/asl/tests/jsonata_diff.rs (skipped without it).
  echo "== npm ci (reference JSONata)"
  npm ci --prefix crates/asl/tests/jsonata_ref --no-audit --no-fund --silent \
    || echo "npm ci failed: the JSONata differential test will be skipped" >&2
fi
echo "== cargo test"
cargo test --workspace --locked
