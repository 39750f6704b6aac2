#!/usr/bin/env bash
# Load benchmark of admission (issue #4): the same mock route open and behind an API key with a
# usage plan (per-key throttle, quota, usage metering) and a method throttle, on the memory
# store and on Redis, against a bare hyper server, in the same run.
#
#   bench/limits.sh [SECONDS] [CONNECTIONS] [ROUNDS]     (defaults: 10 s, 64 connections, 3 rounds)
#
# Servers are pinned to CPU 0 and wrk to CPU 1 (see bench/lib.sh); the number that compares
# routes is the gateway's CPU time per request. The Redis rows run a second gateway with
# `--store redis://…` against a redis-server of this script's own (on CPU 1, beside wrk: a
# 2-core machine has nowhere else to put it), and also report redis-server's CPU per request.
# The limits in bench/apis/bench.kdl are far above what wrk can send: every request is admitted.
# Needs wrk, taskset and (for the Redis rows) redis-server.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
cargo build --release --quiet -p tollgate-bench
cargo build --quiet -p tollgate --bin tollgate

KEY=bench-key-value-0123456789abcdefghij
target/debug/tollgate keys create --api-keys "$TMP/keys.json" --name load --plan load \
  --value "$KEY" --api bench/apis/bench.kdl >/dev/null 2>&1

start bare target/release/bare-hyper 127.0.0.1:0
BARE=$URL BARE_PID=$PID
start gateway target/release/bench-gateway --listen 127.0.0.1:0 --log error --api-keys "$TMP/keys.json"
GW=$URL GW_PID=$PID

REDIS_PID=
if command -v redis-server >/dev/null; then
  REDIS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  taskset -c 1 redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$TMP" >/dev/null &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  for _ in $(seq 100); do (echo PING >/dev/tcp/127.0.0.1/"$REDIS_PORT") 2>/dev/null && break; sleep 0.05; done
  REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  target/debug/tollgate keys create --store "$REDIS_URL" --name load --plan load --value "$KEY" >/dev/null 2>&1
  start redisgw target/release/bench-gateway --listen 127.0.0.1:0 --log error --store "$REDIS_URL" --redis-timeout-ms 2000
  RGW=$URL RGW_PID=$PID
else
  echo "bench: redis-server is not installed; the Redis rows are skipped" >&2
fi

table_header
for round in $(seq "$ROUNDS"); do
  measure bare "bare hyper (reference)" "$BARE_PID" "$BARE/status"
  measure open "tollgate GET /prod/open (mock, no limits)" "$GW_PID" "$GW/prod/open"
  measure keyed "tollgate GET /prod/keyed (API key, plan throttle + quota, method throttle; memory)" "$GW_PID" "$GW/prod/keyed" -H "x-api-key: $KEY"
  if [ -n "$REDIS_PID" ]; then
    EXTRA_PID=$REDIS_PID measure redis "tollgate GET /prod/keyed (same limits; Redis store)" "$RGW_PID" "$RGW/prod/keyed" -H "x-api-key: $KEY"
  fi
done
echo
awk -v bare="$(median "$TMP/cpu-bare")" -v open="$(median "$TMP/cpu-open")" -v keyed="$(median "$TMP/cpu-keyed")" \
    'BEGIN { printf "Median server CPU per request: bare %.2f µs, open %.2f µs (%.2fx bare), keyed %.2f µs (%.2fx bare, %.2fx open)\n", bare, open, open / bare, keyed, keyed / bare, keyed / open }'
if [ -n "$REDIS_PID" ]; then
  awk -v open="$(median "$TMP/cpu-open")" -v redis="$(median "$TMP/cpu-redis")" \
      'BEGIN { printf "Median gateway CPU per request on Redis: %.2f µs (%.2fx open)\n", redis, redis / open }'
fi
