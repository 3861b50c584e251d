#!/usr/bin/env bash
# Issue #3: every pcap the demo and the scenario tests write is read by tshark with no
# malformed packet and no bad checksum. Frames a test injected on purpose as hostile input
# are listed by the simulator in <link>.injected next to the pcap and are not judged; every
# frame a sixstack node sent is.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${SIXSTACK_OUT:-$PWD/test-output}/sim-pcaps
rm -rf "$out"
mkdir -p "$out/demo" "$out/scenarios"

cargo run -q --release -p sixstack -- demo --pcap "$out/demo" >"$out/demo.txt"
SIXSTACK_PCAP_DIR="$out/scenarios" cargo test -q --release -p sixstack-sim --tests >"$out/scenarios.log" 2>&1 || {
  tail -40 "$out/scenarios.log"
  echo "scenario tests failed while writing pcaps"
  exit 1
}

mapfile -t files < <(find "$out" -name '*.pcap' | sort)
if [ "${#files[@]}" -lt 10 ]; then
  echo "only ${#files[@]} pcaps written; expected the demo's and the scenarios'"
  exit 1
fi
opts=(-o udp.check_checksum:TRUE -o udplite.check_checksum:TRUE -o tcp.check_checksum:TRUE)
# Checksums of the outermost layer only (#1): an ICMPv6 error quotes the offending packet,
# which may be bad on purpose; for the same reason protocol errors that Wireshark's expert
# finds inside an ICMPv6 error's quote do not count. Malformed counts everywhere.
filter='_ws.malformed || icmpv6.checksum.status#1 == "Bad" || udp.checksum.status#1 == "Bad" || (_ws.expert.severity == "Error" && !(icmpv6.type#1 < 128))'
frames=0
bad=0
made=0
for f in "${files[@]}"; do
  n=$(tshark -r "$f" "${opts[@]}" -T fields -e frame.number 2>/dev/null | wc -l)
  frames=$((frames + n))
  injected="${f%.pcap}.injected"
  # UDP payloads are the tests' own bytes: shown as data, not guessed at by port (a
  # payload "abc" to port 53 would otherwise be a malformed DNS message).
  decode=()
  while read -r port; do
    [ -n "$port" ] && decode+=(-d "udp.port==$port,data")
  done < <(tshark -r "$f" -T fields -e udp.srcport -e udp.dstport 2>/dev/null | tr '\t,' '\n\n' | sort -u)
  # TCP streams carry the tests' own bytes too: by the port each connection was opened to
  # (an iperf-like 5001, or 6000 taken for X11, would otherwise be dissected and flagged).
  while read -r port; do
    [ -n "$port" ] && decode+=(-d "tcp.port==$port,data")
  done < <(tshark -r "$f" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -T fields -e tcp.dstport 2>/dev/null | sort -u)
  # tshark must itself succeed: a filter it cannot parse would otherwise pass everything.
  if ! tshark -r "$f" "${opts[@]}" "${decode[@]}" -Y "$filter" -T fields -e frame.number -e _ws.col.Info >"$out/flagged.txt" 2>"$out/tshark.err"; then
    cat "$out/tshark.err"
    echo "tshark failed on $f"
    exit 1
  fi
  while read -r num info; do
    [ -n "$num" ] || continue
    if [ -f "$injected" ] && grep -qx "$num" "$injected"; then
      made=$((made + 1))
      continue
    fi
    echo "BAD ${f#"$out"/} frame $num: $info"
    bad=$((bad + 1))
  done <"$out/flagged.txt"
done
echo "tshark read ${#files[@]} pcaps, $frames frames: $bad malformed or with a bad checksum" \
  "($made flagged frames were hostile input a test made, not judged)"
[ "$bad" -eq 0 ]
