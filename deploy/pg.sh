#!/usr/bin/env bash
# deploy/pg.sh: makes sure a PostgreSQL is reachable for Aduan's tests and prints, on stdout,
# `export` lines for the caller to eval (logs go to stderr):
#   ADUAN_TEST_PG_URL     base URL, e.g. postgres://postgres@127.0.0.1:5432/postgres; the tests
#                         create a database of their own per run from it
#   ADUAN_PG_PRIVATE_DIR  only when this script started a private cluster: pass it to `stop`
#   ADUAN_PG_BINDIR       where initdb/pg_ctl live, when known (tests that restart PostgreSQL
#                         run a private cluster of their own with them)
#
# Which PostgreSQL, in order:
#   1. ADUAN_TEST_PG_URL when already set;
#   2. the server on 127.0.0.1:5432 when it answers (user `postgres`, no password);
#   3. a private cluster: initdb into a temp dir (trust auth), a free port, listening on
#      127.0.0.1 only, socket in the temp dir. Binaries from /usr/lib/postgresql/*/bin (or
#      ADUAN_PG_BINDIR, or initdb on PATH); when none exist, Debian's `postgresql` package is
#      installed with apt-get (as root). As root, the cluster runs as the `postgres` user.
#   ADUAN_PG_FORCE_PRIVATE=1 skips 1 and 2.
#
# Usage:
#   eval "$(deploy/pg.sh)"              # or: deploy/pg.sh start
#   deploy/pg.sh stop "$ADUAN_PG_PRIVATE_DIR"   # stops the private cluster and deletes its dir
set -euo pipefail

log() { printf 'pg: %s\n' "$*" >&2; }
die() { printf 'pg: error: %s\n' "$*" >&2; exit 1; }
is_root() { [[ "$(id -u)" == "0" ]]; }
emit() { printf 'export %s=%q\n' "$1" "$2"; }

MARKER=".aduan-pg"
STARTING_DIR=""

# Runs a PostgreSQL binary as the user that owns the cluster (postgres when we are root, since
# initdb and postgres refuse to run as root), from a directory that user can read.
as_pg_user() {
  local cwd="$1"
  shift
  if is_root; then
    (cd "${cwd}" && runuser -u postgres -- "$@")
  else
    (cd "${cwd}" && "$@")
  fi
}

# The directory holding initdb and pg_ctl, or nothing.
find_bindir() {
  local d
  if [[ -n "${ADUAN_PG_BINDIR:-}" ]]; then
    [[ -x "${ADUAN_PG_BINDIR}/initdb" && -x "${ADUAN_PG_BINDIR}/pg_ctl" ]] ||
      die "ADUAN_PG_BINDIR=${ADUAN_PG_BINDIR} has no initdb and pg_ctl"
    echo "${ADUAN_PG_BINDIR}"
    return
  fi
  # Highest major version first.
  while read -r d; do
    if [[ -x "${d}/initdb" && -x "${d}/pg_ctl" ]]; then
      echo "${d}"
      return
    fi
  done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -t/ -k5,5 -rn)
  if command -v initdb >/dev/null 2>&1; then
    d="$(dirname "$(readlink -f "$(command -v initdb)")")"
    if [[ -x "${d}/pg_ctl" ]]; then
      echo "${d}"
      return
    fi
  fi
}

install_postgres() {
  is_root || die "no PostgreSQL binaries (initdb, pg_ctl) found; install PostgreSQL (Debian: apt-get install postgresql) or set ADUAN_TEST_PG_URL"
  command -v apt-get >/dev/null 2>&1 || die "no PostgreSQL binaries found and no apt-get to install them; install PostgreSQL or set ADUAN_TEST_PG_URL"
  # Debian's `postgresql` is the distribution's supported major version (bookworm: 15).
  log "no PostgreSQL binaries: apt-get install postgresql"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
}

port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pg_ready() {
  # pg_ready HOST PORT
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$1" -p "$2" -t 3
  else
    [[ "$1" == 127.0.0.1 ]] && port_answers "$2"
  fi
}

# True when the server at URL accepts us (skipped, i.e. trusted, when psql is missing).
pg_accepts() {
  local url="$1" psql
  psql="$(command -v psql || true)"
  if [[ -z "${psql}" && -n "${BINDIR:-}" && -x "${BINDIR}/psql" ]]; then psql="${BINDIR}/psql"; fi
  [[ -z "${psql}" ]] && return 0
  PGCONNECT_TIMEOUT=5 "${psql}" -X -w -q -At -d "${url}" -c 'select 1' >/dev/null 2>&1
}

