#!/usr/bin/env bash
# TCP replay beyond the collectors' own protocols: tcp_generic passes a stream through
# byte for byte; a collector that stops reading delays only its own session (bounded
# memory, the rest of the run unaffected, what could not be sent reported); one router
# mixes IPFIX and BMP from the same repro_ip; a repeated capture opens its sessions again;
# dense messages at time_factor 1 reach the collector as they are due, not in a burst at the
# end (issue 12 item 1: the sessions were not served while packets were under 200 us apart).
. "$(dirname "$0")/lib.sh"
need jq ss mergecap bc
make_ns 203.0.113.21 203.0.113.22
cd "$WORK"

conf() { write_conf "$@"; } # conf file pcap proto port [extra yaml]
tcp_sink() { # tcp_sink out [options]
    local out=$1; shift
    rm -f ready
    START_BG_ERR=$out.err start_bg "$out" "$TCP_SINK" 127.0.0.1 21791 --ready "$WORK/ready" "$@"
    TCP_SINK_PID=$LAST_PID
    for _ in $(seq 100); do [ -e ready ] && break; sleep 0.05; done
}

# --- tcp_generic: the bytes of the stream, once each, whatever the segmentation
$GEN -o g.pcap --format bmp --routers 2 --packets 200 --records 2 --segment 33 --retransmit-every 3 \
    --reorder-every 5 --dport 21791 > g.counts
conf g.yml g.pcap tcp_generic 21791
tcp_sink g.out --bmp --idle 1
in_ns "$TELREP" -t g.yml -q --stats-json g.json
eq "tcp_generic: exit status" "$?" 0
wait_status $TCP_SINK_PID g.out
eq "tcp_generic: every byte of the streams, once" "$(jqf .bytes g.out)" "$(jq '[.routers[].stream_bytes] | add' g.counts)"
eq "tcp_generic: the BMP messages inside are whole" "$(jqf .messages g.out)" \
    "$(jq '[.routers[] | .init + .peer_up + .route_monitoring + .stats] | add' g.counts)"
eq "tcp_generic: from each repro_ip" "$(jq -c '.per_source | keys' g.out)" '["203.0.113.21","203.0.113.22"]'

# --- a collector that stops reading one router's session
$GEN -o big.pcap --format bmp --routers 2 --peers 1 --packets 60000 --records 1 --interval 0.00001 > big.counts
conf big.yml big.pcap bmp 21791 "  drain_timeout: 3"
tcp_sink stall.out --bmp --idle 4 --stall-from 203.0.113.22
t0=$(date +%s)
in_ns "$TELREP" -t big.yml -q --stats-json big.json 2> big.err
rc=$?
t1=$(date +%s)
wait_status $TCP_SINK_PID stall.out
eq "stalled collector: exit status 1 (messages were lost)" "$rc" 1
eq "stalled collector: the other router's session delivered everything" \
    "$(jqf '.per_source["203.0.113.21"]' stall.out)" "$(jq '.sessions[] | select(.router == "10.0.0.1") | .bytes_sent' big.json)"
eq "stalled collector: the other router sent every message" \
    "$(jq '.sessions[] | select(.router == "10.0.0.1") | .messages_sent' big.json)" 60003
check "stalled collector: the stalled session reports what it could not send" \
    [ "$(jq '.sessions[] | select(.router == "10.0.0.2") | .lost' big.json)" -gt 1000 ]
check "stalled collector: bounded by drain_timeout ($((t1 - t0)) s)" [ $((t1 - t0)) -le 15 ]
check "stalled collector: the lost session's reason is the timeout" \
    bash -c "jq -r '.sessions[] | select(.router == \"10.0.0.2\") | .reason' big.json | grep -q timeout"
check "stalled collector: the loss is said with -q, with the report's count" \
    grep -q "$(jq '.sessions[] | select(.router == "10.0.0.2") | .lost' big.json) lost (timeout" big.err

