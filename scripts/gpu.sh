#!/usr/bin/env bash
# The GPU run: the backend conformance suite on the real device, then the GPU bench table
# (each case beside the CPU and the peers, same run), inside 8 minutes of device time.
#
#   bash scripts/gpu.sh kit   # here, without a GPU: builds gpu-kit/ (stripped binaries)
#   bash scripts/gpu.sh run   # on the lent machine (device tool, carry ["gpu-kit"]); writes
#                             # logs under $OUT and prints the tables last
#
# The device machine has no Rust toolchain and reaches no registry, so everything it runs is
# built here. Kernels are compiled there at run time by the NVRTC it has.
set -euo pipefail
cd "$(dirname "$0")/.."

kit() {
  cargo build --release -q -p offload-benches --bin offload-bench
  local conf
  conf=$(cargo test --release -q -p offload-backends --test conformance --no-run \
    --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "conformance" and m.get("executable"):
        print(m["executable"])')
  [ -x "$conf" ] || { echo "no conformance test binary" >&2; exit 1; }
  rm -rf gpu-kit && mkdir gpu-kit
  cp target/release/offload-bench gpu-kit/offload-bench
  cp "$conf" gpu-kit/conformance
  strip gpu-kit/offload-bench gpu-kit/conformance
  du -sh gpu-kit
}

run() {
  local out=${OUT:-gpu-out}
  mkdir -p "$out"
  # NVRTC and ptxas from the toolkit or the Python wheels the image holds.
  local libs
  libs=$(find /usr/local/cuda*/lib64 /usr/local/cuda*/targets/*/lib \
    "$(python3 -c 'import nvidia, os; print(list(nvidia.__path__)[0])' 2>/dev/null || echo /nonexistent)" \
    -name 'libnvrtc.so*' -printf '%h\n' 2>/dev/null | sort -u | tr '\n' ':')
  export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:-}"
  if command -v ptxas >/dev/null; then export OFFLOAD_PTXAS=$(command -v ptxas); fi
  { nvidia-smi; echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"; } >"$out/machine.txt" 2>&1 || true
  echo "== conformance on the GPU"
  OFFLOAD_REQUIRE_GPU=1 timeout 240 gpu-kit/conformance --nocapture --test-threads 1 \
    a_real_gpu >"$out/conformance.txt" 2>&1 && conf=ok || conf="FAILED ($?)"
  tail -5 "$out/conformance.txt"
  echo "== benches"
  bench() { timeout 90 gpu-kit/offload-bench --backend cuda --compare --reps 9 "$@"; }
  {
    bench --op msm --curve bn254 --log-n 16,18,20 --format table
    bench --op msm --curve bls12-381 --log-n 16,18 --format table
    bench --op ntt --field bn254 --log-n 16,20,22 --format table
    bench --op ntt --field babybear --log-n 16,20,24 --format table
    bench --op ntt --field goldilocks --log-n 16,20,22 --format table
    bench --op ed25519 --batch 1024,16384 --format table
  } >"$out/bench.txt" 2>&1 || true
  cat "$out/bench.txt"
  echo "conformance: $conf"
}

case "${1:-}" in
  kit) kit ;;
  run) run ;;
  *) echo "usage: $0 kit|run" >&2; exit 2 ;;
esac
