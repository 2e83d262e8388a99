#!/usr/bin/env bash
# bench/run.sh [BUILD] — telrep beside its peers, measured in the same run, inside a network
# namespace of its own (nothing leaves the machine). Prints ratios, never asserts absolute
# times (the machine is shared and noisy); results also go to BUILD/bench/results.json.
#  1. UDP throughput at time_factor 0: telrep vs a plain sendmmsg loop of the same datagrams
#     (loaded into memory first) vs tcpreplay --topspeed, to a recvmmsg sink (median of RUNS),
#     each measured at the sink.
#  2. Timing fidelity at time_factor 1 (TESTING.md): gap error p50/p99 and schedule offset,
#     telrep (sleeping between packets, its default) and telrep --busy-wait beside tcpreplay
#     (which busy-waits too), from a tcpdump capture of the replay on lo.
#  3. Peak RSS of telrep against capture size.
#  4. BMP over TCP at time_factor 0 (messages packed in 1424-byte segments, as routers send
#     them): telrep vs a plain write() loop of the same bytes to a TCP
#     sink (MB/s and messages/s at the sink, median of RUNS). The capture is played
#     BMP_PLAYS (default 100) times: telrep reads it from the file once and keeps it in
#     memory for the plays after, as the loop has its bytes in memory.
#  5. Concurrency: BMP_SESSIONS (default 2000) simultaneous BMP sessions from as many loopback
#     addresses in one process: peak RSS and connection setup time.
#  9. Scale from one process: 10,000 UDP routers (clones) x 3 collectors and 5,000 BMP sessions:
#     setup time (to the run_start event), the time until every session is up (--ready), peak
#     RSS, and the rate at the sinks beside one router sending the same to one collector.
#  7. flow-replay: new flows/s with both ends in one process on loopback (a request and a
#     response each) beside a plain C connect/accept loop of the same flows; and the most flows
#     open at once (each held 2 s), both ends in one process and as two processes.
#  5b. BMP at time_factor 1 with messages 50 us apart to a reading collector: the lag
#     (p50, p99, max from the report's histogram) and whether anything spilled to disk.
#  1b. The same with every NetFlow rewrite on (export_time now, sequence continuous,
#     templates primed) beside the sendmmsg loop, run again between its runs.
#  8. Soak (SOAK_SECONDS, default 600; 0 skips it): IPFIX, v9 and v5 looped at a rate cap
#     (SOAK_PPS, default 2000) with every rewrite on, to nfcapd: telrep's RSS after the first
#     minute (or a tenth of the soak, when shorter) and at the end, nfdump's sequence failures,
#     nfcapd's errors.
# 11. Traffic models: fitting the model of MODEL_FLOWS (default 200,000) flows' events
#     (bench/model-fit: read, then fit), and generating as many flows from it beside
#     --synthetic making the same number (both written as events files).
# 10. MRT as BMP: a synthetic full-size RIB dump (tools/mrt-gen: MRT_V4 IPv4 + MRT_V6 IPv6
#     prefixes x MRT_PEERS peers, default 1M + 200k x 20) replayed at time_factor 0 to a BMP
#     sink: routes/s (target >= 1M on one core) and peak RSS, beside the same at 1/10 the size
#     (RSS must stay flat, target < 50 MB), and `bgpdump -m > /dev/null` as the reading-speed
#     yardstick (on the 1/10 file, scaled by routes for the full one; MRT_BGPDUMP_FULL=1 reads
#     the full one too). The 1/10 file also twice, side by side, as two BMP routers.
#  6. pcap-proc on a generated mixed raw capture (>= 200 MB: BMP sessions with handshakes and
#     the collector's replies, IPFIX): packets/s, MB/s and peak RSS, beside the same capture at
#     1/10 the size (RSS must stay flat), and the full one anonymised (pcap_processing.anonymise).
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
for t in tcpreplay tcprewrite tcpdump mergecap jq bc bgpdump; do
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

echo "== 1b. throughput at time_factor 0 with every rewrite on ($RUNS runs each, median)"
sed 's/^ipfix:/ipfix:\n  export_time: now\n  sequence: continuous\n  templates: prime/' "$OUT/big.yml" > "$OUT/big-rw.yml"
# the loop again, run by run beside it: the host's speed drifts by a third within minutes,
# and section 1's loop figure is from a minute earlier
: > "$OUT/telrep-rw.pps"; : > "$OUT/loop-rw.pps"
for run in $(seq "$RUNS"); do
    sink 30991 "$OUT/sink.json"
    in_ns "$BUILD/telrep" -t "$OUT/big-rw.yml" -q
    wait $SINK_PID
    rate >> "$OUT/telrep-rw.pps"
    sink 30991 "$OUT/sink.json"
    in_ns "$BUILD/sendmmsg-loop" "$OUT/big.pcap" 127.0.0.1 30991 > "$OUT/loop.json"
    wait $SINK_PID
    rate >> "$OUT/loop-rw.pps"
done
TRW=$(median < "$OUT/telrep-rw.pps"); LRW=$(median < "$OUT/loop-rw.pps")
printf "  %-34s %10.0f packets/s\n" "telrep, every rewrite on" "$TRW"
printf "  %-34s %10.0f packets/s (the same as section 1's, run beside these)\n" "sendmmsg loop" "$LRW"
printf "  telrep rewriting / sendmmsg loop = %s (target >= 0.85); / telrep as captured = %s\n" \
    "$(ratio "$TRW" "$LRW")" "$(ratio "$TRW" "$T")"

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
fidelity telrep-busy-wait in_ns "$BUILD/telrep" -t "$OUT/timing.yml" -q --busy-wait
fidelity tcpreplay in_ns tcpreplay -q -i lo "$OUT/timing-lo.pcap"
echo "  targets: gap error p50 < 20 us, p99 < 200 us, offset < 100 us (telrep sleeps between packets"
echo "  and spins the last 200 us: a host that wakes sleepers late shows in its p99; --busy-wait and"
echo "  tcpreplay spin through every gap, a whole core each)"

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

