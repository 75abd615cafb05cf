#!/bin/bash
# Fan-out of two server binaries, alternating, on the same machine in the same run:
# bench/fanout-ab.sh OLD_BIN NEW_BIN [ROUNDS]. Each round starts a server on a free
# loopback port and runs `wsocket-loadgen fanout` (1000 subscribers, 200 messages).
# The old binary comes from a worktree, e.g.
#   git worktree add /tmp/old <commit> && (cd /tmp/old && cargo build --release -p wsocket-server)
set -eu
OLD=$1 NEW=$2 ROUNDS=${3:-3}
LOADGEN=$(dirname "$0")/../target/release/wsocket-loadgen
[ -x "$LOADGEN" ] || cargo build --release -p wsocket-loadgen
# Flags every version takes; the new server's timeouts and HTTP cap are raised too, so
# only the per-push path is compared.
COMMON="--port 0 --no-feeds --rate-limit 1000000000 --max-connections 20000"
run() {
  local out
  out=$(mktemp)
  "$@" $COMMON >"$out" 2>/dev/null &
  local pid=$!
  for _ in $(seq 50); do grep -q http "$out" && break; sleep 0.1; done
  local addr
  addr=$(head -1 "$out" | sed 's|.*http://||; s|/$||')
  timeout 120 "$LOADGEN" fanout "$addr" /ws wsocket 1000 200 |
    python3 -c "import json,sys; d=json.load(sys.stdin); print(round(d['deliveries_per_second']), d['latency_us_p50'], d['latency_us_p99'])"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -f "$out"
}
echo "binary deliveries/s p50_us p99_us"
for _ in $(seq "$ROUNDS"); do
  echo -n "old "; run "$OLD"
  echo -n "new "; run "$NEW" --max-http-connections 20000 --first-frame-timeout-ms 3600000 --idle-timeout-ms 3600000
done
