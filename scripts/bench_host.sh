#!/usr/bin/env bash
# Issue #4's benchmark: the daemon on a TAP device against the Linux kernel, in one run.
# Called by `scripts/bench host`; needs root. Measures and prints; asserts nothing.
#
#  6. Ping round-trip time: the kernel pings sixstack over a TAP device, and pings another
#     kernel over a veth pair, alternately, from one namespace with one ping: paced
#     (-i 0.002: each request finds the other side idle) and flooding (-f).
#  7. UDP datagrams per second: a kernel socket blasts datagrams (64 and 1200 bytes) at a
#     sixstack-client UdpSocket through the daemon, and at a kernel socket over the veth
#     (crates/client/examples/udp_bench.rs is sender and both receivers). Then the cost of
#     the receive call alone: 50 datagrams queued before the receiver's first call (best
#     of 5: 50 kernel receives take some 50 µs, so one run is at the mercy of the VM).
#
# The lab: two network namespaces of its own, sxb-<pid>-k and sxb-<pid>-p.
#
#   sxb-<pid>-k                                          sxb-<pid>-p
#   ping, udp_bench send             veth0 ============= veth1
#   2001:db8:2::1                                        2001:db8:2::2  (the peer kernel)
#   tap0 2001:db8:1::1 ==== sixstack run (in -k), 2001:db8:1::2, with udp_bench recv-sixstack
#
# Both are removed at the end, also on failure or ^C; the daemon and the receivers are
# ended by their pids. Only 2001:db8::/32 addresses; no interface outside the two
# namespaces is touched.
#
#   SIXSTACK_BENCH_PINGS      echo requests per paced ping run (default 2000)
#   SIXSTACK_BENCH_FLOOD      echo requests per ping -f run (default 50000)
#   SIXSTACK_BENCH_INTERVAL   ping's -i (default 0.002)
#   SIXSTACK_BENCH_ROUNDS     rounds of each measurement, alternating the two (default 3)
#   SIXSTACK_BENCH_DATAGRAMS  datagrams per UDP run (default 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [ "$(id -u)" != 0 ]; then
  echo "scripts/bench host needs root: it creates network namespaces, a TAP device and a" >&2
  echo "veth pair, and runs the daemon in them. Run it as root (sudo scripts/bench host)." >&2
  exit 1