echo "== 4. BMP over TCP at time_factor 0 ($RUNS runs each, median)"
BMP_MSGS=${BENCH_BMP_MESSAGES:-60000}   # per play (a generated stream is at most 8 MB)
BMP_PLAYS=${BENCH_BMP_PLAYS:-100} # 640 MB: long enough (~0.2 s) that a preemption is a small part of it
$GEN -o "$OUT/bmp.pcap" --format bmp --routers 1 --peers 1 --packets "$BMP_MSGS" --records 4 --src 10.2.0.1 --segment 1424 --pack \
    --dst 127.0.0.1 --dport 31790 --interval 0.00001 > "$OUT/bmp.counts"
cat > "$OUT/bmp.yml" <<CONF
pcap: $OUT/bmp.pcap
repeat: {count: [$BMP_PLAYS]}
time_factor: 0
no_sync: true
network:
  map:
    - {src_ip: 10.2.0.1, repro_ip: 127.0.0.20}
bmp:
  collector: {ip: 127.0.0.1, port: 31790}
CONF
tcp_sink() { # tcp_sink outfile [options]: background TCP sink on 127.0.0.1:31790
    local out=$1; shift
    ip netns exec "$NS" "$BUILD/tcp-sink" 127.0.0.1 31790 --bmp --idle 1 --timeout 300 --ready "$OUT/ready" "$@" > "$out" &
    SINK_PID=$!
    PIDS+=($SINK_PID)
    for _ in $(seq 100); do [ -e "$OUT/ready" ] && break; sleep 0.05; done
    rm -f "$OUT/ready"
}
: > "$OUT/bmp-telrep.mbs"; : > "$OUT/bmp-loop.mbs"; : > "$OUT/bmp-telrep.mps"; : > "$OUT/bmp-loop.mps"
for run in $(seq "$RUNS"); do
    tcp_sink "$OUT/tsink.json"
    in_ns "$BUILD/telrep" -t "$OUT/bmp.yml" -q > /dev/null 2>&1
    wait $SINK_PID
    jq '.bytes / .seconds / 1e6' "$OUT/tsink.json" >> "$OUT/bmp-telrep.mbs"
    jq '.messages / .seconds | floor' "$OUT/tsink.json" >> "$OUT/bmp-telrep.mps"
    tb=$(jq .bytes "$OUT/tsink.json")
    tcp_sink "$OUT/tsink.json"
    in_ns "$BUILD/write-loop" "$OUT/bmp.pcap" 127.0.0.1 31790 "$BMP_PLAYS" > /dev/null
    wait $SINK_PID
    jq '.bytes / .seconds / 1e6' "$OUT/tsink.json" >> "$OUT/bmp-loop.mbs"
    jq '.messages / .seconds | floor' "$OUT/tsink.json" >> "$OUT/bmp-loop.mps"
    lb=$(jq .bytes "$OUT/tsink.json")
    [ "$tb" = "$lb" ] || echo "  (run $run: telrep delivered $tb bytes, the loop $lb)"
done
BT=$(median < "$OUT/bmp-telrep.mbs"); BL=$(median < "$OUT/bmp-loop.mbs")
BTM=$(median < "$OUT/bmp-telrep.mps"); BLM=$(median < "$OUT/bmp-loop.mps")
printf "  %-34s %8.1f MB/s %10.0f messages/s (%s plays: the file read once, kept in memory)\n" \
    "telrep -t bmp.yml (tf 0)" "$BT" "$BTM" "$BMP_PLAYS"
printf "  %-34s %8.1f MB/s %10.0f messages/s (bytes preloaded, 64 KiB writes)\n" "write() loop" "$BL" "$BLM"
printf "  telrep / write loop = %s (target >= 0.8); %s messages, %s MB\n" "$(ratio "$BT" "$BL")" \
    "$(jq ".routers[] | (.init + .peer_up + .route_monitoring + .stats) * $BMP_PLAYS" "$OUT/bmp.counts")" \
    "$(jq ".routers[].stream_bytes * $BMP_PLAYS / 1e6 | floor" "$OUT/bmp.counts")"

SESS=${BMP_SESSIONS:-2000}
echo "== 5. $SESS simultaneous BMP sessions from $SESS loopback addresses (tf 0)"
$GEN -o "$OUT/many.pcap" --format bmp --routers "$SESS" --peers 1 --packets 5 --records 1 --src 10.3.0.1 \
    --dst 127.0.0.1 --dport 31790 --interval 0.00001 > "$OUT/many.counts"
{
    printf 'pcap: %s\ntime_factor: 0\nno_sync: true\nnetwork:\n  map:\n' "$OUT/many.pcap"
    jq -r '.routers | keys[]' "$OUT/many.counts" | awk '{ n = NR; printf "    - {src_ip: %s, repro_ip: 127.1.%d.%d}\n", $1, int(n / 250), n % 250 + 1 }'
    printf 'bmp:\n  collector: {ip: 127.0.0.1, port: 31790}\n'
} > "$OUT/many.yml"
tcp_sink "$OUT/many.json" --idle 2
t0=$(now)
in_ns "$BUILD/maxrss" "$BUILD/telrep" -t "$OUT/many.yml" -q --stats-json "$OUT/many.report" 2> "$OUT/many.err" > /dev/null
t1=$(now)
wait $SINK_PID
MKB=$(awk '/maxrss_kb/ {print $2}' "$OUT/many.err")
printf "  connections %s, at once %s, all accepted within %.3f s; whole run %.2f s; peak RSS %d KiB (%.1f MB, target < 100 MB)\n" \
    "$(jq .connections "$OUT/many.json")" "$(jq .max_open "$OUT/many.json")" "$(jq .accept_seconds "$OUT/many.json")" \
    "$(echo "$t1 - $t0" | bc)" "$MKB" "$(echo "$MKB / 1024" | bc -l)"
