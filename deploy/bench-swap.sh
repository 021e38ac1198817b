#!/usr/bin/env bash
# deploy/bench-swap.sh [N]: hot-swap latency of a published pack (BENCHMARKS.md). Starts the pinned
# nats-server and `aduan serve` (SQLite, in a temp dir) on free loopback ports, then N times publishes a
# pack whose Denpasar respond budget differs and times from `policy publish` returning (the bucket put
# acknowledged) until /readyz names the new hash. Uses $ADUAN_BENCH_BIN, else the ci-profile build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"
N="${1:-5}"
eval "$(bash deploy/tools.sh 2>/dev/null)"
BIN="${ADUAN_BENCH_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/aduan/target}/ci/aduan}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/aduan-swap.XXXXXX")"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
NP="$(free_port)"; HP="$(free_port)"
"${ADUAN_NATS_SERVER_BIN}" -a 127.0.0.1 -p "$NP" -js -sd "$WORK/js" >"$WORK/nats.log" 2>&1 &
NATS_PID=$!
cleanup() { kill "${SERVE_PID:-}" "$NATS_PID" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
export ADUAN_DATABASE_URL="sqlite://$WORK/a.db" ADUAN_NATS_URL="nats://127.0.0.1:$NP" \
  ADUAN_POLICY_DIR="$ROOT/policies/lapor" ADUAN_HTTP_ADDR="127.0.0.1:$HP" \
  ADUAN_DATA_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=
(cd "$WORK" && exec "$BIN" serve --pack-poll 0 >"$WORK/serve.log" 2>&1) &
SERVE_PID=$!
for _ in $(seq 150); do curl -sf "http://127.0.0.1:$HP/healthz" >/dev/null && break; sleep 0.1; done
for n in $(seq "$N"); do
  cp -r "$ROOT/policies/lapor" "$WORK/c$n"
  printf 'region: "51.71"\nclocks:\n  respond: {working_days: %d}\n' $((n + 2)) >"$WORK/c$n/sla/51.71.yaml"
  hash="$("$BIN" policy check "$WORK/c$n" | awk '{print $4}')"
  "$BIN" policy publish "$WORK/c$n" >/dev/null 2>&1
  t1=$(date +%s%N)
  until curl -s "http://127.0.0.1:$HP/readyz" | grep -q "$hash"; do :; done
  t2=$(date +%s%N)
  echo "swap $n: $(( (t2 - t1) / 1000000 )) ms from publish to /readyz"
done