fi
missing=()
for t in ip ping; do command -v "$t" >/dev/null || missing+=("$t"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "missing: ${missing[*]} (apt-get install --no-install-recommends iproute2 iputils-ping)" >&2
  exit 1
fi

pings=${SIXSTACK_BENCH_PINGS:-2000}
interval=${SIXSTACK_BENCH_INTERVAL:-0.002}
rounds=${SIXSTACK_BENCH_ROUNDS:-3}
datagrams=${SIXSTACK_BENCH_DATAGRAMS:-200000}
flood=${SIXSTACK_BENCH_FLOOD:-50000}
# Datagrams sent into a receiver's queue before it reads: fewer than the daemon's socket
# queue holds (StackConfig::socket_queue_len, 64), and than the kernel's default buffer.
queued=50
best=5

echo "=== build (release)"
cargo build --release --quiet -p sixstack
cargo build --release --quiet -p sixstack-client --example udp_bench
sixstack=$root/target/release/sixstack
udp_bench=$root/target/release/examples/udp_bench

ns_k=sxb-$$-k
ns_p=sxb-$$-p
work=$(mktemp -d "${TMPDIR:-/tmp}/sxb-$$.XXXXXX")
ctl=$work/ctl.sock
daemon=""
receiver=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in $receiver $daemon; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $receiver $daemon; do
    wait "$pid" 2>/dev/null || true
  done
  ip netns del "$ns_k" 2>/dev/null || true
  ip netns del "$ns_p" 2>/dev/null || true
  if [ "$rc" != 0 ] && [ -s "$work/daemon.log" ]; then
    echo "--- the daemon's log (last lines)" >&2
    tail -n 20 "$work/daemon.log" >&2
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

in_k() { ip netns exec "$ns_k" "$@"; }
in_p() { ip netns exec "$ns_p" "$@"; }
sx() { SIXSTACK_CONTROL=$ctl in_k "$sixstack" "$@"; }

# Waits up to $1 tenths of a second for the command after it to succeed.
wait_for() {
  local tries=$1
  shift
  for _ in $(seq "$tries"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for: $*" >&2
  return 1
}

echo "=== lab: namespaces $ns_k and $ns_p"
ip netns add "$ns_k"
ip netns add "$ns_p"
in_k ip link set lo up
in_p ip link set lo up
in_k ip link add veth0 type veth peer name veth1 netns "$ns_p"
in_k ip -6 addr add 2001:db8:2::1/64 dev veth0 nodad
in_p ip -6 addr add 2001:db8:2::2/64 dev veth1 nodad
in_k ip link set veth0 up
in_p ip link set veth1 up

# Started without a wrapping function, so that $! is the daemon itself (ip netns exec
# execs it) and the cleanup can end it by its pid.
ip netns exec "$ns_k" "$sixstack" run --tap tap0 --control "$ctl" --log-format text 2>"$work/daemon.log" &
daemon=$!
wait_for 200 test -S "$ctl"
in_k ip -6 addr add 2001:db8:1::1/64 dev tap0 nodad
sx addr add 2001:db8:1::2/64 dev tap0
preferred() {
  sx addr show dev tap0 --json | tr '{' '\n' | grep '"2001:db8:1::2"' | grep -q '"preferred"'
}
if ! wait_for 100 preferred; then
  sx addr show >&2
  exit 1
fi
# Neighbors resolved both ways before anything is timed.
in_k ping -6 -n -q -c 3 -i 0.2 -W 2 2001:db8:1::2 >/dev/null
in_k ping -6 -n -q -c 3 -i 0.2 -W 2 2001:db8:2::2 >/dev/null
echo "daemon pid $daemon; kernel $(uname -r); $(nproc) CPUs"

# ----- ping ---------------------------------------------------------------------------

# Which of the two goes first in round $1: they alternate, so neither always follows the
# other.
order() { if [ $(($1 % 2)) = 1 ]; then echo "s k"; else echo "k s"; fi; }
target() { if [ "$1" = s ]; then echo 2001:db8:1::2; else echo 2001:db8:2::2; fi; }
label() {
  if [ "$1" = s ]; then echo "sixstack over TAP (2001:db8:1::2)"; else
    echo "kernel over veth (2001:db8:2::2)"; fi
}

echo
echo "=== ping round-trip time: ping -6 -c $pings -i $interval, $rounds rounds, from $ns_k"
# One paced ping run to $1; prints "sent received min p50 avg p90 p99 max" (ms), the
# percentiles from the per-reply times.
ping_paced() {
  # shellcheck disable=SC2086 # PING_PIN is a command prefix, split on purpose
  in_k ${PING_PIN:-} ping -6 -n -c "$pings" -i "$interval" -W 2 "$1" >"$work/ping.out" || true
  grep -o 'time=[0-9.]*' "$work/ping.out" | cut -d= -f2 | sort -g >"$work/ping.times"
  awk -v sum="$(grep 'packets transmitted' "$work/ping.out")" \
    -v rtt="$(grep -E '^(rtt|round-trip)' "$work/ping.out")" '
    function pct(p, i) { i = int(p * NR + 0.999999); if (i < 1) i = 1; return t[i] }
    { t[NR] = $1 }
    END {
      split(sum, a, " "); split(rtt, b, " "); split(b[4], v, "/");
      printf "%d %d %s %s %s %s %s %s\n", a[1], a[4], v[1], pct(0.5), v[2], pct(0.9),
        pct(0.99), v[3] }' "$work/ping.times"
}
declare -A pr
printf '%-5s %-34s %5s %5s %7s %7s %7s %7s %7s %7s\n' round "to (µs)" sent recv min p50 avg \
  p90 p99 max
for r in $(seq "$rounds"); do
  for w in $(order "$r"); do
    pr[$w,$r]=$(ping_paced "$(target "$w")")
    echo "${pr[$w,$r]}" | awk -v r="$r" -v l="$(label "$w")" '{
      printf "%-5s %-34s %5d %5d %7.0f %7.0f %7.0f %7.0f %7.0f %7.0f\n",
        r, l, $1, $2, $3 * 1000, $4 * 1000, $5 * 1000, $6 * 1000, $7 * 1000, $8 * 1000 }'
  done
done

echo
echo "=== ping -f (flood: the next request as soon as the reply is in), -c $flood, $rounds rounds"
# One flood run to $1; prints "sent received ms min avg max mdev" (ms).
ping_flood() {
  # shellcheck disable=SC2086 # PING_PIN is a command prefix, split on purpose
  in_k ${PING_PIN:-} ping -6 -n -q -f -c "$flood" -W 2 "$1" >"$work/ping.out" || true
  awk '/packets transmitted/ { sent = $1; recv = $4; ms = $10 + 0 }
    /^(rtt|round-trip)/ { split($4, v, "/") }
    END { printf "%d %d %d %s %s %s %s\n", sent, recv, ms, v[1], v[2], v[3], v[4] }' \
    "$work/ping.out"
}
declare -A pf
printf '%-5s %-34s %6s %6s %8s %7s %7s %7s %7s\n' round "to (µs)" sent recv "echoes/s" min avg \
  max mdev
for r in $(seq "$rounds"); do
  for w in $(order "$r"); do
    pf[$w,$r]=$(ping_flood "$(target "$w")")
    echo "${pf[$w,$r]}" | awk -v r="$r" -v l="$(label "$w")" '{
      printf "%-5s %-34s %6d %6d %8.0f %7.0f %7.0f %7.0f %7.0f\n",
        r, l, $1, $2, ($3 > 0) ? $2 / ($3 / 1000) : 0, $4 * 1000, $5 * 1000, $6 * 1000,
        $7 * 1000 }'
  done
