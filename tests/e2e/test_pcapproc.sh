#!/usr/bin/env bash
# pcap-proc: raw generated captures (handshakes, both directions, retransmissions,
# reordering, messages before OPEN/INIT, IPFIX data before its template) become clean
# sessions that telrep replays to pmbmpd, pmbgpd and nfacctd with the counts the summary
# predicts; tshark decodes every output without errors; the reference raw captures give the
# counts tshark finds in them; bad inputs get a clear message, valid outputs and the
# documented exit status; telrep -p goes on into the replay with pcap_processing.exit false.
. "$(dirname "$0")/lib.sh"
need jq ss tshark editcap pmbmpd pmbgpd nfacctd
PROC=$BUILD/pcap-proc
make_ns 203.0.113.21 203.0.113.22
cd "$WORK"

# a pcap-proc config: proc_conf file pcap proto port select [pcap_processing lines]
proc_conf() {
    {
        printf 'pcap: %s\nno_sync: true\ntime_factor: 0\nnetwork:\n  map:\n' "$2"
        printf '    - {src_ip: 10.0.0.1, repro_ip: 203.0.113.21}\n    - {src_ip: 10.0.0.2, repro_ip: 203.0.113.22}\n'
        printf 'pcap_processing:\n  output_folder: %s\n  initial_delay: 1\n  inter_packet_delay: 0.0001\n%s\n' \
            "$WORK/${1%.yml}" "${6:-}"
        printf '%s:\n  select: %s\n  collector: {ip: 127.0.0.1, port: %s}\n' "$3" "$5" "$4"
    } > "$1"
}
# tshark's expert errors (malformed packets) in a capture: none expected
tshark_errors() { # tshark_errors pcap [decode-as]
    tshark -r "$1" ${2:+-d "$2"} -q -z expert,error 2>/dev/null | grep -c "Error" || true
}
sum() { jq -s 'add // 0'; }

# --- BMP: two routers, messages before INIT, handshake and replies, retransmitted and
# reordered segments; the output replayed to pmbmpd
$GEN -o bmp.pcap --format bmp --routers 2 --peers 3 --packets 40 --records 2 --interval 0.002 --handshake --replies \
    --before-start 3 --retransmit-every 5 --reorder-every 7 --segment 300 --peer-down > bmp.counts
proc_conf bmp.yml bmp.pcap bmp 21790 "{tcp: {dport: [1790]}}" "  desired_tcp_payload_size: 500"
"$PROC" -t bmp.yml
eq "bmp: exit status" "$?" 0
check "bmp: the three outputs" test -s bmp/traffic.pcap -a -s bmp/traffic-reproducer.yml -a -s bmp/traffic-info.json
eq "bmp: tshark finds no malformed packet" "$(tshark_errors bmp/traffic.pcap tcp.port==1790,bmp)" 0
eq "bmp: tshark's message count equals the summary's" \
    "$(tshark -r bmp/traffic.pcap -d tcp.port==1790,bmp -T fields -e bmp.type 2>/dev/null | tr ',' '\n' | grep -c .)" \
    "$(jq '.output.protocols.bmp.messages' bmp/traffic-info.json)"
eq "bmp: segments carry at most 500 bytes (or one message)" \
    "$(tshark -r bmp/traffic.pcap -T fields -e tcp.len 2>/dev/null | awk '$1 > 500' | wc -l)" 0
eq "bmp: no SYN, no payload-less segment" \
    "$(tshark -r bmp/traffic.pcap -Y 'tcp.flags.syn == 1 || tcp.len == 0' 2>/dev/null | wc -l)" 0
for r in 10.0.0.1 10.0.0.2; do
    s=".routers[\"$r\"].bmp.sessions[0]"
    eq "bmp: $r messages before INIT counted" "$(jq "$s.before_session_start" bmp/traffic-info.json)" 3
    eq "bmp: $r peers" "$(jq "$s.peers | length" bmp/traffic-info.json)" 3
    eq "bmp: $r PEER_UPs per peer summed" "$(jq "[$s.peers[].peer_up] | add" bmp/traffic-info.json)" \
        "$(jq ".routers[\"$r\"].peer_up" bmp.counts)"
    eq "bmp: $r messages written" "$(jq "$s.messages_written" bmp/traffic-info.json)" \
        "$(jq ".routers[\"$r\"] | .init + .peer_up + .route_monitoring + .stats + .peer_down" bmp.counts)"
