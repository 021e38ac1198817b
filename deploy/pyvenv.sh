# deploy/pyvenv.sh: sourced (never run) by the scripts that install a pinned Python tool into a venv of
# its own under ${ADUAN_TOOLS_DIR:-$HOME/.cache/aduan/tools} (deploy/schemathesis.sh, deploy/validate.sh,
# deploy/open311-client.sh), so they install the same way:
#
#   pinned_venv LABEL REQUIREMENTS DIR
#
# makes DIR/venv from REQUIREMENTS (the whole closure, each file with its sha256) with
# `pip install --require-hashes --only-binary=:all: --no-deps` (pip refuses a file whose hash is not
# pinned, builds no sdist, resolves nothing else), checks with `pip check` that the file is complete,
# and leaves a stamp DIR/installed-SHA256 naming the file's sha256: a second call with the same file
# only finds the stamp; a changed file reinstalls. One installer at a time per DIR (flock, when
# present). Needs python3 3.11 or newer with venv. Logs go to stderr as "LABEL: …"; returns non-zero
# (after saying why) when anything fails. The caller checks its tool's version itself.

pinned_venv() {
  local label="$1" requirements="$2" dir="$3"
  local venv="${dir}/venv" req_hash stamp rc=0
  if [[ ! -f "${requirements}" ]]; then
    printf '%s: error: missing %s\n' "${label}" "${requirements}" >&2
    return 1
  fi
  req_hash="$(sha256sum "${requirements}" | cut -d' ' -f1)"
  stamp="${dir}/installed-${req_hash}"
  mkdir -p "${dir}"
  if command -v flock >/dev/null 2>&1; then
    exec 8>"${dir}/.lock"
    flock 8
  fi
  if [[ -f "${stamp}" && -x "${venv}/bin/python" ]]; then
    printf '%s: already installed (%s)\n' "${label}" "${venv}" >&2
  else
    _pinned_venv_install "${label}" "${requirements}" "${venv}" "${stamp}" || rc=$?
  fi
  if command -v flock >/dev/null 2>&1; then exec 8>&-; fi
  return "${rc}"
}

_pinned_venv_install() {
  local label="$1" requirements="$2" venv="$3" stamp="$4"
  local fail="${label}: error:"
  if ! command -v python3 >/dev/null 2>&1; then
    printf '%s python3 is needed (apt-get install python3 python3-venv)\n' "${fail}" >&2
    return 1
  fi
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    printf '%s python3 is %s; %s is resolved for 3.11 or newer\n' "${fail}" "$(python3 --version 2>&1)" "${requirements}" >&2
    return 1
  fi
  printf '%s: installing from %s (PyPI, pinned hashes) into %s\n' "${label}" "${requirements}" "${venv}" >&2
  rm -rf "${venv}" "$(dirname "${venv}")"/installed-*
  if ! python3 -m venv "${venv}" >&2; then
    printf '%s python3 -m venv failed (Debian: apt-get install python3-venv)\n' "${fail}" >&2
    return 1
  fi
  if ! "${venv}/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --require-hashes --only-binary=:all: --no-deps -r "${requirements}" >&2; then
    printf '%s pip install -r %s failed\n' "${fail}" "${requirements}" >&2
    return 1
  fi
  if ! "${venv}/bin/python" -m pip check --disable-pip-version-check >&2; then
    printf '%s %s is not a complete closure for %s\n' "${fail}" "${requirements}" "$("${venv}/bin/python" --version)" >&2
    return 1
  fi
  touch "${stamp}"
  printf '%s: installed (%s)\n' "${label}" "${venv}" >&2
}