done
echo
echo "ratios, sixstack / kernel (round-trip times: above 1, sixstack is slower)"
for r in $(seq "$rounds"); do
  awk -v r="$r" -v s="${pr[s,$r]}" -v k="${pr[k,$r]}" -v fs="${pf[s,$r]}" -v fk="${pf[k,$r]}" '
    BEGIN {
      split(s, a, " "); split(k, b, " "); split(fs, c, " "); split(fk, d, " ");
      printf "round %d: -i %s: p50 %.1f x, avg %.1f x;  -f: avg %.1f x, echoes/s %.2f x\n",
        r, "'"$interval"'", a[4] / b[4], a[5] / b[5], c[5] / d[5],
        (c[2] / c[3]) / (d[2] / d[3]) }'
done
echo "(ping prints times to the microsecond: the kernel's are a few µs, so their ratios are"
echo " coarse. Its -f summary gives the run's time in whole ms.)"

# Where the daemon runs matters: the kernel answers over the veth in the pinging process's
# own system call, while over the TAP the daemon must be woken, and waking a process on
# the other, idle, vCPU costs more. The paced and the flood runs again with ping on CPU 0
# and the daemon (all its threads) on CPU 0, then on CPU 1; the kernel's with ping on
# CPU 0. Then the daemon may run anywhere again.
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  echo
  echo "=== pinned with taskset: ping on CPU 0, the daemon on CPU 0 or on CPU 1"
  declare -A pp
  for pin in 0 1 k; do
    if [ "$pin" = k ]; then w=k; else
      w=s
      taskset -a -p -c "$pin" "$daemon" >/dev/null
    fi
    pp[$pin,paced]=$(PING_PIN="taskset -c 0" ping_paced "$(target "$w")")
    pp[$pin,flood]=$(PING_PIN="taskset -c 0" ping_flood "$(target "$w")")
  done
  taskset -a -p -c "0-$(($(nproc) - 1))" "$daemon" >/dev/null
  pin_label() { if [ "$1" = k ]; then echo "kernel over veth"; else echo "sixstack, daemon on CPU $1"; fi; }
  printf '%-5s %-34s %5s %5s %7s %7s %7s %7s %7s %7s\n' -i "to (µs)" sent recv min p50 avg \
    p90 p99 max
  for pin in 0 1 k; do
    echo "${pp[$pin,paced]}" | awk -v l="$(pin_label "$pin")" -v i="$interval" '{
      printf "%-5s %-34s %5d %5d %7.0f %7.0f %7.0f %7.0f %7.0f %7.0f\n",
        i, l, $1, $2, $3 * 1000, $4 * 1000, $5 * 1000, $6 * 1000, $7 * 1000, $8 * 1000 }'
  done
  printf '%-5s %-34s %6s %6s %8s %7s %7s %7s %7s\n' -f "to (µs)" sent recv "echoes/s" min avg \
    max mdev
  for pin in 0 1 k; do
    echo "${pp[$pin,flood]}" | awk -v l="$(pin_label "$pin")" '{
      printf "%-5s %-34s %6d %6d %8.0f %7.0f %7.0f %7.0f %7.0f\n",
        "-f", l, $1, $2, ($3 > 0) ? $2 / ($3 / 1000) : 0, $4 * 1000, $5 * 1000, $6 * 1000,
        $7 * 1000 }'
  done
  echo "ratios, sixstack / kernel, pinned (round-trip times: above 1, sixstack is slower)"
  for pin in 0 1; do
    awk -v pin="$pin" -v s="${pp[$pin,paced]}" -v k="${pp[k,paced]}" -v fs="${pp[$pin,flood]}" \
      -v fk="${pp[k,flood]}" 'BEGIN {
      split(s, a, " "); split(k, b, " "); split(fs, c, " "); split(fk, d, " ");
      printf "daemon on CPU %d: -i %s: p50 %.1f x, avg %.1f x;  -f: avg %.1f x, echoes/s %.2f x\n",
        pin, "'"$interval"'", a[4] / b[4], a[5] / b[5], c[5] / d[5], (c[2] / c[3]) / (d[2] / d[3]) }'
  done
