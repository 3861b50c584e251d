#!/usr/bin/env bash
# Issue #6's router benchmark: forwarding through the daemon between two TAPs against the
# kernel forwarding between two veths, in one run. Called by `scripts/bench router`; needs
# root. Measures and prints; asserts nothing.
#
#  8. The same two hosts (Linux namespaces h1 and h2, 2001:db8:1::10/64 and
#     2001:db8:2::20/64, a default route via the router's 2001:db8:1::1 / 2001:db8:2::1)
#     and two routers:
#       daemon: h1 eth0 =veth= br0 + tap0 -[sixstack run --tap tap0 --tap tap1]- tap1 + br1
#               =veth= eth0 h2; the daemon, the TAPs and the bridges in a namespace r whose
#               kernel has IPv6 off (it only bridges frames), the daemon forwarding
#               ([node] forwarding = true).
#       kernel: h1 eth0 =veth= eth1 r eth2 =veth= eth0 h2, r forwarding
#               (net.ipv6.conf.all.forwarding=1).
#     Figures for each, then the ratio daemon/kernel:
#       UDP packets/s forwarded, 64- and 1200-byte payloads: `iperf3 -u -b 0` (unpaced) in
#       h1, the iperf3 server in h2 counting what arrived; sent, received, loss, and where
#       the lost ones went (the TAP's queue, the router's counters, h2's socket buffer);
#       TCP throughput h1 -> h2 (iperf3, one stream);
#       ping round-trip time h1 -> h2 (min, median, avg).
#     After the UDP runs, the daemon's forwarding counters and drops by reason
#     (`sixstack stats --json`), as differences over the runs.
#     One JSON line per figure goes to $SIXSTACK_OUT/bench/router.json.
#
# The lab: six network namespaces of its own, sxb-<pid>-{d,k}{h1,r,h2}; all are removed at
# the end, also on failure or ^C, and the daemon and the iperf3 servers are ended by their
# pids. Only 2001:db8::/32 addresses; no interface outside these namespaces is touched.
#
#   SIXSTACK_BENCH_ROUTER_UDP_SECS  seconds per UDP run (default 3)
#   SIXSTACK_BENCH_ROUTER_TCP_SECS  seconds per TCP run (default 5)
#   SIXSTACK_BENCH_ROUTER_PINGS     echo requests per ping run (default 200)
#   SIXSTACK_BENCH_ROUTER_INTERVAL  ping's -i (default 0.01)
#   SIXSTACK_BENCH_ROUTER_ROUNDS    rounds of everything, alternating which router goes
#                                   first (default 1; the table shows the last round)
#   SIXSTACK_OUT                    folder for output (default test-output/); file in bench/
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [ "$(id -u)" != 0 ]; then
  echo "scripts/bench router needs root: it creates network namespaces, veth pairs, bridges" >&2
  echo "and TAP devices, and runs the daemon in them. Run it as root (sudo scripts/bench router)." >&2
  exit 1
