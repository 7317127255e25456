#!/usr/bin/env bash
# HTTP benchmark: drives `stepwise serve` (release build, SQLite store in a temp dir) with the
# shared boto3 harness (../shared/bench/sfn_bench.py, read in place), and moto's emulator in the
# same run when `--with-moto` is given, so the figures compare as ratios on the same machine.
#   bench/http.sh [--with-moto] [extra sfn_bench.py args, e.g. --workloads W1,W4 --n 200]
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=../shared/bench
[ -f "$SHARED/sfn_bench.py" ] || { echo "no $SHARED/sfn_bench.py: the shared bench material is absent" >&2; exit 1; }
WITH_MOTO=0
if [ "${1:-}" = "--with-moto" ]; then WITH_MOTO=1; shift; fi
PY=python3
if ! $PY -c "import boto3" 2>/dev/null; then
  [ -x target/pyenv/bin/python ] || { python3 -m venv target/pyenv && target/pyenv/bin/pip install -q boto3; }
  PY=target/pyenv/bin/python
fi
cargo build --release -q -p stepwise-cli
OUT=target/bench-http
mkdir -p "$OUT"
DATA=$(mktemp -d)
PORT=${PORT:-18083}
target/release/stepwise serve --port "$PORT" --data-dir "$DATA" --log-level warn &
SW=$!
trap 'kill $SW 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
$PY "$SHARED/sfn_bench.py" --endpoint "http://127.0.0.1:$PORT" --label stepwise \
  --server-pid "$SW" --jsonl "$OUT/results.jsonl" "$@"
if [ "$WITH_MOTO" = 1 ]; then
  MOTO=$(PORT=5001 bash "$SHARED/start-moto.sh")
  $PY "$SHARED/sfn_bench.py" --endpoint http://127.0.0.1:5001 --label moto \
    --server-pid "$MOTO" --jsonl "$OUT/results.jsonl" "$@" || true
  kill "$MOTO" 2>/dev/null || true
fi
echo "results appended to $OUT/results.jsonl"
