#!/usr/bin/env bash
# Runs every Stepwise test: formatting, lints, unit tests, the conformance corpus replay
# (../shared/conformance, skipped with a message where absent), the CLI end-to-end tests and
# the API server's boto3 tests.
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

# boto3 for the API end-to-end tests (crates/api/tests): a pinned venv under target/, made
# once and reused. Without python3 (or without PyPI) those tests skip with a message.
BOTO3_VERSION=1.43.11
PYENV=target/pyenv
have_boto3() {
  "$PYENV/bin/python" -c "import sys, boto3; sys.exit(boto3.__version__ != '$BOTO3_VERSION')" \
    >/dev/null 2>&1
}
if command -v python3 >/dev/null 2>&1 && ! have_boto3; then
  echo "== installing boto3 $BOTO3_VERSION into $PYENV"
  rm -rf "$PYENV"
  if ! { python3 -m venv "$PYENV" >/dev/null 2>&1 \
    && "$PYENV/bin/python" -m pip install -q --disable-pip-version-check \
      "boto3==$BOTO3_VERSION" >/dev/null; }; then
    echo "warning: could not install boto3 into $PYENV; the boto3 tests will skip" >&2
  fi
fi
if have_boto3; then
  export STEPWISE_PYTHON="$PWD/$PYENV/bin/python"
fi

if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  # Reference JSONata 2.0.6 for crates/asl/tests/jsonata_diff.rs (skipped without it).
  echo "== npm ci (reference JSONata)"
  npm ci --prefix crates/asl/tests/jsonata_ref --no-audit --no-fund --silent \
    || echo "npm ci failed: the JSONata differential test will be skipped" >&2
fi
# The aws CLI (v1 from PyPI) for crates/e2e/tests/aws_cli.rs: its own venv, since it pins botocore.
AWSCLI_VERSION=1.46.3
AWSENV=target/awscli-env
if command -v python3 >/dev/null 2>&1 && ! "$AWSENV/bin/aws" --version 2>&1 | grep -q "aws-cli/$AWSCLI_VERSION"; then
  echo "== installing awscli $AWSCLI_VERSION into $AWSENV"
  rm -rf "$AWSENV"
  { python3 -m venv "$AWSENV" >/dev/null 2>&1 \
    && "$AWSENV/bin/python" -m pip install -q --disable-pip-version-check "awscli==$AWSCLI_VERSION" >/dev/null; } \
    || echo "warning: could not install the aws CLI into $AWSENV; its test will skip" >&2
fi
if [ -x "$AWSENV/bin/aws" ]; then
  export STEPWISE_AWS_CLI="$PWD/$AWSENV/bin/aws"
fi

# Headless Chromium for the console's browser test (crates/console/tests/browser.rs): Debian's
# chromium package, driven by playwright-core pinned in crates/console/tests/browser. The test
# skips with a message when either is missing.
if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM_PATH:-}" ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "== apt-get install chromium (console browser test)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
      || echo "warning: could not install chromium; the console browser test will be skipped" >&2
  else
    echo "note: chromium not installed and apt-get unavailable or not root: the console browser test will be skipped" >&2
  fi
fi
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  echo "== npm ci (console browser test)"
  npm ci --prefix crates/console/tests/browser --no-audit --no-fund --silent \
    || echo "npm ci failed: the console browser test will be skipped" >&2
fi
echo "== cargo test"
# The API end-to-end test runs the real `stepwise` binary: build it first.
cargo build -p stepwise-cli --locked --quiet
cargo test --workspace --locked