fi
missing=()
pkgs=()
for t in ip bridge ss; do command -v "$t" >/dev/null || { missing+=("$t"); pkgs+=(iproute2); }; done
command -v ping >/dev/null || { missing+=(ping); pkgs+=(iputils-ping); }
command -v iperf3 >/dev/null || { missing+=(iperf3); pkgs+=(iperf3); }
[ -x /usr/bin/python3 ] || { missing+=(/usr/bin/python3); pkgs+=(python3); }
if [ ${#missing[@]} -gt 0 ]; then
  echo "missing: ${missing[*]}" >&2
  echo "install with: apt-get install --no-install-recommends $(printf '%s\n' "${pkgs[@]}" | sort -u | tr '\n' ' ')" >&2
  echo "(scripts/test installs them)" >&2
  exit 1
fi

udp_secs=${SIXSTACK_BENCH_ROUTER_UDP_SECS:-3}
tcp_secs=${SIXSTACK_BENCH_ROUTER_TCP_SECS:-5}
pings=${SIXSTACK_BENCH_ROUTER_PINGS:-200}
interval=${SIXSTACK_BENCH_ROUTER_INTERVAL:-0.01}
rounds=${SIXSTACK_BENCH_ROUTER_ROUNDS:-1}
out=${SIXSTACK_OUT:-$root/test-output}/bench
mkdir -p "$out"
json=$out/router.json

echo "=== build (release)"
cargo build --release --quiet -p sixstack
sixstack=$root/target/release/sixstack

p=sxb-$$-
work=$(mktemp -d "${TMPDIR:-/tmp}/sxb-$$.XXXXXX")
ctl=$work/ctl.sock
namespaces=()
pids=()

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
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

newns() {
  ip netns add "$1"
  namespaces+=("$1")
  ip -n "$1" link set lo up
}
sysctl_in() { ip netns exec "$1" sysctl -qw "${@:2}"; }

# A host: namespace $1 with eth0 (made by the router's side), address $2, gateway $3.
host_ns() {
  newns "$1"
  sysctl_in "$1" net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.accept_ra=0
}
host_up() {
  ip -n "$1" -6 addr add "$2" dev eth0 nodad
  ip -n "$1" link set eth0 up
  ip -n "$1" -6 route add default via "$3" dev eth0
}

echo "=== lab: namespaces ${p}{d,k}{h1,r,h2}"
# The daemon's lab. Its r holds the TAPs, two bridges and the router ends of the veths;
# the kernel there has IPv6 off, so it only carries frames between the veths and the TAPs.
dh1=${p}dh1 dr=${p}dr dh2=${p}dh2
host_ns "$dh1"
host_ns "$dh2"
newns "$dr"
sysctl_in "$dr" net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
for i in 1 2; do
  h=$dh1
  [ "$i" = 2 ] && h=$dh2
  ip -n "$dr" link add "br$i" type bridge mcast_snooping 0
  ip -n "$dr" link add "v$i" type veth peer name eth0 netns "$h"
  ip -n "$dr" link set "v$i" master "br$i" up
  ip -n "$dr" link set "br$i" up
done
host_up "$dh1" 2001:db8:1::10/64 2001:db8:1::1
host_up "$dh2" 2001:db8:2::20/64 2001:db8:2::1
cat >"$work/router.toml" <<'EOF'
[node]
forwarding = true

[[interface]]
name = "tap0"
accept_ra = false
send_rs = false
dad_transmits = 0
addresses = ["2001:db8:1::1/64"]

[[interface]]
name = "tap1"
accept_ra = false
send_rs = false
dad_transmits = 0
addresses = ["2001:db8:2::1/64"]
EOF
# Started without a wrapping function, so that $! is the daemon itself (ip netns exec
# execs it) and the cleanup can end it by its pid.
ip netns exec "$dr" "$sixstack" run --tap tap0 --tap tap1 --config "$work/router.toml" \
  --control "$ctl" --state "$work/state" --log-format text 2>"$work/daemon.log" &
daemon=$!
pids+=("$daemon")
wait_for 200 test -S "$ctl"
wait_for 50 ip -n "$dr" link show tap1
ip -n "$dr" link set tap0 master br1
ip -n "$dr" link set tap1 master br2
sx() { SIXSTACK_CONTROL=$ctl "$sixstack" "$@"; }

# The kernel's lab.
kh1=${p}kh1 kr=${p}kr kh2=${p}kh2
host_ns "$kh1"
host_ns "$kh2"
newns "$kr"
sysctl_in "$kr" net.ipv6.conf.all.forwarding=1 net.ipv6.conf.default.accept_ra=0
ip -n "$kr" link add eth1 type veth peer name eth0 netns "$kh1"
ip -n "$kr" link add eth2 type veth peer name eth0 netns "$kh2"
ip -n "$kr" -6 addr add 2001:db8:1::1/64 dev eth1 nodad
ip -n "$kr" -6 addr add 2001:db8:2::1/64 dev eth2 nodad
ip -n "$kr" link set eth1 up
ip -n "$kr" link set eth2 up
host_up "$kh1" 2001:db8:1::10/64 2001:db8:1::1
host_up "$kh2" 2001:db8:2::20/64 2001:db8:2::1

# The namespaces of router $1 (d: the daemon, k: the kernel).
h1() { if [ "$1" = d ]; then echo "$dh1"; else echo "$kh1"; fi; }
h2() { if [ "$1" = d ]; then echo "$dh2"; else echo "$kh2"; fi; }
name() { if [ "$1" = d ]; then echo daemon; else echo kernel; fi; }

listening() { ip netns exec "$1" ss -Hltn 'sport = :5201' | grep -q .; }
for r in d k; do
  ip netns exec "$(h2 "$r")" iperf3 -s -B 2001:db8:2::20 -p 5201 >"$work/iperf3-$r.log" 2>&1 &
  pids+=("$!")
done
for r in d k; do
  wait_for 100 listening "$(h2 "$r")"
  # Neighbors resolved on both links before anything is timed.
  if ! ip netns exec "$(h1 "$r")" ping -6 -n -q -c 3 -i 0.2 -W 2 2001:db8:2::20 >/dev/null; then
    echo "no ping through the $(name "$r") router" >&2
    sx stats >&2 || true
    exit 1
  fi
done
echo "daemon pid $daemon; kernel $(uname -r); $(nproc) CPUs; iperf3 $(iperf3 --version | head -1 | cut -d' ' -f2)"

# Reads the counters that show where datagrams went, for router $1, into the file $2:
# h2's UDP counters; for the daemon its `stats --json` and the TAP's drops (frames the
# kernel queued for the daemon and dropped when the queue was full); for the kernel
# router its forwarding counters and the drops of its ingress veth.
# The values of the counters of namespace $1 whose names match $2, in /proc/net/snmp6's order.
# shellcheck disable=SC2016 # an awk program, run in the namespace
snmp6() { ip netns exec "$1" awk -v re="^$2\$" '$1 ~ re { printf "%s ", $2 }' /proc/net/snmp6; }
counters() {
  local r=$1 f=$2
  {
    echo "h2 $(snmp6 "$(h2 "$r")" 'Udp6(InDatagrams|InErrors|RcvbufErrors)')"
    if [ "$r" = d ]; then
      echo "tap $(ip -n "$dr" -s -j link show tap0 | /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["stats64"]; print(s["tx"]["dropped"], s["rx"]["dropped"])')"
      echo "stats $(sx stats --json)"
    else
      echo "kr $(snmp6 "$kr" 'Ip6(InReceives|InNoRoutes|InDiscards|OutForwDatagrams)')"
    fi
  } >"$f"
}

# One UDP run through router $1 with $2-byte payloads, the counters before and after it in
# $work/udp-before and $work/udp-after; prints "sent secs forwarded at_h2 received
# rcvbuf tap_dropped": datagrams iperf3 sent, the seconds it sent for, the router's count
# of packets forwarded (all of them, iperf3's control connection too), the datagrams that
# reached h2's UDP, those it delivered to the iperf3 server's socket and those it dropped
# with the socket's buffer full, and the frames dropped on the daemon's TAP (- for the
# kernel router).
udp_run() {
  local r=$1 size=$2
  counters "$r" "$work/udp-before"
  ip netns exec "$(h1 "$r")" iperf3 -6 -c 2001:db8:2::20 -p 5201 -u -b 0 -l "$size" \
    -t "$udp_secs" --json >"$work/udp.json" 2>&1 || true
  counters "$r" "$work/udp-after"
  /usr/bin/python3 - "$work/udp.json" "$work/udp-before" "$work/udp-after" <<'PY'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except ValueError:
    sys.exit("iperf3: " + open(sys.argv[1]).read()[:300])
if "error" in j:
    sys.exit("iperf3: " + j["error"])
s = j["end"]["sum"]
def lines(path):
    return {l.split(" ", 1)[0]: l.split(" ", 1)[1] for l in open(path) if " " in l}
b, a = lines(sys.argv[2]), lines(sys.argv[3])
def ints(d, k):
    return [int(x) for x in d[k].split()]
h2b, h2a = ints(b, "h2"), ints(a, "h2")
# iperf3 opens the test with one datagram of its own before the counted ones.
received = h2a[0] - h2b[0] - 1
rcvbuf = h2a[2] - h2b[2]
at_h2 = received + (h2a[1] - h2b[1])  # delivered, or dropped by UDP (InErrors)
if "stats" in a:
    fwd = json.loads(a["stats"])["ip"]["out_forw_datagrams"] - json.loads(b["stats"])["ip"]["out_forw_datagrams"]
    tap = ints(a, "tap")[0] - ints(b, "tap")[0]
else:
    fwd = ints(a, "kr")[3] - ints(b, "kr")[3]
    tap = "-"
print(s["packets"], s["seconds"], fwd, at_h2, received, rcvbuf, tap)
PY
}

# The daemon's counters over a run: the difference of two `stats --json`.
daemon_delta() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
def stats(path):
    for line in open(path):
        if line.startswith("stats "):
            return json.loads(line[6:])
    return {}
b, a = stats(sys.argv[1]), stats(sys.argv[2])
def d(x, y):
    return {k: v - y.get(k, 0) for k, v in x.items() if isinstance(v, int) and v != y.get(k, 0)}
ip = d(a["ip"], b["ip"])
print("    ip: " + ", ".join(f"{k} {v}" for k, v in ip.items()))
bi = {i["name"]: i for i in b["interfaces"]}
for i in a["interfaces"]:
    di = d(i["ip"], bi.get(i["name"], {"ip": {}})["ip"])
    print(f"    {i['name']}: " + ", ".join(f"{k} {v}" for k, v in di.items()))
    es = d(i.get("errors_sent", {}), bi.get(i["name"], {}).get("errors_sent", {}))
    if es:
        print(f"    {i['name']} errors sent: " + ", ".join(f"{k} {v}" for k, v in es.items()))
es = d(a["icmp"].get("errors_sent", {}), b["icmp"].get("errors_sent", {}))
print("    icmp.errors_sent: " + (", ".join(f"{k} {v}" for k, v in es.items()) or "none"))
dr = d(a["drops"], b["drops"])
print("    drops: " + (", ".join(f"{k} {v}" for k, v in sorted(dr.items(), key=lambda kv: -kv[1])) or "none"))
PY
}
# The kernel router's counters over a run.
line_of() { grep "^$1 " "$2" | cut -d' ' -f2-; }
kr_delta() {
  # shellcheck disable=SC2046 # the counters, split into words on purpose
  set -- $(line_of kr "$1") $(line_of kr "$2")
  echo "    Ip6InReceives $(($5 - $1)), Ip6InNoRoutes $(($6 - $2)), Ip6InDiscards $(($7 - $3)), Ip6OutForwDatagrams $(($8 - $4))"
}

# One TCP run through router $1; prints "bits/s retransmits".
tcp_run() {
  ip netns exec "$(h1 "$1")" iperf3 -6 -c 2001:db8:2::20 -p 5201 -t "$tcp_secs" --json \
    >"$work/tcp.json" 2>&1 || true
  /usr/bin/python3 - "$work/tcp.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
if "error" in j:
    sys.exit("iperf3: " + j["error"])
print(j["end"]["sum_received"]["bits_per_second"], j["end"]["sum_sent"].get("retransmits", 0))
PY
}

# One ping run through router $1; prints "sent received min avg max p50 p90" (ms), the
# percentiles from the per-reply times.
ping_run() {
  ip netns exec "$(h1 "$1")" ping -6 -n -c "$pings" -i "$interval" -W 2 2001:db8:2::20 \
    >"$work/ping.out" 2>&1 || true
  grep -o 'time=[0-9.]*' "$work/ping.out" | cut -d= -f2 | sort -g >"$work/ping.times"
  awk -v sum="$(grep 'packets transmitted' "$work/ping.out")" \
    -v rtt="$(grep -E '^(rtt|round-trip)' "$work/ping.out")" '
    function pct(p, i) { i = int(p * NR + 0.999999); if (i < 1) i = 1; return t[i] }
    { t[NR] = $1 }
    END {
      split(sum, a, " "); split(rtt, b, " "); split(b[4], v, "/");
      printf "%d %d %s %s %s %s %s\n", a[1], a[4], v[1], v[2], v[3], pct(0.5), pct(0.9) }' \
    "$work/ping.times"
}

order() { if [ $(($1 % 2)) = 1 ]; then echo "d k"; else echo "k d"; fi; }
declare -A res
for round in $(seq "$rounds"); do
  echo
  echo "=== round $round of $rounds"
  for size in 64 1200; do
    echo "--- UDP, $size-byte payloads: iperf3 -u -b 0 -l $size -t $udp_secs, h1 -> h2"
    printf '%-7s %8s %8s %9s %9s %9s %6s %9s %9s\n' router sent "sent/s" "forw/s" \
      "at h2/s" "recv/s" loss "TAP drop" "h2 drop"
    for r in $(order "$round"); do
      res[$r,udp$size]=$(udp_run "$r" "$size")
      echo "${res[$r,udp$size]}" | awk -v n="$(name "$r")" '{
        printf "%-7s %8d %8.0f %9.0f %9.0f %9.0f %5.1f%% %9s %9d\n", n, $1, $1 / $2,
          $3 / $2, $4 / $2, $5 / $2, ($1 > 0) ? 100 * (1 - $5 / $1) : 0, $7, $6 }'
      if [ "$r" = d ]; then
        echo "  the daemon's counters over this run (sixstack stats --json, differences):"
        daemon_delta "$work/udp-before" "$work/udp-after"
      else
        echo "  the kernel router's counters over this run (/proc/net/snmp6 in r):"
        kr_delta "$work/udp-before" "$work/udp-after"
      fi
    done
  done
  echo "--- TCP: iperf3 -t $tcp_secs, one stream, h1 -> h2"
  for r in $(order "$round"); do
    res[$r,tcp]=$(tcp_run "$r")
    echo "${res[$r,tcp]}" | awk -v n="$(name "$r")" '{
      printf "%-7s %8.1f Mbit/s, %d retransmits\n", n, $1 / 1e6, $2 }'
  done
  echo "--- ping: -c $pings -i $interval, h1 -> h2"
  for r in $(order "$round"); do
    res[$r,ping]=$(ping_run "$r")
    echo "${res[$r,ping]}" | awk -v n="$(name "$r")" '{
      printf "%-7s %d sent, %d received, min %.0f, p50 %.0f, avg %.0f, p90 %.0f, max %.0f µs\n",
        n, $1, $2, $3 * 1000, $6 * 1000, $4 * 1000, $7 * 1000, $5 * 1000 }'
  done
