#!/usr/bin/env bash
# bench/run.sh [BUILD] — telrep beside its peers, measured in the same run, inside a network
# namespace of its own (nothing leaves the machine). Prints ratios, never asserts absolute
# times (the machine is shared and noisy); results also go to BUILD/bench/results.json.
#  1. UDP throughput at time_factor 0: telrep vs a plain sendmmsg loop of the same datagrams
#     (loaded into memory first) vs tcpreplay --topspeed, to a recvmmsg sink (median of RUNS),
#     each measured at the sink.
#  2. Timing fidelity at time_factor 1 (TESTING.md): gap error p50/p99 and schedule offset,
#     telrep beside tcpreplay, from a tcpdump capture of the replay on lo.
#  3. Peak RSS of telrep against capture size.
set -u
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd)
RUNS=${RUNS:-3}
PACKETS=${BENCH_PACKETS:-100000}
OUT=$BUILD/bench
mkdir -p "$OUT"
NS=telrep-bench-$$
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT
for t in tcpreplay tcprewrite tcpdump jq; do
    command -v $t > /dev/null || { echo "bench: $t is missing (make deps installs it)"; exit 1; }
done
in_ns() { ip netns exec "$NS" "$@"; }
ip netns add "$NS" || exit 1
in_ns ip link set lo up
in_ns sysctl -qw net.ipv4.conf.lo.route_localnet=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.lo.rp_filter=0
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
now() { date +%s.%N; }
ratio() { echo "scale=2; $1 / $2" | bc; }

echo "== generating captures ($PACKETS packets, 10 routers)"
GEN=$BUILD/gen-pcap
$GEN -o "$OUT/big.pcap" --routers 10 --packets "$PACKETS" --records 5 --dst 127.0.0.1 --dport 30991 --interval 0.0001 > /dev/null
# tcpreplay on lo: the kernel accepts only frames addressed to lo's all-zero MAC
tcprewrite --enet-dmac=00:00:00:00:00:00 --enet-smac=00:00:00:00:00:00 -i "$OUT/big.pcap" -o "$OUT/big-lo.pcap"
cat > "$OUT/big.yml" <<CONF
pcap: $OUT/big.pcap
time_factor: 0
no_sync: true
network:
  map:
$(for i in $(seq 1 10); do echo "    - {src_ip: 10.0.0.$i, repro_ip: 127.0.0.$i}"; done)
ipfix:
  collector: {ip: 127.0.0.1, port: 30991}
CONF

sink() { # sink port outfile: background recvmmsg sink until PACKETS arrived or 1 s idle
    ip netns exec "$NS" "$BUILD/udp-sink" 127.0.0.1 "$1" --expect "$PACKETS" --idle 1 --timeout 120 --ready "$OUT/ready" > "$2" &
    SINK_PID=$!
    PIDS+=($SINK_PID)
    for _ in $(seq 100); do [ -e "$OUT/ready" ] && break; sleep 0.05; done
    rm -f "$OUT/ready"
}
timed() { local t0 t1; t0=$(now); "$@" > "$OUT/last.out" 2> "$OUT/last.err"; t1=$(now); echo "$t1 - $t0" | bc; }

echo "== 1. throughput at time_factor 0 ($RUNS runs each, median)"
: > "$OUT/telrep.pps"; : > "$OUT/loop.pps"; : > "$OUT/tcpreplay.pps"; : > "$OUT/delivered"
# every sender is measured by the same yardstick: datagrams the sink received / time from
# its first to its last datagram (process start-up, config and capture opening excluded
# for all three); telrep's whole-process rate is shown beside it
rate() { jq '.datagrams / .seconds | floor' "$OUT/sink.json"; }
: > "$OUT/telrep-process.pps"
for run in $(seq "$RUNS"); do
    sink 30991 "$OUT/sink.json"
    s=$(timed in_ns "$BUILD/telrep" -t "$OUT/big.yml" -q)
    wait $SINK_PID
    rate >> "$OUT/telrep.pps"
    echo "$PACKETS / $s" | bc >> "$OUT/telrep-process.pps"
    echo "telrep $(jq .datagrams "$OUT/sink.json")" >> "$OUT/delivered"

    sink 30991 "$OUT/sink.json"
    in_ns "$BUILD/sendmmsg-loop" "$OUT/big.pcap" 127.0.0.1 30991 > "$OUT/loop.json"
    wait $SINK_PID
    rate >> "$OUT/loop.pps"
    echo "loop $(jq .datagrams "$OUT/sink.json")" >> "$OUT/delivered"

    sink 30991 "$OUT/sink.json"
    in_ns tcpreplay -q -i lo --topspeed "$OUT/big-lo.pcap" > /dev/null 2>&1
    wait $SINK_PID
    rate >> "$OUT/tcpreplay.pps"
    echo "tcpreplay $(jq .datagrams "$OUT/sink.json")" >> "$OUT/delivered"