done
check "bmp: the collector's side is not a router" jq -e '.routers | keys == ["10.0.0.1", "10.0.0.2"]' bmp/traffic-info.json
start_pmbmpd "$WORK/pmbmp" 21790
in_ns "$TELREP" -t bmp/traffic-reproducer.yml -q
eq "bmp: replay of the output: exit status" "$?" 0
sleep 1
stop_pid "$PMBMPD_PID" INT
for r in "10.0.0.1 203.0.113.21" "10.0.0.2 203.0.113.22"; do
    set -- $r
    s=".routers[\"$1\"].bmp.sessions[0]"
    eq "bmp replay: $1 init" "$(msglog_count "$WORK/pmbmp" bmp "$2" bmp_msg_type init)" \
        "$(jq "$s.messages.init" bmp/traffic-info.json)"
    eq "bmp replay: $1 peer_up" "$(msglog_count "$WORK/pmbmp" bmp "$2" bmp_msg_type peer_up)" \
        "$(jq "[$s.peers[].peer_up] | add" bmp/traffic-info.json)"
    eq "bmp replay: $1 peer_down" "$(msglog_count "$WORK/pmbmp" bmp "$2" bmp_msg_type peer_down)" \
        "$(jq "[$s.peers[].peer_down] | add" bmp/traffic-info.json)"
    eq "bmp replay: $1 route monitoring (a line per prefix)" \
        "$(msglog_count "$WORK/pmbmp" bmp "$2" bmp_msg_type route_monitor)" "$(jq ".routers[\"$1\"].prefixes" bmp.counts)"
done

# --- BGP: the router's direction only, from its OPEN; the output replayed to pmbgpd
$GEN -o bgp.pcap --format bgp --routers 2 --packets 30 --records 2 --interval 0.002 --handshake --replies \
    --before-start 2 --segment 45 --retransmit-every 4 --reorder-every 5 > bgp.counts
proc_conf bgp.yml bgp.pcap bgp 20179 "{tcp: {dport: [179]}}"
"$PROC" -t bgp.yml
eq "bgp: exit status" "$?" 0
eq "bgp: tshark finds no malformed packet" "$(tshark_errors bgp/traffic.pcap)" 0
for r in 10.0.0.1 10.0.0.2; do
    s=".routers[\"$r\"].bgp.sessions[0]"
    eq "bgp: $r OPEN decoded (AS)" "$(jq "$s.open.as" bgp/traffic-info.json)" 65001
    eq "bgp: $r UPDATEs" "$(jq "$s.messages.update" bgp/traffic-info.json)" 32
    eq "bgp: $r before OPEN" "$(jq "$s.before_session_start" bgp/traffic-info.json)" 2
done
eq "bgp: the first packet of each router is its OPEN, alone" \
    "$(tshark -r bgp/traffic.pcap -T fields -e ip.src -e bgp.type 2>/dev/null | awk '!seen[$1]++ {print $2}' | sort -u)" 1
eq "bgp: the next packet comes 1 s after the OPEN" \
    "$(tshark -r bgp/traffic.pcap -T fields -e frame.time_epoch 2>/dev/null | awk 'NR==1 {a=$1} NR==2 {printf "%.3f", $1-a}')" 1.000
start_pmbgpd "$WORK/pmbgp" 20179
in_ns "$TELREP" -t bgp/traffic-reproducer.yml -q
eq "bgp: replay of the output: exit status" "$?" 0
sleep 1
stop_pid "$PMBGPD_PID" INT
for r in "10.0.0.1 203.0.113.21" "10.0.0.2 203.0.113.22"; do
    set -- $r
    eq "bgp replay: $1 prefixes logged" "$(msglog_count "$WORK/pmbgp" bgp "$2" log_type update)" \
        "$(jq ".routers[\"$1\"].prefixes" bgp.counts)"
done