echo "  messages delivered: $(jq .messages "$OUT/many.json") of $(jq '[.routers[] | .init + .peer_up + .route_monitoring + .stats] | add' "$OUT/many.counts")"

echo "== 5b. BMP at time_factor 1, messages 50 us apart, to a reading collector (lag, spill)"
$GEN -o "$OUT/dense.pcap" --format bmp --routers 1 --peers 1 --packets "${BENCH_DENSE:-60000}" --records 1 \
    --src 10.2.0.1 --dst 127.0.0.1 --dport 31790 --interval 0.00005 > "$OUT/dense.counts"
sed -e "s|^pcap: .*|pcap: $OUT/dense.pcap|" -e 's/^time_factor: .*/time_factor: 1/' -e '/^repeat:/d' \
    "$OUT/bmp.yml" > "$OUT/dense.yml"
tcp_sink "$OUT/dense-sink.json"
in_ns "$BUILD/telrep" -t "$OUT/dense.yml" -q --stats-json "$OUT/dense.report" > /dev/null 2>&1
wait $SINK_PID
DP99=$(jq .timing.lag_p99_us "$OUT/dense.report"); DSPILL=$(jq '[.sessions[].queued_on_disk] | add' "$OUT/dense.report")
printf "  lag p50 %.0f us, p99 %.0f us (target < 5000), max %.0f us; spilled %s messages (target 0); the collector got %s of %s messages over %.2f s (the capture spans %.2f s)\n" \
    "$(jq .timing.lag_p50_us "$OUT/dense.report")" "$DP99" "$(jq .timing.lag_max_us "$OUT/dense.report")" "$DSPILL" \
    "$(jq .messages "$OUT/dense-sink.json")" "$(jq '.routers[] | .init + .peer_up + .route_monitoring + .stats' "$OUT/dense.counts")" \
    "$(jq .seconds "$OUT/dense-sink.json")" "$(echo "${BENCH_DENSE:-60000} * 0.00005" | bc -l)"

echo "== 6. pcap-proc on a mixed raw capture (BMP with handshakes and replies, IPFIX), full and 1/10 size"
PP_BMP=${BENCH_PP_BMP:-70000}    # route monitoring messages per BMP router (20 routers)
PP_IPFIX=${BENCH_PP_IPFIX:-100000}
: > "$OUT/pp.txt"
for div in 10 1; do
    $GEN -o "$OUT/pp-bmp.pcap" --format bmp --routers 20 --peers 4 --packets $((PP_BMP / div)) --records 4 \
        --src 10.4.0.1 --handshake --replies --segment 1424 --pack --interval 0.0001 > /dev/null
    $GEN -o "$OUT/pp-ipfix.pcap" --format ipfix --routers 10 --packets $((PP_IPFIX / div)) --records 20 \
        --src 10.5.0.1 --template-every 100 --interval 0.0001 > /dev/null
    mergecap -F pcap -w "$OUT/pp-$div.pcap" "$OUT/pp-bmp.pcap" "$OUT/pp-ipfix.pcap"
    rm -f "$OUT/pp-bmp.pcap" "$OUT/pp-ipfix.pcap"
    printf 'pcap: %s\npcap_processing: {output_folder: %s}\nbmp: {select: {tcp: {dport: [1790]}}}\nipfix: {select: {udp: {dport: [9991]}}}\n' \
        "$OUT/pp-$div.pcap" "$OUT/pp-out-$div" > "$OUT/pp-$div.yml"
    t0=$(now)
    "$BUILD/maxrss" "$BUILD/pcap-proc" -t "$OUT/pp-$div.yml" -q 2> "$OUT/pp-$div.err"
    t1=$(now)
    secs=$(echo "$t1 - $t0" | bc)
    pkts=$(jq .packets.read "$OUT/pp-out-$div/traffic-info.json")
    mb=$(echo "$(stat -c %s "$OUT/pp-$div.pcap") / 1000000" | bc)
    kb=$(awk '/maxrss_kb/ {print $2}' "$OUT/pp-$div.err")
    printf "  %4s MB, %8s packets: %6.2f s, %8.0f packets/s, %6.1f MB/s, peak RSS %6d KiB; out %s packets\n" "$mb" "$pkts" \
        "$secs" "$(echo "$pkts / $secs" | bc -l)" "$(echo "$mb / $secs" | bc -l)" "$kb" \
        "$(jq .output.packets "$OUT/pp-out-$div/traffic-info.json")"
    echo "$div $mb $pkts $secs $kb" >> "$OUT/pp.txt"
    if [ "$div" = 1 ]; then # the same with anonymise on (Crypto-PAn on every address, BMP and IPFIX records)
        printf '%064d' 1 > "$OUT/pp.key"
        sed "s#pcap_processing: {output_folder: [^}]*}#pcap_processing: {output_folder: $OUT/pp-anon, anonymise: {key_file: $OUT/pp.key}}#" \
            "$OUT/pp-$div.yml" > "$OUT/pp-anon.yml"
        t0=$(now)
        "$BUILD/maxrss" "$BUILD/pcap-proc" -t "$OUT/pp-anon.yml" -q 2> "$OUT/pp-anon.err"
        t1=$(now)
        asecs=$(echo "$t1 - $t0" | bc)
        printf "  anonymised: %6.2f s, %8.0f packets/s, peak RSS %6d KiB, %s addresses mapped; anonymised / plain time = %s\n" \
            "$asecs" "$(echo "$pkts / $asecs" | bc -l)" "$(awk '/maxrss_kb/ {print $2}' "$OUT/pp-anon.err")" \
            "$(jq .anonymised.addresses "$OUT/pp-anon/traffic-info.json")" "$(ratio "$asecs" "$secs")"
        rm -rf "$OUT/pp-anon"
    fi
    rm -rf "$OUT/pp-$div.pcap" "$OUT/pp-out-$div"