fi

# ----- UDP ----------------------------------------------------------------------------

# Datagrams that reached the UDP layer (delivered to a socket, or dropped there: a full
# queue, a bad checksum), by the counters of sixstack and of the peer kernel.
udp_in_s() {
  local u
  u=$(sx stats --json | grep -o '"udp":{[^}]*}')
  echo $(($(echo "$u" | grep -o '"in_datagrams":[0-9]*' | cut -d: -f2) + \
    $(echo "$u" | grep -o '"in_errors":[0-9]*' | cut -d: -f2)))
}
udp_in_k() { in_p awk '/^Udp6(InDatagrams|InErrors) / { s += $2 } END { print s }' /proc/net/snmp6; }

# One UDP run: $1 = s|k, $2 = size, $3 = datagrams, $4 = the receiver's hold (ms); writes
# "sent send_secs reached received recv_secs" to $work/udp.result. Not run in a subshell:
# the cleanup must know the receiver's pid.
udp_run() {
  local who=$1 size=$2 n=$3 hold=$4 port=$((7000 + RANDOM % 1000)) out=$work/recv.out
  local dst before after sent
  : >"$out"
  if [ "$who" = s ]; then
    before=$(udp_in_s)
    ip netns exec "$ns_k" "$udp_bench" recv-sixstack "$ctl" "$port" "$n" "$hold" >"$out" &
    dst=2001:db8:1::2
  else
    before=$(udp_in_k)
    ip netns exec "$ns_p" "$udp_bench" recv-kernel 2001:db8:2::2 "$port" "$n" "$hold" >"$out" &
    dst=2001:db8:2::2
  fi
  receiver=$!
  wait_for 100 grep -q ready "$out"
  sent=$(in_k "$udp_bench" send "$dst" "$port" "$size" "$n")
  wait "$receiver"
  receiver=""
  if [ "$who" = s ]; then after=$(udp_in_s); else after=$(udp_in_k); fi
  echo "$sent $((after - before)) $(grep received= "$out")" | sed 's/[a-z]*=//g' |
    awk '{ print $1, $3, $4, $5, $8 }' >"$work/udp.result"
}
# received/s: the gaps between the first datagram and the last, per second.
udp_row() { # round label size result
  echo "$4" | awk -v r="$1" -v l="$2" -v sz="$3" '{
    rate = ($5 > 0) ? ($4 - 1) / $5 : 0;
    printf "%-5s %-24s %5d %7d %8.0f %7d %7d %6.1f%% %10.0f\n",
      r, l, sz, $1, $1 / $2, $3, $4, 100 * (1 - $4 / $1), rate }'
}
udp_header() {
  printf '%-5s %-24s %5s %7s %8s %7s %7s %7s %10s\n' round "to" bytes sent "sent/s" \
    "at UDP" received loss "received/s"
}
udp_label() { if [ "$1" = s ]; then echo "sixstack-client via TAP"; else echo "kernel socket via veth"; fi; }
udp_ratio() { # label s-result k-result
  awk -v l="$1" -v s="$2" -v k="$3" 'BEGIN {
    split(s, a, " "); split(k, b, " ");
    ra = (a[5] > 0) ? (a[4] - 1) / a[5] : 0; rb = (b[5] > 0) ? (b[4] - 1) / b[5] : 0;
    printf "%s: %.3f x (%.0f against %.0f datagrams/s; loss %.1f%% against %.1f%%)\n",
      l, (rb > 0) ? ra / rb : 0, ra, rb, 100 * (1 - a[4] / a[1]), 100 * (1 - b[4] / b[1]) }'
}

