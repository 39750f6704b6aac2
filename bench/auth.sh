#!/usr/bin/env bash
# Load benchmark of the JWT authorizer (issue #6): the same mock route open and behind
# `auth users` (an ES256 token checked against a JWKS file, then served from the verified-token
# cache), against a bare
# hyper server, in the same run.
#
#   bench/auth.sh [SECONDS] [CONNECTIONS] [ROUNDS]     (defaults: 10 s, 64 connections, 3 rounds)
#
# Servers are pinned to CPU 0 and wrk to CPU 1 (see bench/lib.sh); the number that compares
# routes is the gateway's CPU time per request. The token comes from `bench-token` (signed with
# the benchmark-only key bench/apis/bench-es256.pk8, valid for a day); the gateway reads
# bench/apis/jwks.json relative to its working directory, the repository root. A fourth row
# sends the same `Authorization` header to the open route, so the header's bytes and the
# verification can be told apart. Needs wrk and taskset.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
cargo build --release --quiet -p tollgate-bench

TOKEN=$(target/release/bench-token 86400)
start bare target/release/bare-hyper 127.0.0.1:0
BARE=$URL BARE_PID=$PID
start gateway target/release/bench-gateway --listen 127.0.0.1:0 --log error
GW=$URL GW_PID=$PID

# The token must be accepted (a 401 would make every row an error), and refused without it.
curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "$GW/prod/jwt"
status=$(curl -sS -o /dev/null -w '%{http_code}' "$GW/prod/jwt")
[ "$status" = 401 ] || { echo "bench: GET /prod/jwt without a token answered $status, not 401" >&2; exit 1; }

echo "token: ES256, $(( ${#TOKEN} + 7 ))-byte Authorization value"
table_header
for round in $(seq "$ROUNDS"); do
  measure bare "bare hyper (reference)" "$BARE_PID" "$BARE/status"
  measure open "tollgate GET /prod/open (mock, open)" "$GW_PID" "$GW/prod/open"
  measure openh "tollgate GET /prod/open + the same Authorization header (not checked)" "$GW_PID" "$GW/prod/open" -H "Authorization: Bearer $TOKEN"
  measure jwt "tollgate GET /prod/jwt (mock, JWT authorizer, ES256)" "$GW_PID" "$GW/prod/jwt" -H "Authorization: Bearer $TOKEN"
done
echo
awk -v bare="$(median "$TMP/cpu-bare")" -v open="$(median "$TMP/cpu-open")" \
    -v openh="$(median "$TMP/cpu-openh")" -v jwt="$(median "$TMP/cpu-jwt")" \
    'BEGIN { printf "Median server CPU per request: bare %.2f µs, open %.2f µs (%.2fx bare), open + header %.2f µs, jwt %.2f µs (%.2fx bare); jwt/open %.2fx (target <= 1.4x), jwt - open %.2f µs\n", bare, open, open / bare, openh, jwt, jwt / bare, jwt / open, jwt - open }'
