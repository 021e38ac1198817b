#!/usr/bin/env bash
# deploy/test.sh: THE test command (README, CI via .ci/run). From the repo root:
#   1. installs the pinned tools (deploy/tools.sh: nats-server 2.15.1, cargo-nextest, rustfmt, clippy;
#      deploy/openapi-check.sh: openapi-spec-validator 0.9.0, exported as ADUAN_OPENAPI_VALIDATOR;
#      deploy/open311-client.sh: the Open311 clients georeport 0.3.1 and civicbot 0.4.0 in a venv whose
#      python is exported as ADUAN_OPEN311_PYTHON, for tests/it/open311.rs);
#   2. finds or starts a PostgreSQL for the tests (deploy/pg.sh) and exports ADUAN_TEST_PG_URL;
#   3. cargo fmt --all --check;
#   4. cargo clippy --workspace --all-targets --profile ci -- -D warnings;
#   5. cargo nextest run --workspace --cargo-profile ci [ARGS...]   (nextest profile `ci` by default),
#      with TMPDIR pointing at a directory of this run's own and ADUAN_TEST_RUN naming the run (the
#      tests' PostgreSQL databases are `aduan_test_{run}_*`); snapshots are never written
#      (INSTA_UPDATE=no): a changed snapshot fails, `cargo insta review` accepts it;
#   6. deploy/schemathesis.sh on the `aduan` binary that step 5 built ($CARGO_TARGET_DIR/ci/aduan):
#      property-based requests generated from the served /openapi.json (pinned schemathesis 4.32.5),
#      on SQLite and on PostgreSQL, none of which may get a 5xx (skipped when step 5's build failed);
#   7. deploy/validate.sh: the deployment files checked statically (hadolint on the Dockerfile, its
#      build context, kubernetes-validate on deploy/k8s/, the compose file against the Compose
#      Specification's schema, nats-server -t on deploy/nats.conf with each node's environment);
#   8. leftovers: fails when the tests left a process (a nats-server, an `aduan serve`...), a temp
#      dir or a database of this run behind, after killing, removing and dropping them.
# Extra arguments go to nextest, e.g. `deploy/test.sh -E 'test(/^fault::/)'`.
# The build goes to CARGO_TARGET_DIR (default ~/.cache/aduan/target, shared, outside the checkout).
# A private PostgreSQL started here is stopped on exit, and whatever the tests left is cleaned up
# even when the run is interrupted. Exits non-zero when any step fails.
# A new step: one more `step "..."` call below (the count of steps is read from this file).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME}/.cache/aduan/target}"
# A target dir shared by several checkouts keeps the test binaries of whichever built last, and cargo
# sees them as fresh when this checkout's sources are older: they would read snapshots and packs from
# the other checkout (compile-time paths). When another checkout built last, touch ours to rebuild.
mkdir -p "${CARGO_TARGET_DIR}"
if [[ "$(cat "${CARGO_TARGET_DIR}/.aduan-checkout" 2>/dev/null || true)" != "${ROOT}" ]]; then
  find "${ROOT}" -name '*.rs' -not -path '*/target/*' -not -path '*/node_modules/*' -exec touch {} +
  printf '%s\n' "${ROOT}" >"${CARGO_TARGET_DIR}/.aduan-checkout"
fi
# The nextest profile of .config/nextest.toml: no fail-fast, timeouts. NEXTEST_PROFILE=default overrides.
export NEXTEST_PROFILE="${NEXTEST_PROFILE:-ci}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-auto}"

# The tests' temp dirs, databases and processes carry the run id (see engine/testkit).
export ADUAN_TEST_RUN="${ADUAN_TEST_RUN:-r$(printf '%d%04x' "$$" "${RANDOM}")}"
RUN_TMP="$(mktemp -d "${TMPDIR:-/tmp}/aduan-test-run-${ADUAN_TEST_RUN}.XXXXXX")"
# Snapshots (insta) are compared, never written; CI=true means the same to insta.
export INSTA_UPDATE=no
unset INSTA_FORCE_PASS

step_no=0
step_total="$(grep -c '^step "' "${BASH_SOURCE[0]}")"
step() {
  step_no=$((step_no + 1))
  printf '\n==> [%d/%d] %s\n' "${step_no}" "${step_total}" "$*" >&2
}

# psql for the leftover check: on PATH, or beside the PostgreSQL that deploy/pg.sh found.
psql_bin() {
  if command -v psql >/dev/null 2>&1; then
    command -v psql
  elif [[ -n "${ADUAN_PG_BINDIR:-}" && -x "${ADUAN_PG_BINDIR}/psql" ]]; then
    echo "${ADUAN_PG_BINDIR}/psql"
  fi
}

# Processes of this run still alive: a command line naming the run's temp dir or databases, or a
# working directory inside the temp dir (an `aduan serve`). Prints "PID COMMAND", one a line.
run_processes() {
  local proc pid cmd cwd
  for proc in /proc/[0-9]*; do
    pid="${proc#/proc/}"
    [[ "${pid}" == "$$" || "${pid}" == "${BASHPID}" ]] && continue
    cmd="$(tr '\0' ' ' <"${proc}/cmdline" 2>/dev/null)" || continue
    [[ -n "${cmd}" ]] || continue
    cwd="$(readlink "${proc}/cwd" 2>/dev/null || true)"
    if [[ "${cmd}" == *"${RUN_TMP}/"* || "${cmd}" == *"aduan_test_${ADUAN_TEST_RUN}_"* ||
      "${cwd}" == "${RUN_TMP}/"* ]]; then
      printf '%s %s\n' "${pid}" "${cmd}"
    fi
  done
}