done
T=$(median < "$OUT/telrep.pps"); L=$(median < "$OUT/loop.pps"); R=$(median < "$OUT/tcpreplay.pps")
TP=$(median < "$OUT/telrep-process.pps")
printf "  %-34s %10.0f packets/s (whole process incl. start-up: %.0f)\n" "telrep -t big.yml (tf 0)" "$T" "$TP"
printf "  %-34s %10.0f packets/s (datagrams preloaded, one socket, batches of 64)\n" "sendmmsg loop" "$L"
printf "  %-34s %10.0f packets/s\n" "tcpreplay --topspeed -i lo" "$R"
printf "  telrep / sendmmsg loop = %s (target >= 0.9), telrep / tcpreplay = %s (target >= 1.2)\n" \
    "$(ratio "$T" "$L")" "$(ratio "$T" "$R")"
echo "  delivered to the sink per run (of $PACKETS): $(tr '\n' ' ' < "$OUT/delivered")"

echo "== 2. timing fidelity at time_factor 1"
$GEN -o "$OUT/timing.pcap" --routers 2 --packets 2000 --records 5 --dst 127.0.0.1 --dport 30992 \
    --interval 0.002 --jitter 0.001 > /dev/null
tcprewrite --enet-dmac=00:00:00:00:00:00 --enet-smac=00:00:00:00:00:00 -i "$OUT/timing.pcap" -o "$OUT/timing-lo.pcap"
sed -e "s|$OUT/big.pcap|$OUT/timing.pcap|; s/time_factor: 0/time_factor: 1/; s/port: 30991/port: 30992/" \
    "$OUT/big.yml" > "$OUT/timing.yml"
fidelity() { # fidelity name command...: capture the replay on lo, compare with the original
    local name=$1; shift
    ip netns exec "$NS" tcpdump --immediate-mode -i lo -j host --time-stamp-precision=nano -U -s 2048 -w "$OUT/$name.replayed.pcap" \
        'udp dst port 30992' 2> "$OUT/tcpdump.err" &
    local tp=$!
    PIDS+=($tp)
    for _ in $(seq 100); do grep -q listening "$OUT/tcpdump.err" && break; sleep 0.05; done
    ip netns exec "$NS" "$BUILD/udp-sink" 127.0.0.1 30992 --idle 1 --timeout 60 > /dev/null &
    local sp=$!
    PIDS+=($sp)
    sleep 0.3
    "$@" > /dev/null 2>&1
    wait $sp
    sleep 0.3
    kill -INT $tp; wait $tp 2>/dev/null
    "$BUILD/timing" "$OUT/timing.pcap" "$OUT/$name.replayed.pcap" 1 > "$OUT/$name.timing.json"
    jq -r --arg n "$name" '"  \($n | .[0:30] + (" " * (30 - length))) matched \(.matched)/\(.original)  gap error us: p50 \(.gap_error_us.p50) p99 \(.gap_error_us.p99) max \(.gap_error_us.max)  offset us: mean \(.offset_mean_us) |offset| p50 \(.offset_abs_us.p50) p99 \(.offset_abs_us.p99) max \(.offset_abs_us.max)"' "$OUT/$name.timing.json"
}
fidelity telrep in_ns "$BUILD/telrep" -t "$OUT/timing.yml" -q
fidelity tcpreplay in_ns tcpreplay -q -i lo "$OUT/timing-lo.pcap"
echo "  targets: gap error p50 < 20 us, p99 < 200 us, offset < 100 us"

echo "== 3. peak RSS against capture size (tf 0)"
: > "$OUT/rss"
for n in $((PACKETS / 10)) "$PACKETS" $((PACKETS * 4)); do
    $GEN -o "$OUT/rss.pcap" --routers 10 --packets "$n" --records 5 --dst 127.0.0.1 --dport 30991 --interval 0.0001 > /dev/null
    sed "s|$OUT/big.pcap|$OUT/rss.pcap|" "$OUT/big.yml" > "$OUT/rss.yml"
    sink 30991 "$OUT/sink.json"
    in_ns "$BUILD/maxrss" "$BUILD/telrep" -t "$OUT/rss.yml" -q 2> "$OUT/rss.err" > /dev/null
    wait $SINK_PID
    kb=$(awk '/maxrss_kb/ {print $2}' "$OUT/rss.err")
    printf "  %8d packets, %6d MB capture: peak RSS %6d KiB\n" "$n" $(( $(stat -c %s "$OUT/rss.pcap") / 1048576 )) "$kb"
    echo "$n $kb" >> "$OUT/rss"
done
first=$(head -1 "$OUT/rss" | cut -d' ' -f2); last=$(tail -1 "$OUT/rss" | cut -d' ' -f2)
echo "  RSS at 40x the packets / RSS at 1x = $(ratio "$last" "$first") (flat = 1.00)"
rm -f "$OUT/rss.pcap"

jq -n --argjson t "$T" --argjson l "$L" --argjson r "$R" \
   --slurpfile tt "$OUT/telrep.timing.json" --slurpfile rt "$OUT/tcpreplay.timing.json" \
   --arg rss "$(cat "$OUT/rss")" \
   '{throughput_pps: {telrep: $t, sendmmsg_loop: $l, tcpreplay: $r, telrep_vs_loop: ($t / $l), telrep_vs_tcpreplay: ($t / $r)},
     timing: {telrep: $tt[0], tcpreplay: $rt[0]},
     peak_rss_kb: ($rss | split("\n") | map(select(length > 0) | split(" ") | {packets: (.[0] | tonumber), kb: (.[1] | tonumber)}))}' \
   > "$OUT/results.json"
echo "== results: $OUT/results.json"
