#!/usr/bin/env bash
# Issue #5's benchmark of TCP through the daemon: the daemon on a TAP with the Linux kernel
# as its peer, against kernel-to-kernel over a veth pair, side by side in one run. Called
# by `scripts/bench tcp-host`; needs root. Measures and prints; asserts nothing.
#
#  9. One kernel host K talks to two subjects: the daemon (over a bridge and a TAP) and
#     another kernel (over a veth pair). The same programs run on both sides wherever they
#     can: `sixstack ttcp` with --net sixstack (through the daemon) or --net kernel (the
#     same binary over the host's sockets), and crates/client/examples/tcp_bench.rs,
#     whose clients run over either and whose listener is a kernel socket in K.
#       throughput, subject -> K: `ttcp -t -s` on the subject's side, `ttcp -r -s --net
#       kernel` in K; the receiver's figure (accept to end of file);
#       throughput, K -> subject: `ttcp -t -s --net kernel` in K, `ttcp -r -s` on the
#       subject's side;
#       connections per second: connect, shut down, read the peer's FIN, close, in a loop
#       from the subject to a kernel listener in K (tcp_bench connect);
#       round-trip time of 1-byte requests and responses over one connection, Nagle off
#       (tcp_bench pingpong).
#     The table: metric, daemon, kernel, daemon/kernel; one JSON line per metric into
#     $SIXSTACK_OUT/bench/tcp_host.json. Then where the daemon limits: its `sixstack tcp
#     show --json` for each transfer's connection (the last sample before the end), its
#     drops by reason over the transfers (`sixstack stats --json`), the frames the kernel
#     dropped in front of it (tap0's queue), its CPU time, and, when perf is installed, a
#     profile of the daemon during one more transfer from it.
#
# The lab: three network namespaces of its own, sxt-<pid>-{d,k,p}:
#
#   sxt-<pid>-d (IPv6 off: only bridges)                sxt-<pid>-k (K)
#   sixstack run --tap tap0, 2001:db8:1::1 = tap0 + br0 + vk ==== eth0 2001:db8:1::2
#                                        sxt-<pid>-p                   (the listeners)
#                                        eth0 2001:db8:2::1 ========== eth1 2001:db8:2::2
#
# All three are removed at the end, also on failure or ^C; the daemon, the listeners and
# the samplers are ended by their pids. Only 2001:db8::/32 addresses; no interface outside
# these namespaces is touched.
#
#   SIXSTACK_BENCH_TCP_MB         MiB per transfer through the daemon (default 1000)
#   SIXSTACK_BENCH_TCP_KERNEL_MB  MiB per kernel-to-kernel transfer (default 4000: the
#                                 kernel is some four times faster, so the runs take a
#                                 similar time, about 3 s each)
#   SIXSTACK_BENCH_TCP_CONN_SECS  seconds of connecting and closing, each side (default 2),
#                                 at most 10,000 connections: each leaves its port in
#                                 TIME-WAIT, for 4 minutes in the daemon (2 MSL), which has
#                                 16,384 ephemeral ports
#   SIXSTACK_BENCH_TCP_PINGS      round trips of the 1-byte ping-pong (default 2000)
#   SIXSTACK_BENCH_TCP_PING_ROUNDS  rounds of it, each side (default 3; the best is kept)
#   SIXSTACK_BENCH_TCP_PERF_SECS  seconds of perf record on the daemon (default 2; 0: none)
#   SIXSTACK_OUT                  folder for output (default test-output/); file in bench/
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [ "$(id -u)" != 0 ]; then
  echo "scripts/bench tcp-host needs root: it creates network namespaces, a bridge, a TAP" >&2
  echo "device and veth pairs, and runs the daemon in them. Run it as root" >&2
  echo "(sudo scripts/bench tcp-host)." >&2
  exit 1
