#!/usr/bin/env bash
# Fan-out (issue 14 item 1): one config sends IPFIX to three nfacctd, BMP to three pmbmpd
# and BGP to two pmbgpd and a gobgpd at once. Every collector decodes exactly what the captures
# hold (what a single-collector run gives, test_nfacctd / test_bmp / test_bgp); each BGP
# session negotiates on its own. Then, with a collector of each UDP and BMP killed mid-run,
# the other two still get everything, and the report says which collector lost what.
. "$(dirname "$0")/lib.sh"
need jq ss nfacctd pmbmpd pmbgpd gobgpd gobgp mergecap
make_ns 203.0.113.21 203.0.113.22
cd "$WORK"

gen() { # gen name interval
    $GEN -o "ipfix-$1.pcap" --format ipfix --routers 2 --packets 40 --records 7 --interval "$2" > "ipfix-$1.json"
    $GEN -o "bmp-$1.pcap" --format bmp --routers 2 --peers 3 --packets 40 --records 2 --interval "$2" > "bmp-$1.json"
    $GEN -o "bgp-$1.pcap" --format bgp --routers 1 --packets 40 --records 2 --hold 9 --interval "$2" > "bgp-$1.json"
    mergecap -F pcap -w "$1.pcap" "ipfix-$1.pcap" "bmp-$1.pcap" "bgp-$1.pcap"
}
conf() { # conf file pcap time_factor
    cat > "$1" <<CONF
pcap: $2
time_factor: $3
no_sync: true
network:
  map:
    - {src_ip: 10.0.0.1, repro_ip: 203.0.113.21}
    - {src_ip: 10.0.0.2, repro_ip: 203.0.113.22}
ipfix:
  select: {udp: {dport: [9991]}}
  collector:
    - {ip: 127.0.0.1, port: 20991}
    - {ip: 127.0.0.1, port: 20992}
    - {ip: 127.0.0.1, port: 20993}
bmp:
  select: {tcp: {dport: [1790]}}
  collector:
    - {ip: 127.0.0.1, port: 21791}
    - {ip: 127.0.0.1, port: 21792}
    - {ip: 127.0.0.1, port: 21793}
  drain_timeout: 3
bgp:
  select: {tcp: {dport: [179]}}
  collector:
    - {ip: 127.0.0.1, port: 20179}
    - {ip: 127.0.0.1, port: 20181}
    - {ip: 127.0.0.1, port: 20180}
CONF
}
start_collectors() { # start_collectors run
    local k
    for k in 1 2 3; do
        start_nfacctd "$WORK/$1/nf$k" 127.0.0.1 2099$k || exit 1
        NF[$k]=$NFACCTD_PID
        start_pmbmpd "$WORK/$1/bmp$k" 2179$k || exit 1
        BMP[$k]=$PMBMPD_PID
    done
    start_pmbgpd "$WORK/$1/bgp" 20179 || exit 1
    BGP1=$PMBGPD_PID
    start_pmbgpd "$WORK/$1/bgp2" 20181 || exit 1
    BGP2=$PMBGPD_PID
    start_gobgpd "$WORK/$1/gobgp" 20180 50072 203.0.113.0/24 || exit 1
}
stop_collectors() { # stop_collectors: they flush their logs on SIGINT
    local k
    sleep 2.5
    for k in 1 2 3; do stop_pid "${NF[$k]}" INT; stop_pid "${BMP[$k]}" INT; done
    stop_pid "$BGP1" INT
    stop_pid "$BGP2" INT
    stop_pid "$GOBGPD_PID" INT
}
neighbor() { in_ns gobgp -p 50072 neighbor -j 2>/dev/null | jq -r ".[] | select(.state.neighbor_address == \"$1\") | $2"; }
rows() { cat "$1"/flows-*.json 2>/dev/null | jq -s 'map(.packets) | add // 0'; } # flows nfacctd filed (their packets)
flows() { cat "$1"/flows-*.json 2>/dev/null | wc -l; }
bmp_ok() { # bmp_ok label dir counts: what pmbmpd logged per router equals the capture
    local r repro
    for r in 1 2; do
        repro=203.0.113.2$r
        eq "$1: 10.0.0.$r route monitoring (a line per prefix)" \
            "$(msglog_count "$2" bmp $repro bmp_msg_type route_monitor)" "$(jq ".routers[\"10.0.0.$r\"].prefixes" "$3")"
        eq "$1: 10.0.0.$r peer_up" "$(msglog_count "$2" bmp $repro bmp_msg_type peer_up)" \
            "$(jq ".routers[\"10.0.0.$r\"].peer_up" "$3")"
        eq "$1: 10.0.0.$r init" "$(msglog_count "$2" bmp $repro bmp_msg_type init)" 1
    done
}

