#!/usr/bin/env bash
# BGP sessions over real TCP: pmbgpd logs every UPDATE of generated captures per router
# (messages before the OPEN skipped); gobgpd, which enforces the protocol, reaches
# Established, receives every prefix, keeps the session Established with keep_open past the
# hold time (KEEPALIVEs), and refuses a router whose AS it does not expect with a
# NOTIFICATION that ends only that router's session.
. "$(dirname "$0")/lib.sh"
need jq ss pmbgpd gobgpd gobgp mergecap
make_ns 203.0.113.21 203.0.113.22 203.0.113.23
cd "$WORK"

conf() { ROUTERS=3 write_conf "$1" "$2" bgp "$3" "${4:-}"; } # conf file pcap port [extra yaml]

# --- pmbgpd: every UPDATE, per router; segmentation does not matter
$GEN -o a.pcap --format bgp --routers 2 --packets 50 --records 3 --interval 0.002 --handshake --replies \
    --before-start 2 --segment 45 --retransmit-every 4 --reorder-every 5 > a.counts
conf a.yml a.pcap 20179
start_pmbgpd "$WORK/pm" 20179
in_ns "$TELREP" -t a.yml -q --stats-json a.json
eq "pmbgpd: exit status" "$?" 0
sleep 1
stop_pid "$PMBGPD_PID" INT
for r in "10.0.0.1 203.0.113.21" "10.0.0.2 203.0.113.22"; do
    set -- $r
    eq "pmbgpd: $1 prefixes logged" "$(msglog_count "$WORK/pm" bgp "$2" log_type update)" \
        "$(jq ".routers[\"$1\"].prefixes" a.counts)"
done
eq "pmbgpd: updates sent per router" "$(jq -c '[.routers[].protocols.bgp.messages.update // empty]' a.json)" "[50,50]"
eq "pmbgpd: the UPDATEs before the OPEN skipped" "$(jq -c '[.sessions[].skipped_before_start]' a.json)" "[2,2]"
eq "pmbgpd: the collector's OPEN was read" "$(jq -c '[.sessions[].peer.as]' a.json)" "[65001,65001]"
eq "pmbgpd: the collector's side of the capture is not replayed" "$(jq .skipped.tcp_reverse_direction a.json)" 4

# --- loop (issue 13): the same capture as a body played 3 times: one session per router,
# every pass's UPDATEs, no restart, nothing pmbgpd complains about
conf lp.yml "[a.pcap]" 20179 "loop: {count: 3, gap: 0.3}"
start_pmbgpd "$WORK/lp" 20179
in_ns "$TELREP" -t lp.yml -q --stats-json lp.json
eq "loop: exit status" "$?" 0
sleep 1
stop_pid "$PMBGPD_PID" INT
eq "loop: every UPDATE of every pass" "$(msglog_count "$WORK/lp" bgp 203.0.113.21 log_type update)" \
    "$(( 3 * $(jq '.routers["10.0.0.1"].prefixes' a.counts) + 2 * 2 ))"
eq "loop: no new BGP session" "$(jq -c '[.sessions[].bgp_restarts]' lp.json)" "[0,0]"
eq "loop: one OPEN per router" "$(jq -c '[.routers[].protocols.bgp.messages.open // empty]' lp.json)" "[1,1]"
eq "loop: pmbgpd's log has no error or warning" "$(grep -c 'ERROR\|WARN' "$WORK/lp/pmbgpd.log")" 0

# --- a repeated BGP capture: its second OPEN starts a new session (Cease, new connection)
conf rep.yml "[a.pcap]" 20179 "repeat: {count: [2]}"
start_pmbgpd "$WORK/rep" 20179
in_ns "$TELREP" -t rep.yml -q --stats-json rep.json
eq "repeat: exit status" "$?" 0
sleep 1
stop_pid "$PMBGPD_PID" INT
# (the second play's two UPDATEs before its OPEN continue the established session)
eq "repeat: every UPDATE twice" "$(msglog_count "$WORK/rep" bgp 203.0.113.21 log_type update)" \
    "$(( 2 * $(jq '.routers["10.0.0.1"].prefixes' a.counts) + 2 ))"
