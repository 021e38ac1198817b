#!/usr/bin/env bash
# deploy/schemathesis.sh: property-based testing of the HTTP API against its own /openapi.json.
# For each backend (SQLite in a temp dir, then a fresh PostgreSQL database) it starts
# `aduan serve --no-workers`, waits for /healthz, and runs schemathesis on the document the server
# serves with the check `not_a_server_error`: every request schemathesis generates from the schema
# (valid and invalid ones, single calls and chains along the schema's links) must get an answer
# below 500. It also fails when serve panics, does not start, or does not stop cleanly on SIGTERM.
#
# schemathesis is installed by deploy/pyvenv.sh's pinned_venv (as deploy/validate.sh and
# deploy/open311-client.sh install theirs): its own venv under
# ${ADUAN_TOOLS_DIR:-$HOME/.cache/aduan/tools}/schemathesis-VERSION, pip --require-hashes, wheels only,
# --no-deps, from deploy/requirements-schemathesis.txt (the whole closure with sha256 hashes). A stamp
# file names the sha256 of that file: a second run reuses the venv, a changed file reinstalls it.
#
# Environment:
#   ADUAN_BIN              the aduan binary (default $CARGO_TARGET_DIR/ci/aduan, the `ci` profile's)
#   ADUAN_TEST_PG_URL      PostgreSQL server to create the database on (default: deploy/pg.sh finds
#                          or starts one; a private cluster it starts is stopped at the end)
#   ADUAN_TEST_RUN         run id; the database is `aduan_test_{run}_st_{pid}` (deploy/test.sh's
#                          leftover check recognises it); default: a new one
#   ADUAN_ST_BACKENDS      `sqlite postgres` (default), or one of them
#   ADUAN_ST_MAX_EXAMPLES  test cases per operation and phase (default 100)
#   ADUAN_ST_SEED          schemathesis/hypothesis seed (default 20261202): runs are reproducible
#   ADUAN_ST_TOKEN_CMD     1: also run with `Authorization: Bearer` of an admin token made by
#                          `aduan token create --role admin --name st` before serve starts, when the
#                          binary has that command (without it, a note and the unauthenticated run only)
# Temp files go to ${TMPDIR:-/tmp} (deploy/test.sh points TMPDIR at its run's own dir); nothing is
# written into the checkout (schemathesis and hypothesis run in the temp dir, no example database).
# Whatever it started (serve, schemathesis, the database, a private PostgreSQL, temp dirs) is stopped
# and removed on exit, also on failure or interrupt. Exits non-zero when anything fails; a 5xx is
# printed by schemathesis with the request that caused it (and a curl command that repeats it).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

SCHEMATHESIS_VERSION="4.32.5"
REQUIREMENTS="${ROOT}/deploy/requirements-schemathesis.txt"
TOOLS_DIR="${ADUAN_TOOLS_DIR:-${HOME}/.cache/aduan/tools}"
DIR="${TOOLS_DIR}/schemathesis-${SCHEMATHESIS_VERSION}"
VENV="${DIR}/venv"
ST="${VENV}/bin/schemathesis"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME}/.cache/aduan/target}"
BIN="${ADUAN_BIN:-${CARGO_TARGET_DIR}/ci/aduan}"
BACKENDS="${ADUAN_ST_BACKENDS:-sqlite postgres}"
MAX_EXAMPLES="${ADUAN_ST_MAX_EXAMPLES:-100}"
SEED="${ADUAN_ST_SEED:-20261202}"
TOKEN_CMD="${ADUAN_ST_TOKEN_CMD:-0}"
# A fixed test key (32 bytes, base64 of "schemathesis-test-key-32-bytes!!"): PostgreSQL needs one.
DATA_KEY="c2NoZW1hdGhlc2lzLXRlc3Qta2V5LTMyLWJ5dGVzISE="
# Deadlines, in seconds.
START_DEADLINE=60 # serve answering /healthz (migrations included)
STOP_DEADLINE=20  # serve exiting after SIGTERM
RUN_DEADLINE=600  # one schemathesis run (a hung server must not hang CI)

log() { printf 'schemathesis: %s\n' "$*" >&2; }
die() {
  printf 'schemathesis: error: %s\n' "$*" >&2
  exit 1
}

case "${1:-}" in
  "") ;;
  -h | --help | help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *) die "no arguments expected (see --help); got '$1'" ;;
esac