# --- IPFIX: data before its template dropped (the first template packets cut off)
$GEN -o ipfix-all.pcap --format ipfix --routers 2 --packets 40 --records 3 --template-every 10 --interval 0.01 > ipfix.counts
editcap -r ipfix-all.pcap ipfix.pcap 3-40 2>/dev/null
proc_conf ipfix.yml ipfix.pcap ipfix 20991 "{udp: {dport: [9991]}}"
"$PROC" -t ipfix.yml
eq "ipfix: exit status" "$?" 0
eq "ipfix: tshark finds no malformed packet" "$(tshark_errors ipfix/traffic.pcap udp.port==9991,cflow)" 0
recs=$(jq '[.routers[].ipfix.domains[].templates[].data_records] | add' ipfix/traffic-info.json)
# each router sends its templates with its 1st and 11th packet: without the first two packets,
# 18 data packets come before the next templates, 20 packets (60 records) after
eq "ipfix: records kept (3 per packet after the templates)" "$recs" 60
eq "ipfix: messages before the template dropped" "$(jq '[.routers[].ipfix.dropped] | add' ipfix/traffic-info.json)" 18
eq "ipfix: tshark counts the records the summary counts" \
    "$(tshark -r ipfix/traffic.pcap -d udp.port==9991,cflow -T fields -e cflow.srcaddr 2>/dev/null | tr ',' '\n' | grep -c .)" "$recs"
start_nfacctd "$WORK/nf" 127.0.0.1 20991 || exit 1
in_ns "$TELREP" -t ipfix/traffic-reproducer.yml -q
eq "ipfix: replay of the output: exit status" "$?" 0
nfacctd_rows "$WORK/nf" > rows.json
eq "ipfix replay: nfacctd rows equal the summary's records" "$(jq -s 'length' rows.json)" "$recs"
eq "ipfix replay: exporters are the repro addresses" "$(jq -r '.peer_ip_src' rows.json | sort -u | tr '\n' ' ')" \
    "203.0.113.21 203.0.113.22 "

# --- mixed: protocols one after another, inter_protocol_delay between them
mergecap -w mixed.pcap bgp.pcap ipfix.pcap 2>/dev/null
cat > mixed.yml <<CONF
pcap: mixed.pcap
pcap_processing: {output_folder: $WORK/mixed, initial_delay: 5, inter_packet_delay: 0.001, inter_protocol_delay: 3}
ipfix: {select: {udp: {dport: [9991]}}}
bgp: {select: {tcp: {dport: [179]}}}
CONF
"$PROC" -t mixed.yml
eq "mixed: exit status" "$?" 0
times=$(tshark -r mixed/traffic.pcap -T fields -e frame.time_epoch -e udp.port -e tcp.port 2>/dev/null)
eq "mixed: the first packet at 1672534800 + initial_delay" "$(echo "$times" | head -1 | cut -f1 | cut -d. -f1)" 1672534805
eq "mixed: IPFIX (first in the config) before BGP" \
    "$(echo "$times" | awk -F'\t' '{print ($2 != "" ? "udp" : "tcp")}' | uniq | tr '\n' ' ')" "udp tcp "
eq "mixed: inter_protocol_delay between them" \
    "$(echo "$times" | awk -F'\t' '$2 != "" {last=$1} $3 != "" && !t {t=$1; printf "%.3f", t-last}')" 3.000
eq "mixed: every source in the written config" "$(grep -c 'src_ip:' mixed/traffic-reproducer.yml)" 2

