#!/usr/bin/env bash
# BMP sessions over real TCP to pmbmpd: every message of generated captures arrives, per
# router address, whatever the segmentation (split, packed, retransmitted, reordered, with
# a handshake, with sequence numbers that wrap); messages before INIT are skipped; a
# collector that is absent ends only its session; a collector restarted mid-replay gets the
# preamble (INIT, PEER_UPs) again and everything sent after it.
. "$(dirname "$0")/lib.sh"
need jq ss pmbmpd
make_ns 203.0.113.21 203.0.113.22
cd "$WORK"

conf() { write_conf "$1" "$2" bmp 21790 "${3:-}"; } # conf file pcap [extra yaml]
# every message type pmbmpd logged for a router equals what the generator wrote
check_router() { # check_router label dir counts.json router repro
    local label=$1 dir=$2 counts=$3 r=$4 repro=$5 peers
    peers=$(jq ".routers[\"$r\"].peer_up" "$counts")
    eq "$label: $r init" "$(msglog_count "$dir" bmp "$repro" bmp_msg_type init)" 1
    eq "$label: $r peer_up" "$(msglog_count "$dir" bmp "$repro" bmp_msg_type peer_up)" "$peers"
    eq "$label: $r route_monitor (one line per prefix)" "$(msglog_count "$dir" bmp "$repro" bmp_msg_type route_monitor)" \
        "$(jq ".routers[\"$r\"].prefixes" "$counts")"
    eq "$label: $r stats (two counters each)" "$(msglog_count "$dir" bmp "$repro" bmp_msg_type stats)" \
        "$(( $(jq ".routers[\"$r\"].stats" "$counts") * 2 ))"
    eq "$label: $r peer_down" "$(msglog_count "$dir" bmp "$repro" bmp_msg_type peer_down)" \
        "$(jq ".routers[\"$r\"].peer_down // 0" "$counts")"
}
run_case() { # run_case label gen-options...
    local label=$1; shift
    $GEN -o "$label.pcap" --format bmp --routers 2 --peers 3 --packets 40 --records 2 --interval 0.005 "$@" > "$label.counts"
    conf "$label.yml" "$label.pcap"
    start_pmbmpd "$WORK/$label" 21790
    in_ns "$TELREP" -t "$label.yml" -q --stats-json "$label.report"
    eq "$label: exit status" "$?" 0
    sleep 1
    stop_pid "$PMBMPD_PID" INT
    check_router "$label" "$WORK/$label" "$label.counts" 10.0.0.1 203.0.113.21
    check_router "$label" "$WORK/$label" "$label.counts" 10.0.0.2 203.0.113.22
}

run_case split --segment 7 --handshake --peer-down
run_case packed --pack --segment 1400
run_case resent --segment 60 --retransmit-every 3 --reorder-every 4 --handshake --peer-down
eq "resent: duplicates counted once" "$(jq '[.sessions[].stream.duplicate_bytes] | add > 0' resent.report)" true
eq "resent: reordered segments fixed" "$(jq '[.sessions[].stream.reordered_segments] | add > 0' resent.report)" true

# timestamps: now (issue 13): the per-peer timestamps pmbmpd logs are the run's, not the capture's
$GEN -o ts.pcap --format bmp --routers 1 --peers 2 --packets 20 --records 1 --interval 0.005 > ts.counts
ROUTERS=1 conf ts.yml ts.pcap "  timestamps: now"
start_pmbmpd "$WORK/ts" 21790
t0=$(date +%s)
in_ns "$TELREP" -t ts.yml -q
eq "timestamps now: exit status" "$?" 0
t1=$(date +%s)
sleep 1
stop_pid "$PMBMPD_PID" INT
f="$WORK/ts/bmp-203_0_113_21.json"
eq "timestamps now: every route monitoring message logged" "$(msglog_count "$WORK/ts" bmp 203.0.113.21 bmp_msg_type route_monitor)" \
   "$(jq '.routers["10.0.0.1"].prefixes' ts.counts)"
outside=$(jq -r 'select(.bmp_msg_type == "route_monitor" or .bmp_msg_type == "peer_up") | .timestamp_event // .timestamp' "$f" |
    while read -r ts; do e=$(date -u -d "$ts" +%s 2>/dev/null) || { echo "unreadable $ts"; continue; }
        [ "$e" -ge "$t0" ] && [ "$e" -le $((t1 + 1)) ] || echo "$ts"; done)