done
PPR=$(awk '$1 == 10 {s=$5} $1 == 1 {b=$5} END {printf "%.2f", b / s}' "$OUT/pp.txt")
echo "  peak RSS full / tenth = $PPR (flat = about 1)"

echo "== 7. flow-replay: new flows/s and flows open at once (loopback, request 100 B / response 100 B)"
FLOWS=${BENCH_FLOWS:-20000}
: > "$OUT/fr.rates"; : > "$OUT/cl.rates"; : > "$OUT/fre.rates"
# the same flows replayed from an events file (as extracted flows are)
"$BUILD/flow-replay" --synthetic --flows "$FLOWS" --rate 1000000 --request 100 --response 100 \
    --client 127.0.1.1 --clients 8 --server 127.0.0.2 --port 18084 --write-events "$OUT/fr-events.csv" -q
for run in $(seq "$RUNS"); do
    in_ns "$BUILD/flow-replay" --synthetic --flows "$FLOWS" --rate 1000000 --request 100 --response 100 \
        --client 127.0.1.1 --clients 8 --server 127.0.0.2 --port 18080 -S "$OUT/fr.json" -q
    jq .flows_per_second "$OUT/fr.json" >> "$OUT/fr.rates"
    in_ns "$BUILD/flow-replay" "$OUT/fr-events.csv" --asap -S "$OUT/fre.json" -q
    jq .flows_per_second "$OUT/fre.json" >> "$OUT/fre.rates"
    in_ns "$BUILD/connect-loop" 127.0.0.2 18081 "$FLOWS" | jq .flows_per_second >> "$OUT/cl.rates"
done
FR=$(median < "$OUT/fr.rates"); CL=$(median < "$OUT/cl.rates"); FRE=$(median < "$OUT/fre.rates")
printf "  flow-replay --synthetic (both ends)   %8.0f flows/s (target >= 0.8x the loop)\n" "$FR"
printf "  flow-replay of an events file         %8.0f flows/s\n" "$FRE"
printf "  connect/accept loop (sequential)      %8.0f flows/s\n" "$CL"
printf "  flow-replay / loop = %s (made up), %s (from a file)\n" "$(ratio "$FR" "$CL")" "$(ratio "$FRE" "$CL")"
rm -f "$OUT/fr-events.csv"
in_ns "$BUILD/flow-replay" --synthetic --flows "$FLOWS" --rate "$FLOWS" --think 2 --request 100 --response 100 \
    --client 127.0.1.1 --clients 8 --server 127.0.0.2 --port 18083 -S "$OUT/frb.json" -q
printf "  flows open at once, both ends in one process: %s of %s (the descriptor limit allows %s; %s/%s done)\n" \
    "$(jq .max_concurrent "$OUT/frb.json")" "$FLOWS" "$(jq .concurrency_limit "$OUT/frb.json")" \
    "$(jq .states.done "$OUT/frb.json")" "$FLOWS"
in_ns "$BUILD/flow-replay" --synthetic --role server --flows "$FLOWS" --rate "$FLOWS" --think 2 --request 100 --response 100 \
    --client 127.0.1.1 --clients 4 --server 127.0.0.2 --port 18082 -S "$OUT/frs.json" -q &
SRV=$!
sleep 0.5
in_ns "$BUILD/flow-replay" --synthetic --role client --flows "$FLOWS" --rate "$FLOWS" --think 2 --request 100 --response 100 \
    --client 127.0.1.1 --clients 4 --server 127.0.0.2 --port 18082 -S "$OUT/frc.json" -q
wait $SRV
printf "  flows open at once, client and server processes: %s and %s of %s (limit %s per process); done %s/%s\n" \
    "$(jq .max_concurrent "$OUT/frc.json")" "$(jq .max_concurrent "$OUT/frs.json")" "$FLOWS" \
    "$(jq .concurrency_limit "$OUT/frc.json")" "$(jq .states.done "$OUT/frc.json")" "$(jq .states.done "$OUT/frs.json")"

SCALE_ROUTERS=${SCALE_ROUTERS:-10000}
SCALE_SESSIONS=${SCALE_SESSIONS:-5000}
echo "== 9. scale from one process: $SCALE_ROUTERS UDP routers x 3 collectors, $SCALE_SESSIONS BMP sessions (tf 0)"
in_ns ip addr add 10.200.0.0/16 dev lo
in_ns ip addr add 10.201.0.0/16 dev lo
# setup: from the start of the process to its run_start event (sockets open, captures checked)
setup_s() { # setup_s t0 events-file
    local t; t=$(jq -r 'select(.event == "run_start") | .time' "$2"); echo "$(date -d "$t" +%s.%N) - $1" | bc
}
usink() { # usink port expect outfile
    ip netns exec "$NS" "$BUILD/udp-sink" 127.0.0.1 "$1" --expect "$2" --idle 2 --timeout 300 --ready "$OUT/ready" > "$3" &
    PIDS+=($!); USINKS+=($!)
    for _ in $(seq 100); do [ -e "$OUT/ready" ] && break; sleep 0.05; done
    rm -f "$OUT/ready"
}
PER=10 # packets per router
$GEN -o "$OUT/scale1.pcap" --routers 1 --packets "$PER" --records 5 --dst 127.0.0.1 --dport 30991 --interval 0.001 > /dev/null
$GEN -o "$OUT/scale-base.pcap" --routers 1 --packets $((PER * SCALE_ROUTERS * 3)) --records 5 --dst 127.0.0.1 \
    --dport 30991 --interval 0.00001 > /dev/null
