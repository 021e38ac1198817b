#!/usr/bin/env bash
# deploy/run.sh: THE run command (README quickstart, also on a fresh machine). From the repo root:
#   1. installs the pinned nats-server 2.15.1 (deploy/tools.sh);
#   2. picks the NATS server:
#      - ADUAN_NATS_URL when set;
#      - else the server on 127.0.0.1:4222 when it is nats-server 2.10 or newer (version from the
#        INFO line it sends on connect, else from its monitoring port 8222);
#      - else (nothing there, or an older server such as Debian's 2.9, which is left alone) our own
#        pinned nats-server with JetStream on a free loopback port: store in data/nats, log in
#        data/nats.log, pid in data/nats.pid;
#   3. cargo build --release, then runs $CARGO_TARGET_DIR/release/aduan serve "$@" (CARGO_TARGET_DIR as in
#      deploy/test.sh; it logs the binary's path so other terminals can put it on PATH).
# On exit (Ctrl-C / SIGTERM are passed to `aduan serve`, which shuts down gracefully) it stops the
# nats-server it started. Example: deploy/run.sh --no-workers
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"
DATA="${ROOT}/data"
NATS_MIN_MINOR=10 # nats-server 2.10 or newer

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME}/.cache/aduan/target}"

log() { printf 'run: %s\n' "$*" >&2; }
die() { printf 'run: error: %s\n' "$*" >&2; exit 1; }

port_answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# The version in the INFO line a NATS server sends on connect, e.g. 2.9.10; empty if none.
nats_info_version() {
  local line
  line="$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/$1/$2" || exit 0
    IFS= read -r -t 3 l <&3 || true
    printf '%s' "${l:-}"
  )" || true
  [[ "${line}" == INFO* ]] || return 0
  sed -n 's/.*"version":"\([^"]*\)".*/\1/p' <<<"${line}"
}

# The version from a monitoring endpoint (/varz); empty if none.
nats_varz_version() {
  command -v curl >/dev/null 2>&1 || return 0
  curl -fsS --max-time 2 "http://$1:$2/varz" 2>/dev/null |
    sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' | head -n1
}

# version_ok 2.9.10 -> false; 2.10.0, 2.15.1, 3.0.0 -> true
version_ok() {
  local major minor
  IFS=. read -r major minor _ <<<"${1#v}"
  [[ "${major}" =~ ^[0-9]+$ && "${minor}" =~ ^[0-9]+$ ]] || return 1
  ((major > 2 || (major == 2 && minor >= NATS_MIN_MINOR)))
}

NATS_PID=""
SERVE_PID=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [[ -n "${SERVE_PID}" ]] && kill -0 "${SERVE_PID}" 2>/dev/null; then
    kill -TERM "${SERVE_PID}" 2>/dev/null || true
    wait "${SERVE_PID}" 2>/dev/null || true
  fi
  if [[ -n "${NATS_PID}" ]] && kill -0 "${NATS_PID}" 2>/dev/null; then
    log "stopping nats-server (pid ${NATS_PID})"
    kill -TERM "${NATS_PID}" 2>/dev/null || true
    local i
    for i in $(seq 1 50); do
      kill -0 "${NATS_PID}" 2>/dev/null || break
      ((i == 50)) && kill -KILL "${NATS_PID}" 2>/dev/null
      sleep 0.2
    done
    rm -f "${DATA}/nats.pid" "${DATA}/nats.url"
  fi
  exit "${rc}"
}
trap cleanup EXIT

start_nats() {
  local bin="$1" port tries=0 i v
  mkdir -p "${DATA}/nats"
  while :; do
    tries=$((tries + 1))
    ((tries <= 20)) || die "could not start nats-server (see ${DATA}/nats.log)"
    port=$((20000 + RANDOM % 30000))
    port_answers 127.0.0.1 "${port}" && continue
    log "starting nats-server $("${bin}" --version | sed 's/.*: //') with JetStream on 127.0.0.1:${port} (store ${DATA}/nats, log ${DATA}/nats.log)"
    # Own session: a Ctrl-C in the terminal reaches `aduan serve` only, which may still need NATS
    # while it shuts down; we stop nats-server after it.
    # Both nats-server's log and its stderr append to nats.log (start-up errors come on stderr).
    # shellcheck disable=SC2094
    setsid "${bin}" -a 127.0.0.1 -p "${port}" -js -sd "${DATA}/nats" \
      -l "${DATA}/nats.log" -P "${DATA}/nats.pid" </dev/null >>"${DATA}/nats.log" 2>&1 &
    NATS_PID=$!
    for i in $(seq 1 100); do
      kill -0 "${NATS_PID}" 2>/dev/null || break
      v="$(nats_info_version 127.0.0.1 "${port}")"
      if [[ -n "${v}" ]]; then
        echo "nats://127.0.0.1:${port}" >"${DATA}/nats.url"
        export ADUAN_NATS_URL="nats://127.0.0.1:${port}"
        log "nats-server ${v} ready at ${ADUAN_NATS_URL} (pid ${NATS_PID})"
        return 0
      fi
      sleep 0.1
    done
    if kill -0 "${NATS_PID}" 2>/dev/null; then
      kill -TERM "${NATS_PID}" 2>/dev/null || true
      NATS_PID=""
      die "nats-server did not answer on 127.0.0.1:${port} within 10 s (see ${DATA}/nats.log)"
    fi
    NATS_PID=""
    tail -n 5 "${DATA}/nats.log" >&2 || true
    grep -q 'address already in use' "${DATA}/nats.log" 2>/dev/null || die "nats-server exited (see ${DATA}/nats.log)"
    log "port ${port} taken, trying another"
  done
}

