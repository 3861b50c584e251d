#!/usr/bin/env bash
# The tshark corpus comparison: builds `sixstack`, generates a deterministic corpus of a
# few thousand packets with scapy (tests/corpus/gen_corpus.py), and compares
# `sixstack dump --json` with `tshark -T json` field by field (tests/corpus/compare.py).
# Output (pcaps, manifest, report.txt) goes to $SIXSTACK_OUT/corpus. Exits non-zero on
# any difference that is not a documented tshark quirk, or if a tool is missing.
#
#   SIXSTACK_BIN   use this binary instead of building target/debug/sixstack
#   SIXSTACK_OUT   output folder (default test-output/)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${SIXSTACK_OUT:-$root/test-output}/corpus
mkdir -p "$out"

missing=()
command -v tshark >/dev/null || missing+=("tshark (apt-get install tshark)")
/usr/bin/python3 -c 'import scapy' 2>/dev/null || missing+=("scapy for /usr/bin/python3 (apt-get install python3-scapy)")
if [ ${#missing[@]} -gt 0 ]; then
  printf 'tshark_corpus: FAIL: missing %s\n' "${missing[@]}" >&2
  echo "tshark_corpus: scripts/test installs these; run it, or install them by hand." >&2
  exit 1
fi

if [ -n "${SIXSTACK_BIN:-}" ]; then
  bin=$SIXSTACK_BIN
else
  cargo build -q -p sixstack
  bin=$root/target/debug/sixstack
fi
[ -x "$bin" ] || { echo "tshark_corpus: FAIL: no binary at $bin" >&2; exit 1; }

echo "tshark_corpus: $(tshark --version 2>/dev/null | head -1)"
rm -f "$out"/*.pcap "$out"/manifest.jsonl "$out"/report.txt
/usr/bin/python3 tests/corpus/gen_corpus.py "$out"
/usr/bin/python3 tests/corpus/compare.py "$out" "$bin"
