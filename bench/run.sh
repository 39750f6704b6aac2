#!/usr/bin/env bash
# Load benchmark: tollgate's petstore against a bare hyper server, in the same run.
#
#   bench/run.sh [SECONDS] [CONNECTIONS] [ROUNDS]     (defaults: 10 s, 64 connections, 3 rounds)
#
# Each server runs pinned to CPU 0 and wrk to CPU 1, so the load generator does not steal the
# server's core. Besides requests/s and latency, it reports each server's CPU time per request:
# (utime + stime from /proc/PID/stat over the measured run) / requests. On 2 cores wrk saturates
# near the bare server's rate, so CPU per request is the number that compares servers.
# Loopback TCP makes single runs noisy (the kernel bills softirq work to whichever side is
# running), so targets are measured in interleaved rounds and compared by their medians.
# Needs wrk (Debian: apt-get install wrk) and taskset (util-linux).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNECTIONS=${2:-64}
ROUNDS=${3:-3}

for tool in wrk taskset; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed (Debian: apt-get install $tool)" >&2; exit 1; }
done

cargo build --release --quiet -p example-petstore -p tollgate-bench
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

# start NAME COMMAND...: runs the server on CPU 0, waits for its "listening on" line, and sets
# URL and PID.
start() {
  local name=$1; shift
  taskset -c 0 "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PID=$!
  PIDS+=("$PID")
  for _ in $(seq 100); do
    grep -q '^listening on' "$TMP/$name.out" 2>/dev/null && break
    sleep 0.05
  done
  URL=$(sed -n 's/^listening on //p' "$TMP/$name.out" | head -1)
  [ -n "$URL" ] || { echo "bench: $name did not start:" >&2; cat "$TMP/$name.err" >&2; exit 1; }
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)

start bare target/release/bare-hyper 127.0.0.1:0
BARE=$URL BARE_PID=$PID
start gateway target/release/petstore --listen 127.0.0.1:0 --log error
GW=$URL GW_PID=$PID

# measure KEY LABEL PID URL
measure() {
  local key=$1 label=$2 pid=$3 url=$4
  taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d2s "$url" >/dev/null   # warm-up
  local before after out
  before=$(cpu_ticks "$pid")
  out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$url")
  after=$(cpu_ticks "$pid")
  local requests rps p50 p99 errors
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {printf "%s ", $0}')
  local cpu_us
  cpu_us=$(awk -v t=$((after - before)) -v hz="$TCK" -v n="$requests" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$round" "$label" "$rps" "$p50" "$p99" "$cpu_us" "${errors:-none}"
  echo "$cpu_us" >>"$TMP/cpu-$key"
}

echo "wrk: 1 thread, $CONNECTIONS connections, ${DURATION}s per row, HTTP/1.1 keep-alive; servers on CPU 0, wrk on CPU 1; $ROUNDS interleaved rounds"
echo
echo "| round | target | requests/s | p50 | p99 | server CPU µs/request | errors |"
echo "|---|---|---|---|---|---|---|"
for round in $(seq "$ROUNDS"); do
  measure bare "bare hyper (reference)" "$BARE_PID" "$BARE/status"
  measure mock "tollgate GET /prod/status (mock)" "$GW_PID" "$GW/prod/status"
  measure handler "tollgate GET /prod/pets/1 (handler)" "$GW_PID" "$GW/prod/pets/1"
  measure template "tollgate GET /prod/greeting?name=Ana (templated mock)" "$GW_PID" "$GW/prod/greeting?name=Ana"
done
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
awk -v bare="$(median "$TMP/cpu-bare")" -v mock="$(median "$TMP/cpu-mock")" -v handler="$(median "$TMP/cpu-handler")" \
    -v template="$(median "$TMP/cpu-template")" \
    'BEGIN { printf "Median server CPU per request: bare %.2f µs, mock %.2f µs (%.2fx), handler %.2f µs (%.2fx), templated mock %.2f µs (%.2fx)\n", bare, mock, mock / bare, handler, handler / bare, template, template / bare }'
