#!/usr/bin/env bash
# deploy/openapi-check.sh: validates Aduan's OpenAPI document with a pinned openapi-spec-validator.
#
#   bash deploy/openapi-check.sh FILE...         installs the validator if needed, validates each FILE
#                                                 (every error listed; exit 1 when one is invalid);
#   eval "$(bash deploy/openapi-check.sh)"       installs it and prints
#                                                 `export ADUAN_OPENAPI_VALIDATOR=PATH`, which the test
#                                                 `the_openapi_document_is_valid` (engine/service/tests/api.rs)
#                                                 runs on the document the server serves.
#
# The validator is openapi-spec-validator 0.9.0 from PyPI, installed the way deploy/tools.sh installs
# nats-server: its own venv under ${ADUAN_TOOLS_DIR:-$HOME/.cache/aduan/tools}, pip --require-hashes,
# wheels only, with every dependency pinned below. The compiled dependencies (lazy-object-proxy,
# pydantic-core, pyyaml, rpds-py) are pinned for CPython 3.11, 3.12 and 3.13 on Linux x86_64 and
# aarch64 (manylinux); elsewhere pip refuses, and ADUAN_OPENAPI_VALIDATOR can name a validator
# installed by other means. Idempotent: a second run only checks the version.
# The hashes were taken with `pip download --only-binary=:all: [--platform … --python-version …]`
# and sha256sum.
set -euo pipefail

VALIDATOR_VERSION="0.9.0"
TOOLS_DIR="${ADUAN_TOOLS_DIR:-${HOME}/.cache/aduan/tools}"
DIR="${TOOLS_DIR}/openapi-spec-validator-${VALIDATOR_VERSION}"
VENV="${DIR}/venv"
BIN="${VENV}/bin/openapi-spec-validator"

log() { printf 'openapi-check: %s\n' "$*" >&2; }
die() { printf 'openapi-check: error: %s\n' "$*" >&2; exit 1; }

requirements() {
  cat <<'REQ'
annotated-types==0.8.0 \
    --hash=sha256:f072f4d804ea359e4eaf198b1af7a8b0943881a87f31bb764f8bf219bb9419e0
attrs==26.1.0 \
    --hash=sha256:c647aa4a12dfbad9333ca4e71fe62ddc36f4e63b2d260a37a8b83d2f043ac309
jsonschema==4.26.0 \
    --hash=sha256:d489f15263b8d200f8387e64b4c3a75f06629559fb73deb8fdfb525f2dab50ce
jsonschema-path==0.5.0 \
    --hash=sha256:2790a070bc7abb08ea3dbe4d340ece4efadf639223001f020c7503229ba068e2
jsonschema-specifications==2025.9.1 \
    --hash=sha256:98802fee3a11ee76ecaca44429fda8a41bff98b00a0f2838151b113f210cc6fe
lazy-object-proxy==1.13.0 \
    --hash=sha256:2b7f9f7b383145de190ee1df58e15e9f4a65b8e3eb417a250430e864b978ff92 \
    --hash=sha256:5f9f4840dcf082fde897e932a2f54ce8bae394ffd2583393df5f5189f2b3d03a \
    --hash=sha256:1bdc617c7b6f58aa5e59f514c7d619d7f60b52b343b77c9149d2fbfefc412f3a \
    --hash=sha256:903fc3eb8d87ff8fcb0b2f62e7d84e9808712aa085635612d2930b6ee2d8d4f5 \
    --hash=sha256:3df6b7db013fbbd00001a43af6b188b545442b4d125b5fddda79366108e02286 \
    --hash=sha256:4046337019bd862440764930dffc47747a36b2e5d74346f0d404eadf1e3e6fa7
openapi-schema-validator==0.9.0 \
    --hash=sha256:faa3bbe7c3aa8ca2087ad83f709dc3b7d920283153a570c03e24ea182558aa25
openapi-spec-validator==0.9.0 \
    --hash=sha256:222fecffc7714f6d0a6ad62c0e4b66cc2b7dbfafb7b93acfc6c308abbdb51af8
pathable==0.6.0 \
    --hash=sha256:82c4ca6c98c502ad12e0d4e9779b6210afee93c38990988c8c5d1b49bdcdf566
pydantic==2.14.4 \
    --hash=sha256:653a2ad9f6d8858529c77c72717d0ea991d6c6837fe683246b2f4b2bbfc3fadc
pydantic-core==2.50.5 \
    --hash=sha256:488319076ec92908b91fc6265ce761f1d78748f69f85518564fd16bf333e1b70 \
    --hash=sha256:ba2b34529984a8e3cb1bc62a7687617722695a2cb4e57958de32a0eba128a07a \
    --hash=sha256:07a62d44515d674d750cfd86b7ce1dd93111be870f378d7c27b37aeb78d0cb4a \
    --hash=sha256:8bbe282e79dc71b24ba7be284eacf27c8ddff8f26911e2030a0dd123c6aed326 \
    --hash=sha256:470bbc2495367f60d3ca849a8039e4c164701d10637e7743f4427d92651bdb6d \
    --hash=sha256:cbfde3ad127786f1dea1a6cd89a5eb824a16203f24743ad2b4e07506f43bc844
pydantic-settings==2.16.3 \
    --hash=sha256:d1db16a2d34006323a1b42c0640898da58adfbad7ec30baaa9e2b18aafc08999
python-dotenv==1.2.4 \
    --hash=sha256:42269a8a5b3fd54ffa6f3d84b18abed50064717576b4ecf03dc4a55d8aa04fdc
pyyaml==6.0.4 \
    --hash=sha256:622aa875fa6533f25fedcffe23079357d65a690d462200afed5d8e9d0e01ebee \
    --hash=sha256:71bb5b87465d88d1dfc577115af6d435bff9b26f2512936f610c26aa55966028 \
    --hash=sha256:45e37dd647db9d67b757444c74060c064ace5fdaa08f42bf4fda3812275d423e \
    --hash=sha256:41b4669c3a8fd5750e594dff59d3e62d40e321fec467b50449603710ed0a68f3 \
    --hash=sha256:93bfb2459195406a518e2f487a9bbf01df240175f31e06f5a252ac6734c7bbf0 \
    --hash=sha256:50588147ab2c6a59b5f990a4905db80899a6c2bd197e046a6201f1e67587e794
referencing==0.37.0 \
    --hash=sha256:381329a9f99628c9069361716891d34ad94af76e461dcb0335825aecc7692231
rfc3339-validator==0.1.4 \
    --hash=sha256:24f6ec1eda14ef823da9e36ec7113124b39c04d50a4d3d3a3c2859577e7791fa
rpds-py==2026.9.1 \
    --hash=sha256:136a1c3fe4402b7008bc81cb62ee538481795b61a7e83df88dff3b3f02b726ff \
    --hash=sha256:e01b3c878c8641913e688edd1b3f08658c6783d29cf6b826bd3c0d1ae7a1ffaa \
    --hash=sha256:2693b2728bbcc48d09a981a356954b0c47c53ff25b545856f28a889ea619f69a \
    --hash=sha256:457866b85daf5034296666168b84a69e0b2e89dc4f1af102b46f6448a60b9063 \
    --hash=sha256:addeda51556dac7c1a2f14cda62db8b621cd12afba3091d03a96c72932387eab \
    --hash=sha256:7868b85224291c6cb6759f9b5adb9745f486d226f62b16a614dd5a2a5ab2b35b
six==1.17.0 \
    --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274
typing-extensions==4.16.0 \
    --hash=sha256:481caa481374e813c1b176ada14e97f1f67a4539ce9cfeb3f350d78d6370c2e8
typing-inspection==0.4.5 \
    --hash=sha256:bc210535442b39e1bf2805e0c7a17dfd6a4ace760c84c7f7d16245d23a6b1c39
REQ
}