# --- the reference raw captures with the Python tool's own configs
if [ -n "$SHARED" ] && [ -d "$SHARED/pcaps/raw" ]; then
    for n in bgp bmp ipfix-vmware; do
        sed "s#examples/pcap_processing/#$SHARED/pcaps/raw/#" "$SHARED/compat/anchor-configs/pcap-proc-$n.yml" |
            sed "/^pcap_processing:/a\\  output_folder: $WORK/ref-$n" > "ref-$n.yml"
        "$PROC" -t "ref-$n.yml"
        eq "reference $n: exit status" "$?" 0
    done
    j=ref-bgp/traffic-info.json
    for t in 1:open 2:update 3:notification 4:keepalive; do
        eq "reference bgp: ${t#*:} messages as tshark counts them" \
            "$(jq ".routers[\"2001:db8:90::1\"].bgp.sessions | map(.messages.${t#*:}) | add" $j)" \
            "$(tshark -r "$SHARED/pcaps/raw/bgp.pcap" -Y 'ipv6.src == 2001:db8:90::1' -T fields -e bgp.type 2>/dev/null |
                tr ',' '\n' | grep -cx "${t%%:*}")"
    done
    eq "reference bgp: 4-byte AS, not 23456" "$(jq '.routers[].bgp.sessions[0].open.as' $j)" 4226809946
    j=ref-bmp/traffic-info.json
    for t in 0:route_monitoring 1:stats 3:peer_up 4:init; do
        eq "reference bmp: ${t#*:} messages as tshark counts them" \
            "$(jq ".routers[\"192.0.2.55\"].bmp.sessions[0].messages.${t#*:}" $j)" \
            "$(tshark -r "$SHARED/pcaps/raw/bmp.pcap" -d tcp.port==1790,bmp -T fields -e bmp.type 2>/dev/null |
                tr ',' '\n' | grep -cx "${t%%:*}")"
    done
    eq "reference bmp: the output holds every message" \
        "$(tshark -r ref-bmp/traffic.pcap -d tcp.port==1790,bmp -T fields -e bmp.type 2>/dev/null | tr ',' '\n' | grep -c .)" \
        "$(tshark -r "$SHARED/pcaps/raw/bmp.pcap" -d tcp.port==1790,bmp -T fields -e bmp.type 2>/dev/null | tr ',' '\n' | grep -c .)"
    eq "reference bmp: one segment per message (desired_tcp_payload_size 1)" \
        "$(jq '.output.packets' ref-bmp/traffic-info.json)" "$(jq '.output.protocols.bmp.messages' ref-bmp/traffic-info.json)"
    j=ref-ipfix-vmware/traffic-info.json
    eq "reference ipfix-vmware: messages as tshark counts them" "$(jq '.routers[].ipfix.messages' $j)" \
        "$(tshark -r "$SHARED/pcaps/raw/ipfix-vmware.pcap" -d udp.port==9991,cflow -Y cflow 2>/dev/null | wc -l)"
    eq "reference ipfix-vmware: data sets as tshark counts them in the output" \
        "$(jq '[.routers[].ipfix.domains[].templates[].data_sets] | add' $j)" \
        "$(tshark -r ref-ipfix-vmware/traffic.pcap -d udp.port==9991,cflow -T fields -e cflow.flowset_id 2>/dev/null |
            tr ',' '\n' | awk '$1 >= 256' | wc -l | awk '{print $1}')"
    eq "reference ipfix-vmware: tshark finds no malformed packet in the output" \
        "$(tshark_errors ref-ipfix-vmware/traffic.pcap udp.port==9991,cflow)" 0
else
    echo "# ../shared/pcaps not present: the reference capture cases are skipped"
fi

# --- bad inputs
head -c 3000 bmp.pcap > truncated.pcap
proc_conf trunc.yml truncated.pcap bmp 21790 "{tcp: {dport: [1790]}}"
"$PROC" -t trunc.yml 2> trunc.err
eq "truncated capture: exit status 1" "$?" 1
check "truncated capture: the message names the capture and the packet" grep -q "truncated.pcap.*packet" trunc.err
check "truncated capture: valid outputs of what was readable" tshark -r trunc/traffic.pcap -q
check "truncated capture: the summary says so" jq -e '.inputs[0].error' trunc/traffic-info.json

head -c 5000 /dev/urandom > garbage.pcap
proc_conf garbage.yml garbage.pcap ipfix 20991 "{udp: {dport: [9991]}}"
"$PROC" -t garbage.yml 2> garbage.err
eq "garbage file: exit status 2" "$?" 2
check "garbage file: nothing written" test ! -e garbage/traffic.pcap
check "garbage file: a clear message" grep -q "garbage.pcap" garbage.err

$GEN -o back.pcap --format ipfix --routers 2 --packets 30 --records 1 --backwards-at 0.5 --backwards-by 60 > /dev/null
proc_conf back.yml back.pcap ipfix 20991 "{udp: {dport: [9991]}}"
"$PROC" -t back.yml
eq "backwards timestamps: exit status" "$?" 0
eq "backwards timestamps: every packet kept, output time only forward" \
    "$(tshark -r back/traffic.pcap -T fields -e frame.time_epoch 2>/dev/null | awk 'NR>1 && $1<=p {b++} {p=$1; n++} END {print n+0, b+0}')" "30 0"