done

# ----- the table and the JSON lines ---------------------------------------------------

echo
echo "=== forwarding: the daemon against the kernel$([ "$rounds" -gt 1 ] && echo " (round $rounds)")"
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
: >"$json"
printf '%-36s %14s %14s %12s\n' metric daemon kernel daemon/kernel
# metric unit daemon kernel [decimals]
row() {
  awk -v m="$1" -v u="$2" -v d="$3" -v k="$4" -v p="${5:-0}" 'BEGIN {
    printf "%-36s %14.*f %14.*f %12s\n", m " (" u ")", p, d, p, k,
      (k > 0) ? sprintf("%.3f", d / k) : "-" }'
  awk -v m="$1" -v u="$2" -v d="$3" -v k="$4" -v t="$date" 'BEGIN {
    printf "{\"bench\":\"router\",\"date\":\"%s\",\"metric\":\"%s\",\"unit\":\"%s\",\"daemon\":%s,\"kernel\":%s,\"ratio\":%s}\n",
      t, m, u, d, k, (k > 0) ? sprintf("%.4f", d / k) : "null" }' >>"$json"
}
field() { echo "$1" | awk -v i="$2" '{ print $i }'; }
per_sec() { echo "$1" | awk -v i="$2" '{ printf "%.0f", $i / $2 }'; }
for size in 64 1200; do
  d=${res[d,udp$size]} k=${res[k,udp$size]}
  row "udp_${size}_sent" packets/s "$(per_sec "$d" 1)" "$(per_sec "$k" 1)"
  row "udp_${size}_forwarded" packets/s "$(per_sec "$d" 3)" "$(per_sec "$k" 3)"
  row "udp_${size}_received" packets/s "$(per_sec "$d" 5)" "$(per_sec "$k" 5)"
  row "udp_${size}_loss" "%" "$(echo "$d" | awk '{ printf "%.2f", ($1 > 0) ? 100 * (1 - $5 / $1) : 0 }')" \
    "$(echo "$k" | awk '{ printf "%.2f", ($1 > 0) ? 100 * (1 - $5 / $1) : 0 }')" 1
