#!/usr/bin/env bash
# The examples run as they are (from the project root) and deliver every packet, each
# router from its repro_ip. WRAP="valgrind ..." runs telrep under a checker (make valgrind).
. "$(dirname "$0")/lib.sh"
need jq ss pmbgpd
make_ns
ROOT=$(pwd)
WRAP=${WRAP:-}
run() { # run config [flags]: telrep on an example in the namespace, from the project root
    local cfg=$1; shift
    in_ns $WRAP "$TELREP" -t "$cfg" -q --no-sync "$@"
}
sinks() { # one udp-sink per port; SINK_PIDS
    SINK_PIDS=()
    for p in "$@"; do
        start_bg "$WORK/sink-$p.json" "$SINK" 127.0.0.1 "$p" --idle 1.5 --timeout 120
        SINK_PIDS+=($LAST_PID)
        wait_udp_listen "$p"
    done
}
got() { wait "${SINK_PIDS[@]}"; }

for cfg in examples/*.yml; do
    in_ns $WRAP "$TELREP" -t "$cfg" --check -q
    eq "$cfg: --check" "$?" 0
done

sinks 2055
run examples/ipfix.yml --stats-json "$WORK/ipfix.json" --no-sync
eq "ipfix.yml: exit status" "$?" 0
got
eq "ipfix.yml: datagrams" "$(jq .datagrams "$WORK/sink-2055.json")" 40
eq "ipfix.yml: from 127.0.0.1" "$(jq '.per_source["127.0.0.1"]' "$WORK/sink-2055.json")" 20
eq "ipfix.yml: from 127.0.0.2" "$(jq '.per_source["127.0.0.2"]' "$WORK/sink-2055.json")" 20
eq "ipfix.yml: IPFIX messages in the report" "$(jq '[.routers[].protocols.ipfix.messages.ipfix] | add' "$WORK/ipfix.json")" 40

sinks 2055
run examples/live.yml --stats-json "$WORK/live.json"
eq "live.yml: exit status" "$?" 0
got
eq "live.yml: the body 3 times, and each exporter's templates first" "$(jq .datagrams "$WORK/sink-2055.json")" \
   "$(( 40 * 3 + $(jq '[.routers[].protocols.ipfix.template_messages_primed] | add' "$WORK/live.json") ))"
check "live.yml: the rate cap held the replay back" test "$(jq '.timing.rate.held_back_s > 0' "$WORK/live.json")" = true
eq "live.yml: every message rewritten" "$(jq '[.routers[].protocols.ipfix.rewritten.messages] | add' "$WORK/live.json")" 120

sinks 2055 2056
run examples/scale.yml --stats-json "$WORK/scale.json"
eq "scale.yml: exit status" "$?" 0
got
for p in 2055 2056; do
    eq "scale.yml: collector $p got every clone's datagrams" "$(jq .datagrams "$WORK/sink-$p.json")" $((40 * 50))
    eq "scale.yml: collector $p from 100 addresses" "$(jq '.per_source | length' "$WORK/sink-$p.json")" 100
done
eq "scale.yml: the report, per collector" \
    "$(jq -c '[.routers[].protocols.ipfix.collectors[].packets] | [length, unique]' "$WORK/scale.json")" "[200,[20]]"

sinks 2055
run examples/netflow.yml --stats-json "$WORK/nf.json"
eq "netflow.yml: exit status" "$?" 0
got
eq "netflow.yml: datagrams (v9 twice, v5 once)" "$(jq .datagrams "$WORK/sink-2055.json")" 60
eq "netflow.yml: v5 from 127.0.0.3" "$(jq '.per_source["127.0.0.3"]' "$WORK/sink-2055.json")" 20
eq "netflow.yml: v9 messages" "$(jq '.routers[] | select(.src_ip == "10.0.1.1") | .protocols.ipfix.messages.netflow_v9' "$WORK/nf.json")" 40

sinks 2055 5514
run examples/syslog-bpf.yml
eq "syslog-bpf.yml: exit status" "$?" 0
got
eq "syslog-bpf.yml: syslog to 5514" "$(jq .datagrams "$WORK/sink-5514.json")" 10
eq "syslog-bpf.yml: IPFIX to 2055" "$(jq .datagrams "$WORK/sink-2055.json")" 40

sinks 2055
run examples/reference.yml
eq "reference.yml: exit status" "$?" 0
got
eq "reference.yml: datagrams" "$(jq .datagrams "$WORK/sink-2055.json")" 40
# BMP: two sessions to a TCP collector, every message whole, each from its repro_ip
start_bg "$WORK/bmp.json" "$TCP_SINK" 127.0.0.1 1790 --bmp --idle 2 --timeout 120
BMP_SINK=$LAST_PID
wait_udp_listen 1790 tcp
run examples/bmp.yml --stats-json "$WORK/bmp-report.json"
eq "bmp.yml: exit status" "$?" 0
wait $BMP_SINK
eq "bmp.yml: every message (2 x INIT, 2 PEER_UP, 60 RM, 2 stats, 2 PEER_DOWN, TERM)" "$(jqf .messages "$WORK/bmp.json")" 136
eq "bmp.yml: one connection per router" "$(jqf .connections "$WORK/bmp.json")" 2
eq "bmp.yml: from 127.0.0.4 and 127.0.0.5" "$(jq -c '.per_source | keys' "$WORK/bmp.json")" '["127.0.0.4","127.0.0.5"]'
eq "bmp.yml: nothing lost" "$(jq '[.sessions[].lost] | add' "$WORK/bmp-report.json")" 0

# MRT: the example dump as one BMP router: every message the replay wrote reached the sink
start_bg "$WORK/mrt.json" "$TCP_SINK" 127.0.0.1 1790 --bmp --idle 2 --timeout 120
MRT_SINK=$LAST_PID
wait_udp_listen 1790 tcp
run examples/mrt.yml --stats-json "$WORK/mrt-report.json"
eq "mrt.yml: exit status" "$?" 0
wait $MRT_SINK
eq "mrt.yml: the dump's routes read (859 RIB entries, 20 updates)" \
    "$(jqf '.sources[] | [.rib_entries, .bgp4mp_messages] | join(" ")' "$WORK/mrt-report.json" | tr -d '"')" "859 20"
eq "mrt.yml: every message delivered" "$(jqf .messages "$WORK/mrt.json")" \
    "$(jq '[.sessions[].messages_sent] | add' "$WORK/mrt-report.json")"
eq "mrt.yml: one connection, from 127.0.0.7" "$(jq -c '.per_source | keys' "$WORK/mrt.json")" '["127.0.0.7"]'
eq "mrt.yml: nothing lost" "$(jq '[.sessions[].lost] | add' "$WORK/mrt-report.json")" 0

# BGP: a session with pmbgpd, every UPDATE delivered
start_pmbgpd "$WORK/pmbgp" 179
run examples/bgp.yml --stats-json "$WORK/bgp-report.json"
eq "bgp.yml: exit status" "$?" 0
sleep 0.5
stop_pid "$PMBGPD_PID" INT
eq "bgp.yml: pmbgpd answered with its OPEN (it mirrors the AS)" "$(jq '.sessions[0].peer.as' "$WORK/bgp-report.json")" 65001
eq "bgp.yml: the hold time rewritten to 30 s" "$(jq '.sessions[0].peer.negotiated_hold_time' "$WORK/bgp-report.json")" 30
# (of the capture's 2 KEEPALIVEs, the router's answer to its collector's OPEN is replaced by
# telrep's own answer to pmbgpd's: issue 12 item 9)
eq "bgp.yml: messages delivered (OPEN, 30 UPDATEs, 1 KEEPALIVE)" "$(jq '.sessions[0].messages_sent' "$WORK/bgp-report.json")" 32
eq "bgp.yml: the captured answer to the OPEN replaced" "$(jq '.sessions[0].confirms_replaced' "$WORK/bgp-report.json")" 1
eq "bgp.yml: pmbgpd logged every prefix (30 UPDATEs x 3)" "$(msglog_count "$WORK/pmbgp" bgp 127.0.0.6 log_type update)" 90

# pcap-proc: the raw example capture cleaned, and its written config replayed as it is
in_ns $WRAP "$BUILD/pcap-proc" -t examples/pcap-proc.yml -q -o "$WORK/pp"
eq "pcap-proc.yml: pcap-proc exit status" "$?" 0
eq "pcap-proc.yml: the messages before each INIT left out" \
    "$(jq '[.routers[].bmp.sessions[]?.before_session_start] | add' "$WORK/pp/traffic-info.json")" 4
start_bg "$WORK/ppbmp.json" "$TCP_SINK" 127.0.0.1 1790 --bmp --idle 2 --timeout 120
BMP_SINK=$LAST_PID
wait_udp_listen 1790 tcp
sinks 2055
run "$WORK/pp/traffic-reproducer.yml"
eq "pcap-proc.yml: replay of the output: exit status" "$?" 0
wait $BMP_SINK
got
eq "pcap-proc.yml: every BMP message the summary wrote" "$(jqf .messages "$WORK/ppbmp.json")" \
    "$(jq .output.protocols.bmp.messages "$WORK/pp/traffic-info.json")"
eq "pcap-proc.yml: BMP from 127.0.0.7 and 127.0.0.8" "$(jq -c '.per_source | keys' "$WORK/ppbmp.json")" '["127.0.0.7","127.0.0.8"]'
eq "pcap-proc.yml: every IPFIX message" "$(jq .datagrams "$WORK/sink-2055.json")" 40

# flow-replay: the example flows on loopback, both ends
in_ns $WRAP "$BUILD/flow-replay" examples/flows.csv -o "$WORK/flows.jsonl" -S "$WORK/flows.json" -q
eq "flows.csv: exit status" "$?" 0
eq "flows.csv: every flow done" "$(jqf .states.done "$WORK/flows.json")" 3
eq "flows.csv: every byte" "$(jq .bytes_sent "$WORK/flows.json")" "$(jq .bytes_expected "$WORK/flows.json")"
finish
