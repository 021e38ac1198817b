#!/usr/bin/env bash
# deploy/bench.sh: runs `aduan bench` (the load generator of BENCHMARKS.md) on this machine, built with
# --release: starts the pinned nats-server on a free loopback port (temp store), creates a PostgreSQL
# database beside which the bench makes one fresh database per PostgreSQL scenario (deploy/pg.sh finds
# or starts a server), and passes extra arguments to `aduan bench`, e.g.
#   deploy/bench.sh --quick                          # 5 s per scenario, nothing seeded
#   deploy/bench.sh --seed 1000000                   # 60 s per scenario on 1,000,000 stored complaints
#   deploy/bench.sh --duration 30 --transports http --databases sqlite --out /tmp/b.json
# ADUAN_BENCH_BIN=PATH runs that binary instead of building this checkout (to compare two builds; give
# an older build its own pack with ADUAN_POLICY_DIR).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME}/.cache/aduan/target}"
eval "$(bash deploy/tools.sh)"
eval "$(bash deploy/pg.sh)"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"${ADUAN_NATS_SERVER_BIN}" -js -a 127.0.0.1 -p "${port}" -sd "${work}/js" >"${work}/nats.log" 2>&1 &
nats_pid=$!
db="aduan_bench_$$"
base="${ADUAN_TEST_PG_URL%/*}"
cleanup() {
  kill "${nats_pid}" 2>/dev/null || true
  for d in "${db}" "${db}_http" "${db}_nats"; do
    psql "${ADUAN_TEST_PG_URL}" -qc "DROP DATABASE IF EXISTS ${d} WITH (FORCE)" >/dev/null 2>&1 || true
  done
  if [[ -n "${ADUAN_PG_PRIVATE_DIR:-}" ]]; then bash deploy/pg.sh stop "${ADUAN_PG_PRIVATE_DIR}" || true; fi
  rm -rf "${work}"
}
trap cleanup EXIT
psql "${ADUAN_TEST_PG_URL}" -qc "CREATE DATABASE ${db}"
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null && break; sleep 0.1; done
bin="${ADUAN_BENCH_BIN:-}"
if [[ -z "${bin}" ]]; then
  cargo build --release --quiet
  bin="${CARGO_TARGET_DIR}/release/aduan"
fi
ADUAN_GIT_COMMIT="${ADUAN_GIT_COMMIT:-$(git rev-parse HEAD 2>/dev/null || true)}" \
  RUST_LOG="${RUST_LOG:-warn}" "${bin}" bench \
  --nats-url "nats://127.0.0.1:${port}" --postgres "${base}/${db}" "$@"
