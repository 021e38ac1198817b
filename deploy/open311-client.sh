#!/usr/bin/env bash
# deploy/open311-client.sh: installs the real Open311 GeoReport v2 clients that tests/it/open311.rs
# drives against a live `aduan serve` (tests/it/open311_client.py): georeport 0.3.1 (reads) and
# civicbot 0.4.0 (files requests), pinned with every dependency in deploy/requirements-open311.txt (why
# these two: that file's header).
#
#   eval "$(bash deploy/open311-client.sh)"    installs them if needed and prints
#                                               `export ADUAN_OPEN311_PYTHON=PATH`, the venv's python
#                                               the test runs the script with (deploy/test.sh does this
#                                               before nextest);
#   bash deploy/open311-client.sh BASE_URL API_KEY FORMAT
#                                               runs the script against BASE_URL
#                                               (http://127.0.0.1:8080/open311/v2) in FORMAT (json, xml).
#
# Installed like deploy/schemathesis.sh installs schemathesis, through deploy/pyvenv.sh's pinned_venv:
# a venv of its own under ${ADUAN_TOOLS_DIR:-$HOME/.cache/aduan/tools}/open311-client, pip
# --require-hashes, wheels only, --no-deps, a stamp naming the requirements file's sha256 (a second
# run takes well under a second).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

REQUIREMENTS="${ROOT}/deploy/requirements-open311.txt"
TOOLS_DIR="${ADUAN_TOOLS_DIR:-${HOME}/.cache/aduan/tools}"
DIR="${TOOLS_DIR}/open311-client"
PY="${DIR}/venv/bin/python"

die() {
  printf 'open311-client: error: %s\n' "$*" >&2
  exit 1
}

case "${1:-}" in
  -h | --help | help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
    ;;
esac
(($# == 0 || $# == 3)) || die "no arguments, or BASE_URL API_KEY FORMAT (see --help)"

# shellcheck source=deploy/pyvenv.sh
. "${ROOT}/deploy/pyvenv.sh"
pinned_venv open311-client "${REQUIREMENTS}" "${DIR}" || die "installing the Open311 clients failed (above)"
versions="$("${PY}" -c 'import importlib.metadata as m; print(m.version("georeport"), m.version("civicbot"))')" ||
  die "${PY} cannot read the installed versions"
[[ "${versions}" == "0.3.1 0.4.0" ]] || die "georeport and civicbot are ${versions}, not 0.3.1 0.4.0"

if (($# == 0)); then
  printf 'export ADUAN_OPEN311_PYTHON=%q\n' "${PY}"
  exit 0
fi
exec "${PY}" "${ROOT}/tests/it/open311_client.py" "$@"
