#!/usr/bin/env bash
# nfdump's nfcapd as the collector: the flows it stores equal the records replayed,
# and every record's exporter is the router's repro_ip (IPFIX, v9 and v5).
. "$(dirname "$0")/lib.sh"
need nfcapd nfdump jq
make_ns 203.0.113.21 203.0.113.22 2001:db8:90::1
cd "$WORK"
$GEN -o ipfix.pcap --format ipfix --src 10.0.0.1 --routers 2 --packets 20 --records 5 --interval 0.002 > ipfix.json
$GEN -o v9.pcap --format v9 --src 10.9.0.1 --packets 10 --records 3 --interval 0.002 > v9.json
$GEN -o v5.pcap --format v5 --src 10.5.0.1 --packets 5 --records 10 --interval 0.002 > v5.json
cat > c.yml <<CONF
pcap: [ipfix.pcap, v9.pcap, v5.pcap]
time_factor: 0
no_sync: true
network:
  map:
    - {src_ip: 10.0.0.1, repro_ip: 203.0.113.21}
    - {src_ip: 10.0.0.2, repro_ip: 203.0.113.22}
    - {src_ip: 10.9.0.1, repro_ip: 203.0.113.22}
    - {src_ip: 10.5.0.1, repro_ip: 203.0.113.21}
ipfix:
  collector: {ip: 127.0.0.1, port: 20992}
CONF
mkdir -p nf
start_bg nfcapd.log nfcapd -b 127.0.0.1 -p 20992 -w "$WORK/nf" -t 60
NFCAPD_PID=$LAST_PID
wait_udp_listen 20992 || exit 1
in_ns "$TELREP" -t c.yml -q
eq "telrep exit status" "$?" 0
sleep 1
stop_pid "$NFCAPD_PID" TERM
want=$(( $(jq .records ipfix.json) + $(jq .records v9.json) + $(jq .records v5.json) ))
eq "nfdump flows = records" "$(nfdump -R nf -q -o 'fmt:%ra' | grep -c .)" "$want"
eq "flows exported by 203.0.113.21" "$(nfdump -R nf -q -o 'fmt:%ra' | grep -c '203.0.113.21')" \
   "$(( $(jq '.routers["10.0.0.1"]' ipfix.json) + $(jq .records v5.json) ))"
eq "flows exported by 203.0.113.22" "$(nfdump -R nf -q -o 'fmt:%ra' | grep -c '203.0.113.22')" \
   "$(( $(jq '.routers["10.0.0.2"]' ipfix.json) + $(jq .records v9.json) ))"

# Issue 13: the same captures looped 3 times. Replayed byte for byte their sequence numbers
# jump back at every pass (nfdump counts failures); with sequence: continuous they go on,
# and with export_time: now every flow ends within the run's wall-clock window.
loop_run() { # name port head [ipfix keys...]: the head file up to "ipfix:", then the collector and keys
    local name=$1 port=$2 head=$3; shift 3
    mkdir -p "nf-$name"
    {
        cat "$head"
        echo "  collector: {ip: 127.0.0.1, port: $port}"
        for k in "$@"; do echo "  $k"; done
    } > "$name.yml"
    start_bg "nfcapd-$name.log" nfcapd -b 127.0.0.1 -p "$port" -w "$WORK/nf-$name" -t 60
    local pid=$LAST_PID
    wait_udp_listen "$port" || return 1
    in_ns "$TELREP" -t "$name.yml" -q --stats-json "$name.json"
    eq "$name: telrep exit status" "$?" 0
    sleep 1
    stop_pid "$pid" TERM
}
seq_failures() { nfdump -I -R "nf-$1" | awk -F': *' '/^Sequence failures/ {s += $2} END {print s + 0}'; }
t0=$(date +%s)
{
    echo "pcap: [ipfix.pcap, v9.pcap, v5.pcap]"
    echo "repeat: {count: [3, 3, 3], pattern: round-robin}"
    sed -n '/^time_factor/,/^ipfix:/p' c.yml
} > gen-head.yml
loop_run keep 20993 gen-head.yml
loop_run continuous 20994 gen-head.yml "sequence: continuous" "export_time: now"
t1=$(date +%s)
eq "keep: every record of the 3 passes stored" "$(nfdump -R nf-keep -q -o 'fmt:%ra' | grep -c .)" "$(( want * 3 ))"
eq "continuous: every record of the 3 passes stored" "$(nfdump -R nf-continuous -q -o 'fmt:%ra' | grep -c .)" "$(( want * 3 ))"
check "keep: nfdump counts the sequence jumps of the loops ($(seq_failures keep))" test "$(seq_failures keep)" -gt 0
eq "continuous: nfdump counts no sequence failure" "$(seq_failures continuous)" 0
eq "continuous: the report counts the rewrites" \
   "$(jq '[.routers[].protocols.ipfix.rewritten.messages] | add' continuous.json)" \
   "$(jq '[.routers[].protocols.ipfix.packets] | add' continuous.json)"
