#!/usr/bin/env bash
# Coverage-guided fuzzing of offloadd: AFL++ through the afl crate (stable Rust; cargo fuzz
# needs nightly). Targets: `service` (every request type through the codec and the service's
# handlers) and `decoders` (points, elements, keys and messages straight from bytes); see
# host/daemon/src/fuzz.rs. Seeds in host/daemon/fuzz/corpus.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]    (default: 25 s each, both targets)
#
# Installs cargo-afl and builds AFL++ when missing. Fails when a target crashed or hung; prints
# afl's statistics. Findings stay under host/daemon/fuzz/out/TARGET/default/{crashes,hangs}.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-25}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(service decoders)

command -v cargo-afl >/dev/null 2>&1 || cargo install cargo-afl --locked --version 0.18.2
rustc_id=$(rustc --version | awk '{print $2 "-" substr($3, 2, 7)}')
afl_dir="${XDG_DATA_HOME:-$HOME/.local/share}/afl.rs/rustc-$rustc_id"
compgen -G "$afl_dir/afl.rs-*/afl/bin/afl-fuzz" >/dev/null || cargo afl config --build
compgen -G "$afl_dir/afl.rs-*/afl/bin/afl-fuzz" >/dev/null ||
  { echo "AFL++ did not build under $afl_dir" >&2; exit 1; }

cd host/daemon/fuzz
cargo afl build --release --locked --bins
status=0
for t in "${targets[@]}"; do
  rm -rf "out/$t"
  mkdir -p out
  echo "== afl-fuzz $t for ${secs} s"
  # No core_pattern or CPU-governor tuning on shared machines: afl only warns about those.
  AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
    AFL_QUIET=1 cargo afl fuzz -V "$secs" -t 10000 -i "corpus/$t" -o "out/$t" \
    "target/release/$t" >"out-$t.log" 2>&1 || { tail -30 "out-$t.log" >&2; status=1; continue; }
  stats="out/$t/default/fuzzer_stats"
  grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|bitmap_cvg|saved_crashes|saved_hangs|stability) ' "$stats"
  crashes=$(awk '$1 == "saved_crashes" {print $3}' "$stats")
  hangs=$(awk '$1 == "saved_hangs" {print $3}' "$stats")
  if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
    echo "$t: $crashes crashes, $hangs hangs: inputs under host/daemon/fuzz/out/$t/default/" >&2
    status=1
  fi
done
exit $status
