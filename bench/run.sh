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
source bench/lib.sh
cargo build --release --quiet -p example-petstore -p tollgate-bench

start bare target/release/bare-hyper 127.0.0.1:0
BARE=$URL BARE_PID=$PID
start gateway target/release/petstore --listen 127.0.0.1:0 --log error
GW=$URL GW_PID=$PID

table_header
for round in $(seq "$ROUNDS"); do
  measure bare "bare hyper (reference)" "$BARE_PID" "$BARE/status"
  measure mock "tollgate GET /prod/status (mock)" "$GW_PID" "$GW/prod/status"
  measure handler "tollgate GET /prod/pets/1 (handler)" "$GW_PID" "$GW/prod/pets/1"
  measure template "tollgate GET /prod/greeting?name=Ana (templated mock)" "$GW_PID" "$GW/prod/greeting?name=Ana"
done
echo
awk -v bare="$(median "$TMP/cpu-bare")" -v mock="$(median "$TMP/cpu-mock")" -v handler="$(median "$TMP/cpu-handler")" \
    -v template="$(median "$TMP/cpu-template")" \
    'BEGIN { printf "Median server CPU per request: bare %.2f µs, mock %.2f µs (%.2fx), handler %.2f µs (%.2fx), templated mock %.2f µs (%.2fx)\n", bare, mock, mock / bare, handler, handler / bare, template, template / bare }'