echo
echo "=== UDP datagrams/s received: $datagrams datagrams blasted by a kernel socket in $ns_k"
echo "    to a sixstack-client UdpSocket through the daemon, and to a kernel socket in $ns_p"
declare -A udp
udp_header
for size in 64 1200; do
  for r in $(seq "$rounds"); do
    for w in $(order "$r"); do
      udp_run "$w" "$size" "$datagrams" 0
      udp[$w,$size,$r]=$(cat "$work/udp.result")
      udp_row "$r" "$(udp_label "$w")" "$size" "${udp[$w,$size,$r]}"
    done
  done
done

echo
echo "=== the receive call alone: $queued datagrams of 64 bytes sent while the receiver"
echo "    waits (200 ms), then taken from its queue one call at a time; best of $best"
udp_header
# The rate of a result line; the best of several runs is the one with the highest.
udp_rate() { echo "$1" | awk '{ print ($5 > 0) ? ($4 - 1) / $5 : 0 }'; }
for r in $(seq "$rounds"); do
  for w in $(order "$r"); do
    udp[$w,q,$r]=""
    for _ in $(seq "$best"); do
      udp_run "$w" 64 "$queued" 200
      new=$(cat "$work/udp.result")
      if [ -z "${udp[$w,q,$r]}" ] || awk -v a="$(udp_rate "$new")" \
        -v b="$(udp_rate "${udp[$w,q,$r]}")" 'BEGIN { exit !(a > b) }'; then
        udp[$w,q,$r]=$new
      fi
    done
    udp_row "$r" "$(udp_label "$w")" 64 "${udp[$w,q,$r]}"
  done
done

echo
echo "ratios of datagrams/s received, sixstack / kernel (above 1: sixstack receives more)"
for size in 64 1200; do
  for r in $(seq "$rounds"); do
    udp_ratio "$(printf '%4d bytes, blast, round %d' "$size" "$r")" "${udp[s,$size,$r]}" \
      "${udp[k,$size,$r]}"
  done
done
for r in $(seq "$rounds"); do
  udp_ratio "$(printf '  64 bytes, queued, round %d' "$r")" "${udp[s,q,$r]}" "${udp[k,q,$r]}"
done
echo
echo "(sent/s: the sender's rate; it waits for no one, so what the device queue or the"
echo " receiver cannot take is lost. at UDP: datagrams that reached the receiving stack's UDP"
echo " (its counters: delivered to the socket, or dropped there with a full queue); the rest"
echo " were lost before, in the device queue. received/s: the intervals between the first"
echo " datagram received and the last, per second of that time.)"