# flows end (%te) within the run: their captured distance to the export moved with it
late=$(nfdump -R nf-continuous -q -o 'fmt:%te' | while read -r d t; do
    e=$(date -d "$d $t" +%s 2>/dev/null) || continue
    [ "$e" -ge "$t0" ] && [ "$e" -le $((t1 + 1)) ] || echo x; done | grep -c x)
eq "export_time now: every flow ends within the run's wall-clock window" "$late" 0

# The same with captures of a real exporter: pmacctd's nfprobe on a veth exports NetFlow v9,
# IPFIX and v5 for traffic tcpreplay sends across it; its exports, captured on lo, looped 3
# times: with keep nfdump counts the jumps back, with continuous none.
need pmacctd tcpdump tcpreplay
in_ns ip link add va type veth peer name vb
in_ns ip addr add 198.51.100.1/24 dev va
in_ns ip addr add 198.51.100.2/24 dev vb
in_ns ip link set va up
in_ns ip link set vb up
$GEN -o traffic.pcap --format udp --routers 20 --packets 200 --interval 0.01 > /dev/null
for v in 9 10 5; do
    cat > pm$v.conf <<CONF
daemonize: false
pcap_interface: vb
plugins: nfprobe
nfprobe_receiver: 127.0.0.1:2100
nfprobe_version: $v
nfprobe_timeouts: general=1:maxlife=2:expint=1
aggregate: src_host, dst_host, src_port, dst_port, proto
CONF
    start_bg tcpdump$v.log tcpdump -i lo -U -w real$v.pcap udp port 2100
    TD=$LAST_PID
    sleep 1
    start_bg pmacctd$v.log pmacctd -f pm$v.conf
    PM=$LAST_PID
    sleep 1
    in_ns tcpreplay -q -i va traffic.pcap > /dev/null 2>&1
    sleep 4
    stop_pid "$PM" INT
    sleep 1
    stop_pid "$TD" INT
    check "pmacctd exported NetFlow/IPFIX v$v ($(tcpdump -r real$v.pcap 2>/dev/null | grep -c .) packets)" \
        test "$(tcpdump -r real$v.pcap 2>/dev/null | grep -c .)" -ge 1
done
cat > real-head.yml <<CONF
pcap: [real9.pcap, real10.pcap, real5.pcap]
repeat: {count: [3, 3, 3], pattern: round-robin}
time_factor: 0
no_sync: true
network: {map: [{src_ip: 127.0.0.1, repro_ip: 203.0.113.21}]}
ipfix:
  select: {udp: {dport: [2100]}}
CONF
loop_run real-keep 21001 real-head.yml
loop_run real-continuous 21002 real-head.yml "sequence: continuous" "export_time: now"
check "real exporter, keep: nfdump counts the jumps back ($(seq_failures real-keep))" test "$(seq_failures real-keep)" -gt 0
eq "real exporter, continuous: no sequence failure" "$(seq_failures real-continuous)" 0
eq "real exporter: every flow of the 3 passes stored" \
   "$(nfdump -R nf-real-continuous -q -o 'fmt:%ra' | grep -c .)" "$(nfdump -R nf-real-keep -q -o 'fmt:%ra' | grep -c .)"

# The real exporter's captures looped to nfacctd: nfacctd 1.7.7 logs no sequence gap of its
# own, but with debug it logs each packet's sequence number as it received it: with keep they
# step back at every pass, with continuous never (per exporter port and version).
nfacctd_loop() { # name port [ipfix keys...]
    local name=$1 port=$2; shift 2
    {
        cat real-head.yml
        echo "  collector: {ip: 127.0.0.1, port: $port}"
        for k in "$@"; do echo "  $k"; done
    } > "$name.yml"
    NFACCTD_EXTRA="debug: true" start_nfacctd "$WORK/$name" 127.0.0.1 "$port" || return 1
    in_ns "$TELREP" -t "$name.yml" -q
    eq "$name: telrep exit status" "$?" 0
    nfacctd_rows "$WORK/$name" > "$name.rows"
}
back_steps() { # sequence numbers nfacctd received lower than the one before, per exporter and version
    sed -n 's/.*packet from \[\(.*\)\] version \[\([0-9]*\)\] seqno \[\([0-9]*\)\].*/\1 \2 \3/p' "$WORK/$1/nfacctd.log" |
        awk '{ k = $1 " " $2; if ((k in last) && $3 < last[k]) n++; last[k] = $3 } END { print n + 0 }'
}
nfacctd_loop nfa-keep 21003
nfacctd_loop nfa-cont 21004 "sequence: continuous" "export_time: now"
check "nfacctd, keep: received sequence numbers step back at each pass ($(back_steps nfa-keep))" \
    test "$(back_steps nfa-keep)" -ge 2
eq "nfacctd, continuous: received sequence numbers never step back" "$(back_steps nfa-cont)" 0
check "nfacctd logged the sequence numbers it received" test "$(grep -c 'seqno \[' "$WORK/nfa-cont/nfacctd.log")" -gt 0
eq "nfacctd: every flow of the 3 passes, both ways" "$(jq -s 'map(.packets) | add' nfa-cont.rows)" \
   "$(jq -s 'map(.packets) | add' nfa-keep.rows)"
finish