proc_conf none.yml bmp.pcap ipfix 20991 "{udp: {dport: [9]}}"
"$PROC" -t none.yml 2> none.err
eq "selecting nothing: exit status 0" "$?" 0
check "selecting nothing: a clear message" grep -q "nothing was selected" none.err
eq "selecting nothing: an empty, valid pcap" "$(tshark -r none/traffic.pcap 2>/dev/null | wc -l)" 0
eq "selecting nothing: the summary counts the unselected packets" "$(jq .packets.unselected none/traffic-info.json)" \
    "$(jq .packets.read none/traffic-info.json)"

cp bmp/traffic-info.json before.json
proc_conf over.yml bmp/traffic.pcap bmp 21790 "{tcp: {dport: [1790]}}"
sed -i "s#output_folder: .*#output_folder: $WORK/bmp#" over.yml
"$PROC" -t over.yml 2> over.err
eq "output over the input: exit status 2" "$?" 2
check "output over the input: refused with a message" grep -q "overwrite the input" over.err
check "output over the input: the earlier outputs untouched" cmp -s before.json bmp/traffic-info.json

"$PROC" -t bmp.yml --summary-only -o "$WORK/sum"
eq "--summary-only: exit status" "$?" 0
check "--summary-only: only traffic-info.json" test -s sum/traffic-info.json -a ! -e sum/traffic.pcap
check "--summary-only: the same summary routers" cmp -s <(jq -S .routers sum/traffic-info.json) <(jq -S .routers bmp/traffic-info.json)

# --- telrep -p: pcap_processing.exit false goes on into the replay of the processed capture
proc_conf p.yml ipfix.pcap ipfix 20991 "{udp: {dport: [9991]}}" "  exit: false"
start_nfacctd "$WORK/nfp" 127.0.0.1 20991 || exit 1
in_ns "$TELREP" -p -t p.yml -q
eq "telrep -p, exit false: exit status" "$?" 0
nfacctd_rows "$WORK/nfp" > prow.json
eq "telrep -p, exit false: the processed capture was replayed" "$(jq -s length prow.json)" "$recs"
sed -i 's/exit: false/exit: true/; s#output_folder: .*#output_folder: '"$WORK"'/p2#' p.yml
"$TELREP" -p -t p.yml -q
eq "telrep -p, exit true: exit status" "$?" 0
check "telrep -p, exit true: processed" test -s p2/traffic.pcap


# --- routers of both families (issue 11 item 2): the written config names the captured
# collector of each family and the capture by its absolute path, so it runs as written from
# any directory; telrep -p --check checks without writing anything
$GEN -o fam4.pcap --routers 2 --packets 10 --records 1 --src 10.0.0.1 --dst 192.0.2.10 > /dev/null
$GEN -o fam6.pcap --routers 2 --packets 10 --records 1 --src 2001:db8::1 --dst 2001:db8::10 > /dev/null
mergecap -F pcap -w fam.pcap fam4.pcap fam6.pcap
cat > fam.yml <<CONF
pcap: fam.pcap
network:
  map:
    - {src_ip: 10.0.0.1, repro_ip: 127.0.0.11}
    - {src_ip: 10.0.0.2, repro_ip: 127.0.0.12}
    - {src_ip: "2001:db8::1", repro_ip: "::1"}
    - {src_ip: "2001:db8::2", repro_ip: "::1"}
pcap_processing: {output_folder: $WORK/fam-out}
ipfix:
  select: {udp: {dport: [9991]}}
CONF
in_ns "$TELREP" -t fam.yml -p --check 2> famc.err
eq "-p --check: exit status" "$?" 0
check "-p --check: nothing written" test ! -e fam-out
"$PROC" -t fam.yml
eq "both families: pcap-proc exit status" "$?" 0
eq "both families: a collector address of each family" \
    "$(grep -A1 '^  collector:' fam-out/traffic-reproducer.yml | grep -c '192.0.2.10.*2001:db8::10')" 1
check "both families: the capture by its absolute path" grep -q "^pcap: \"*$WORK/fam-out/traffic.pcap" fam-out/traffic-reproducer.yml
in_ns bash -c "cd / && '$TELREP' -t '$WORK/fam-out/traffic-reproducer.yml' --check" 2> famrun.err
eq "both families: the written config checks as written, from /" "$?" 0
check "both families: every router would send" bash -c "[ \$(grep -c 'would send 5 datagrams' famrun.err) -eq 4 ]"
finish
