#!/usr/bin/env bash
# Document rendering at national scale (issue: HTML < 100 ms, DOCX < 500 ms, < 100 MB):
# loads the national dataset into a fresh SQLite file, turns it into a national plan (4
# conferences, 40 agenda items, all 3,321 bridge points with their 13,284 attending units)
# and times rendering it as HTML, text and DOCX. See bench/README.md, "Documents".
#
# usage: bash bench/documents.sh            (BENCH_ITERATIONS, default 20)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/bench/out
mkdir -p "$OUT"
cd "$ROOT"
DB=$OUT/documents.sqlite
rm -f "$DB" "$DB-wal" "$DB-shm"
cargo bench --bench national --quiet -- load --database-url "sqlite://$DB?mode=rwc" \
  | grep -E '^(BULK_LOAD_SECONDS|count )'
# The peak RSS is the process's own VmHWM (PEAK_RSS_MB), loading and rendering included.
cargo bench --bench national --quiet -- documents \
  --database-url "sqlite://$DB?mode=rwc" --iterations "${BENCH_ITERATIONS:-20}" \
  | tee "$OUT/documents.txt"
