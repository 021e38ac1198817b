#!/usr/bin/env bash
# deploy/test.sh: THE test command (README, CI via .ci/run). From the repo root:
#   1. installs the pinned tools (deploy/tools.sh: nats-server 2.15.1, cargo-nextest, rustfmt, clippy);
#   2. finds or starts a PostgreSQL for the tests (deploy/pg.sh) and exports ADUAN_TEST_PG_URL;
#   3. cargo fmt --all --check;
#   4. cargo clippy --workspace --all-targets --profile ci -- -D warnings;
#   5. cargo nextest run --workspace --cargo-profile ci [ARGS...]   (nextest profile `ci` by default).
# Extra arguments go to nextest, e.g. `deploy/test.sh -E 'test(/^fault::/)'`.
# The build goes to CARGO_TARGET_DIR (default ~/.cache/aduan/target, shared, outside the checkout).
# A private PostgreSQL started here is stopped on exit. Exits non-zero when any step fails.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME}/.cache/aduan/target}"
# The nextest profile of .config/nextest.toml: no fail-fast, timeouts. NEXTEST_PROFILE=default overrides.
export NEXTEST_PROFILE="${NEXTEST_PROFILE:-ci}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-auto}"

step_no=0
step() {
  step_no=$((step_no + 1))
  printf '\n==> [%d/5] %s\n' "${step_no}" "$*" >&2
}

PG_PRIVATE_DIR=""
cleanup() {
  local rc=$?
  if [[ -n "${PG_PRIVATE_DIR}" ]]; then
    printf '\n==> stopping the private PostgreSQL (%s)\n' "${PG_PRIVATE_DIR}" >&2
    bash "${ROOT}/deploy/pg.sh" stop "${PG_PRIVATE_DIR}" || true
  fi
  if ((rc == 0)); then
    printf '\n==> all checks passed\n' >&2
  else
    printf '\n==> FAILED (exit %d) in step %d\n' "${rc}" "${step_no}" >&2
  fi
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "tools: pinned nats-server, cargo-nextest, rustfmt, clippy (deploy/tools.sh)"
tools_env="$(bash deploy/tools.sh)"
eval "${tools_env}"
printf 'ADUAN_NATS_SERVER_BIN=%s\n' "${ADUAN_NATS_SERVER_BIN}" >&2

step "postgres: find or start one for the tests (deploy/pg.sh)"
# Only a cluster started by this run is ours to stop.
unset ADUAN_PG_PRIVATE_DIR
pg_env="$(bash deploy/pg.sh)"
eval "${pg_env}"
PG_PRIVATE_DIR="${ADUAN_PG_PRIVATE_DIR:-}"
printf 'ADUAN_TEST_PG_URL=%s\n' "${ADUAN_TEST_PG_URL}" >&2

step "cargo fmt --all --check"
cargo fmt --all --check

step "cargo clippy --workspace --all-targets --profile ci -- -D warnings"
cargo clippy --workspace --all-targets --profile ci -- -D warnings

step "cargo nextest run --workspace --cargo-profile ci (nextest profile ${NEXTEST_PROFILE}) $*"
cargo nextest run --workspace --cargo-profile ci "$@"