cat > "$OUT/scale.yml" <<CONF
pcap: $OUT/scale1.pcap
time_factor: 0
no_sync: true
network:
  map:
    - {src_ip: 10.0.0.1, repro_ip: 10.200.0.1, clones: $SCALE_ROUTERS}
ipfix:
  collector: [{ip: 127.0.0.1, port: 30996}, {ip: 127.0.0.1, port: 30997}, {ip: 127.0.0.1, port: 30998}]
CONF
sed -e "s|scale1.pcap|scale-base.pcap|; s|, clones: $SCALE_ROUTERS||; s|collector: .*|collector: {ip: 127.0.0.1, port: 30996}|" \
    "$OUT/scale.yml" > "$OUT/scale-base.yml"
in_ns "$BUILD/telrep" -t "$OUT/scale.yml" --check 2>&1 | grep descriptors | sed 's/^telrep: /  --check: /'
USINKS=()
for p in 30996 30997 30998; do usink $p $((PER * SCALE_ROUTERS)) "$OUT/scale-$p.json"; done
t0=$(now)
in_ns "$BUILD/maxrss" "$BUILD/telrep" -t "$OUT/scale.yml" -q --events "$OUT/scale.events" 2> "$OUT/scale.err" > /dev/null
wait "${USINKS[@]}"
SKB=$(awk '/maxrss_kb/ {print $2}' "$OUT/scale.err"); SSET=$(setup_s "$t0" "$OUT/scale.events")
SGOT=$(jq -s 'map(.datagrams) | add' "$OUT"/scale-309*.json)
SPPS=$(jq -s '(map(.datagrams) | add) / (map(.seconds) | max) | floor' "$OUT"/scale-309*.json)
USINKS=()
usink 30996 $((PER * SCALE_ROUTERS * 3)) "$OUT/scale-base.json"
in_ns "$BUILD/telrep" -t "$OUT/scale-base.yml" -q
wait "${USINKS[@]}"
SBPPS=$(jq '.datagrams / .seconds | floor' "$OUT/scale-base.json")
printf "  UDP: %s routers x 3 collectors: %s of %s datagrams, %s/s at the sinks; setup %.2f s; peak RSS %d KiB\n" \
    "$SCALE_ROUTERS" "$SGOT" $((PER * SCALE_ROUTERS * 3)) "$SPPS" "$SSET" "$SKB"
printf "  UDP: one router to one collector, the same datagrams: %s/s; ratio %s\n" "$SBPPS" "$(ratio "$SPPS" "$SBPPS")"

BPER=50 # route monitoring messages per session
$GEN -o "$OUT/scale-bmp1.pcap" --format bmp --routers 1 --peers 1 --packets "$BPER" --records 1 --dst 127.0.0.1 \
    --dport 31790 --interval 0.00001 > "$OUT/scale-bmp1.counts"
cat > "$OUT/scale-bmp.yml" <<CONF
pcap: $OUT/scale-bmp1.pcap
time_factor: 0
no_sync: true
network:
  map:
    - {src_ip: 10.0.0.1, repro_ip: 10.201.0.1, clones: $SCALE_SESSIONS}
bmp:
  collector: {ip: 127.0.0.1, port: 31790}
CONF
# the same messages through one session: the capture played SCALE_SESSIONS times (kept in memory)
sed -e "s|^pcap: .*|&\nrepeat: {count: [$SCALE_SESSIONS]}|; s|, clones: $SCALE_SESSIONS||" "$OUT/scale-bmp.yml" > "$OUT/scale-bmpb.yml"
tcp_sink "$OUT/scale-bmp.json" --idle 2
t0=$(now)
in_ns "$BUILD/maxrss" "$BUILD/telrep" -t "$OUT/scale-bmp.yml" -q --events "$OUT/scale-bmp.events" \
    --ready "$OUT/scale-bmp.ready" 2> "$OUT/scale-bmp.err" > /dev/null
wait $SINK_PID
BKB=$(awk '/maxrss_kb/ {print $2}' "$OUT/scale-bmp.err"); BSET=$(setup_s "$t0" "$OUT/scale-bmp.events")
BUP=$(echo "$(jq .time "$OUT/scale-bmp.ready") - $t0" | bc)
tcp_sink "$OUT/scale-bmpb.json" --idle 2
in_ns "$BUILD/telrep" -t "$OUT/scale-bmpb.yml" -q
wait $SINK_PID
BMPS=$(jq '.messages / .seconds | floor' "$OUT/scale-bmp.json"); BBMPS=$(jq '.messages / .seconds | floor' "$OUT/scale-bmpb.json")
printf "  BMP: %s sessions: %s of %s messages, %s/s at the sink; setup %.2f s, every session up %.2f s after the start; peak RSS %d KiB (%.1f KiB per session)\n" \
    "$SCALE_SESSIONS" "$(jq .messages "$OUT/scale-bmp.json")" \
    "$(jq "[.routers[] | .init + .peer_up + .route_monitoring + .stats] | add * $SCALE_SESSIONS" "$OUT/scale-bmp1.counts")" \
    "$BMPS" "$BSET" "$BUP" "$BKB" "$(echo "$BKB / $SCALE_SESSIONS" | bc -l)"
