#!/usr/bin/env bash
# A bounded fuzz run of every cargo-fuzz target (SIXSTACK_FUZZ_SECONDS in all, default 60),
# seeded with the scapy corpus when it can be built. A crash fails the test and leaves the
# input in $SIXSTACK_OUT/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${SIXSTACK_OUT:-$PWD/test-output}/fuzz
mkdir -p "$out"
total=${SIXSTACK_FUZZ_SECONDS:-60}

cargo +nightly fuzz build -O >"$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
targets=$(cargo +nightly fuzz list)
n=$(echo "$targets" | wc -w)
each=$(( total / n ))
[ "$each" -ge 2 ] || each=2

# Seeds: every frame of the scapy corpus, prefixed with the byte that selects its link type.
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
if /usr/bin/python3 tests/corpus/gen_corpus.py "$seeds/pcaps" >/dev/null 2>&1; then
  /usr/bin/python3 tests/fuzz_seeds.py "$seeds/pcaps" fuzz/corpus
else
  echo "no scapy corpus for seeds; fuzzing from empty corpora"
fi

status=0
for t in $targets; do
  mkdir -p "fuzz/corpus/$t"
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
