#!/usr/bin/env bash
# One tenant flooding offloadd from 64 connections, another tenant's small-MSM and verify
# latency (p50, p99) against the same daemon idle, rounds interleaved (docs/PERFORMANCE.md).
# Needs the release binaries: cargo build --release -p offload-daemon and
# cargo build --release -p offload-benches --example tenant_flood. Uses port 50171.
# Arguments go to tenant_flood after the address: CONNECTIONS SECONDS ROUNDS (64 10 3).
set -euo pipefail
cd "$(dirname "$0")/.."
W=$(mktemp -d)
trap 'kill $(cat $W/pid) 2>/dev/null || true; rm -rf $W' EXIT
target/release/offloadd token --tenant flood > $W/flood.txt
target/release/offloadd token --tenant quiet > $W/quiet.txt
{
  printf 'listen = "127.0.0.1:50171"\nmetrics_listen = ""\ndata_dir = "%s/data"\n' $W
  grep -v '^#' $W/flood.txt | grep -v '^offload_'
  grep -v '^#' $W/quiet.txt | grep -v '^offload_'
} > $W/offloadd.toml
target/release/offloadd --config $W/offloadd.toml > $W/log 2>&1 & echo $! > $W/pid
for _ in $(seq 100); do grep -q "serving gRPC over TCP" $W/log && break; sleep 0.2; done
OFFLOAD_FLOOD_TOKEN=$(grep '^offload_' $W/flood.txt) OFFLOAD_QUIET_TOKEN=$(grep '^offload_' $W/quiet.txt) \
  target/release/examples/tenant_flood http://127.0.0.1:50171 "$@"