# ---- install ------------------------------------------------------------------------------------
install_schemathesis() {
  # shellcheck source=deploy/pyvenv.sh
  . "${ROOT}/deploy/pyvenv.sh"
  pinned_venv "schemathesis ${SCHEMATHESIS_VERSION}" "${REQUIREMENTS}" "${DIR}" || die "installing schemathesis failed (above)"
  [[ "$("${ST}" --version 2>&1)" == *"version ${SCHEMATHESIS_VERSION}" ]] ||
    die "${ST} --version says '$("${ST}" --version 2>&1)', not ${SCHEMATHESIS_VERSION}"
}

# ---- helpers ------------------------------------------------------------------------------------
# Alive and not a zombie (kill -0 succeeds on a child that exited but was not waited for yet).
alive() {
  local state
  state="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ -n "${state}" && "${state}" != Z ]]
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# http_ok PORT PATH: the answer's status line says 200 (bash only, no curl needed).
http_ok() {
  local line
  line="$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 0
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
    IFS= read -r -t 2 l <&3 || true
    printf '%s' "${l:-}"
  )" || true
  [[ "${line}" =~ ^HTTP/1\.[01]\ 200 ]]
}

psql_bin() {
  if command -v psql >/dev/null 2>&1; then
    command -v psql
  elif [[ -n "${ADUAN_PG_BINDIR:-}" && -x "${ADUAN_PG_BINDIR}/psql" ]]; then
    echo "${ADUAN_PG_BINDIR}/psql"
  fi
}

psql_admin() {
  PGCONNECT_TIMEOUT=5 "${PSQL}" -X -w -q -v ON_ERROR_STOP=1 -d "${ADUAN_TEST_PG_URL}" -c "$1"
}

