#!/usr/bin/env bash
# Honest exit status and reports (issue 11): a run or --check that would send nothing is an
# error naming the ports and sources seen; network.map is required; --check reads the
# captures and test-connects the TCP collectors; the per-router summary ends every run in
# units that add up (UDP datagrams sent + refused, TCP messages delivered + lost +
# incomplete); -d traces each packet; long waits are said at the default level; UDP
# source_port (keep / fixed); a BGP ID per router (pmbgpd refuses duplicates);
# --no-address-check binds addresses not on the host.
. "$(dirname "$0")/lib.sh"
need jq ss pmbgpd pmbmpd nfacctd editcap mergecap capinfos
make_ns 203.0.113.21 203.0.113.22
cd "$WORK"
$GEN -o a.pcap --packets 20 --records 1 --interval 0.01 > /dev/null # UDP port 9991, source port 40000

conf() { # conf file [extra ipfix yaml] [dport]
    cat > "$1" <<CONF
pcap: a.pcap
time_factor: 0
no_sync: true
network:
  map:
    - {src_ip: 10.0.0.1, repro_ip: 127.0.0.1}
ipfix:
  select: {udp: {dport: ${3:-9991}}}
  collector: {ip: 127.0.0.1, port: 21300}
${2:-}
CONF
}
sink() { start_bg "$1" "$SINK" 127.0.0.1 21300 --idle "${2:-1}" --timeout 30; SINK_PID=$LAST_PID; wait_udp_listen 21300; }

# --- a select that matches nothing (the wrong port): an error naming the port seen
conf wrong.yml "" 2055
sink s.out
in_ns "$TELREP" -t wrong.yml 2> wrong.err
eq "wrong port: exit status 2" "$?" 2
check "wrong port: the ports seen are named" grep -q "UDP port 9991 (20 packets)" wrong.err
check "wrong port: it says nothing was sent" grep -q "nothing was sent" wrong.err
in_ns "$TELREP" -t wrong.yml --check 2> wrongc.err
eq "wrong port --check: exit status 2" "$?" 2
check "wrong port --check: the ports seen are named" grep -q "UDP port 9991" wrongc.err
stop_pid "$SINK_PID" INT
eq "wrong port: nothing arrived" "$(jq .datagrams s.out)" 0

# --- network.map is required
sed '/network:/,/src_ip/d' wrong.yml > nomap.yml
in_ns "$TELREP" -t nomap.yml 2> nomap.err
eq "no network.map: exit status 2" "$?" 2
check "no network.map: says how to write one" grep -q "network.map is missing or empty" nomap.err

# --- --check: what would be sent, per router and protocol; nothing is sent
conf ok.yml
sink s.out
in_ns "$TELREP" -t ok.yml --check 2> check.err
eq "--check: exit status 0" "$?" 0
check "--check: per router and protocol, what would be sent" \
    grep -q "router 10.0.0.1 (as 127.0.0.1) ipfix -> 127.0.0.1:21300: would send 20 datagrams" check.err
stop_pid "$SINK_PID" INT
eq "--check: nothing was sent" "$(jq .datagrams s.out)" 0

# --- a run: the per-router summary at the default level, the final line with lost and mean lag
sink s.out
in_ns "$TELREP" -t ok.yml --stats-json ok.json 2> ok.err
eq "run: exit status 0" "$?" 0
wait $SINK_PID
eq "run: all arrived" "$(jq .datagrams s.out)" 20
check "run: the summary line ends every run" \
    grep -q "router 10.0.0.1 (as 127.0.0.1) ipfix -> 127.0.0.1:21300: 20 datagrams sent" ok.err
check "run: the final line has the lost count and the mean lag" grep -q "done .*| lost 0 | lag mean" ok.err
eq "run: outcome in the report" "$(jq -r .outcome ok.json)" success

# --- the Python tool's long options (issue 11 item 9); a bad option is one line and a pointer
in_ns "$TELREP" --test ok.yml --verbose --check 2> long.err
eq "--test and --verbose: exit status" "$?" 0
in_ns "$TELREP" --test ok.yml --debug --check 2> debug.err
eq "--debug: exit status" "$?" 0
check "--debug: the per-packet trace" grep -q "packet 1: UDP 10.0.0.1:40000 -> " debug.err
"$TELREP" --bogus 2> bogus.err
eq "a bad option: exit status 2" "$?" 2
eq "a bad option: two lines, not the whole help" "$(wc -l < bogus.err)" 2
check "a bad option: the pointer to --help" grep -q "telrep --help lists the options" bogus.err