# --- a collector slow to start reading: the queue goes over its memory bound (the rest waits
# in a temporary file) and everything still arrives, in order
$GEN -o slow.pcap --format bmp --routers 1 --peers 1 --packets 75000 --records 1 --interval 0.00001 > slow.counts
conf slow.yml slow.pcap bmp 21791 "optimize: {network: {so_sndbuf: 65536}}"
tcp_sink slow.out --bmp --idle 2 --pause 3 --rcvbuf 65536
in_ns "$TELREP" -t slow.yml -q --stats-json slow.json
eq "slow collector: exit status" "$?" 0
wait_status $TCP_SINK_PID slow.out
eq "slow collector: every byte" "$(jqf .bytes slow.out)" "$(jq '.routers["10.0.0.1"].stream_bytes' slow.counts)"
eq "slow collector: every message, whole" "$(jqf .messages slow.out)" 75003
eq "slow collector: nothing lost" "$(jq '.sessions[0].lost' slow.json)" 0
check "slow collector: the queue went to disk ($(jq '.sessions[0].queued_on_disk' slow.json) messages)" \
    [ "$(jq '.sessions[0].queued_on_disk' slow.json)" -gt 0 ]

# --- a collector that keeps reading, slowly, for longer than drain_timeout: drain_timeout is
# time without progress, so everything still arrives
$GEN -o crawl.pcap --format bmp --routers 1 --peers 1 --packets 16000 --records 1 --interval 0.00001 > crawl.counts
conf crawl.yml crawl.pcap bmp 21791 "  drain_timeout: 1
optimize: {network: {so_sndbuf: 65536}}"
tcp_sink crawl.out --bmp --idle 2 --read-delay 0.1 --rcvbuf 32768
t0=$(date +%s.%N)
in_ns "$TELREP" -t crawl.yml -q --stats-json crawl.json
eq "slow reader: exit status" "$?" 0
t1=$(date +%s.%N)
wait_status $TCP_SINK_PID crawl.out
check "slow reader: the drain took longer than drain_timeout ($(echo "$t1 - $t0" | bc) s)" \
    [ "$(echo "$t1 - $t0 > 2" | bc)" = 1 ]
eq "slow reader: every byte" "$(jqf .bytes crawl.out)" "$(jq '.routers["10.0.0.1"].stream_bytes' crawl.counts)"
eq "slow reader: nothing lost" "$(jq '.sessions[0].lost' crawl.json)" 0

# --- one router, IPFIX and BMP from the same repro_ip
$GEN -o m-ipfix.pcap --routers 1 --packets 20 --dst 192.0.2.100 > /dev/null
$GEN -o m-bmp.pcap --format bmp --routers 1 --packets 20 --dst 192.0.2.100 > m-bmp.counts
mergecap -F pcap -w m.pcap m-ipfix.pcap m-bmp.pcap
conf m.yml m.pcap bmp 21791 "ipfix:
  collector: {ip: 127.0.0.1, port: 21200}"
tcp_sink m-tcp.out --bmp --idle 1
start_bg m-udp.out "$SINK" 127.0.0.1 21200 --idle 1 --timeout 30
UDP_PID=$LAST_PID
wait_udp_listen 21200
in_ns "$TELREP" -t m.yml -q
eq "mixed router: exit status" "$?" 0
wait $TCP_SINK_PID $UDP_PID
eq "mixed router: IPFIX from its repro_ip" "$(jq '.per_source["203.0.113.21"]' m-udp.out)" 20
eq "mixed router: BMP from the same repro_ip" "$(jq -c '.per_source | keys' m-tcp.out)" '["203.0.113.21"]'

# --- repeat: a session lives across the plays of a run; the capture is sent again on it
conf rep.yml "[m-bmp.pcap]" bmp 21791 "repeat: {count: [2]}"
tcp_sink rep.out --bmp --idle 1
in_ns "$TELREP" -t rep.yml -q --stats-json rep.json
eq "repeat: exit status" "$?" 0
wait_status $TCP_SINK_PID rep.out
eq "repeat: one connection for both plays" "$(jqf .connections rep.out)" 1
eq "repeat: both plays' conversations" "$(jq '.sessions[0].conversations' rep.json)" 2
eq "repeat: the collector got every message sent" "$(jqf .messages rep.out)" "$(jq '.sessions[0].messages_sent' rep.json)"
eq "repeat: the capture's messages twice" "$(jq '.sessions[0].messages_sent' rep.json)" \
    "$(( 2 * $(jq '.routers["10.0.0.1"] | .init + .peer_up + .route_monitoring + .stats' m-bmp.counts) ))"
# --- dense messages at time_factor 1: served on every pass, so they arrive over the capture's
# span (a starved session wrote them all in a burst at the end)
$GEN -o dense.pcap --format bmp --routers 1 --peers 1 --packets 20000 --records 1 --interval 0.0001 \
    --dport 21791 > dense.counts
