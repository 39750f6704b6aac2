#!/usr/bin/env bash
# Load benchmark of the response cache (issue #5): a cache hit against the bare hyper server, the
# bare server sending the same headers a hit carries, and the same mock route uncached, in the
# same run.
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
start bare-headers target/release/bare-hyper 127.0.0.1:0 --gateway-headers
BAREH=$URL BAREH_PID=$PID
start gateway target/release/bench-gateway --listen 127.0.0.1:0 --log error
GW=$URL GW_PID=$PID

curl -fsS -o /dev/null "$GW/hot/open"   # fill the entry
table_header
for round in $(seq "$ROUNDS"); do
  measure bare "bare hyper (reference)" "$BARE_PID" "$BARE/status"
  measure bareh "bare hyper sending a hit's headers" "$BAREH_PID" "$BAREH/status"
  measure open "tollgate GET /prod/open (mock, uncached)" "$GW_PID" "$GW/prod/open"
  measure hit "tollgate GET /hot/open (cache hit)" "$GW_PID" "$GW/hot/open"
done
echo
# Rounds are interleaved so that each shares the machine's state of the moment; the ratio within
# a round is the steadier estimate on a noisy machine (both are reported).
paste "$TMP/cpu-bare" "$TMP/cpu-open" "$TMP/cpu-hit" "$TMP/cpu-bareh" \
    | awk '{ print $2 / $1, $3 / $1, $4 / $1, $3 / $4 }' >"$TMP/ratios"
for i in 1 2 3 4; do awk -v i=$i '{ print $i }' "$TMP/ratios" >"$TMP/ratio-$i"; done
awk -v open="$(median "$TMP/ratio-1")" -v hit="$(median "$TMP/ratio-2")" \
    -v bareh="$(median "$TMP/ratio-3")" -v hith="$(median "$TMP/ratio-4")" \
    'BEGIN { printf "Median of the per-round ratios: mock %.3fx bare, cache hit %.3fx bare; bare sending a hit'"'"'s headers %.3fx bare, cache hit %.3fx that\n", open, hit, bareh, hith }'
awk -v bare="$(median "$TMP/cpu-bare")" -v bareh="$(median "$TMP/cpu-bareh")" -v open="$(median "$TMP/cpu-open")" -v hit="$(median "$TMP/cpu-hit")" \
    'BEGIN { printf "Median server CPU per request: bare %.2f µs, bare with a hit'"'"'s headers %.2f µs (%.2fx bare), mock %.2f µs (%.2fx bare), cache hit %.2f µs (%.2fx bare)\n", bare, bareh, bareh / bare, open, open / bare, hit, hit / bare }'