# --- refused datagrams are not counted as sent: sent + refused = what the capture held
TFCONF=$(sed 's/time_factor: 0/time_factor: 1/' ok.yml); echo "$TFCONF" > slow.yml
in_ns "$TELREP" -t slow.yml -q --stats-json refused.json 2> refused.err
eq "refused: exit status 1" "$?" 1
eq "refused: sent + refused = 20" "$(jq '.routers[0].protocols.ipfix | .packets + .refused' refused.json)" 20
check "refused: most were refused ($(jq .refused refused.json))" [ "$(jq .refused refused.json)" -ge 15 ]
check "refused: the summary is said with --quiet too" grep -q "refused by the collector" refused.err

# --- -d: a line per packet, why skipped or where sent
conf half.yml
$GEN -o u.pcap --packets 5 --records 1 --src 10.0.0.9 > /dev/null
mergecap -F pcap -w mixed.pcap a.pcap u.pcap 2>/dev/null || cp a.pcap mixed.pcap
sed 's/pcap: a.pcap/pcap: mixed.pcap/' half.yml > trace.yml
sink s.out
in_ns "$TELREP" -t trace.yml -d 2> trace.err
wait $SINK_PID
eq "-d: one 'ipfix from' line per sent packet" "$(grep -c ': ipfix from 127.0.0.1$' trace.err)" 20
eq "-d: one line per unmapped packet" "$(grep -c 'skipped: its source is not in network.map' trace.err)" 5
check "unmapped: the sources are named in the text" grep -q "not in network.map: 10.0.0.9 (5 packets)" trace.err
check "unmapped: no 'see the report' without --stats-json" bash -c "! grep -q 'the report lists' trace.err"

# --- long waits are said at the default level: minute sync, keep_open
SEC=$(( ($(date +%s) + 3) % 60 ))
$GEN -o sync.pcap --packets 3 --records 1 --start $((1672531200 + SEC)) > /dev/null
sed -e 's/pcap: a.pcap/pcap: sync.pcap/' -e '/no_sync/d' ok.yml > sync.yml
sink s.out
in_ns "$TELREP" -t sync.yml 2> sync.err
wait $SINK_PID
check "minute sync: the wait is said without -v" grep -q "waiting .* s for second $SEC of the minute" sync.err
echo "keep_open: true" >> ok.yml
sink s.out
ip netns exec "$NS" "$TELREP" -t ok.yml --progress 0 2> keep.err &
TP=$!
PIDS+=($TP)
sleep 1.5
kill -TERM $TP; wait $TP
eq "keep_open: SIGTERM ends it with status 0" "$?" 0
check "keep_open: the wait is said without -v" grep -q "keep_open: all captures replayed" keep.err
stop_pid "$SINK_PID" INT

# --- UDP source_port: the captured exporter's, or a fixed one (nfacctd takes both)
for sp in keep 45000; do
    conf sp.yml "  source_port: $sp"
    sink s.out
    in_ns "$TELREP" -t sp.yml -q
    eq "source_port $sp: exit status" "$?" 0
    wait $SINK_PID
    want=$([ $sp = keep ] && echo 40000 || echo $sp)
    eq "source_port $sp: sent from port $want" "$(jq -c .per_port s.out)" "{\"127.0.0.1:$want\":20}"
done
start_nfacctd "$WORK/nf" 127.0.0.1 21300
in_ns "$TELREP" -t sp.yml -q
eq "source_port 45000 to nfacctd: exit status" "$?" 0
rows=$(nfacctd_rows "$WORK/nf" | wc -l)
check "nfacctd: flows from the fixed source port ($rows rows)" [ "$rows" -ge 20 ]

# --- --no-address-check: a repro_ip not on the host is bound (IP_FREEBIND), no stray errors
sed 's/repro_ip: 127.0.0.1/repro_ip: 198.51.100.7/' ok.yml | sed '/keep_open/d' > free.yml
in_ns "$TELREP" -t free.yml -q 2> free1.err
eq "non-local repro_ip: exit status 2 without --no-address-check" "$?" 2
in_ns "$TELREP" -t free.yml --no-address-check 2> free.err
check "--no-address-check: the address is bound (the error is about reaching, not binding)" \
    bash -c "grep -q 'cannot reach collector' free.err && ! grep -q 'cannot bind' free.err"