printf "  BMP: one session with the same messages: %s/s; ratio %s\n" "$BBMPS" "$(ratio "$BMPS" "$BBMPS")"
SCALE=$(jq -n --argjson r "$SCALE_ROUTERS" --argjson s "$SCALE_SESSIONS" --argjson upps "$SPPS" --argjson ubpps "$SBPPS" \
    --argjson uset "$SSET" --argjson ukb "$SKB" --argjson bmps "$BMPS" --argjson bbmps "$BBMPS" --argjson bset "$BSET" \
    --argjson bup "$BUP" --argjson bkb "$BKB" \
    '{udp: {routers: $r, collectors: 3, pps: $upps, one_router_pps: $ubpps, ratio: ($upps / $ubpps), setup_s: $uset, peak_rss_kb: $ukb},
      bmp: {sessions: $s, msgs_s: $bmps, one_session_msgs_s: $bbmps, ratio: ($bmps / $bbmps), setup_s: $bset, all_up_s: $bup, peak_rss_kb: $bkb}}')

MODEL_FLOWS=${MODEL_FLOWS:-200000}
echo "== 11. traffic models: $MODEL_FLOWS flows' events fitted; as many generated from the model beside --synthetic"
SYNB="--synthetic --flows $MODEL_FLOWS --rate 10000 --rounds uniform:1:5 --request exp:400 --response uniform:1000:30000 --think exp:0.01"
t0=$(now); "$BUILD/flow-replay" $SYNB --write-events "$OUT/model-src.csv" -q; t1=$(now)
SYNS=$(echo "$t1 - $t0" | bc)
"$BUILD/model-fit" "$OUT/model-src.csv" "$OUT/model.json" 2> "$OUT/model-fit.txt"
read -r _ READS _ FITS _ _ < "$OUT/model-fit.txt"
t0=$(now); "$BUILD/flow-replay" --model "$OUT/model.json" --flows "$MODEL_FLOWS" --write-events "$OUT/model-gen.csv" -q; t1=$(now)
GENS=$(echo "$t1 - $t0" | bc)
printf "  %s flows (%s MB of events): read %.2f s, model fitted %.2f s; generated from it %.2f s (%.0f flows/s) beside --synthetic %.2f s (%.0f flows/s): synthetic / model time = %s\n" \
    "$MODEL_FLOWS" "$(echo "$(stat -c %s "$OUT/model-src.csv") / 1000000" | bc)" "$READS" "$FITS" "$GENS" \
    "$(echo "$MODEL_FLOWS / $GENS" | bc -l)" "$SYNS" "$(echo "$MODEL_FLOWS / $SYNS" | bc -l)" "$(ratio "$SYNS" "$GENS")"
rm -f "$OUT/model-src.csv" "$OUT/model-gen.csv"

MRT_V4=${MRT_V4:-1000000} MRT_V6=${MRT_V6:-200000} MRT_PEERS=${MRT_PEERS:-20}
echo "== 10. MRT RIB dump as BMP at time_factor 0: $MRT_V4 IPv4 + $MRT_V6 IPv6 prefixes x $MRT_PEERS peers, and 1/10"
: > "$OUT/mrt.txt"
# mrt_play NAME: telrep replays $OUT/NAME.yml to a BMP sink; sets MRT_RC, MRT_SEC, MRT_KB and
# MRT_ROUTES (the RIB entries the report's sources read, with one dump or several)
mrt_play() {
    local t0 t1
    tcp_sink "$OUT/mrt-sink.json"
    t0=$(now)
    in_ns "$BUILD/maxrss" "$BUILD/telrep" -t "$OUT/$1.yml" -q --stats-json "$OUT/$1.report" 2> "$OUT/$1.err" > /dev/null
    MRT_RC=$?
    t1=$(now)
    wait $SINK_PID
    MRT_SEC=$(echo "$t1 - $t0" | bc)
    MRT_KB=$(awk '/maxrss_kb/ {print $2}' "$OUT/$1.err")
    MRT_ROUTES=$(jq '[.sources[] | (.dumps // [.])[] | .rib_entries] | add' "$OUT/$1.report")
}
for div in 10 1; do
    "$BUILD/mrt-gen" --peers "$MRT_PEERS" --v4 $((MRT_V4 / div)) --v6 $((MRT_V6 / div)) "$OUT/rib-$div.mrt"
    printf 'mrt: {files: [%s], router: 192.0.2.1}\ntime_factor: 0\nnetwork:\n  map:\n    - {src_ip: 192.0.2.1, repro_ip: 127.0.0.30}\nbmp:\n  collector: {ip: 127.0.0.1, port: 31790}\n' \
        "$OUT/rib-$div.mrt" > "$OUT/mrt-$div.yml"
    mrt_play "mrt-$div"
    rc=$MRT_RC tsec=$MRT_SEC kb=$MRT_KB routes=$MRT_ROUTES
    mb=$(echo "$(stat -c %s "$OUT/rib-$div.mrt") / 1000000" | bc)
    # the yardstick reads the same file (bgpdump logs to syslog unless told otherwise: -v, to
    # stderr). Its rate per route does not depend on the file's size, and on a slow host it
    # reads the full file for over 20 minutes: the full one is read only with MRT_BGPDUMP_FULL=1,
    # else its time is the 1/10 file's scaled by the routes.
    if [ "$div" = 10 ] || [ "${MRT_BGPDUMP_FULL:-0}" = 1 ]; then
        b0=$(now)
        bgpdump -m -v "$OUT/rib-$div.mrt" > /dev/null 2> /dev/null
        b1=$(now)
        bsec=$(echo "$b1 - $b0" | bc); broutes=$routes; bnote=""
    else
        bnote=" (scaled from 1/10)"
        bsec=$(echo "scale=3; $bsec * $routes / $broutes" | bc)
    fi
    printf "  1/%-3s %5s MB, %s routes: telrep (exit %s) %.2f s = %.0f routes/s, %s BMP messages at the sink, peak RSS %s KiB; bgpdump -m%s %.1f s = %.0f routes/s; telrep / bgpdump = %s\n" \
        "$div" "$mb" "$routes" "$rc" "$tsec" "$(echo "$routes / $tsec" | bc)" "$(jq .messages "$OUT/mrt-sink.json")" "$kb" \
        "$bnote" "$bsec" "$(echo "$routes / $bsec" | bc)" "$(ratio "$bsec" "$tsec")"
    echo "$div $mb $routes $tsec $kb $bsec" >> "$OUT/mrt.txt"
    if [ "$div" = 10 ]; then # the same dump twice, side by side, as two BMP routers
        printf 'mrt:\n  - {files: [%s], router: 192.0.2.1}\n  - {files: [%s], router: 192.0.2.2}\ntime_factor: 0\nnetwork:\n  map:\n    - {src_ip: 192.0.2.1, repro_ip: 127.0.0.30}\n    - {src_ip: 192.0.2.2, repro_ip: 127.0.0.31}\nbmp:\n  collector: {ip: 127.0.0.1, port: 31790}\n' \
            "$OUT/rib-$div.mrt" "$OUT/rib-$div.mrt" > "$OUT/mrt2.yml"
        mrt_play mrt2
        printf "  1/%-3s twice, side by side as two BMP routers: telrep (exit %s) %.2f s = %.0f routes/s, %s BMP messages at the sink, peak RSS %s KiB\n" \
            "$div" "$MRT_RC" "$MRT_SEC" "$(echo "$MRT_ROUTES / $MRT_SEC" | bc)" "$(jq .messages "$OUT/mrt-sink.json")" "$MRT_KB"
        echo "$MRT_ROUTES $MRT_SEC $MRT_KB" > "$OUT/mrt2.txt"
    fi
    rm -f "$OUT/rib-$div.mrt"
