#!/usr/bin/env bash
# The whole test suite, from a fresh machine: formatting, lints, every test, and a bench smoke run.
# Needs only the Rust toolchain (cargo, rustfmt, clippy) and a C compiler (blst); installs the
# toolchain components if they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add rustfmt clippy
fi
if ! command -v cc >/dev/null 2>&1; then
  apt-get -o APT::Sandbox::User=root update && apt-get install -y gcc
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --release -- -D warnings
echo "== cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --release 2>&1 | tee "$log"
echo "== bench smoke run"
cargo run --release -q -p offload-cli -- bench --op msm --log-n 10 --reps 2 --compare --format table
cargo run --release -q -p offload-cli -- bench --op ntt --log-n 12 --reps 2 --compare --format table

# One closing line for the whole run: the sum over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