eq "repeat: one new BGP session per router" "$(jq -c '[.sessions[].bgp_restarts]' rep.json)" "[1,1]"
eq "repeat: nothing of either session counted lost (the acknowledgements before the restart)" \
    "$(jq -c '[.sessions[].lost]' rep.json)" "[0,0]"

# --- a capture that ends with the router's own Cease, played twice: each session delivered
# whole and closed as the router closed it, nothing lost, exit 0 (issue 12 item 8); the
# captured KEEPALIVE that answered the collector's OPEN is not replayed, telrep answers
# itself (item 9)
$GEN -o cease.pcap --format bgp --routers 1 --packets 20 --records 2 --interval 0.002 --term > cease.counts
conf cease.yml "[cease.pcap]" 20179 "repeat: {count: [2]}"
start_pmbgpd "$WORK/cease" 20179
in_ns "$TELREP" -t cease.yml --progress 0 --stats-json cease.json 2> cease.err
eq "router's Cease: exit status 0" "$?" 0
sleep 1
stop_pid "$PMBGPD_PID" INT
eq "router's Cease: both plays' UPDATEs logged" "$(msglog_count "$WORK/cease" bgp 203.0.113.21 log_type update)" \
    "$(( 2 * $(jq '.routers["10.0.0.1"].prefixes' cease.counts) ))"
eq "router's Cease: nothing lost" "$(jq '[.sessions[].lost] | add' cease.json)" 0
eq "router's Cease: its NOTIFICATION delivered once per play" \
    "$(jq '.routers[0].protocols.bgp.messages.notification' cease.json)" 2
eq "the captured KEEPALIVE answering the OPEN is not replayed (one per play)" \
    "$(jq '.sessions[0].confirms_replaced' cease.json)" 2
eq "the other captured KEEPALIVEs are" "$(jq '.routers[0].protocols.bgp.messages.keepalive' cease.json)" \
    "$(( 2 * ($(jq '.routers["10.0.0.1"].keepalive' cease.counts) - 1) ))"

# --- gobgpd: Established, every prefix, keep_open past the hold time
start_gobgpd "$WORK/gobgp" 20180 50071 203.0.113.0/24
neighbor() { in_ns gobgp -p 50071 neighbor -j 2>/dev/null | jq -r ".[] | select(.state.neighbor_address == \"$1\") | $2"; }

# router 10.0.0.2 speaks AS 65002, which gobgpd does not accept
$GEN -o g1.pcap --format bgp --routers 1 --packets 40 --records 2 --hold 9 --interval 0.01 > g1.counts
$GEN -o g2.pcap --format bgp --routers 1 --src 10.0.0.2 --asn 65002 --packets 40 --records 2 --hold 9 \
    --interval 0.01 > g2.counts
mergecap -F pcap -w g.pcap g1.pcap g2.pcap
TF=1 conf g.yml g.pcap 20180 "  open_timeout: 5"
ip netns exec "$NS" "$TELREP" -t g.yml --keep-open -v --progress 0 --stats-json g.json 2> g.err &
TP=$!
PIDS+=($TP)
sleep 3
eq "gobgpd: Established (6)" "$(neighbor 203.0.113.21 .state.session_state)" 6
eq "gobgpd: every prefix received" "$(neighbor 203.0.113.21 '.afi_safis[0].state.received')" \
    "$(jq '.routers["10.0.0.1"].prefixes' g1.counts)"
check "gobgpd refused the router with the unexpected AS, by name" grep -q "NOTIFICATION: OPEN Message Error / Bad Peer AS" g.err
sleep 13 # past the 9 s hold time: only KEEPALIVEs keep it up
eq "gobgpd: still Established after the hold time" "$(neighbor 203.0.113.21 .state.session_state)" 6
check "keep_open: telrep still running" kill -0 $TP
kill -TERM $TP
wait $TP
eq "keep_open: exit status 1 (one session was refused)" "$?" 1
check "the refused session's reason names the NOTIFICATION" \
    bash -c "jq -r '.sessions[] | select(.router == \"10.0.0.2\") | .reason' g.json | grep -q 'Bad Peer AS'"
