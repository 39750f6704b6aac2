#!/usr/bin/env bash
# Instructions per validation (callgrind), tollgate vs jsonschema, on the benchmark's documents.
# Deterministic: the same binary and inputs give the same counts whatever else the machine does.
#
#   bench/validation-instructions.sh
#
# Each pipeline runs N and N+K times per document; the difference / K is the cost of one call
# without the set-up (document generation, validator construction). Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is not installed (Debian: apt-get install valgrind)" >&2; exit 1; }
cargo build --release --quiet -p tollgate-bench --example validation_count
BIN=target/release/examples/validation_count
count() { # PIPELINE CASE N -> instructions
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" "$1" "$2" "$3" 2>&1 | awk '/Collected/ {print $4}'
}
echo "| case | tollgate (one pass) | tollgate exact path | jsonschema | jsonschema macro | jsonschema / tollgate | macro / tollgate |"
echo "|---|---|---|---|---|---|---|"
for case in small_valid small_invalid medium_valid medium_invalid large_valid large_invalid; do
  case $case in small*) k=200 ;; medium*) k=20 ;; *) k=2 ;; esac
  declare -A per
  for p in tollgate tollgate_exact jsonschema jsonschema_macro; do
    a=$(count "$p" "$case" 1); b=$(count "$p" "$case" $((1 + k)))
    per[$p]=$(( (b - a) / k ))
  done
  awk -v c="$case" -v t="${per[tollgate]}" -v e="${per[tollgate_exact]}" -v j="${per[jsonschema]}" -v m="${per[jsonschema_macro]}" \
    'BEGIN { printf "| %s | %d | %d | %d | %d | **%.2fx** | %.2fx |\n", c, t, e, j, m, j / t, m / t }'
done