check "--no-address-check: no stray 'Bad file descriptor'" bash -c "! grep -q 'Bad file descriptor' free.err"

# --- TCP: an incomplete last message is counted, not sent (pmbmpd)
$GEN -o bmp.pcap --format bmp --routers 1 --peers 1 --packets 10 --records 1 --segment 40 > bmp.counts
last=$(capinfos -c -M bmp.pcap 2>/dev/null | awk '/Number of packets/ {print $NF}')
editcap -r bmp.pcap cut.pcap "1-$((last - 1))" > /dev/null
ROUTERS=1 write_conf bmp.yml cut.pcap bmp 21790
in_ns "$TELREP" -t bmp.yml --check 2> bmpc.err
eq "--check, TCP collector down: exit status 0 (it may start later)" "$?" 0
check "--check, TCP collector down: a warning says so" grep -q "bmp collector 127.0.0.1:21790: cannot connect now" bmpc.err
start_pmbmpd "$WORK/bmp" 21790
in_ns "$TELREP" -t bmp.yml --check 2> bmpc.err
check "--check, TCP collector up: it accepts connections" grep -q "bmp collector 127.0.0.1:21790: accepts connections" bmpc.err
in_ns "$TELREP" -t bmp.yml --stats-json bmp.json 2> bmp.err
eq "incomplete: exit status 0 (the capture's fault, not a loss)" "$?" 0
sleep 1
stop_pid "$PMBMPD_PID" INT
eq "incomplete: counted in the report" "$(jq '.sessions[0].stream.incomplete_messages' bmp.json)" 1
# (the last message, cut, is the stats report; every route monitoring message before it is whole)
eq "incomplete: the whole ones arrived" "$(msglog_count "$WORK/bmp" bmp 203.0.113.21 bmp_msg_type route_monitor)" 10
check "incomplete: said in the summary" grep -q "1 incomplete at the capture's end" bmp.err

# --- TCP: a refused collector: connection attempts apart from messages, a reason, lost in the text = JSON
in_ns "$TELREP" -t bmp.yml --stats-json none.json 2> none.err
eq "no collector: exit status 1" "$?" 1
lost=$(jq .lost none.json)
check "no collector: the text's lost count is the report's ($lost)" grep -q "0 messages delivered (0 bytes), $lost lost" none.err
check "no collector: attempts counted apart" [ "$(jq .connect_refused none.json)" -ge 1 ]
eq "no collector: the UDP refusal count is untouched" "$(jq .refused none.json)" 0
check "no collector: the failed session has a reason" bash -c "jq -r '.sessions[0].reason' none.json | grep -q refused"

# --- a BGP ID per router: pmbgpd refuses a second peer with the same ID
$GEN -o bgp.pcap --format bgp --routers 2 --packets 10 --records 1 --interval 0.01 > bgp.counts
ROUTERS=2 write_conf same.yml bgp.pcap bgp 20179 "  bgp_id: 192.0.2.1"
in_ns "$TELREP" -t same.yml --check 2> same.err
check "--check warns of two routers with one BGP ID" grep -q "would both open BGP with BGP ID 192.0.2.1" same.err
sed -e 's/repro_ip: 203.0.113.21}/repro_ip: 203.0.113.21, bgp_id: 192.0.2.21}/' \
    -e 's/repro_ip: 203.0.113.22}/repro_ip: 203.0.113.22, bgp_id: 192.0.2.22}/' same.yml > own.yml
in_ns "$TELREP" -t own.yml --check 2> own.err
check "--check: own BGP IDs, no warning" bash -c "! grep -q 'would both open BGP' own.err"
start_pmacct bgp "$WORK/bgp" 20179 127.0.0.1 "bgp_daemon_id: 127.0.0.1"
PMBGPD_PID=$LAST_PID
in_ns "$TELREP" -t own.yml -q --stats-json own.json
eq "own BGP IDs: exit status 0" "$?" 0
sleep 1
stop_pid "$PMBGPD_PID" INT
for r in 21 22; do
    eq "own BGP IDs: pmbgpd logged the UPDATEs of 203.0.113.$r" \
        "$(msglog_count "$WORK/bgp" bgp 203.0.113.$r log_type update)" \
        "$(jq ".routers[\"10.0.0.$((r - 20))\"].prefixes" bgp.counts)"
done
finish
