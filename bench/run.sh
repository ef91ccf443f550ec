#!/usr/bin/env bash
# National-scale benchmark of hoinghi on SQLite and PostgreSQL: bulk load time, idle RSS,
# and p50/p99 latency of paged lists under wrk. See bench/README.md.
#
# usage: bash bench/run.sh [sqlite] [postgres]        (default: both)
# environment:
#   HOINGHI_BENCH_POSTGRES_URL  server to create the `hoinghi_bench` database on
#                               (default postgres://postgres@127.0.0.1:5432/test)
#   BENCH_DURATION              wrk duration per loaded run (default 10s)
#   BENCH_CONNECTIONS           wrk connections (default 16), BENCH_THREADS (default 2)
#   BENCH_LOADER_ARGS           extra loader arguments, e.g. --no-analyze or --analyze
#   BENCH_SERIAL_DURATION       duration of the one-connection runs that measure service
#                               time without queueing (default 5s; 0 skips them)
#   BENCH_URL_DURATION          duration of the one-connection run of each single URL
#                               (default 2s; 0 skips them)
#   CARGO_TARGET_DIR            honoured as usual
# Figures are reported, never asserted; the script fails only when something is broken
# (a build, a load, wrong row counts, a server that does not answer).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/bench/out
LUA=$ROOT/bench/auth.lua
PG_BASE=${HOINGHI_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
THREADS=${BENCH_THREADS:-2}
SERIAL_DURATION=${BENCH_SERIAL_DURATION:-5s}
URL_DURATION=${BENCH_URL_DURATION:-2s}
read -r -a LOADER_ARGS <<<"${BENCH_LOADER_ARGS:-}"
BACKENDS=("$@")
[[ ${#BACKENDS[@]} -gt 0 ]] || BACKENDS=(sqlite postgres)

# The endpoint families measured (page size 100 everywhere). Conference ids are fixed by
# the loader: 1 is national, 2..35 are the provinces (6 = Hồ Chí Minh, the largest).
declare -A FAMILY=(
  [delegates]="/api/v1/delegates?per_page=100&page=1 /api/v1/delegates?per_page=100&page=10 /api/v1/delegates?per_page=100&page=100 /api/v1/delegates?per_page=100&page=250 /api/v1/delegates?per_page=100&page=500 /api/v1/delegates?per_page=100&page=1000"
  [units]="/api/v1/units?per_page=100&page=1 /api/v1/units?per_page=100&page=50 /api/v1/units?per_page=100&page=200 /api/v1/units?per_page=100&page=400"
  [units_kind]="/api/v1/units?kind=people_committee&per_page=100 /api/v1/units?kind=people_committee&per_page=100&page=10 /api/v1/units?kind=people_committee&per_page=100&page=34"
  [bridge_points]="/api/v1/bridge-points?per_page=100&conference=2 /api/v1/bridge-points?per_page=100&conference=6 /api/v1/bridge-points?per_page=100&conference=15 /api/v1/bridge-points?per_page=100&conference=21 /api/v1/bridge-points?per_page=100&conference=35"
)
# Keyset paging (`after=` the last id of the previous page) at the same depths as the
# offset pages above: delegates after 0, 900, …; units (in path order) after unit ids
# spread over the tree.
FAMILY[keyset]="/api/v1/delegates?per_page=100&after=0 /api/v1/delegates?per_page=100&after=900 /api/v1/delegates?per_page=100&after=9900 /api/v1/delegates?per_page=100&after=24900 /api/v1/delegates?per_page=100&after=49900 /api/v1/delegates?per_page=100&after=99800 /api/v1/units?per_page=100&after=1 /api/v1/units?per_page=100&after=5000 /api/v1/units?per_page=100&after=20000 /api/v1/units?per_page=100&after=39000"
FAMILIES=(mixed keyset delegates units units_kind bridge_points)
FAMILY[mixed]="${FAMILY[delegates]} ${FAMILY[units]} ${FAMILY[units_kind]} ${FAMILY[bridge_points]}"
ALL_URLS="${FAMILY[mixed]} ${FAMILY[keyset]}"

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 && return
  if [[ $1 == wrk ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing wrk"
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
    return
  fi
  die "$1 is required"
}

for tool in cargo jq curl wrk ss; do need "$tool"; done
mkdir -p "$OUT"

# --- build -------------------------------------------------------------------------------
log "building (release)"
cd "$ROOT"
executable() { jq -r --arg name "$1" 'select(.reason == "compiler-artifact" and .target.name == $name and .executable != null) | .executable' | tail -n 1; }
HOINGHI_BIN=$(cargo build --release --bin hoinghi --message-format=json-render-diagnostics | executable hoinghi)
LOADER_BIN=$(cargo build --release --bench national --message-format=json-render-diagnostics | executable national)
[[ -x $HOINGHI_BIN && -x $LOADER_BIN ]] || die "cannot find the built binaries"
echo "server: $HOINGHI_BIN" >&2
echo "loader: $LOADER_BIN" >&2

# --- helpers -----------------------------------------------------------------------------
SERVER_PID=
stop_server() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
trap stop_server EXIT

free_port() {
  local used port
  used=$(ss -Htan | awk '{print $4}' | sed 's/.*://' | sort -u)
  for _ in $(seq 200); do
    port=$((20000 + RANDOM % 30000))
    grep -qx "$port" <<<"$used" || { echo "$port"; return; }
  done
  die "no free port"
}

rss_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

# get PATH: the JSON body of an authenticated GET, failing on any non-2xx.
get() { curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$1"; }

check_eq() { [[ $2 == "$3" ]] || die "$1: expected $3, got $2"; echo "  ok  $1 = $2" >&2; }

# sql BACKEND URL QUERY: one value.
sql() {
  case $1 in
    sqlite) sqlite3 "$SQLITE_FILE" "$3" ;;
    postgres) psql -X -q -t -A -v ON_ERROR_STOP=1 "$2" -c "$3" ;;
  esac
}

declare -A RESULT

bench_backend() {
  local backend=$1 url
  case $backend in
    sqlite)
      need sqlite3
      SQLITE_FILE=$OUT/national.sqlite
      rm -f "$SQLITE_FILE" "$SQLITE_FILE-wal" "$SQLITE_FILE-shm"
      url="sqlite://$SQLITE_FILE?mode=rwc"
      ;;
    postgres)
      need psql
      local no_query=${PG_BASE%%\?*}
      local query=${PG_BASE#"$no_query"}
      url="${no_query%/*}/hoinghi_bench$query"
      log "postgres: recreating hoinghi_bench on ${no_query%/*}"
      psql -X -q -v ON_ERROR_STOP=1 "$PG_BASE" -c 'DROP DATABASE IF EXISTS hoinghi_bench WITH (FORCE)'
      psql -X -q -v ON_ERROR_STOP=1 "$PG_BASE" -c 'CREATE DATABASE hoinghi_bench'
      ;;
    *) die "unknown backend $backend (sqlite or postgres)" ;;
  esac

  RESULT[$backend.loadavg]=$(cut -d' ' -f1-3 /proc/loadavg)
  log "$backend: loading (load average before: ${RESULT[$backend.loadavg]})"
  "$LOADER_BIN" load --database-url "$url" "${LOADER_ARGS[@]}" | tee "$OUT/$backend-load.txt"
  RESULT[$backend.maintenance]=$(sed -n 's/^phase \(analyze\|vacuum (analyze)\) .*/\1/p' "$OUT/$backend-load.txt")
  [[ $backend == postgres ]] && RESULT[$backend.maintenance]+=" (server autovacuum: $(sql postgres "$url" 'SHOW autovacuum'))"
  TOKEN=$(sed -n 's/^TOKEN=//p' "$OUT/$backend-load.txt")
  [[ -n $TOKEN ]] || die "the loader printed no token"
  RESULT[$backend.bulk]=$(sed -n 's/^BULK_LOAD_SECONDS=//p' "$OUT/$backend-load.txt")
  RESULT[$backend.total]=$(sed -n 's/^TOTAL_SECONDS=//p' "$OUT/$backend-load.txt")

  log "$backend: checking the data"
  check_eq "units" "$(sql "$backend" "$url" 'SELECT COUNT(*) FROM unit')" 40000
  check_eq "bridge points" "$(sql "$backend" "$url" 'SELECT COUNT(*) FROM bridge_point')" 3321
  check_eq "delegates" "$(sql "$backend" "$url" 'SELECT COUNT(*) FROM delegate')" 100000
  check_eq "persons" "$(sql "$backend" "$url" 'SELECT COUNT(*) FROM person')" 100000
  check_eq "provinces" "$(sql "$backend" "$url" "SELECT COUNT(*) FROM unit WHERE parent_id = 1 AND kind = 'people_committee'")" 34
  check_eq "communes" "$(sql "$backend" "$url" "SELECT COUNT(*) FROM unit WHERE area_level = 'commune' AND kind = 'people_committee'")" 3321
  check_eq "units with a wrong path" "$(sql "$backend" "$url" \
    "SELECT COUNT(*) FROM unit c LEFT JOIN unit p ON p.id = c.parent_id WHERE c.path <> COALESCE(p.path, '/') || c.id || '/'")" 0
  check_eq "bridge-point delegates in another conference" "$(sql "$backend" "$url" \
    "SELECT COUNT(*) FROM delegate d JOIN bridge_point b ON b.id = d.bridge_point_id WHERE b.conference_id <> d.conference_id")" 0

  log "$backend: starting the server"
  PORT=$(free_port)
  # The server reads HOINGHI_* settings (and refuses unknown ones), so run it with a clean
  # set, outside the repository so that no ./hoinghi.toml is picked up.
  (cd "$OUT" && exec env -u HOINGHI_BENCH_POSTGRES_URL -u HOINGHI_CONFIG -u RUST_LOG \
    HOINGHI_DATABASE_URL="$url" HOINGHI_BIND="127.0.0.1:$PORT" HOINGHI_LOG=warn \
    "$HOINGHI_BIN" serve) >"$OUT/$backend-server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 150); do
    curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/$backend-server.log" >&2; die "the server exited"; }
    sleep 0.2
  done
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null || die "the server does not answer /healthz"
  sleep 3
  RESULT[$backend.rss_idle]=$(rss_kb "$SERVER_PID" VmRSS)
  echo "  idle VmRSS ${RESULT[$backend.rss_idle]} kB" >&2

  check_eq "GET /api/v1/delegates total" "$(get '/api/v1/delegates?per_page=100' | jq .total)" 100000
  check_eq "GET /api/v1/delegates items" "$(get '/api/v1/delegates?per_page=100' | jq '.items | length')" 100
  local path
  for path in $ALL_URLS; do
    [[ $(get "$path" | jq '.items | length') -gt 0 ]] || die "GET $path returned no items"
  done
  echo "  ok  every benchmarked URL answers 200 with items" >&2

  local family line
  log "$backend: wrk warm-up (2s)"
  TOKEN=$TOKEN BENCH_PATHS=${FAMILY[mixed]} wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s "$LUA" "http://127.0.0.1:$PORT" >/dev/null
  for family in "${FAMILIES[@]}"; do
    log "$backend: wrk $family ($DURATION)"
    TOKEN=$TOKEN BENCH_PATHS=${FAMILY[$family]} \
      wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$LUA" "http://127.0.0.1:$PORT" \
      | tee "$OUT/$backend-wrk-$family.txt" >&2
    line=$(grep '^BENCH ' "$OUT/$backend-wrk-$family.txt") || die "wrk printed no summary"
    RESULT[$backend.$family]=$line
  done
  if [[ ${SERIAL_DURATION%s} != 0 ]]; then
    for family in "${FAMILIES[@]}"; do
      log "$backend: wrk $family, one connection ($SERIAL_DURATION)"
      TOKEN=$TOKEN BENCH_PATHS=${FAMILY[$family]} \
        wrk -t1 -c1 -d"$SERIAL_DURATION" --latency -s "$LUA" "http://127.0.0.1:$PORT" \
        | tee "$OUT/$backend-wrk1-$family.txt" >&2
      line=$(grep '^BENCH ' "$OUT/$backend-wrk1-$family.txt") || die "wrk printed no summary"
      RESULT[$backend.serial.$family]=$line
    done
  fi
  if [[ ${URL_DURATION%s} != 0 ]]; then
    log "$backend: each URL alone, one connection ($URL_DURATION each)"
    : >"$OUT/$backend-wrk1-urls.txt"
    for path in $ALL_URLS; do
      line=$(TOKEN=$TOKEN BENCH_PATHS=$path wrk -t1 -c1 -d"$URL_DURATION" -s "$LUA" "http://127.0.0.1:$PORT" | grep '^BENCH ') \
        || die "wrk printed no summary"
      echo "$path $line" | tee -a "$OUT/$backend-wrk1-urls.txt" >&2
    done
  fi
  RESULT[$backend.rss_after]=$(rss_kb "$SERVER_PID" VmRSS)
  RESULT[$backend.rss_peak]=$(rss_kb "$SERVER_PID" VmHWM)
  stop_server
}

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
yes_no() { awk -v v="$1" -v t="$2" 'BEGIN { print (v < t) ? "yes" : "**no**" }'; }

for backend in "${BACKENDS[@]}"; do
  bench_backend "$backend"
done

# --- summary -----------------------------------------------------------------------------
{
  echo "# hoinghi national benchmark"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), wrk -t$THREADS -c$CONNECTIONS -d$DURATION on the same machine as the server."
  echo "Dataset: 40,000 units, 3,321 bridge points, 100,000 persons and 100,000 delegates."
  echo
  echo "| backend | bulk load (s) | loader total (s) | load < 10 s | idle RSS (MB) | RSS < 50 MB | RSS after wrk (MB) | peak RSS (MB) | load average before | after load |"
  echo "|---|---:|---:|---|---:|---|---:|---:|---|---|"
  for backend in "${BACKENDS[@]}"; do
    echo "| $backend | ${RESULT[$backend.bulk]} | ${RESULT[$backend.total]} | $(yes_no "${RESULT[$backend.bulk]}" 10) | $(mb "${RESULT[$backend.rss_idle]}") | $(yes_no "$(mb "${RESULT[$backend.rss_idle]}")" 50) | $(mb "${RESULT[$backend.rss_after]}") | $(mb "${RESULT[$backend.rss_peak]}") | ${RESULT[$backend.loadavg]} | ${RESULT[$backend.maintenance]:-nothing} |"
  done
  echo
  echo "| backend | endpoints | connections | req/s | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | p99 < 20 ms | non-2xx | socket errors |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"
  for backend in "${BACKENDS[@]}"; do
    for key in "$backend" "$backend.serial"; do
      [[ $key == *.serial ]] && connections=1 || connections=$CONNECTIONS
      for family in "${FAMILIES[@]}"; do
        r=${RESULT[$key.$family]:-}
        [[ -n $r ]] || continue
        echo "| $backend | $family | $connections | $(field "$r" rps) | $(field "$r" p50_ms) | $(field "$r" p90_ms) | $(field "$r" p99_ms) | $(field "$r" max_ms) | $(yes_no "$(field "$r" p99_ms)" 20) | $(field "$r" non2xx) | $(field "$r" socket_errors) |"
      done
    done
  done
  if [[ ${URL_DURATION%s} != 0 ]]; then
    echo
    echo "Each URL alone, one connection, $URL_DURATION (service time without queueing):"
    echo
    header="| URL" rule="|---"
    for stat in p50 p99; do
      for backend in "${BACKENDS[@]}"; do header+=" | $backend $stat (ms)"; rule+="|---:"; done
    done
    echo "$header |"
    echo "$rule|"
    for path in $ALL_URLS; do
      row="| \`$path\`"
      for backend in "${BACKENDS[@]}"; do
        r=$(awk -v p="$path" '$1 == p' "$OUT/$backend-wrk1-urls.txt")
        row+=" | $(field "$r" p50_ms)"
      done
      for backend in "${BACKENDS[@]}"; do
        r=$(awk -v p="$path" '$1 == p' "$OUT/$backend-wrk1-urls.txt")
        row+=" | $(field "$r" p99_ms)"
      done
      echo "$row |"
    done
  fi
  echo
  echo "Endpoint families (page size 100):"
  for family in "${FAMILIES[@]}"; do
    [[ $family == mixed ]] && { echo "- mixed: all of the URLs below, in turn"; continue; }
    echo "- $family: $(sed 's/ /, /g' <<<"${FAMILY[$family]}")"
  done
} | tee "$OUT/summary.md"