# --- all collectors up: each one gets everything
gen a 0.002
conf a.yml a.pcap 0.5
start_collectors a
ip netns exec "$NS" "$TELREP" -t a.yml -q --keep-open --events a.events --stats-json a.json &
TP=$!
PIDS+=($TP)
want=$(jq '.routers["10.0.0.1"].prefixes' bgp-a.json)
for _ in $(seq 100); do # until both BGP collectors have every prefix
    [ "$(neighbor 203.0.113.21 '.afi_safis[0].state.received')" = "$want" ] &&
        [ "$(msglog_count "$WORK/a/bgp" bgp 203.0.113.21 log_type update)" = "$want" ] &&
        [ "$(msglog_count "$WORK/a/bgp2" bgp 203.0.113.21 log_type update)" = "$want" ] && break
    sleep 0.1
done
eq "gobgpd: Established" "$(neighbor 203.0.113.21 .state.session_state)" 6
eq "gobgpd: every prefix" "$(neighbor 203.0.113.21 '.afi_safis[0].state.received')" "$want"
wait_replayed a.events
kill -TERM $TP
wait $TP
eq "all up: exit status" "$?" 0
stop_collectors
for k in 1 2 3; do
    eq "all up: nfacctd $k filed every record" "$(flows "$WORK/a/nf$k")" "$(jq .records ipfix-a.json)"
    bmp_ok "all up: pmbmpd $k" "$WORK/a/bmp$k" bmp-a.json
done
for d in bgp bgp2; do
    eq "all up: pmbgpd ($d) logged every prefix" "$(msglog_count "$WORK/a/$d" bgp 203.0.113.21 log_type update)" \
        "$(jq '.routers["10.0.0.1"].prefixes' bgp-a.json)"
done
eq "all up: each BGP session negotiated on its own (the collectors' ASes)" \
    "$(jq -S -c '[.sessions[] | select(.protocol == "bgp") | {(.collector): .peer.as}] | add' a.json)" \
    '{"127.0.0.1:20179":65001,"127.0.0.1:20180":65000,"127.0.0.1:20181":65001}'
eq "all up: report, ipfix per collector" \
    "$(jq -c '[.routers[0].protocols.ipfix.collectors[] | [.collector, .packets, .refused]]' a.json)" \
    '[["127.0.0.1:20991",20,0],["127.0.0.1:20992",20,0],["127.0.0.1:20993",20,0]]'
eq "all up: a BMP session per router and collector, nothing lost" \
    "$(jq -c '[.sessions[] | select(.protocol == "bmp") | .lost] | [length, add]' a.json)" "[6,0]"
eq "all up: one source port per router for all its collectors (the exporter's identity)" \
    "$(cat "$WORK"/a/nf*/flows-*.json | jq -r .peer_ip_src | sort -u | tr '\n' ' ')" "203.0.113.21 203.0.113.22 "

# --- collector 2 of IPFIX and of BMP killed a second into a 4 s replay
gen b 0.1
conf b.yml b.pcap 1
start_collectors b
ip netns exec "$NS" "$TELREP" -t b.yml -q --stats-json b.json 2> b.err &
TP=$!
PIDS+=($TP)
sleep 1
kill -KILL "${NF[2]}" "${BMP[2]}"
wait $TP
eq "one killed: exit status 1 (a collector's share was lost)" "$?" 1
stop_collectors
for k in 1 3; do
    eq "one killed: nfacctd $k still filed every record" "$(flows "$WORK/b/nf$k")" "$(jq .records ipfix-b.json)"
    bmp_ok "one killed: pmbmpd $k" "$WORK/b/bmp$k" bmp-b.json
done
eq "one killed: only collector 2's IPFIX was refused" \
    "$(jq -c '[.routers[].protocols.ipfix.collectors[] | .refused > 0] | unique' b.json)" '[false,true]'
eq "one killed: the refusals are collector 2's" \
    "$(jq -c '[.routers[].protocols.ipfix.collectors[] | select(.refused > 0) | .collector] | unique' b.json)" \
    '["127.0.0.1:20992"]'
eq "one killed: only the BMP sessions to collector 2 lost messages" \
    "$(jq -c '[.sessions[] | select(.protocol == "bmp" and .lost > 0) | .collector] | unique' b.json)" \
    '["127.0.0.1:21792"]'
eq "one killed: the other BMP sessions delivered all" \
    "$(jq -c '[.sessions[] | select(.protocol == "bmp" and .collector != "127.0.0.1:21792") | .lost] | add' b.json)" 0
check "one killed: the summary names the collector" grep -q "bmp -> 127.0.0.1:21792: .* lost" b.err
finish
