#!/usr/bin/env bash
# Two builds of the bench, interleaved: our engine's median per case from build A and build B,
# round after round on the same machine, and B/A per round (above 1: B is slower). For "a
# refactor changed nothing": the engines' speed before and after, with the noise of the run
# visible in the spread of the per-round ratios.
#
#   scripts/measure-ab.sh "A-COMMAND" "B-COMMAND" [ROUNDS]
#
# Each command is an offload bench (`offload bench` before the bench left the CLI,
# `offload-bench` after) and gets the case's arguments appended.
set -euo pipefail
a=$1 b=$2 rounds=${3:-5}
cases=(
  "--op msm --curve bn254 --log-n 16 --reps 15"
  "--op msm --curve bls12-381 --log-n 14 --reps 15"
  "--op ntt --field bn254 --log-n 18 --reps 15"
  "--op ntt --field babybear --log-n 20 --reps 15"
  "--op ed25519 --batch 1024 --reps 15"
)
median() { python3 -c 'import json,sys; print(next(json.loads(l)["median_ms"] for l in sys.stdin if l.strip()))'; }
printf '%-48s %5s %10s %10s %7s\n' case round A_ms B_ms B/A
for c in "${cases[@]}"; do
  for r in $(seq "$rounds"); do
    # Alternate which goes first, so neither always runs on a warmer or quieter machine.
    if (( r % 2 )); then
      ma=$($a $c | median); mb=$($b $c | median)
    else
      mb=$($b $c | median); ma=$($a $c | median)
    fi
    printf '%-48s %5d %10.3f %10.3f %7.3f\n' "$c" "$r" "$ma" "$mb" "$(python3 -c "print($mb/$ma)")"
  done
done
