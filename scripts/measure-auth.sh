#!/usr/bin/env bash
# TLS against plaintext (MSM 2^16, resident bases) and token against none (Ed25519 stream),
# interleaved runs on one machine.
# Needs the release binaries: cargo build --release -p offload-daemon -p offload-cli and
# cargo build --release -p offload-benches --example verify_stream. Uses ports 50161-50163.
set -euo pipefail
cd "$(dirname "$0")/.."
W=$(mktemp -d)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -keyout $W/ca.key -out $W/ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" -keyout $W/s.key -out $W/s.csr 2>/dev/null
printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' > $W/s.ext
openssl x509 -req -in $W/s.csr -CA $W/ca.pem -CAkey $W/ca.key -CAcreateserial -days 2 -extfile $W/s.ext -out $W/s.pem 2>/dev/null
target/release/offloadd token --tenant m > $W/tok.txt
TOKEN=$(grep '^offload_' $W/tok.txt)
TEN=$(grep -v '^#' $W/tok.txt | grep -v '^offload_')
printf 'listen = "127.0.0.1:50161"\nmetrics_listen = ""\ndata_dir = "%s"\n' $W/a > $W/a.toml
printf 'listen = "127.0.0.1:50162"\nmetrics_listen = ""\ndata_dir = "%s"\n[tls]\ncert = "%s"\nkey = "%s"\n%s\n' $W/b $W/s.pem $W/s.key "$TEN" > $W/b.toml
printf 'listen = "127.0.0.1:50163"\nmetrics_listen = ""\ndata_dir = "%s"\n%s\n' $W/c "$TEN" > $W/c.toml
for d in a b c; do target/release/offloadd --config $W/$d.toml > $W/$d.log 2>&1 & echo $! > $W/$d.pid; done
sleep 8
for i in 1 2 3; do
  echo "== run $i plaintext"
  target/release/offload bench --backend remote --addr http://127.0.0.1:50161 --op msm --curve bn254 --log-n 16 --fixed-bases --compare --reps 31 --format table
  echo "== run $i TLS + token"
  OFFLOAD_TLS_CA=$W/ca.pem OFFLOAD_TOKEN=$TOKEN target/release/offload bench --backend remote --addr https://localhost:50162 --op msm --curve bn254 --log-n 16 --fixed-bases --compare --reps 31 --format table
done
for i in 1 2 3; do
  echo "== stream $i no token"
  target/release/examples/verify_stream http://127.0.0.1:50161 64 400
  echo "== stream $i token"
  OFFLOAD_TOKEN=$TOKEN target/release/examples/verify_stream http://127.0.0.1:50163 64 400
done
for d in a b c; do kill $(cat $W/$d.pid); done