TF=1 ROUTERS=1 conf dense.yml dense.pcap bmp 21791
tcp_sink dense.out --bmp --idle 1
in_ns "$TELREP" -t dense.yml -q --stats-json dense.json
eq "dense: exit status" "$?" 0
wait_status $TCP_SINK_PID dense.out
eq "dense: every message arrived" "$(jqf .messages dense.out)" "$(jq '.sessions[0].messages_sent' dense.json)"
span=$(jqf .seconds dense.out)
check "dense: the messages arrive over the capture's 2 s, not in a burst ($span s)" \
    bash -c "echo '$span >= 1.2' | bc -l | grep -q 1"
# --- a collector that accepts and closes at once (issue 12 items 6 and 14): with reconnect
# the attempts back off, doubling from 0.5 s (every 0.5 s would be 18 in 9 s); by default
# (keep_open) a collector that never took anything is not retried beyond a few quick tries
$GEN -o ac.pcap --format bmp --routers 1 --peers 1 --packets 20 --records 1 --dport 21791 > ac.counts
for mode in reconnect default; do
    extra=""; [ $mode = reconnect ] && extra="  reconnect: true"
    ROUTERS=1 conf ac.yml ac.pcap bmp 21791 "$extra"
    tcp_sink ac-$mode.out --close --timeout 9
    ip netns exec "$NS" "$TELREP" -t ac.yml --keep-open --progress 0 --stats-json ac-$mode.json 2> ac-$mode.err &
    TP=$!
    PIDS+=($TP)
    wait_status $TCP_SINK_PID ac-$mode.out
    kill -TERM $TP
    wait $TP
    conns=$(jqf .connections ac-$mode.out)
    check "accept-and-close, $mode: the attempts back off ($conns connections in 9 s)" [ "$conns" -le 7 ]
done
eq "accept-and-close, default: the session gave up" "$(jq -r '.sessions[0].state' ac-default.json)" failed
eq "accept-and-close, reconnect: the session still tries" \
    "$(jq -r '.sessions[0].state | test("backoff|connecting|closed")' ac-reconnect.json)" true

# --- a collector that never answers (its SYNs dropped: a full accept queue) (issue 12 item
# 5): not a silent success but exit 1, the loss and its reason said
tcp_sink silent.out --no-accept --timeout 8
ip netns exec "$NS" bash -c 'exec 3<>/dev/tcp/127.0.0.1/21791; sleep 8' & # fills the queue
FILLER=$!
PIDS+=($FILLER)
sleep 0.3
ROUTERS=1 conf silent.yml ac.pcap bmp 21791 "  drain_timeout: 2"
in_ns "$TELREP" -t silent.yml -q --stats-json silent.json 2> silent.err
eq "never answers: exit status 1" "$?" 1
check "never answers: what was lost is said, with the reason" grep -q "lost (timeout: the collector never answered" silent.err
eq "never answers: the report agrees" "$(jq '.sessions[0].lost == .lost and .lost > 0' silent.json)" true
kill $FILLER 2>/dev/null
wait $FILLER 2>/dev/null
wait_status $TCP_SINK_PID silent.out

# --- one router, two captured BMP sessions at the same time (the Python tool's
# bmp-multi-sources example): two live connections, each with its INIT (issue 12 item 10)
$GEN -o cc1.pcap --format bmp --routers 1 --peers 1 --packets 30 --records 1 --dport 21791 --interval 0.001 > cc1.counts
$GEN -o cc2.pcap --format bmp --routers 1 --peers 2 --packets 20 --records 1 --dport 21791 --interval 0.001 \
    --sport 41000 > cc2.counts
mergecap -F pcap -w cc.pcap cc1.pcap cc2.pcap
ROUTERS=1 conf cc.yml cc.pcap bmp 21791
tcp_sink cc.out --bmp --idle 1
in_ns "$TELREP" -t cc.yml -q --stats-json cc.json
eq "concurrent sessions: exit status" "$?" 0
wait_status $TCP_SINK_PID cc.out
eq "concurrent sessions: two connections" "$(jqf .connections cc.out)" 2
eq "concurrent sessions: two sessions in the report" "$(jq '.sessions | length' cc.json)" 2
eq "concurrent sessions: every message, whole" "$(jqf .messages cc.out)" \
    "$(( $(jq '.routers[] | .init + .peer_up + .route_monitoring + .stats' cc1.counts) + \
        $(jq '.routers[] | .init + .peer_up + .route_monitoring + .stats' cc2.counts) ))"
finish