done

SOAK_SECONDS=${SOAK_SECONDS:-600}
SOAK_PPS=${SOAK_PPS:-2000}
SOAK='{}'
if [ "$SOAK_SECONDS" -gt 0 ]; then
    echo "== 8. soak: $SOAK_SECONDS s at $SOAK_PPS packets/s, IPFIX + v9 + v5 looped, every rewrite on, to nfcapd"
    command -v nfcapd > /dev/null && command -v nfdump > /dev/null || { echo "bench: nfcapd/nfdump missing (make deps)"; exit 1; }
    $GEN -o "$OUT/soak-ipfix.pcap" --format ipfix --routers 2 --src 10.0.0.1 --packets 2000 --records 7 --interval 0.001 \
        --template-every 20 > /dev/null
    $GEN -o "$OUT/soak-v9.pcap" --format v9 --src 10.9.0.1 --packets 1000 --records 5 --interval 0.001 > /dev/null
    $GEN -o "$OUT/soak-v5.pcap" --format v5 --src 10.5.0.1 --packets 1000 --records 10 --interval 0.001 > /dev/null
    cat > "$OUT/soak.yml" <<CONF
pcap: [$OUT/soak-ipfix.pcap, $OUT/soak-v9.pcap, $OUT/soak-v5.pcap]
repeat: {count: [100000, 100000, 100000]}
time_factor: 0
no_sync: true
rate: {pps: $SOAK_PPS}
duration: $SOAK_SECONDS
network:
  map:
    - {src_ip: 10.0.0.1, repro_ip: 127.0.0.1}
    - {src_ip: 10.0.0.2, repro_ip: 127.0.0.2}
    - {src_ip: 10.9.0.1, repro_ip: 127.0.0.3}
    - {src_ip: 10.5.0.1, repro_ip: 127.0.0.4}
ipfix:
  collector: {ip: 127.0.0.1, port: 30995}
  export_time: now
  sequence: continuous
  templates: prime
