#!/usr/bin/env bash
# Issue #4's benchmark: the daemon on a TAP device against the Linux kernel, in one run.
# Called by `scripts/bench host`; needs root. Measures and prints; asserts nothing.
#
#  6. Ping round-trip time: the kernel pings sixstack over a TAP device, and pings another
#     kernel over a veth pair, alternately, from one namespace with one ping.
#  7. UDP datagrams per second: a kernel socket blasts datagrams (64 and 1200 bytes) at a
#     sixstack-client UdpSocket through the daemon, and at a kernel socket over the veth
#     (crates/client/examples/udp_bench.rs is sender and both receivers).
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
#   SIXSTACK_BENCH_PINGS      echo requests per ping run (default 2000)
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

echo
echo "=== ping round-trip time: ping -6 -c $pings -i $interval, $rounds rounds, from $ns_k"
# One ping run; prints "sent received min avg max mdev" (ms).
ping_run() {
  in_k ping -6 -n -q -c "$pings" -i "$interval" -W 2 "$1" | awk '
    /packets transmitted/ { sent = $1; recv = $4 }
    /^rtt|^round-trip/ { split($4, v, "/"); min = v[1]; avg = v[2]; max = v[3]; mdev = v[4] }
    END { printf "%d %d %s %s %s %s\n", sent, recv, min, avg, max, mdev }'
}
declare -a ping_s ping_k
printf '%-6s %-34s %6s %6s %8s %8s %8s %8s\n' round "to" sent recv "min µs" "avg µs" \
  "max µs" "mdev µs"
ping_row() {
  echo "$3" | awk -v r="$1" -v l="$2" '{
    printf "%-6s %-34s %6d %6d %8.1f %8.1f %8.1f %8.1f\n",
      r, l, $1, $2, $3 * 1000, $4 * 1000, $5 * 1000, $6 * 1000 }'
}
for r in $(seq "$rounds"); do
  # Alternate which goes first, so that neither always follows the other.
  if [ $((r % 2)) = 1 ]; then order="s k"; else order="k s"; fi
  for w in $order; do
    if [ "$w" = s ]; then
      ping_s[r]=$(ping_run 2001:db8:1::2)
      ping_row "$r" "sixstack over TAP (2001:db8:1::2)" "${ping_s[r]}"
    else
      ping_k[r]=$(ping_run 2001:db8:2::2)
      ping_row "$r" "kernel over veth (2001:db8:2::2)" "${ping_k[r]}"
    fi
  done
done
echo
echo "ratios of round-trip times, sixstack / kernel (above 1: sixstack is slower)"
for r in $(seq "$rounds"); do
  awk -v r="$r" -v s="${ping_s[r]}" -v k="${ping_k[r]}" 'BEGIN {
    split(s, a, " "); split(k, b, " ");
    printf "round %d: avg %.2f x, min %.2f x (avg %.1f µs against %.1f µs)\n",
      r, a[4] / b[4], a[3] / b[3], a[4] * 1000, b[4] * 1000 }'
done

# ----- UDP ----------------------------------------------------------------------------

echo
echo "=== UDP datagrams/s received: $datagrams datagrams blasted by a kernel socket in $ns_k"
echo "    to a sixstack-client UdpSocket through the daemon, and to a kernel socket in $ns_p"

# One UDP run: $1 = s|k, $2 = size; writes "sent send_secs received recv_secs" to
# $work/udp.result. Not run in a subshell: the cleanup must know the receiver's pid.
udp_run() {
  local who=$1 size=$2 port=$((7000 + RANDOM % 1000)) out=$work/recv.out dst
  : >"$out"
  if [ "$who" = s ]; then
    ip netns exec "$ns_k" "$udp_bench" recv-sixstack "$ctl" "$port" "$datagrams" >"$out" &
    dst=2001:db8:1::2
  else
    ip netns exec "$ns_p" "$udp_bench" recv-kernel 2001:db8:2::2 "$port" "$datagrams" >"$out" &
    dst=2001:db8:2::2
  fi
  receiver=$!
  wait_for 100 grep -q ready "$out"
  local sent
  sent=$(in_k "$udp_bench" send "$dst" "$port" "$size" "$datagrams")
  wait "$receiver"
  receiver=""
  local got
  got=$(grep received= "$out")
  echo "$sent $got" | sed 's/[a-z]*=//g' | awk '{ print $1, $3, $4, $7 }' >"$work/udp.result"
}
printf '%-6s %-26s %6s %9s %10s %9s %7s %12s\n' round "to" bytes sent "sent/s" received \
  loss "received/s"
udp_row() {
  echo "$4" | awk -v r="$1" -v l="$2" -v sz="$3" '{
    rate = ($4 > 0) ? $3 / $4 : 0;
    printf "%-6s %-26s %6d %9d %10.0f %9d %6.1f%% %12.0f\n",
      r, l, sz, $1, $1 / $2, $3, 100 * (1 - $3 / $1), rate }'
}
declare -A udp
for size in 64 1200; do
  for r in $(seq "$rounds"); do
    if [ $((r % 2)) = 1 ]; then order="s k"; else order="k s"; fi
    for w in $order; do
      udp_run "$w" "$size"
      udp[$w,$size,$r]=$(cat "$work/udp.result")
      if [ "$w" = s ]; then label="sixstack-client via TAP"; else label="kernel socket via veth"; fi
      udp_row "$r" "$label" "$size" "${udp[$w,$size,$r]}"
    done
  done
done
echo
echo "ratios of datagrams/s received, sixstack / kernel (above 1: sixstack receives more)"
for size in 64 1200; do
  for r in $(seq "$rounds"); do
    awk -v sz="$size" -v r="$r" -v s="${udp[s,$size,$r]}" -v k="${udp[k,$size,$r]}" 'BEGIN {
      split(s, a, " "); split(k, b, " ");
      ra = (a[4] > 0) ? a[3] / a[4] : 0; rb = (b[4] > 0) ? b[3] / b[4] : 0;
      printf "%4d bytes, round %d: %.3f x (%.0f against %.0f datagrams/s; loss %.1f%% against %.1f%%)\n",
        sz, r, (rb > 0) ? ra / rb : 0, ra, rb, 100 * (1 - a[3] / a[1]), 100 * (1 - b[3] / b[1]) }'
  done
done
echo
echo "(received/s: datagrams received over the time from the first to the last. The sender"
echo " does not wait for anyone: what a receiver, or the device queue before it, cannot take"
echo " is lost. The daemon's drop counters: sixstack stats.)"
sx stats | grep -iE 'udp|drop|queue' | head -n 20 || true