installed() { [[ -x "${BIN}" ]] && [[ -f "${DIR}/installed-${VALIDATOR_VERSION}" ]]; }

install() {
  command -v python3 >/dev/null 2>&1 || die "python3 is needed (apt-get install python3 python3-venv)"
  log "installing openapi-spec-validator ${VALIDATOR_VERSION} (PyPI, pinned hashes) into ${VENV}"
  rm -rf "${VENV}" "${DIR}/installed-${VALIDATOR_VERSION}"
  mkdir -p "${DIR}"
  python3 -m venv "${VENV}" >&2 || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  requirements >"${DIR}/requirements.txt"
  # --require-hashes: pip refuses any file whose sha256 is not pinned; --only-binary: no sdist builds;
  # --no-deps: the list above is the whole closure, nothing else is resolved.
  "${VENV}/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --require-hashes --only-binary=:all: --no-deps -r "${DIR}/requirements.txt" >&2 ||
    die "pip install openapi-spec-validator==${VALIDATOR_VERSION} failed"
  [[ -x "${BIN}" ]] || die "openapi-spec-validator not found at ${BIN} after pip install"
  touch "${DIR}/installed-${VALIDATOR_VERSION}"
  log "openapi-spec-validator ${VALIDATOR_VERSION}: installed (${BIN})"
}

mkdir -p "${TOOLS_DIR}"
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TOOLS_DIR}/.openapi-check.lock"
  flock 9
fi
if installed; then
  log "openapi-spec-validator ${VALIDATOR_VERSION}: already installed (${BIN})"
else
  install
fi

if (($# == 0)); then
  printf 'export ADUAN_OPENAPI_VALIDATOR=%q\n' "${BIN}"
  exit 0
fi
status=0
for file in "$@"; do
  [[ -f "${file}" ]] || die "no such file: ${file}"
  if "${BIN}" --validation-errors all "${file}" >&2; then
    log "${file}: valid"
  else
    log "${file}: INVALID"
    status=1
  fi
done
exit "${status}"
