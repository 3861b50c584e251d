#!/usr/bin/env bash
# A bounded fuzz run of every cargo-fuzz target (SIXSTACK_FUZZ_SECONDS in all, default 60),
# seeded with the scapy corpus when it can be built and with simulated frames. A crash
# fails the test and leaves the input in $SIXSTACK_OUT/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${SIXSTACK_OUT:-$PWD/test-output}/fuzz
mkdir -p "$out"
total=${SIXSTACK_FUZZ_SECONDS:-60}

cargo +nightly fuzz build -O >"$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
targets=$(cargo +nightly fuzz list)
# The time is split in shares: stack_receive (a whole Stack per input, the slowest and
# the one with the most behind it) gets two, every other target one.
shares=0
for t in $targets; do
  if [ "$t" = stack_receive ]; then shares=$((shares + 2)); else shares=$((shares + 1)); fi
done
share=$(( total / shares ))
[ "$share" -ge 2 ] || share=2

# Seeds: every frame of the scapy corpus, prefixed with the byte that selects its link
# type; for stack_receive, the corpus's Ethernet frames and windows of the frames of a
# simulated internetwork (crates/sim/examples/fuzz_seeds.rs) addressed to its nodes.
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
if ! cargo run -q -p sixstack-sim --example fuzz_seeds -- "$seeds/sim" >"$out/sim-seeds.log" 2>&1; then
  echo "no simulated frames for stack_receive seeds (see $out/sim-seeds.log)"
fi
if ! /usr/bin/python3 tests/corpus/gen_corpus.py "$seeds/pcaps" >/dev/null 2>&1; then
  echo "no scapy corpus for seeds"
fi
python=/usr/bin/python3
[ -x "$python" ] || python=python3
"$python" tests/fuzz_seeds.py "$seeds/pcaps" fuzz/corpus "$seeds/sim"

status=0
for t in $targets; do
  mkdir -p "fuzz/corpus/$t"
  each=$share
  [ "$t" = stack_receive ] && each=$((2 * share))
  echo "fuzzing $t for ${each}s"
  if ! cargo +nightly fuzz run -O "$t" "fuzz/corpus/$t" -- -max_total_time="$each" \
      -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 >"$out/$t.log" 2>&1; then
    echo "FAIL: fuzz target $t crashed; see $out/$t.log"
    tail -40 "$out/$t.log"
    cp -r "fuzz/artifacts/$t" "$out/" 2>/dev/null || true
    status=1
  else
    grep -E 'stat::number_of_executed_units|cov:' "$out/$t.log" | tail -2 || true
  fi
done
exit $status
