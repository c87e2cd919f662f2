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
cargo test --workspace --release
echo "== bench smoke run"
cargo run --release -q -p offload-cli -- bench --op msm --log-n 10 --reps 2 --compare --format table
cargo run --release -q -p offload-cli -- bench --op ntt --log-n 12 --reps 2 --compare --format table