eq "timestamps now: every per-peer timestamp within the run" "$(echo -n "$outside" | grep -c .)" 0

# loop (issue 13): a body that ends with its peers going down, played 3 times on one session:
# one INIT, each pass's PEER_UPs and PEER_DOWNs, every route monitoring of every pass, and
# nothing pmbmpd complains about
$GEN -o body.pcap --format bmp --routers 1 --peers 3 --packets 30 --records 2 --interval 0.002 --peer-down > body.counts
ROUTERS=1 conf body.yml body.pcap
printf 'loop: {count: 3, gap: 0.2}\n' >> body.yml
start_pmbmpd "$WORK/body" 21790
in_ns "$TELREP" -t body.yml -q --stats-json body.report
eq "loop: exit status" "$?" 0
sleep 1
stop_pid "$PMBMPD_PID" INT
eq "loop: one INIT" "$(msglog_count "$WORK/body" bmp 203.0.113.21 bmp_msg_type init)" 1
eq "loop: the PEER_UPs of every pass" "$(msglog_count "$WORK/body" bmp 203.0.113.21 bmp_msg_type peer_up)" \
   "$(( $(jq '.routers["10.0.0.1"].peer_up' body.counts) * 3 ))"
eq "loop: the PEER_DOWNs of every pass" "$(msglog_count "$WORK/body" bmp 203.0.113.21 bmp_msg_type peer_down)" \
   "$(( $(jq '.routers["10.0.0.1"].peer_down' body.counts) * 3 ))"
eq "loop: every route monitoring of every pass" "$(msglog_count "$WORK/body" bmp 203.0.113.21 bmp_msg_type route_monitor)" \
   "$(( $(jq '.routers["10.0.0.1"].prefixes' body.counts) * 3 ))"
eq "loop: one connection, never lost" "$(jq '[.sessions[] | .reconnects] | add' body.report)" 0
eq "loop: pmbmpd's log has no error or warning" "$(grep -c 'ERROR\|WARN' "$WORK/body/pmbmpd.log")" 0

# messages before INIT are counted and skipped
run_case early --before-start 3 --segment 100
eq "early: skipped before INIT, per session" "$(jq -c '[.sessions[].skipped_before_start]' early.report)" "[3,3]"

# a hole: the session resumes at the next message start
$GEN -o hole.pcap --format bmp --routers 1 --peers 1 --packets 20 --records 1 --segment 1000 --drop-segment 10 > hole.counts
conf hole.yml hole.pcap
start_pmbmpd "$WORK/hole" 21790
in_ns "$TELREP" -t hole.yml -q --stats-json hole.report
sleep 1
stop_pid "$PMBMPD_PID" INT
eq "hole: reported" "$(jq '.sessions[0].stream.holes' hole.report)" 1
eq "hole: one message lost, the rest arrive" "$(msglog_count "$WORK/hole" bmp 203.0.113.21 bmp_msg_type route_monitor)" 19

# no collector: the session fails, clearly; exit status 1
conf none.yml split.pcap
in_ns "$TELREP" -t none.yml -q --stats-json none.json 2> none.err
eq "no collector: exit status 1" "$?" 1
eq "no collector: both sessions failed" "$(jq .session_failures none.json)" 2
check "no collector: the error says why" grep -q "Connection refused" none.err

# the collector restarts in the middle: reconnect, preamble again, the rest arrives
$GEN -o long.pcap --format bmp --routers 1 --peers 2 --packets 150 --records 1 --interval 0.02 > long.counts
TF=1 conf long.yml long.pcap "  reconnect: true"
start_pmbmpd "$WORK/first" 21790
ip netns exec "$NS" "$TELREP" -t long.yml --progress 0 --stats-json long.report 2> long.err &
TP=$!
PIDS+=($TP)
sleep 1.2
stop_pid "$PMBMPD_PID" KILL # a crash: the kernel resets the connection
sleep 0.5
start_pmbmpd "$WORK/second" 21790
wait $TP
eq "restart: exit status 0 (recovered: nothing lost)" "$?" 0
sleep 1
stop_pid "$PMBMPD_PID" INT
first=$(msglog_count "$WORK/first" bmp 203.0.113.21 bmp_msg_type route_monitor)
second=$(msglog_count "$WORK/second" bmp 203.0.113.21 bmp_msg_type route_monitor)
eq "restart: reconnected" "$(jq '.sessions[0].reconnects >= 1' long.report)" true
eq "restart: the refused attempts are reported, apart from messages" \
    "$(jq '.connect_refused > 0 and .refused == 0 and .session_failures == 0' long.report)" true