pick_nats() {
  if [[ -n "${ADUAN_NATS_URL:-}" ]]; then
    log "using ADUAN_NATS_URL=${ADUAN_NATS_URL}"
    return
  fi
  if port_answers 127.0.0.1 4222; then
    local v
    v="$(nats_info_version 127.0.0.1 4222)"
    [[ -n "${v}" ]] || v="$(nats_varz_version 127.0.0.1 8222)"
    if [[ -n "${v}" ]] && version_ok "${v}"; then
      export ADUAN_NATS_URL="nats://127.0.0.1:4222"
      log "using the nats-server ${v} on 127.0.0.1:4222"
      return
    fi
    log "127.0.0.1:4222 is nats-server ${v:-of unknown version}, older than 2.${NATS_MIN_MINOR}: leaving it alone and starting our own"
  fi
  # An earlier run's server that is still up (run.sh killed with SIGKILL, or running in another
  # terminal): use it and leave it running.
  if [[ -f "${DATA}/nats.pid" && -f "${DATA}/nats.url" ]]; then
    local pid url hostport
    pid="$(cat "${DATA}/nats.pid")"
    url="$(cat "${DATA}/nats.url")"
    hostport="${url#nats://}"
    if [[ "${pid}" =~ ^[0-9]+$ ]] && kill -0 "${pid}" 2>/dev/null &&
      version_ok "$(nats_info_version "${hostport%:*}" "${hostport##*:}")"; then
      export ADUAN_NATS_URL="${url}"
      log "using the nats-server an earlier run left at ${url} (pid ${pid}; it keeps running: kill ${pid} to stop it)"
      return
    fi
    rm -f "${DATA}/nats.pid" "${DATA}/nats.url"
  fi
  start_nats "${ADUAN_NATS_SERVER_BIN}"
}

log "tools (deploy/tools.sh)"
tools_env="$(ADUAN_TOOLS_DEV=0 bash deploy/tools.sh)"
eval "${tools_env}"

mkdir -p "${DATA}"
pick_nats

log "cargo build --release (the first build takes 6-11 minutes on 2 cores)"
cargo build --release --bin aduan
BIN="${CARGO_TARGET_DIR}/release/aduan"
log "binary: ${BIN} (in another terminal: export PATH=\"${CARGO_TARGET_DIR}/release:\$PATH\")"
log "aduan serve $* (NATS ${ADUAN_NATS_URL})"
# In the background, in a session of its own, so that this shell passes each SIGINT (Ctrl-C) and
# SIGTERM on exactly once, waits for serve's graceful shutdown, then stops NATS.
setsid "${BIN}" serve "$@" &
SERVE_PID=$!
GOT_SIGNAL=0
# shellcheck disable=SC2317 # called by the INT/TERM traps
forward() {
  GOT_SIGNAL=1
  if [[ -n "${SERVE_PID}" ]]; then kill "-$1" "${SERVE_PID}" 2>/dev/null || true; fi
}
trap 'forward INT' INT
trap 'forward TERM' TERM HUP
rc=0
while :; do
  GOT_SIGNAL=0
  prev_rc="${rc}"
  wait "${SERVE_PID}" && rc=0 || rc=$?
  # `wait` also returns when a trapped signal arrives: then wait again, which returns serve's own
  # exit status once it has finished shutting down.
  ((GOT_SIGNAL)) || break
done
# 127: serve had already been waited for when the signal came.
((rc == 127)) && rc="${prev_rc}"
SERVE_PID=""
exit "${rc}"