CONF
    rm -rf "$OUT/soak-nf"; mkdir -p "$OUT/soak-nf"
    in_ns nfcapd -b 127.0.0.1 -p 30995 -w "$OUT/soak-nf" -t 60 > "$OUT/nfcapd.log" 2>&1 &
    NFCAPD=$!; PIDS+=($NFCAPD)
    sleep 1
    in_ns "$BUILD/telrep" -t "$OUT/soak.yml" -q --stats-json "$OUT/soak.report" &
    SOAKER=$!; PIDS+=($SOAKER)
    first=60; [ "$SOAK_SECONDS" -lt 600 ] && first=$((SOAK_SECONDS / 10 + 1))
    sleep "$first"
    rss1=$(awk '/VmRSS/ {print $2}' "/proc/$(pgrep -P "$SOAKER" -x telrep || echo $SOAKER)/status" 2>/dev/null)
    rss2=$rss1
    while kill -0 "$SOAKER" 2>/dev/null; do
        r=$(awk '/VmRSS/ {print $2}' "/proc/$(pgrep -P "$SOAKER" -x telrep || echo $SOAKER)/status" 2>/dev/null)
        [ -n "$r" ] && rss2=$r
        sleep 1
    done
    wait "$SOAKER"; SOAK_RC=$?
    sleep 1
    kill -TERM "$NFCAPD"; wait "$NFCAPD" 2>/dev/null
    FAILS=$(nfdump -I -R "$OUT/soak-nf" | awk -F': *' '/^Sequence failures/ {s += $2} END {print s + 0}')
    FLOWS=$(nfdump -I -R "$OUT/soak-nf" | awk -F': *' '/^Flows:/ {s += $2} END {print s + 0}')
    # its per-file statistics say "Sequence Errors: N, Bad Packets: N": those count as errors only when not 0
    ERRS=$(grep -i 'error\|fail' "$OUT/nfcapd.log" | grep -vc 'Sequence Errors: 0, Bad Packets: 0')
    printf "  telrep exit %s; %s packets at %.0f/s; RSS after %s s %s KiB, at the end %s KiB (end / start = %s, target within 10%%)\n" \
        "$SOAK_RC" "$(jq .sent "$OUT/soak.report")" "$(jq .timing.rate.packets_per_second "$OUT/soak.report")" \
        "$first" "$rss1" "$rss2" "$(ratio "$rss2" "$rss1")"
    printf "  nfcapd: %s flows, %s sequence failures (target 0), %s error lines in its log (target 0)\n" "$FLOWS" "$FAILS" "$ERRS"
    SOAK=$(jq -n --argjson s "$SOAK_SECONDS" --argjson r1 "$rss1" --argjson r2 "$rss2" --argjson f "$FAILS" --argjson e "$ERRS" \
        --argjson fl "$FLOWS" '{seconds: $s, rss_start_kb: $r1, rss_end_kb: $r2, sequence_failures: $f, collector_errors: $e, flows: $fl}')
fi

jq -n --argjson t "$T" --argjson l "$L" --argjson r "$R" --argjson trw "$TRW" --argjson lrw "$LRW" --argjson soak "$SOAK" --argjson scale "$SCALE" \
   --slurpfile tt "$OUT/telrep.timing.json" --slurpfile rt "$OUT/tcpreplay.timing.json" \
   --slurpfile tbw "$OUT/telrep-busy-wait.timing.json" \
   --arg rss "$(cat "$OUT/rss")" --argjson bt "$BT" --argjson bl "$BL" --argjson btm "$BTM" --argjson blm "$BLM" \
   --slurpfile many "$OUT/many.json" --argjson mkb "$MKB" --arg pp "$(cat "$OUT/pp.txt")" \
   --slurpfile dense "$OUT/dense.report" \
   --argjson frfps "$FR" --argjson frefps "$FRE" --argjson clfps "$CL" --slurpfile frb "$OUT/frb.json" --slurpfile frc "$OUT/frc.json" \
   --arg mrt "$(cat "$OUT/mrt.txt")" --arg mrt2 "$(cat "$OUT/mrt2.txt")" \
   '{throughput_pps: {telrep: $t, sendmmsg_loop: $l, tcpreplay: $r, telrep_vs_loop: ($t / $l), telrep_vs_tcpreplay: ($t / $r),
                     telrep_rewriting: $trw, sendmmsg_loop_beside_rewriting: $lrw, rewriting_vs_loop: ($trw / $lrw)},
     soak: $soak,
     scale: $scale,
     timing: {telrep: $tt[0], telrep_busy_wait: $tbw[0], tcpreplay: $rt[0]},
     peak_rss_kb: ($rss | split("\n") | map(select(length > 0) | split(" ") | {packets: (.[0] | tonumber), kb: (.[1] | tonumber)})),
     bmp_tf0: {telrep_mb_s: $bt, write_loop_mb_s: $bl, telrep_msgs_s: $btm, write_loop_msgs_s: $blm, telrep_vs_loop: ($bt / $bl)},
     bmp_tf1_dense: {lag_p50_us: $dense[0].timing.lag_p50_us, lag_p99_us: $dense[0].timing.lag_p99_us,
                     lag_max_us: $dense[0].timing.lag_max_us, spilled: ([$dense[0].sessions[].queued_on_disk] | add)},
     bmp_sessions: {connections: $many[0].connections, at_once: $many[0].max_open, accept_seconds: $many[0].accept_seconds, peak_rss_kb: $mkb},
     flows: {flow_replay_per_s: $frfps, flow_replay_events_file_per_s: $frefps, connect_loop_per_s: $clfps, open_at_once_one_process: $frb[0].max_concurrent,
             open_at_once_client_process: $frc[0].max_concurrent, descriptor_limit_flows: $frb[0].concurrency_limit},
     mrt_bmp: ($mrt | split("\n") | map(select(length > 0) | split(" ") | {fraction: (1 / (.[0] | tonumber)), mb: (.[1] | tonumber),
               routes: (.[2] | tonumber), seconds: (.[3] | tonumber), routes_per_s: ((.[2] | tonumber) / (.[3] | tonumber)),
               peak_rss_kb: (.[4] | tonumber), bgpdump_seconds: (.[5] | tonumber)})),
     mrt_bmp_two_routers: ($mrt2 | split(" ") | {routes: (.[0] | tonumber), seconds: (.[1] | tonumber),
               routes_per_s: ((.[0] | tonumber) / (.[1] | tonumber)), peak_rss_kb: (.[2] | tonumber)}),
     pcap_proc: ($pp | split("\n") | map(select(length > 0) | split(" ") | {fraction: (1 / (.[0] | tonumber)), mb: (.[1] | tonumber), packets: (.[2] | tonumber), seconds: (.[3] | tonumber), peak_rss_kb: (.[4] | tonumber)}))}' \
   > "$OUT/results.json"
echo "== results: $OUT/results.json"
