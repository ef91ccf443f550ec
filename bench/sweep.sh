#!/usr/bin/env bash
# Latency against concurrency: after bench/run.sh has loaded the national dataset, serve
# it again and run wrk on the keyset and mixed families with 1, 2, 4, 8 and 16
# connections. Prints a Markdown table; figures are reported, never asserted.
#
# usage: bash bench/sweep.sh [sqlite] [postgres]    (default: both)
# environment: BENCH_DURATION (default 10s), HOINGHI_BENCH_POSTGRES_URL as for run.sh,
#              CARGO_TARGET_DIR as usual.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/bench/out
PG_BASE=${HOINGHI_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
DURATION=${BENCH_DURATION:-10s}
BACKENDS=("$@")
[[ ${#BACKENDS[@]} -gt 0 ]] || BACKENDS=(sqlite postgres)

# The same URLs as bench/run.sh (keep the two in step).
KEYSET="/api/v1/delegates?per_page=100&after=0 /api/v1/delegates?per_page=100&after=900 /api/v1/delegates?per_page=100&after=9900 /api/v1/delegates?per_page=100&after=24900 /api/v1/delegates?per_page=100&after=49900 /api/v1/delegates?per_page=100&after=99800 /api/v1/units?per_page=100&after=1 /api/v1/units?per_page=100&after=5000 /api/v1/units?per_page=100&after=20000 /api/v1/units?per_page=100&after=39000"
MIXED="/api/v1/delegates?per_page=100&page=1 /api/v1/delegates?per_page=100&page=10 /api/v1/delegates?per_page=100&page=100 /api/v1/delegates?per_page=100&page=250 /api/v1/delegates?per_page=100&page=500 /api/v1/delegates?per_page=100&page=1000 /api/v1/units?per_page=100&page=1 /api/v1/units?per_page=100&page=50 /api/v1/units?per_page=100&page=200 /api/v1/units?per_page=100&page=400 /api/v1/units?kind=people_committee&per_page=100 /api/v1/units?kind=people_committee&per_page=100&page=10 /api/v1/units?kind=people_committee&per_page=100&page=34 /api/v1/bridge-points?per_page=100&conference=2 /api/v1/bridge-points?per_page=100&conference=6 /api/v1/bridge-points?per_page=100&conference=15 /api/v1/bridge-points?per_page=100&conference=21 /api/v1/bridge-points?per_page=100&conference=35"

die() { printf 'sweep.sh: %s\n' "$*" >&2; exit 1; }
BIN=$(cd "$ROOT" && cargo build --release --bin hoinghi --message-format=json-render-diagnostics |
  jq -r 'select(.reason == "compiler-artifact" and .target.name == "hoinghi" and .executable != null) | .executable' | tail -n 1)
[[ -x $BIN ]] || die "cannot build hoinghi"

SERVER_PID=
stop() { [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; SERVER_PID=; }
trap stop EXIT

echo "| backend | endpoints | connections | req/s | p50 (ms) | p90 (ms) | p99 (ms) | p99 < 20 ms |"
echo "|---|---|---:|---:|---:|---:|---:|---|"
for backend in "${BACKENDS[@]}"; do
  case $backend in
    sqlite) url="sqlite://$OUT/national.sqlite?mode=rw" ;;
    postgres) url="${PG_BASE%/*}/hoinghi_bench" ;;
    *) die "unknown backend $backend" ;;
  esac
  TOKEN=$(sed -n 's/^TOKEN=//p' "$OUT/$backend-load.txt")
  [[ -n $TOKEN ]] || die "no $OUT/$backend-load.txt: run bench/run.sh $backend first"
  PORT=$((20000 + RANDOM % 20000))
  (cd "$OUT" && exec env -u HOINGHI_BENCH_POSTGRES_URL -u HOINGHI_CONFIG -u RUST_LOG \
    HOINGHI_DATABASE_URL="$url" HOINGHI_BIND="127.0.0.1:$PORT" HOINGHI_LOG=warn "$BIN" serve) \
    >"$OUT/$backend-sweep-server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  export TOKEN
  BENCH_PATHS=$KEYSET wrk -t2 -c16 -d2s -s "$ROOT/bench/auth.lua" "http://127.0.0.1:$PORT" >/dev/null
  for family in keyset mixed; do
    paths=$KEYSET; [[ $family == mixed ]] && paths=$MIXED
    for c in 1 2 4 8 16; do
      t=$(( c < 2 ? 1 : 2 ))
      line=$(BENCH_PATHS=$paths wrk -t"$t" -c"$c" -d"$DURATION" -s "$ROOT/bench/auth.lua" "http://127.0.0.1:$PORT" | grep '^BENCH ')
      val() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
      p99=$(val p99_ms)
      ok=$(awk -v p="$p99" 'BEGIN { print (p < 20 ? "yes" : "**no**") }')
      echo "| $backend | $family | $c | $(val rps) | $(val p50_ms) | $(val p90_ms) | $p99 | $ok |"
    done
  done
  stop
done