eq "the refused router is not retried (an OPEN error does not heal)" \
    "$(jq '.sessions[] | select(.router == "10.0.0.2") | .reconnects' g.json)" 0
eq "keep_open: KEEPALIVEs sent at a third of the hold time" \
    "$(jq '.sessions[] | select(.router == "10.0.0.1") | .keepalives_sent >= 4' g.json)" true
eq "the refused session failed, the other did not" \
    "$(jq -S -c '[.sessions[] | {(.router): .state}] | add' g.json)" '{"10.0.0.1":"closed","10.0.0.2":"failed"}'
eq "negotiated hold time" "$(jq '.sessions[] | select(.router == "10.0.0.1") | .peer.negotiated_hold_time' g.json)" 9

# --- loop (issue 13): the body played 3 times, 5 s apart, on one session that gobgpd (which
# enforces the hold time) keeps Established: one OPEN, every pass's UPDATEs, no flap
$GEN -o gl.pcap --format bgp --routers 1 --packets 20 --records 2 --hold 9 --interval 0.01 > gl.counts
ROUTERS=1 conf gl.yml gl.pcap 20180
printf 'loop: {count: 3, gap: 5}\n' >> gl.yml
ip netns exec "$NS" "$TELREP" -t gl.yml -q --keep-open --events gl.events --stats-json gl.json 2> gl.err &
TP=$!
PIDS+=($TP)
sleep 12 # the third pass is out (at 10 s), past the 9 s hold time
eq "loop: gobgpd Established after the third pass" "$(neighbor 203.0.113.21 .state.session_state)" 6
eq "loop: gobgpd got every pass's UPDATEs on one session" \
   "$(neighbor 203.0.113.21 '.state.messages.received.update')" "$(( $(jq '.routers["10.0.0.1"].update' gl.counts) * 3 ))"
wait_replayed gl.events
kill -TERM $TP
wait $TP
eq "loop: exit status" "$?" 0
eq "loop: one OPEN sent" "$(jq '.routers[0].protocols.bgp.messages.open' gl.json)" 1
eq "loop: one connection" "$(jq '.sessions[0].reconnects' gl.json)" 0

stop_pid "$GOBGPD_PID" INT

# --- OPEN rewriting (bgp.my_as, bgp_id, hold_time), seen on the wire by tshark
need tcpdump tshark
$GEN -o g3.pcap --format bgp --routers 1 --src 10.0.0.3 --asn 4200000002 --packets 5 > g3.counts
conf r.yml g3.pcap 20179 "  my_as: 65010
  bgp_id: 192.0.2.33
  hold_time: 30"
start_pmbgpd "$WORK/pm2" 20179
ip netns exec "$NS" tcpdump -Z root --immediate-mode -i lo -U -w wire.pcap 'tcp port 20179' 2> tcpdump.err &
TD=$!
PIDS+=($TD)
for _ in $(seq 50); do grep -q listening tcpdump.err && break; sleep 0.1; done
in_ns "$TELREP" -t r.yml -q --stats-json r.json
eq "rewritten OPEN: exit status" "$?" 0
sleep 0.5
kill -INT $TD; wait $TD
stop_pid "$PMBGPD_PID" INT
eq "rewritten OPEN on the wire: AS, hold time, BGP ID" \
    "$(tshark -r wire.pcap -d tcp.port==20179,bgp -Y 'bgp.type == 1 && ip.src == 203.0.113.23' -T fields -e bgp.open.myas -e bgp.open.holdtime -e bgp.open.identifier 2>/dev/null)" \
    "$(printf '65010\t30\t192.0.2.33')"
eq "rewritten OPEN: negotiated hold time" "$(jq '.sessions[0].peer.negotiated_hold_time' r.json)" 30
eq "rewritten OPEN: every UPDATE logged" "$(msglog_count "$WORK/pm2" bgp 203.0.113.23 log_type update)" \
    "$(jq '.routers["10.0.0.3"].prefixes' g3.counts)"
finish