done
row tcp_throughput Mbit/s "$(field "${res[d,tcp]}" 1 | awk '{ print $1 / 1e6 }')" \
  "$(field "${res[k,tcp]}" 1 | awk '{ print $1 / 1e6 }')" 1
row ping_rtt_min µs "$(field "${res[d,ping]}" 3 | awk '{ print $1 * 1000 }')" \
  "$(field "${res[k,ping]}" 3 | awk '{ print $1 * 1000 }')"
row ping_rtt_p50 µs "$(field "${res[d,ping]}" 6 | awk '{ print $1 * 1000 }')" \
  "$(field "${res[k,ping]}" 6 | awk '{ print $1 * 1000 }')"
row ping_rtt_avg µs "$(field "${res[d,ping]}" 4 | awk '{ print $1 * 1000 }')" \
  "$(field "${res[k,ping]}" 4 | awk '{ print $1 * 1000 }')"
echo
echo "(written to $json)"
echo "(sent: datagrams iperf3 put on h1's link; forw: the router's own count of packets"
echo " forwarded (the daemon's ip.out_forw_datagrams, the kernel's Ip6OutForwDatagrams); at h2:"
echo " reached h2's UDP; recv: delivered to the iperf3 server's socket in h2 (Udp6InDatagrams);"
echo " loss: 1 - recv/sent. TAP drop: frames the kernel queued on tap0 for the daemon and"
echo " dropped, the queue full; h2 drop: dropped by h2's UDP, the socket's buffer full. The"
echo " sender is unpaced: towards the daemon it writes into a veth and a bridge that never"
echo " make it wait; through the kernel router the forwarding runs within its own system call."
echo " Rates are per second of the sender's time.)"