eq "restart: the outcome is recovered" "$(jq -r .outcome long.report)" recovered
check "restart: recovered is said, as a warning" grep -q "warning: recovered" long.err
eq "restart: the new collector got INIT again" "$(msglog_count "$WORK/second" bmp 203.0.113.21 bmp_msg_type init)" 1
eq "restart: and every PEER_UP seen before" "$(msglog_count "$WORK/second" bmp 203.0.113.21 bmp_msg_type peer_up)" 2
check "restart: both collectors saw route monitoring ($first + $second)" [ "$first" -gt 0 -a "$second" -gt 0 ]
check "restart: at most the messages in flight at the restart are missing ($first + $second of 150)" \
    [ $((first + second)) -ge 140 ]
eq "restart: nothing left queued" "$(jq '.sessions[0].lost' long.report)" 0

# --- a reconnect after the capture's PEER_DOWNs: the preamble is the INIT alone, no peer the
# capture took down comes back up (issue 12 item 4)
$GEN -o down.pcap --format bmp --routers 1 --peers 2 --packets 10 --records 1 --peer-down > down.counts
conf down.yml down.pcap "  reconnect: true"
start_pmbmpd "$WORK/down1" 21790
ip netns exec "$NS" "$TELREP" -t down.yml --keep-open --progress 0 --stats-json down.report 2> down.err &
TP=$!
PIDS+=($TP)
sleep 1.5
stop_pid "$PMBMPD_PID" KILL
sleep 0.3
start_pmbmpd "$WORK/down2" 21790
for _ in $(seq 60); do
    [ "$(msglog_count "$WORK/down2" bmp 203.0.113.21 bmp_msg_type init)" -ge 1 ] && break
    sleep 0.1
done
sleep 0.5
kill -TERM $TP
wait $TP
sleep 1
stop_pid "$PMBMPD_PID" INT
eq "peer down, restart: the first collector saw both peers go down" \
    "$(msglog_count "$WORK/down1" bmp 203.0.113.21 bmp_msg_type peer_down)" 2
eq "peer down, restart: the new collector got the INIT" "$(msglog_count "$WORK/down2" bmp 203.0.113.21 bmp_msg_type init)" 1
eq "peer down, restart: and no PEER_UP of a peer that is down" \
    "$(msglog_count "$WORK/down2" bmp 203.0.113.21 bmp_msg_type peer_up)" 0

# --- SIGINT in the middle, to slow collectors (issue 12 item 11): exit 1 (interrupted, the
# rest not replayed), and every stream ends on a message boundary with its TERM (the
# half-written message is finished, the TERM waits for room instead of being dropped)
$GEN -o int.pcap --format bmp --routers 2 --peers 1 --packets 60000 --records 1 --dport 21790 > int.counts
conf int.yml int.pcap "  send_term: true"
rm -f ready
START_BG_ERR=int-sink.err start_bg int-sink.out "$TCP_SINK" 127.0.0.1 21790 --bmp --idle 3 --rcvbuf 4096 \
    --read-delay 0.005 --ready "$WORK/ready"
SINK_PID=$LAST_PID
for _ in $(seq 100); do [ -e ready ] && break; sleep 0.05; done
ip netns exec "$NS" "$TELREP" -t int.yml --progress 0 --stats-json int.report 2> int.err &
TP=$!
PIDS+=($TP)
sleep 1.5
kill -INT $TP
wait $TP
eq "SIGINT: exit status 1 (interrupted)" "$?" 1
eq "SIGINT: the outcome says so" "$(jq -r .outcome int.report)" interrupted
check "SIGINT: said on stderr" grep -q "interrupted by a signal" int.err
wait_status $SINK_PID int-sink.out
eq "SIGINT: both sessions reached the collector" "$(jq .connections int-sink.out)" 2
eq "SIGINT: no stream ends inside a message" "$(jq .cut_connections int-sink.out)" 0
eq "SIGINT: each ends with its TERM" "$(jq .terms int-sink.out)" 2
finish