start_private() {
  local bindir="$1" base dir port tries=0 opts

  # Root: /tmp so that the postgres user can reach the directory.
  if is_root; then base=/tmp; else base="${TMPDIR:-/tmp}"; fi
  dir="$(mktemp -d "${base}/aduan-pg.XXXXXX")"
  # Stop and remove it again if anything below fails.
  STARTING_DIR="${dir}"
  trap 'if [[ -n "${STARTING_DIR}" ]]; then stop_private "${STARTING_DIR}" || rm -rf "${STARTING_DIR}"; fi' EXIT
  printf 'BINDIR=%q\n' "${bindir}" >"${dir}/${MARKER}"
  if is_root; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user to run PostgreSQL as"
    chown postgres: "${dir}"
  fi
  chmod 700 "${dir}"

  log "initdb ${dir}/data ($("${bindir}/initdb" --version))"
  as_pg_user "${dir}" "${bindir}/initdb" -D "${dir}/data" -U postgres -A trust -E UTF8 --no-locale \
    --no-sync >"${dir}/initdb.log" 2>&1 || {
    cat "${dir}/initdb.log" >&2
    die "initdb failed"
  }

  # A test database: durability off, room for several test processes' pools.
  opts="-c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c synchronous_commit=off"
  opts+=" -c full_page_writes=off -c max_connections=200"
  while :; do
    tries=$((tries + 1))
    ((tries <= 50)) || die "found no free port"
    port=$((20000 + RANDOM % 30000))
    port_answers "${port}" && continue
    if as_pg_user "${dir}" "${bindir}/pg_ctl" -D "${dir}/data" -l "${dir}/postgres.log" -w -t 60 \
      -o "-p ${port} ${opts}" start >&2; then
      break
    fi
    # Lost a race for the port: try another one; give up on anything else.
    if ((tries < 5)) && grep -q 'could not bind\|already in use' "${dir}/postgres.log" 2>/dev/null; then
      log "port ${port} taken, trying another"
      continue
    fi
    tail -n 20 "${dir}/postgres.log" >&2 || true
    die "pg_ctl start failed"
  done

  local i
  for i in $(seq 1 60); do
    pg_ready 127.0.0.1 "${port}" && break
    ((i == 60)) && die "private PostgreSQL on 127.0.0.1:${port} did not become ready"
    sleep 0.5
  done
  STARTING_DIR=""
  trap - EXIT
  log "private PostgreSQL on 127.0.0.1:${port} (dir ${dir}; stop with: deploy/pg.sh stop ${dir})"
  emit ADUAN_TEST_PG_URL "postgres://postgres@127.0.0.1:${port}/postgres"
  emit ADUAN_PG_PRIVATE_DIR "${dir}"
  emit ADUAN_PG_BINDIR "${bindir}"
}

stop_private() {
  local dir="${1:-}" BINDIR="" pid
  [[ -n "${dir}" ]] || die "usage: deploy/pg.sh stop DIR"
  [[ -d "${dir}" ]] || {
    log "${dir}: already gone"
    return 0
  }
  # Never delete a directory this script did not create.
  [[ -f "${dir}/${MARKER}" ]] || die "${dir} is not a private cluster of deploy/pg.sh (no ${MARKER})"
  # shellcheck disable=SC1090
  . "${dir}/${MARKER}"
  if [[ -f "${dir}/data/postmaster.pid" ]]; then
    if ! as_pg_user "${dir}" "${BINDIR}/pg_ctl" -D "${dir}/data" -m fast -w -t 30 stop >&2; then
      pid="$(head -n1 "${dir}/data/postmaster.pid" 2>/dev/null || true)"
      if [[ "${pid}" =~ ^[0-9]+$ ]]; then
        log "pg_ctl stop failed; killing postmaster ${pid}"
        kill -QUIT "${pid}" 2>/dev/null || true
      fi
    fi
  fi
  rm -rf "${dir}"
  log "stopped and removed ${dir}"
}

ensure() {
  BINDIR="$(find_bindir)"
  if [[ "${ADUAN_PG_FORCE_PRIVATE:-0}" != "1" ]]; then
    if [[ -n "${ADUAN_TEST_PG_URL:-}" ]]; then
      log "using ADUAN_TEST_PG_URL from the environment"
      emit ADUAN_TEST_PG_URL "${ADUAN_TEST_PG_URL}"
      [[ -n "${BINDIR}" ]] && emit ADUAN_PG_BINDIR "${BINDIR}"
      return
    fi
    local url="postgres://postgres@127.0.0.1:5432/postgres"
    if pg_ready 127.0.0.1 5432; then
      if pg_accepts "${url}"; then
        log "using the PostgreSQL on 127.0.0.1:5432"
        emit ADUAN_TEST_PG_URL "${url}"
        [[ -n "${BINDIR}" ]] && emit ADUAN_PG_BINDIR "${BINDIR}"
        return
      fi
      log "127.0.0.1:5432 answers but does not let user postgres in without a password; starting a private cluster"
    fi
  fi
  if [[ -z "${BINDIR}" ]]; then
    install_postgres
    BINDIR="$(find_bindir)"
    [[ -n "${BINDIR}" ]] || die "still no initdb/pg_ctl after installing postgresql"
  fi
  start_private "${BINDIR}"
}

case "${1:-start}" in
  start) ensure ;;
  stop) stop_private "${2:-}" ;;
  -h | --help | help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$1' (start | stop DIR)" ;;
esac