# Databases of this run still on the test server, one a line.
run_databases() {
  local psql
  psql="$(psql_bin)"
  [[ -n "${psql}" && -n "${ADUAN_TEST_PG_URL:-}" ]] || return 0
  PGCONNECT_TIMEOUT=5 "${psql}" -X -w -q -At -d "${ADUAN_TEST_PG_URL}" \
    -c "select datname from pg_database where datname like 'aduan\_test\_${ADUAN_TEST_RUN}\_%' order by 1" ||
    true
}

# Kills, drops and removes what the run left (quietly unless told to report); returns the count.
LEFTOVERS=0
clean_run() {
  local report="${1:-}" line pid db psql entry
  LEFTOVERS=0
  while read -r line; do
    [[ -n "${line}" ]] || continue
    pid="${line%% *}"
    [[ -n "${report}" ]] && printf 'leftover process: %s\n' "${line}" >&2
    kill -KILL "${pid}" 2>/dev/null || true
    LEFTOVERS=$((LEFTOVERS + 1))
  done < <(run_processes)
  psql="$(psql_bin)"
  while read -r db; do
    [[ -n "${db}" ]] || continue
    [[ -n "${report}" ]] && printf 'leftover database: %s\n' "${db}" >&2
    PGCONNECT_TIMEOUT=5 "${psql}" -X -w -q -d "${ADUAN_TEST_PG_URL}" \
      -c "DROP DATABASE IF EXISTS \"${db}\" WITH (FORCE)" >/dev/null 2>&1 || true
    LEFTOVERS=$((LEFTOVERS + 1))
  done < <(run_databases)
  if [[ -d "${RUN_TMP}" ]]; then
    for entry in "${RUN_TMP}"/* "${RUN_TMP}"/.[!.]*; do
      [[ -e "${entry}" ]] || continue
      [[ -n "${report}" ]] && printf 'leftover temp entry: %s\n' "${entry}" >&2
      LEFTOVERS=$((LEFTOVERS + 1))
    done
    rm -rf "${RUN_TMP}"
  fi
}

PG_PRIVATE_DIR=""
cleanup() {
  local rc=$?
  clean_run
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

step "tools: pinned nats-server, cargo-nextest, rustfmt, clippy (deploy/tools.sh), openapi-spec-validator, Open311 clients"
tools_env="$(bash deploy/tools.sh)"
eval "${tools_env}"
printf 'ADUAN_NATS_SERVER_BIN=%s\n' "${ADUAN_NATS_SERVER_BIN}" >&2
# The pinned openapi-spec-validator: the nextest step validates the served /openapi.json with it.
eval "$(bash deploy/openapi-check.sh)"
printf 'ADUAN_OPENAPI_VALIDATOR=%s\n' "${ADUAN_OPENAPI_VALIDATOR}" >&2
# The pinned Open311 clients: tests/it/open311.rs runs tests/it/open311_client.py with this python.
eval "$(bash deploy/open311-client.sh)"
printf 'ADUAN_OPEN311_PYTHON=%s\n' "${ADUAN_OPEN311_PYTHON}" >&2

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
printf 'ADUAN_TEST_RUN=%s TMPDIR=%s\n' "${ADUAN_TEST_RUN}" "${RUN_TMP}" >&2
tests_rc=0
TMPDIR="${RUN_TMP}" cargo nextest run --workspace --cargo-profile ci "$@" || tests_rc=$?

step "schemathesis: no 5xx for requests generated from /openapi.json, SQLite and PostgreSQL (deploy/schemathesis.sh)"
# The binary the nextest build made for the integration tests (CARGO_BIN_EXE_aduan). After a failed
# build (nextest exit 101) it may be an older one: nothing to test then.
if ((tests_rc == 101)); then
  printf 'skipped: the build failed\n' >&2
else
  # Its temp dir goes in the run's, its database is aduan_test_{run}_st_*: the next step checks both.
  # ADUAN_ST_TOKEN_CMD=1: an authenticated pass too, once `aduan token create` exists.
  TMPDIR="${RUN_TMP}" ADUAN_BIN="${CARGO_TARGET_DIR}/ci/aduan" ADUAN_ST_TOKEN_CMD="${ADUAN_ST_TOKEN_CMD:-1}" \
    bash deploy/schemathesis.sh || { ((tests_rc != 0)) || tests_rc=1; }
fi

step "deployment files: hadolint, build context, kubernetes-validate, compose schema, nats-server -t (deploy/validate.sh)"
TMPDIR="${RUN_TMP}" bash deploy/validate.sh || { ((tests_rc != 0)) || tests_rc=1; }

step "leftovers: no process, temp dir or database of run ${ADUAN_TEST_RUN} may remain"
clean_run report
if ((LEFTOVERS > 0)); then
  printf 'the tests left %d things behind (now cleaned up): each test must stop what it starts\n' \
    "${LEFTOVERS}" >&2
  ((tests_rc != 0)) || tests_rc=1
else
  printf 'nothing left behind\n' >&2
fi
exit "${tests_rc}"
