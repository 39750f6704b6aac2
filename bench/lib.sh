# Shared by the load scripts (run.sh, limits.sh): start servers pinned to CPU 0, drive them with
# wrk pinned to CPU 1, and report each server's CPU time per request.
# Needs wrk (Debian: apt-get install wrk) and taskset (util-linux).
# Sourced by a script called as `SCRIPT [SECONDS] [CONNECTIONS] [ROUNDS]`.

DURATION=${1:-10}
CONNECTIONS=${2:-64}
ROUNDS=${3:-3}

for tool in wrk taskset; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed (Debian: apt-get install $tool)" >&2; exit 1; }
done

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

# measure KEY LABEL PID URL [WRK ARGS...]: one row of the table; the server's CPU µs/request is
# appended to $TMP/cpu-KEY. EXTRA_PID (optional) is a second process whose CPU is reported too.
measure() {
  local key=$1 label=$2 pid=$3 url=$4; shift 4
  taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d2s "$@" "$url" >/dev/null   # warm-up
  local before after extra_before extra_after out
  before=$(cpu_ticks "$pid")
  [ -n "${EXTRA_PID:-}" ] && extra_before=$(cpu_ticks "$EXTRA_PID")
  out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" "$url")
  after=$(cpu_ticks "$pid")
  [ -n "${EXTRA_PID:-}" ] && extra_after=$(cpu_ticks "$EXTRA_PID")
  local requests rps p50 p99 errors
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {printf "%s ", $0}')
  local cpu_us
  cpu_us=$(awk -v t=$((after - before)) -v hz="$TCK" -v n="$requests" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
  if [ -n "${EXTRA_PID:-}" ]; then
    local extra_us
    extra_us=$(awk -v t=$((extra_after - extra_before)) -v hz="$TCK" -v n="$requests" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
    label="$label (+ redis-server $extra_us µs/request)"
  fi
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$round" "$label" "$rps" "$p50" "$p99" "$cpu_us" "${errors:-none}"
  echo "$cpu_us" >>"$TMP/cpu-$key"
}

median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

table_header() {
  echo "wrk: 1 thread, $CONNECTIONS connections, ${DURATION}s per row, HTTP/1.1 keep-alive; servers on CPU 0, wrk on CPU 1; $ROUNDS interleaved rounds"
  echo
  echo "| round | target | requests/s | p50 | p99 | server CPU µs/request | errors |"
  echo "|---|---|---|---|---|---|---|"
}
