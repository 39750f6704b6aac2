#!/usr/bin/env bash
# Load benchmark of the response cache (issue #5): a cache hit against the bare hyper server and
# against the same mock route uncached, in the same run.
#
#   bench/cache.sh [SECONDS] [CONNECTIONS] [ROUNDS]     (defaults: 10 s, 64 connections, 3 rounds)
#
# Servers are pinned to CPU 0 and wrk to CPU 1 (see bench/lib.sh); the number that compares them
# is the server's CPU time per request. `GET /hot/open` is bench/apis/bench.kdl's mock on a stage
# with a memory cache: after the warm-up every request is a hit.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
cargo build --release --quiet -p tollgate-bench

start bare target/release/bare-hyper 127.0.0.1:0
BARE=$URL BARE_PID=$PID
start gateway target/release/bench-gateway --listen 127.0.0.1:0 --log error
GW=$URL GW_PID=$PID

curl -fsS -o /dev/null "$GW/hot/open"   # fill the entry
table_header
for round in $(seq "$ROUNDS"); do
  measure bare "bare hyper (reference)" "$BARE_PID" "$BARE/status"
  measure open "tollgate GET /prod/open (mock, uncached)" "$GW_PID" "$GW/prod/open"
  measure hit "tollgate GET /hot/open (cache hit)" "$GW_PID" "$GW/hot/open"
done
echo
awk -v bare="$(median "$TMP/cpu-bare")" -v open="$(median "$TMP/cpu-open")" -v hit="$(median "$TMP/cpu-hit")" \
    'BEGIN { printf "Median server CPU per request: bare %.2f µs, mock %.2f µs (%.2fx bare), cache hit %.2f µs (%.2fx bare)\n", bare, open, open / bare, hit, hit / bare }'