# The server URL with its database replaced by $1 (query string kept).
pg_url_for() {
  local base="${ADUAN_TEST_PG_URL}" query="" prefix
  if [[ "${base}" == *\?* ]]; then query="?${base#*\?}"; fi
  prefix="${base%%\?*}"
  if [[ "${prefix#*://}" == */* ]]; then prefix="${prefix%/*}"; fi
  printf '%s/%s%s' "${prefix}" "$1" "${query}"
}

# ---- state and cleanup --------------------------------------------------------------------------
WORK=""
SERVE_PID=""
ST_PID=""
PG_DB=""
PG_PRIVATE_DIR=""
PSQL=""
FAILED=()
PASSED=()

stop_serve() {
  local pid="${SERVE_PID}" rc=0 deadline
  [[ -n "${pid}" ]] || return 0
  SERVE_PID=""
  kill -TERM "${pid}" 2>/dev/null || true
  deadline=$((SECONDS + STOP_DEADLINE))
  while alive "${pid}"; do
    if ((SECONDS >= deadline)); then
      log "serve (pid ${pid}) did not stop within ${STOP_DEADLINE} s of SIGTERM: killing it"
      kill -KILL "${pid}" 2>/dev/null || true
      wait "${pid}" 2>/dev/null || true
      return 1
    fi
    sleep 0.1
  done
  wait "${pid}" 2>/dev/null || rc=$?
  return "${rc}"
}

drop_db() {
  local db="${PG_DB}"
  [[ -n "${db}" ]] || return 0
  PG_DB=""
  psql_admin "DROP DATABASE IF EXISTS \"${db}\" WITH (FORCE)" >/dev/null
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [[ -n "${ST_PID}" ]]; then
    kill -TERM "${ST_PID}" 2>/dev/null || true
    wait "${ST_PID}" 2>/dev/null || true
    ST_PID=""
  fi
  stop_serve || true
  drop_db || log "could not drop a database of this run (deploy/test.sh's leftover check drops it)"
  if [[ -n "${PG_PRIVATE_DIR}" ]]; then
    bash "${ROOT}/deploy/pg.sh" stop "${PG_PRIVATE_DIR}" || true
  fi
  if [[ -n "${WORK}" ]]; then rm -rf "${WORK}"; fi
  if ((rc == 0)); then
    log "passed: ${PASSED[*]:-nothing ran} (${SECONDS} s)"
  else
    ((${#PASSED[@]} == 0)) || log "passed: ${PASSED[*]}"
    ((${#FAILED[@]} == 0)) || log "FAILED: ${FAILED[*]}"
    log "FAILED (exit ${rc}, ${SECONDS} s)"
  fi
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---- one backend --------------------------------------------------------------------------------
# The serve environment of one backend: an array of VAR=VALUE for `env`.
SERVE_ENV=()
set_serve_env() {
  local url="$1" port="$2" nats_port="$3"
  SERVE_ENV=(
    "ADUAN_DATABASE_URL=${url}"
    "ADUAN_HTTP_ADDR=127.0.0.1:${port}"
    "ADUAN_DATA_KEY=${DATA_KEY}"
    "ADUAN_RATE_LIMIT=0"
    "ADUAN_POLICY_DIR=${ROOT}/policies/lapor"
    # Nothing listens there: serve retries NATS in the background and the HTTP API works without it.
    "ADUAN_NATS_URL=nats://127.0.0.1:${nats_port}"
  )
}

# make_token DIR: prints an admin token, or nothing when this binary has no `token create`.
make_token() {
  local dir="$1" out
  [[ "${TOKEN_CMD}" == 1 ]] || return 0
  (cd "${dir}" && env "${SERVE_ENV[@]}" "${BIN}" migrate >>"${dir}/token.log" 2>&1) ||
    die "aduan migrate failed (${dir}/token.log: $(tail -n 5 "${dir}/token.log"))"
  out="$(cd "${dir}" && env "${SERVE_ENV[@]}" "${BIN}" token create --role admin --name st 2>>"${dir}/token.log")" ||
    die "aduan token create --role admin --name st failed: $(tail -n 5 "${dir}/token.log")"
  # One JSON line {"name","role","agency","token"}.
  "${VENV}/bin/python" -c '
import json, sys
lines = [l for l in sys.stdin.read().splitlines() if l.strip()]
token = json.loads(lines[-1])["token"] if lines else ""
if not isinstance(token, str) or not token:
    sys.exit("no token in the output of aduan token create")
print(token)' <<<"${out}" || die "aduan token create printed no JSON line with a token"
}

start_serve() {
  local dir="$1" deadline
  (cd "${dir}" && exec env "${SERVE_ENV[@]}" "${BIN}" serve --no-workers) >"${dir}/serve.log" 2>&1 &
  SERVE_PID=$!
  deadline=$((SECONDS + START_DEADLINE))
  while :; do
    if ! alive "${SERVE_PID}"; then
      wait "${SERVE_PID}" 2>/dev/null || true
      SERVE_PID=""
      return 1
    fi
    http_ok "${PORT}" /healthz && return 0
    if ((SECONDS >= deadline)); then
      tail -n 30 "${dir}/serve.log" >&2 || true
      die "serve did not answer /healthz on 127.0.0.1:${PORT} within ${START_DEADLINE} s"
    fi
    sleep 0.1
  done
}

# run_schemathesis LABEL DIR [TOKEN]: returns schemathesis' exit status.
run_schemathesis() {
  local label="$1" dir="$2" token="${3:-}" rc=0 t0="${SECONDS}"
  local args=(
    run "http://127.0.0.1:${PORT}/openapi.json"
    --checks not_a_server_error
    --max-examples "${MAX_EXAMPLES}"
    --seed "${SEED}"
    --workers 1
    --generation-database none
    --request-timeout 30
  )
  if [[ -n "${token}" ]]; then args+=(--header "Authorization: Bearer ${token}"); fi
  log "${label}: schemathesis run http://127.0.0.1:${PORT}/openapi.json --checks not_a_server_error --max-examples ${MAX_EXAMPLES} --seed ${SEED}${token:+ --header 'Authorization: Bearer …'}"
  mkdir -p "${dir}/st"
  # In the temp dir: schemathesis and hypothesis write .schemathesis/ and .hypothesis/ into the
  # working directory. In the background, so that a signal reaches our trap at once.
  (
    cd "${dir}/st"
    HYPOTHESIS_STORAGE_DIRECTORY="${dir}/st/.hypothesis" exec timeout -k 10 "${RUN_DEADLINE}" "${ST}" "${args[@]}"
  ) &
  ST_PID=$!
  wait "${ST_PID}" || rc=$?
  ST_PID=""
  ((rc != 124)) || log "${label}: schemathesis did not finish within ${RUN_DEADLINE} s"
  log "${label}: schemathesis exit ${rc} ($((SECONDS - t0)) s)"
  return "${rc}"
}

run_backend() {
  local backend="$1" dir url token="" port_tries=0 serve_rc=0
  dir="$(mktemp -d "${WORK}/${backend}.XXXXXX")"
  case "${backend}" in
    sqlite) url="sqlite://${dir}/aduan.db" ;;
    postgres)
      PG_DB="aduan_test_${ADUAN_TEST_RUN}_st_$$"
      log "postgres: CREATE DATABASE ${PG_DB}"
      psql_admin "CREATE DATABASE \"${PG_DB}\"" >/dev/null || die "could not create database ${PG_DB}"
      url="$(pg_url_for "${PG_DB}")"
      ;;
  esac

  while :; do
    port_tries=$((port_tries + 1))
    PORT="$(free_port)"
    set_serve_env "${url}" "${PORT}" "$(free_port)"
    if ((port_tries == 1)); then token="$(make_token "${dir}")"; fi
    log "${backend}: aduan serve --no-workers on 127.0.0.1:${PORT} (log ${dir}/serve.log)"
    start_serve "${dir}" && break
    # Lost a race for the port: try another one; give up on anything else.
    if ((port_tries < 5)) && grep -qi 'address already in use\|addrinuse' "${dir}/serve.log"; then
      log "port ${PORT} taken, trying another"
      continue
    fi
    tail -n 30 "${dir}/serve.log" >&2 || true
    die "${backend}: aduan serve exited before answering /healthz"
  done
  log "${backend}: serve is up ($("${BIN}" --version 2>/dev/null || echo aduan))"

  if run_schemathesis "${backend}" "${dir}"; then
    PASSED+=("${backend}")
  else
    FAILED+=("${backend}")
  fi
  if [[ -n "${token}" ]]; then
    if run_schemathesis "${backend}+token" "${dir}" "${token}"; then
      PASSED+=("${backend}+token")
    else
      FAILED+=("${backend}+token")
    fi
  fi

  stop_serve || serve_rc=$?
  if ((serve_rc != 0)); then
    tail -n 30 "${dir}/serve.log" >&2 || true
    log "${backend}: serve exited ${serve_rc} after SIGTERM (expected 0)"
    FAILED+=("${backend}:shutdown")
  fi
  if grep -q 'panicked at' "${dir}/serve.log"; then
    grep -B2 -A12 'panicked at' "${dir}/serve.log" >&2 || true
    log "${backend}: serve panicked (see above)"
    FAILED+=("${backend}:panic")
  fi
  if [[ "${backend}" == postgres ]]; then
    drop_db || die "could not drop the database"
  fi
}

# ---- main ---------------------------------------------------------------------------------------
[[ -x "${BIN}" ]] || die "no aduan binary at ${BIN}: build it (cargo build --profile ci --bin aduan) or set ADUAN_BIN"
command -v python3 >/dev/null 2>&1 || die "python3 is needed"
command -v timeout >/dev/null 2>&1 || die "timeout (coreutils) is needed"
for backend in ${BACKENDS}; do
  [[ "${backend}" == sqlite || "${backend}" == postgres ]] ||
    die "ADUAN_ST_BACKENDS: unknown backend '${backend}' (sqlite, postgres)"
done
[[ "${MAX_EXAMPLES}" =~ ^[1-9][0-9]*$ ]] || die "ADUAN_ST_MAX_EXAMPLES must be a positive integer"
[[ "${SEED}" =~ ^[0-9]+$ ]] || die "ADUAN_ST_SEED must be a non-negative integer"

install_schemathesis

if [[ "${TOKEN_CMD}" == 1 ]] && ! "${BIN}" token create --help >/dev/null 2>&1; then
  log "ADUAN_ST_TOKEN_CMD=1 but this aduan has no \`token create\` yet: unauthenticated runs only"
  TOKEN_CMD=0
fi

export ADUAN_TEST_RUN="${ADUAN_TEST_RUN:-r$(printf '%d%04x' "$$" "${RANDOM}")}"
[[ "${ADUAN_TEST_RUN}" =~ ^[a-z0-9_]+$ ]] || die "ADUAN_TEST_RUN must match [a-z0-9_]+ (a database name part)"

if [[ " ${BACKENDS} " == *" postgres "* ]]; then
  if [[ -z "${ADUAN_TEST_PG_URL:-}" ]]; then
    # Only a cluster started here is ours to stop.
    unset ADUAN_PG_PRIVATE_DIR
    eval "$(bash "${ROOT}/deploy/pg.sh")"
    PG_PRIVATE_DIR="${ADUAN_PG_PRIVATE_DIR:-}"
  fi
  PSQL="$(psql_bin)"
  [[ -n "${PSQL}" ]] || die "psql is needed to create the PostgreSQL database (or ADUAN_ST_BACKENDS=sqlite)"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/aduan-st-${ADUAN_TEST_RUN}.XXXXXX")"
log "aduan ${BIN}; schemathesis ${SCHEMATHESIS_VERSION}; backends: ${BACKENDS}; run ${ADUAN_TEST_RUN}; temp ${WORK}"
for backend in ${BACKENDS}; do
  run_backend "${backend}"
done
((${#FAILED[@]} == 0))