fi
missing=()
for t in ip ss; do command -v "$t" >/dev/null || missing+=("$t"); done
[ -x /usr/bin/python3 ] || missing+=(/usr/bin/python3)
if [ ${#missing[@]} -gt 0 ]; then
  echo "missing: ${missing[*]} (apt-get install --no-install-recommends iproute2 python3)" >&2
  exit 1
fi

mb=${SIXSTACK_BENCH_TCP_MB:-1000}
kmb=${SIXSTACK_BENCH_TCP_KERNEL_MB:-4000}
conn_secs=${SIXSTACK_BENCH_TCP_CONN_SECS:-2}
max_conns=10000
pings=${SIXSTACK_BENCH_TCP_PINGS:-2000}
ping_rounds=${SIXSTACK_BENCH_TCP_PING_ROUNDS:-3}
perf_secs=${SIXSTACK_BENCH_TCP_PERF_SECS:-2}
buflen=65536
out=${SIXSTACK_OUT:-$root/test-output}/bench
mkdir -p "$out"
json=$out/tcp_host.json

echo "=== build (release)"
cargo build --release --quiet -p sixstack
cargo build --release --quiet -p sixstack-client --example tcp_bench
sixstack=$root/target/release/sixstack
tcp_bench=$root/target/release/examples/tcp_bench

p=sxt-$$-
ns_d=${p}d ns_k=${p}k ns_p=${p}p
work=$(mktemp -d "${TMPDIR:-/tmp}/sxt-$$.XXXXXX")
ctl=$work/ctl.sock
namespaces=()
pids=()
daemon=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  touch "$work/stop"
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
# Drops $1 from the list of pids to end at cleanup (it has ended by itself).
forget() {
  local keep=() pid
  for pid in "${pids[@]}"; do [ "$pid" = "$1" ] || keep+=("$pid"); done
  pids=("${keep[@]}")
}

newns() {
  ip netns add "$1"
  namespaces+=("$1")
  ip -n "$1" link set lo up
  ip netns exec "$1" sysctl -qw net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.accept_ra=0
}
in_d() { ip netns exec "$ns_d" "$@"; }
in_k() { ip netns exec "$ns_k" "$@"; }
sx() { SIXSTACK_CONTROL=$ctl "$sixstack" "$@"; }

echo "=== lab: namespaces ${p}{d,k,p}"
newns "$ns_d"
newns "$ns_k"
newns "$ns_p"
in_d sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
# Where br_netfilter is loaded, bridged frames would pass ip6tables in this namespace: not
# part of what is measured (the setting is per namespace; absent without the module).
in_d sysctl -qw net.bridge.bridge-nf-call-ip6tables=0 2>/dev/null || true
ip -n "$ns_d" link add br0 type bridge mcast_snooping 0
ip -n "$ns_d" link add vk type veth peer name eth0 netns "$ns_k"
ip -n "$ns_d" link set vk master br0 up
# The TAP exists, on the bridge, before the daemon opens it by name.
ip -n "$ns_d" tuntap add dev tap0 mode tap
ip -n "$ns_d" link set tap0 master br0 up
ip -n "$ns_d" link set br0 up
ip -n "$ns_k" link add eth1 type veth peer name eth0 netns "$ns_p"
ip -n "$ns_k" -6 addr add 2001:db8:1::2/64 dev eth0 nodad
ip -n "$ns_k" -6 addr add 2001:db8:2::2/64 dev eth1 nodad
ip -n "$ns_p" -6 addr add 2001:db8:2::1/64 dev eth0 nodad
ip -n "$ns_k" link set eth0 up
ip -n "$ns_k" link set eth1 up
ip -n "$ns_p" link set eth0 up

cat >"$work/sixstack.toml" <<'EOF'
[[interface]]
name = "tap0"
accept_ra = false
send_rs = false
dad_transmits = 0
addresses = ["2001:db8:1::1/64"]
EOF
# Started without a wrapping function, so that $! is the daemon itself (ip netns exec
# execs it) and the cleanup can end it by its pid.
ip netns exec "$ns_d" "$sixstack" run --tap tap0 --config "$work/sixstack.toml" \
  --control "$ctl" --state "$work/state" --log-format text 2>"$work/daemon.log" &
daemon=$!
pids+=("$daemon")
wait_for 200 test -S "$ctl"
preferred() {
  sx addr show dev tap0 --json | tr '{' '\n' | grep '"2001:db8:1::1"' | grep -q '"preferred"'
}
if ! wait_for 100 preferred; then
  sx addr show >&2
  exit 1
fi

# K's listener for the connection and ping-pong runs: one, on [::], for both subjects.
# (ip netns exec, not in_k: $! must be the listener itself, for the cleanup to end it.)
ip netns exec "$ns_k" "$tcp_bench" serve :: 5003 >"$work/serve.out" 2>&1 &
pids+=("$!")
wait_for 100 grep -q ready "$work/serve.out"
# Neighbors resolved both ways before anything is timed.
for to in 2001:db8:1::1 2001:db8:2::1; do
  if ! in_k ping -6 -n -q -c 3 -i 0.2 -W 2 "$to" >/dev/null; then
    echo "no ping from K to $to" >&2
    sx stats >&2 || true
    exit 1
  fi
done
echo "daemon pid $daemon; kernel $(uname -r); $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"

# The subjects: d (the daemon; its side's programs run in $ns_d and reach it by its control
# socket) and k (the kernel in $ns_p). Their address, K's address as they see it, their
# namespace, and the --net / tcp_bench NET word.
subj_addr() { if [ "$1" = d ]; then echo 2001:db8:1::1; else echo 2001:db8:2::1; fi; }
peer_addr() { if [ "$1" = d ]; then echo 2001:db8:1::2; else echo 2001:db8:2::2; fi; }
subj_ns() { if [ "$1" = d ]; then echo "$ns_d"; else echo "$ns_p"; fi; }
subj_net() { if [ "$1" = d ]; then echo "--net sixstack --control $ctl"; else echo "--net kernel"; fi; }
bench_net() { if [ "$1" = d ]; then echo "$ctl"; else echo kernel; fi; }
name() { if [ "$1" = d ]; then echo daemon; else echo kernel; fi; }
size_of() { if [ "$1" = d ]; then echo "$mb"; else echo "$kmb"; fi; }

# Context switches of all the daemon's threads so far.
ctxt_switches() {
  cat "/proc/$daemon"/task/*/status 2>/dev/null |
    awk '/^(voluntary|nonvoluntary)_ctxt_switches/ { s += $2 } END { print s + 0 }'
}
# The daemon's CPU time so far, in clock ticks (user + system).
daemon_ticks() { awk '{ print $14 + $15 }' "/proc/$daemon/stat"; }
# TCP segments retransmitted by the kernel of namespace $1 (IPv4 and IPv6 together).
# shellcheck disable=SC2016 # an awk program, run in the namespace
retrans() {
  ip netns exec "$1" awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 }
    else print $(c["RetransSegs"]) }' /proc/net/snmp
}
# tap0's counters in the bridge's namespace: "tx_dropped rx_dropped" (tx: towards the daemon).
tap_drops() {
  ip -n "$ns_d" -s -j link show tap0 | /usr/bin/python3 -c \
    'import json,sys; s=json.load(sys.stdin)[0]["stats64"]; print(s["tx"]["dropped"], s["rx"]["dropped"])'
}

# While $work/sample-$1 exists: the daemon's `tcp show --json` every 0.2 s; the last one
# that has the transfer's connection (port $2, ours or K's) goes to $work/tcpshow-$1.json.
sampler() {
  local tag=$1 port=$2
  while [ -e "$work/sample-$tag" ]; do
    if sx tcp show --json >"$work/tcpshow.tmp" 2>/dev/null &&
      grep -Eq "\"port\":${port}[,}]" "$work/tcpshow.tmp"; then
      mv "$work/tcpshow.tmp" "$work/tcpshow-$tag.json"
    fi
    sleep 0.2
  done
}

# One transfer with subject $1 sending ($2 = tx) or receiving ($2 = rx), $3 MiB; prints
# "bytes seconds bits_per_sec retransmitted cpu_ticks" where retransmitted is the
# sender's count (the daemon's own when it sends: from its last `tcp show`) and cpu_ticks
# the daemon's CPU time over the run (- for the kernel), into $work/transfer.result. Not
# run in a subshell: the cleanup must know the receiver's pid.
transfer() {
  local s=$1 dir=$2 size=$3 port=$((5100 + RANDOM % 800)) rx_ns tx_ns rx_net tx_net to
  local n=$((size * 1048576 / buflen)) t0 t1 r0 r1 pid sampling=""
  if [ "$dir" = tx ]; then
    rx_ns=$ns_k rx_net="--net kernel" tx_ns=$(subj_ns "$s") tx_net=$(subj_net "$s") to=$(peer_addr "$s")
  else
    rx_ns=$(subj_ns "$s") rx_net=$(subj_net "$s") tx_ns=$ns_k tx_net="--net kernel" to=$(subj_addr "$s")
  fi
  : >"$work/ttcp-r.err"
  [ "$s" = d ] && echo "$port" >"$work/port-$dir"
  # shellcheck disable=SC2086 # rx_net and tx_net are options, split on purpose
  ip netns exec "$rx_ns" "$sixstack" ttcp -r -s -l "$buflen" -p "$port" --json $rx_net \
    2>"$work/ttcp-r.err" &
  pid=$!
  pids+=("$pid")
  wait_for 100 grep -q '^ttcp-r: buflen' "$work/ttcp-r.err"
  if [ "$s" = d ]; then
    touch "$work/sample-$dir"
    sampler "$dir" "$port" &
    sampling=$!
    pids+=("$sampling")
  fi
  t0=$([ "$s" = d ] && daemon_ticks || echo -)
  r0=$(retrans "$([ "$dir" = tx ] && subj_ns "$s" || echo "$ns_k")")
  # shellcheck disable=SC2086
  ip netns exec "$tx_ns" "$sixstack" ttcp -t -s -l "$buflen" -n "$n" -p "$port" $tx_net "$to" \
    2>"$work/ttcp-t.err" || { echo "ttcp -t failed: $(tail -n 3 "$work/ttcp-t.err")" >&2; }
  wait "$pid" || echo "ttcp -r failed: $(tail -n 3 "$work/ttcp-r.err")" >&2
  forget "$pid"
  t1=$([ "$s" = d ] && daemon_ticks || echo -)
  r1=$(retrans "$([ "$dir" = tx ] && subj_ns "$s" || echo "$ns_k")")
  if [ -n "$sampling" ]; then
    rm -f "$work/sample-$dir"
    wait "$sampling" || true
    forget "$sampling"
  fi
  /usr/bin/python3 - "$work/ttcp-r.err" "$s" "$dir" "$r0" "$r1" "$t0" "$t1" \
    "$work/tcpshow-$dir.json" "$port" >"$work/transfer.result" <<'PY'
import json, sys
err, s, d, r0, r1, t0, t1, show, port = sys.argv[1:]
rep = None
for line in open(err):
    if line.startswith("{"):
        rep = json.loads(line)
if rep is None:
    print("0 0 0 - -")
    sys.exit(0)
retr = int(r1) - int(r0)
if s == "d" and d == "tx":
    # The daemon's own count: the last `tcp show` of the connection before it ended.
    try:
        c = [c for c in json.load(open(show)) if c["remote"]["address"] == "2001:db8:1::2"
             and c["remote"]["port"] == int(port)]
        retr = c[-1]["retransmissions"] if c else "-"
    except (OSError, ValueError):
        retr = "-"
cpu = int(t1) - int(t0) if t0 != "-" else "-"
print(rep["bytes"], rep["seconds"], rep["bytes"] * 8 / rep["seconds"] if rep["seconds"] else 0, retr, cpu)
PY
}

declare -A res
stats_before=$(sx stats --json)
tap_before=$(tap_drops)

echo
echo "=== throughput: sixstack ttcp -s -l $buflen, $mb MiB through the daemon, $kmb MiB kernel to kernel"
printf '%-7s %-16s %11s %8s %12s %8s %10s\n' subject direction bytes seconds Mbit/s retrans "daemon CPU"
tick=$(getconf CLK_TCK)
for dir in tx rx; do
  for s in d k; do
    transfer "$s" "$dir" "$(size_of "$s")"
    res[$s,$dir]=$(cat "$work/transfer.result")
    echo "${res[$s,$dir]}" | awk -v n="$(name "$s")" -v d="$dir" -v tick="$tick" '{
      printf "%-7s %-16s %11.0f %8.2f %12.0f %8s %10s\n", n,
        (d == "tx") ? n " -> K" : "K -> " n, $1, $2, $3 / 1e6, $4,
        ($5 == "-") ? "-" : sprintf("%.0f%%", 100 * $5 / tick / $2) }'
  done
done
stats_after=$(sx stats --json)
tap_after=$(tap_drops)

echo
echo "=== connections opened and closed per second: tcp_bench connect, $conn_secs s (at most"
echo "    $max_conns connections) each, to K"
for s in d k; do
  res[$s,conn]=$(ip netns exec "$(subj_ns "$s")" "$tcp_bench" connect "$(bench_net "$s")" \
    "$(peer_addr "$s")" 5003 "$conn_secs" "$max_conns") || true
  echo "$(name "$s"): ${res[$s,conn]}"
done

echo
echo "=== round trips of 1 byte on one connection (Nagle off): tcp_bench pingpong, $pings,"
echo "    $ping_rounds rounds alternating which goes first; the table takes each side's round"
echo "    with the lowest median (which vCPU each process ran on decides much)"
for r in $(seq "$ping_rounds"); do
  if [ $((r % 2)) = 1 ]; then order="d k"; else order="k d"; fi
  for s in $order; do
    new=$(ip netns exec "$(subj_ns "$s")" "$tcp_bench" pingpong "$(bench_net "$s")" \
      "$(peer_addr "$s")" 5003 "$pings") || true
    echo "round $r, $(name "$s"): $new"
    p50=$(echo "$new" | tr ' ' '\n' | sed -n 's/^p50_us=//p')
    if [ -n "$p50" ] && { [ -z "${res[$s,ping]:-}" ] || awk -v a="$p50" \
      -v b="$(echo "${res[$s,ping]}" | tr ' ' '\n' | sed -n 's/^p50_us=//p')" 'BEGIN { exit !(a < b) }'; }; then
      res[$s,ping]=$new
    fi
  done
done

# ----- the table and the JSON lines ---------------------------------------------------

echo
echo "=== TCP: the daemon over a TAP against the kernel over a veth, K the peer of both"
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
: >"$json"
printf '%-34s %12s %12s %14s\n' metric daemon kernel daemon/kernel
# metric unit daemon kernel [decimals]
row() {
  awk -v m="$1" -v u="$2" -v d="$3" -v k="$4" -v p="${5:-0}" 'BEGIN {
    printf "%-34s %12.*f %12.*f %14s\n", m " (" u ")", p, d, p, k,
      (k > 0) ? sprintf("%.3f", d / k) : "-" }'
  awk -v m="$1" -v u="$2" -v d="$3" -v k="$4" -v t="$date" 'BEGIN {
    printf "{\"bench\":\"tcp_host\",\"date\":\"%s\",\"metric\":\"%s\",\"unit\":\"%s\",\"daemon\":%s,\"kernel\":%s,\"ratio\":%s}\n",
      t, m, u, d + 0, k + 0, (k > 0) ? sprintf("%.4f", d / k) : "null" }' >>"$json"
}
field() { echo "$1" | awk -v i="$2" '{ print $i }'; }
# The value of key=value $2 in $1.
kv() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
mbit() { field "$1" 3 | awk '{ printf "%.1f", $1 / 1e6 }'; }
row tcp_throughput_to_K Mbit/s "$(mbit "${res[d,tx]}")" "$(mbit "${res[k,tx]}")" 1
row tcp_throughput_from_K Mbit/s "$(mbit "${res[d,rx]}")" "$(mbit "${res[k,rx]}")" 1
cps() { echo "$(kv "$1" connections) $(kv "$1" secs)" | awk '{ printf "%.1f", ($2 > 0) ? $1 / $2 : 0 }'; }
row connections_per_sec conn/s "$(cps "${res[d,conn]}")" "$(cps "${res[k,conn]}")" 1
row connect_time_p50 µs "$(kv "${res[d,conn]}" connect_us_p50)" "$(kv "${res[k,conn]}" connect_us_p50)"
row connect_close_cycle_p50 µs "$(kv "${res[d,conn]}" cycle_us_p50)" "$(kv "${res[k,conn]}" cycle_us_p50)"
for q in min p50 avg p99; do
  row "rtt_1byte_$q" µs "$(kv "${res[d,ping]}" "${q}_us")" "$(kv "${res[k,ping]}" "${q}_us")" 1
done
echo "(written to $json; above 1 the daemon is faster for throughput and connections/s,"
echo " slower for times)"

# ----- where the daemon limits --------------------------------------------------------

echo
echo "=== the daemon's connection at the end of each transfer (sixstack tcp show --json, last sample)"
for dir in tx rx; do
  f=$work/tcpshow-$dir.json
  [ "$dir" = tx ] && what="daemon -> K (the daemon sends)" || what="K -> daemon (the daemon receives)"
  echo "--- $what"
  if [ -s "$f" ]; then
    /usr/bin/python3 - "$f" "$dir" "$(cat "$work/port-$dir")" <<'PY'
import json, sys
_, f, d, port = sys.argv
for c in json.load(open(f)):
    # The transfer's connection: to K's ttcp -r port (tx), or to the daemon's (rx).
    if c["remote"]["address"] != "2001:db8:1::2" or \
            c["remote" if d == "tx" else "local"]["port"] != int(port):
        continue
    keys = ["state", "congestion_control", "cwnd", "ssthresh", "in_recovery", "srtt_us",
            "rttvar_us", "rto_ms", "retransmissions", "timeouts", "fast_retransmits", "mss",
            "snd_wnd", "rcv_wnd", "bytes_in_flight", "send_buffered", "recv_buffered",
            "ooo_bytes", "segs_out", "segs_in", "bytes_acked", "bytes_received"]
    print("  " + ", ".join(f"{k} {c.get(k)}" for k in keys))
    print("  " + json.dumps(c, separators=(",", ":")))
PY
  else
    echo "  (no sample caught the connection)"
  fi
done

echo
echo "=== the daemon over the four transfers: drops by reason (sixstack stats --json,"
echo "    differences), and what the kernel dropped on tap0 in front of it"
/usr/bin/python3 - <(echo "$stats_before") <(echo "$stats_after") <<'PY'
import json, sys
b, a = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
def d(x, y):
    return {k: v - y.get(k, 0) for k, v in x.items() if isinstance(v, int) and v != y.get(k, 0)}
dr = d(a.get("drops", {}), b.get("drops", {}))
print("  drops: " + (", ".join(f"{k} {v}" for k, v in sorted(dr.items(), key=lambda kv: -kv[1])) or "none"))
for sect in ("tcp", "ip"):
    if isinstance(a.get(sect), dict):
        ds = d(a[sect], b.get(sect, {}))
        print(f"  {sect}: " + (", ".join(f"{k} {v}" for k, v in ds.items()) or "no change"))
PY
# shellcheck disable=SC2086 # the counters, split into words on purpose
set -- $tap_before $tap_after
echo "  tap0: $(($3 - $1)) frames dropped by the kernel towards the daemon (the TAP's queue"
echo "  full), $(($4 - $2)) from it"

if [ "$perf_secs" != 0 ] && command -v perf >/dev/null; then
  echo
  echo "=== where the daemon's time goes: perf record -g -p $daemon for $perf_secs s while"
  echo "    it sends $mb MiB to K (not one of the measured runs)"
  port=5999
  ip netns exec "$ns_k" "$sixstack" ttcp -r -s -l "$buflen" -p "$port" --net kernel \
    2>"$work/ttcp-r.err" &
  pid=$!
  pids+=("$pid")
  wait_for 100 grep -q '^ttcp-r: buflen' "$work/ttcp-r.err"
  ip netns exec "$ns_d" "$sixstack" ttcp -t -s -l "$buflen" -n $((mb * 1048576 / buflen)) -p "$port" \
    --net sixstack --control "$ctl" 2001:db8:1::2 2>"$work/ttcp-t.err" &
  sender=$!
  pids+=("$sender")
  sleep 0.3
  cs0=$(ctxt_switches)
  tk0=$(daemon_ticks)
  if perf record -q -F 999 -g -p "$daemon" -o "$work/perf.data" -- sleep "$perf_secs" \
    >"$work/perf.log" 2>&1; then
    cs1=$(ctxt_switches)
    tk1=$(daemon_ticks)
    echo "--- the daemon over those $perf_secs s: $(((tk1 - tk0) * 100 / tick / perf_secs))% of a CPU,"
    echo "    $(((cs1 - cs0) / perf_secs)) context switches/s (all its threads)"
    echo "--- by shared object (share of the daemon's samples)"
    perf report -i "$work/perf.data" --no-children --sort dso --stdio >"$work/perf.dso" 2>/dev/null || true
    grep -E '^ +[0-9]' "$work/perf.dso" | head -n 6 || true
    echo "--- the top symbols"
    perf report -i "$work/perf.data" --no-children --sort dso,sym --stdio -g none \
      >"$work/perf.sym" 2>/dev/null || true
    grep -E '^ +[0-9]' "$work/perf.sym" | head -n 25 | cut -c1-120 || true
  else
    echo "(perf record failed: $(tail -n 2 "$work/perf.log"))"
  fi
  wait "$sender" || true
  forget "$sender"
  wait "$pid" || true
  forget "$pid"
fi
