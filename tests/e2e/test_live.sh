#!/usr/bin/env bash
# Live interfaces and least privilege (issue 16). A router namespace runs real exporters:
# softflowd (IPFIX of pings it was given: softflowd 1.1.0 reading a live interface
# delivers nothing until libpcap's TPACKET_V3 block fills, so it reads the pings' capture and
# exports over the veth like any exporter) and gobgpd (a BGP speaker peered with pmbgpd, and
# a BMP client of pmbmpd), reaching the collector host over a veth. On the collector host the
# first set of collectors (nfacctd, pmbgpd, pmbmpd) gets the real thing; meanwhile
#   - pcap-proc records the veth with a live URI (int:) and writes its three outputs,
#   - telrep relays the veth live to a second set, as an unprivileged user (--user nobody),
# and afterwards telrep replays pcap-proc's outputs to a third set. Each set decodes the same:
# NetFlow records per flow, BGP UPDATEs/withdrawals per prefix and path, BMP messages per peer
# and prefix (what happened inside the recorded window: not the PEER_DOWN when the first
# pmbgpd stops at the end). The relay's report says its delay (p99) and drops; /proc/PID/status shows it
# held no capability and no root uid while relaying, nor pcap-proc while recording; a plain
# replay of a capture file holds none (as nobody; as root with no user named, uid 0 without
# capabilities), and replays that need one keep only it;
# a setcap'd copy run by nobody opens the interface with the file's capability, then drops it.
. "$(dirname "$0")/lib.sh"
need jq ss nfacctd pmbgpd pmbmpd gobgpd gobgp softflowd ping tcpdump setcap setpriv tshark
make_ns 127.0.0.2 127.0.0.3
RNS=telrep-e2e-$$-r
ip netns add "$RNS" || exit 1
EXTRA_NS+=("$RNS")
ip netns exec "$RNS" ip link set lo up
ip link add "lr$$" netns "$RNS" type veth peer name "lc$$" netns "$NS" || exit 1
ip netns exec "$RNS" ip addr add 10.77.0.1/24 dev "lr$$"
ip netns exec "$RNS" ip link set "lr$$" up
in_ns ip addr add 10.77.0.2/24 dev "lc$$"
in_ns ip link set "lc$$" up
in_r() { ip netns exec "$RNS" "$@"; }
cd "$WORK"
chmod 711 "$WORK" # nobody reaches its own folder inside
mkdir -m 1777 pub
D=18 # seconds of live traffic recorded and relayed

# --- the collectors: set 1 (the real exporters' own), set 2 (the relay's), set 3 (the replay's)
start_set() { # start_set name ip nf-port bgp-port bmp-port
    start_nfacctd "$WORK/$1/nf" "$2" "$3" || exit 1
    eval "NF_$1=$NFACCTD_PID"
    start_pmbgpd "$WORK/$1/bgp" "$4" "$2" || exit 1
    eval "BGP_$1=$PMBGPD_PID"
    start_pmbmpd "$WORK/$1/bmp" "$5" "$2" || exit 1
    eval "BMP_$1=$PMBMPD_PID"
}
stop_set() { # stop_set name: pmacct flushes its logs on SIGINT
    local n
    sleep 2.5
    for n in NF BGP BMP; do eval "stop_pid \$${n}_$1 INT"; done
}
start_set s1 10.77.0.2 2055 179 1790
start_set s2 127.0.0.1 2056 1179 1791

cat > sections.yml <<CONF
ipfix:
  select: {udp: {dport: [2055]}}
  collector: {ip: 127.0.0.1, port: 2056}
bgp:
  select: {tcp: {dport: [179]}}
  collector: {ip: 127.0.0.1, port: 1179}
bmp:
  select: {tcp: {dport: [1790]}}
  collector: {ip: 127.0.0.1, port: 1791}
CONF
{ printf 'live: {interface: lc%s, filter: "host 10.77.0.1"}\nnetwork:\n  map:\n    - {src_ip: 10.77.0.1, repro_ip: 127.0.0.2}\n' $$
  cat sections.yml; } > relay.yml
cp relay.yml rec.yml
printf 'duration: %s\n' "$D" >> relay.yml

# --- recording and relay start before the exporters, so both see every session from its SYN
T0=$(date +%s)
ip netns exec "$NS" "$BUILD/pcap-proc" -t rec.yml --duration "$D" -o rec -v 2> rec.err &
REC=$!
PIDS+=($REC)
ip netns exec "$NS" "$TELREP" -t relay.yml --user nobody --progress 1 --events pub/relay.events --stats-json pub/relay.json \
    2> relay.err &
RELAY=$!
PIDS+=($RELAY)
for _ in $(seq 50); do grep -q run_start pub/relay.events 2>/dev/null && grep -q "recording int" rec.err && break; sleep 0.1; done
status_of() { grep "^$2:" "/proc/$1/status" | tr -s '\t ' ' ' | cut -d' ' -f2-; }
eq "relay: no root uid once relaying (real, effective, saved, fs)" "$(status_of $RELAY Uid)" "65534 65534 65534 65534"
eq "relay: no capability once relaying" "$(status_of $RELAY CapEff) $(status_of $RELAY CapPrm)" \
    "0000000000000000 0000000000000000"
eq "pcap-proc recording: no capability once the interface is open (root, no user named)" \
    "$(status_of $REC CapEff) $(status_of $REC CapPrm) $(status_of $REC CapBnd)" \
    "0000000000000000 0000000000000000 0000000000000000"
eq "relay: nothing to regain (bounding set empty, no_new_privs)" "$(status_of $RELAY CapBnd) $(status_of $RELAY NoNewPrivs)" \
    "0000000000000000 1"

# --- the exporters
# gobgpd 1 (the router: AS 65001) learns its routes from gobgpd 2 (AS 65002, on the router
# namespace's loopback), sends them to pmbgpd and reports them to pmbmpd (pre-policy)
in_r ip addr add 10.77.9.2/32 dev lo
cat > gobgpd.toml <<CONF
[global.config]
  as = 65001
  router-id = "10.77.0.1"
  port = -1
[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.77.0.2"
    peer-as = 65001
  [neighbors.transport.config]
    local-address = "10.77.0.1"
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.77.9.2"
    peer-as = 65002
  [neighbors.transport.config]
    local-address = "10.77.0.1"
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
[[bmp-servers]]
  [bmp-servers.config]
    address = "10.77.0.2"
    port = 1790
    route-monitoring-policy = "pre-policy"
CONF
cat > gobgpd2.toml <<CONF
[global.config]
  as = 65002
  router-id = "10.77.9.2"
  port = 179
  local-address-list = ["10.77.9.2"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.77.0.1"
    peer-as = 65001
  [neighbors.transport.config]
    passive-mode = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
CONF
ip netns exec "$RNS" gobgpd -f gobgpd2.toml -p --api-hosts 127.0.0.1:50092 --pprof-disable > gobgpd2.log 2>&1 &
PIDS+=($!)
ip netns exec "$RNS" gobgpd -f gobgpd.toml -p --api-hosts 127.0.0.1:50091 --pprof-disable > gobgpd.log 2>&1 &
PIDS+=($!)
ip netns exec "$RNS" tcpdump -i "lr$$" -w pings.pcap -c 32 icmp 2> /dev/null &
TD=$!
PIDS+=($TD)
sleep 1
in_r ping -q -c 16 -i 0.2 10.77.0.2 > /dev/null
wait $TD
in_r timeout 10 softflowd -d -r pings.pcap -n 10.77.0.2:2055 -v 10 -A milli > softflowd.log 2>&1 < /dev/null
echo "# softflowd: exit status $?"
for _ in $(seq 100); do # both of gobgpd 1's sessions up, so that each route goes as an UPDATE of its own
    [ "$(in_r gobgp -p 50091 neighbor -j 2>/dev/null | jq '[.[] | select(.state.session_state == 6)] | length')" = 2 ] && break
    sleep 0.1
done
for i in $(seq 30); do in_r gobgp -p 50092 global rib add "10.88.$i.0/24" -a ipv4 community 65002:$i > /dev/null; done
sleep 2
for i in $(seq 5); do in_r gobgp -p 50092 global rib del "10.88.$i.0/24" -a ipv4 > /dev/null; done
done_at=$(( $(date +%s) - T0 ))
check "the exporters were done inside the recorded window ($done_at s of $D s)" [ "$done_at" -lt "$D" ]
wait $REC
eq "pcap-proc: recording exit status" "$?" 0
wait $RELAY
eq "relay: exit status (duration reached)" "$?" 0
stop_set s1
stop_set s2

# --- what the collectors decoded, without who sent it or when it arrived
nf_view() { cat "$1"/nf/flows-*.json 2>/dev/null |
    jq -s -c 'group_by([.ip_src, .ip_dst, .ip_proto, .timestamp_start]) |
              map({k: (.[0] | [.ip_src, .ip_dst, .ip_proto, .timestamp_start]), packets: (map(.packets) | add)}) | sort'; }
bgp_view() { cat "$1"/bgp/bgp-*.json 2>/dev/null |
    jq -c 'select(.log_type == "update" or .log_type == "withdraw") | [.log_type, .ip_prefix, .as_path, .bgp_nexthop, .comms]' | sort; }
bmp_view() { cat "$1"/bmp/bmp-*.json 2>/dev/null |
    jq -c 'select(.bmp_msg_type != null and .bmp_msg_type != "peer_down" and .bmp_msg_type != "term") | [.bmp_msg_type, .peer_ip, .ip_prefix, .is_post, .is_loc, .log_type, .comms]' | sort; }
nf1=$(nf_view s1); bgp1=$(bgp_view s1); bmp1=$(bmp_view s1)
check "the exporters: softflowd's records reached nfacctd ($(echo "$nf1" | jq length) flows)" [ "$(echo "$nf1" | jq length)" -ge 2 ]
eq "the exporters: gobgpd's 30 announcements and 5 withdrawals reached pmbgpd" \
    "$(echo "$bgp1" | jq -r '.[0]' | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')" "update=30 withdraw=5 "
check "the exporters: gobgpd's BMP reached pmbmpd ($(echo "$bmp1" | wc -l) messages)" [ "$(echo "$bmp1" | grep -c route_monitor)" -ge 30 ]

eq "relay: nfacctd decoded the same records" "$(nf_view s2)" "$nf1"
eq "relay: pmbgpd logged the same updates and withdrawals" "$(bgp_view s2 | md5sum)" "$(echo "$bgp1" | md5sum)"
eq "relay: pmbmpd logged the same BMP messages" "$(bmp_view s2 | md5sum)" "$(echo "$bmp1" | md5sum)"
eq "relay: the report has the delay (p99 > 0) and no frame too late" \
    "$(jq -c '[.live.delay_us.p99 > 0, .live.late_dropped, .live.frames > 0]' pub/relay.json)" "[true,0,true]"
check "relay: the delay is said on stderr" grep -q "live: .* frames, delay p50 .*p99" relay.err
echo "# relay delay: $(jq -c .live.delay_us pub/relay.json)"
eq "relay: kernel drops reported (none here)" "$(jq .live.kernel_dropped pub/relay.json)" 0

# --- the recording's outputs, replayed to set 3
eq "pcap-proc: the recording is summarised" \
    "$(jq -c '.recorded | [.interface, .frames > 0, .kernel_dropped, .ended_by_signal]' rec/traffic-info.json)" \
    "[\"int:lc$$\",true,0,false]"
check "pcap-proc: the temporary recording is gone" bash -c "! ls -A rec | grep -q recording"
start_set s3 127.0.0.1 2057 2179 2791
{ printf 'pcap: rec/traffic.pcap\ntime_factor: 0\nno_sync: true\nnetwork:\n  map:\n    - {src_ip: 10.77.0.1, repro_ip: 127.0.0.3}\n'
  sed -e 's/port: 2056/port: 2057/' -e 's/port: 1179/port: 2179/' -e 's/port: 1791/port: 2791/' sections.yml; } > replay.yml
in_ns "$TELREP" -t replay.yml -q --stats-json replay.json
eq "replay of the recording: exit status" "$?" 0
stop_set s3
eq "replay of the recording: nfacctd decoded the same records" "$(nf_view s3)" "$nf1"
eq "replay of the recording: pmbgpd logged the same updates and withdrawals" "$(bgp_view s3 | md5sum)" "$(echo "$bgp1" | md5sum)"
eq "replay of the recording: pmbmpd logged the same BMP messages" "$(bmp_view s3 | md5sum)" "$(echo "$bmp1" | md5sum)"

# --- what a run still needs, it keeps, and only that (/proc/PID/status while it runs)
running_caps() { # running_caps pid events-file: CapEff once the run has started
    for _ in $(seq 100); do grep -q run_start "$2" 2>/dev/null && break; sleep 0.05; done
    status_of "$1" CapEff
}
# a plain replay of a capture file to a collector: nothing at all, as the user named, and as
# root with no user to become (uid 0 stays, as telrep(1) PRIVILEGES says, without capabilities)
$GEN -o plain.pcap --format ipfix --routers 1 --packets 20 --records 2 --interval 0.1 --dport 2055 > plain.json
printf 'pcap: plain.pcap\ntime_factor: 1\nno_sync: true\nnetwork:\n  map:\n    - {src_ip: 10.0.0.1, repro_ip: 127.0.0.3}\nipfix:\n  select: {udp: {dport: [2055]}}\n  collector: {ip: 127.0.0.1, port: 2059}\n' > plain.yml
plain_case() { # plain_case label uid telrep-args...
    local label=$1 uid=$2 sp pp
    shift 2
    rm -f pub/plain.events
    ip netns exec "$NS" "$SINK" 127.0.0.1 2059 --idle 1 --timeout 6 > plain.out &
    sp=$!
    PIDS+=($sp)
    wait_udp_listen 2059
    ip netns exec "$NS" env -u SUDO_UID -u SUDO_GID "$TELREP" -t plain.yml -q --events pub/plain.events "$@" &
    pp=$!
    PIDS+=($pp)
    eq "plain replay of a capture, $label: no capability (effective, permitted, bounding), uid $uid" \
        "$(running_caps $pp pub/plain.events) $(status_of $pp CapPrm) $(status_of $pp CapBnd) $(status_of $pp Uid)" \
        "0000000000000000 0000000000000000 0000000000000000 $uid $uid $uid $uid"
    wait $pp
    eq "plain replay of a capture, $label: exit status" "$?" 0
    wait $sp
    eq "plain replay of a capture, $label: every datagram" "$(jq .datagrams plain.out)" 20
}
plain_case "--user nobody" 65534 --user nobody
plain_case "root, no user named" 0

# a captured source port below 1024, kept (source_port: keep): CAP_NET_BIND_SERVICE (bit 10) only
$GEN -o low.pcap --format ipfix --routers 1 --packets 20 --records 2 --interval 0.1 --sport 999 --dport 2055 > low.json
printf 'pcap: low.pcap\ntime_factor: 1\nno_sync: true\nnetwork:\n  map:\n    - {src_ip: 10.0.0.1, repro_ip: 127.0.0.3}\nipfix:\n  select: {udp: {dport: [2055]}}\n  source_port: keep\n  collector: {ip: 127.0.0.1, port: 2058}\n' > low.yml
ip netns exec "$NS" "$SINK" 127.0.0.1 2058 --idle 1 --timeout 6 > low.out &
SP=$!
PIDS+=($SP)
wait_udp_listen 2058 # else the first datagram is refused: not what this case is about
ip netns exec "$NS" "$TELREP" -t low.yml -q --user nobody --events pub/low.events --stats-json pub/low.json &
LP=$!
PIDS+=($LP)
eq "source port 999 kept: only CAP_NET_BIND_SERVICE, as nobody" "$(running_caps $LP pub/low.events) $(status_of $LP Uid)" \
    "0000000000000400 65534 65534 65534 65534"
wait $LP
eq "source port 999 kept: exit status" "$?" 0
wait $SP
eq "source port 999 kept: every datagram from port 999" "$(jq -c '[.datagrams, (.per_port | keys | map(sub(".*:"; "")))]' low.out)" '[20,["999"]]'

# bound to the veth (network.interface) with reconnects: CAP_NET_RAW (bit 13) only, and the
# reconnect after the collector restarts still binds the device
$GEN -o dev.pcap --format bmp --routers 1 --peers 1 --packets 30 --records 1 --interval 0.2 --dport 2790 > dev.json
printf 'pcap: dev.pcap\ntime_factor: 1\nno_sync: true\nnetwork:\n  interface: lc%s\n  map:\n    - {src_ip: 10.0.0.1, repro_ip: 10.77.0.2}\nbmp:\n  collector: {ip: 10.77.0.1, port: 2790}\n  reconnect: true\n' $$ > dev.yml
ip netns exec "$RNS" "$TCP_SINK" 10.77.0.1 2790 --bmp --timeout 2 > dev1.out 2>&1 &
S1=$!
PIDS+=($S1)
wait_udp_listen 2790 tcp "$RNS"
ip netns exec "$NS" "$TELREP" -t dev.yml -q --user nobody --events pub/dev.events --stats-json pub/dev.json 2> dev.err &
DP=$!
PIDS+=($DP)
eq "bound to a device, reconnects on: only CAP_NET_RAW, as nobody" "$(running_caps $DP pub/dev.events) $(status_of $DP Uid)" \
    "0000000000002000 65534 65534 65534 65534"
wait $S1 # the first collector goes away after 2 s; the second comes 1 s later
sleep 1
ip netns exec "$RNS" "$TCP_SINK" 10.77.0.1 2790 --bmp --idle 2 --timeout 12 > dev2.out 2>&1 &
S2=$!
PIDS+=($S2)
wait $DP
eq "bound to a device, reconnects on: exit status (recovered)" "$?" 0
wait $S2
check "bound to a device: the second collector got the reconnected session ($(jq -c '[.connections, .bytes]' dev2.out))" \
    [ "$(jq '.connections' dev2.out)" -ge 1 ]
eq "bound to a device: the session reconnected" "$(jq '[.sessions[].reconnects] | add > 0' pub/dev.json)" true

# --- without root, from file capabilities (setcap, as telrep(1) PRIVILEGES says): nobody runs a
# copy of telrep that the file gives CAP_NET_RAW; it opens the interface, then holds nothing
mkdir -m 755 capbin
cp "$TELREP" capbin/telrep
cp "$TELREP" capbin/telrep-plain
setcap cap_net_raw+ep capbin/telrep
printf 'live: {interface: lc%s, filter: "udp port 2055"}\nduration: 4\nnetwork:\n  map:\n    - {src_ip: 10.77.0.1, repro_ip: 127.0.0.2}\nipfix:\n  select: {udp: {dport: [2055]}}\n  collector: {ip: 127.0.0.1, port: 2059}\n' $$ > fcap.yml
ip netns exec "$NS" "$SINK" 127.0.0.1 2059 --idle 2 --timeout 8 > fcap.out &
SP=$!
PIDS+=($SP)
wait_udp_listen 2059
ip netns exec "$NS" setpriv --reuid 65534 --regid 65534 --clear-groups "$WORK/capbin/telrep" -t fcap.yml -q \
    --events pub/fcap.events --stats-json pub/fcap.json &
FP=$!
PIDS+=($FP)
eq "file capabilities, as nobody: the interface opened, then nothing held" \
    "$(running_caps $FP pub/fcap.events) $(status_of $FP Uid)" "0000000000000000 65534 65534 65534 65534"
in_r bash -c 'for i in $(seq 10); do echo "datagram $i" > /dev/udp/10.77.0.2/2055; sleep 0.05; done'
wait $FP
eq "file capabilities, as nobody: exit status" "$?" 0
wait $SP
eq "file capabilities, as nobody: the datagrams relayed" "$(jq .datagrams fcap.out)" 10
ip netns exec "$NS" setpriv --reuid 65534 --regid 65534 --clear-groups "$WORK/capbin/telrep-plain" -t fcap.yml -q \
    2> nocap.err
eq "no capability at all: exit status 2" "$?" 2
check "no capability at all: the error says what is missing and how to give it" grep -q "CAP_NET_RAW.*setcap" nocap.err

# --- pcap-proc until a signal; errors that say what to do
# (with -v: the progress line every 2 s while it records; keep_raw: the raw recording kept)
printf 'live: {interface: lc%s, keep_raw: %s/sig-raw.pcap}\nnetwork:\n  map:\n    - {src_ip: 10.77.0.1, repro_ip: 127.0.0.2}\n' $$ "$WORK" > sig.yml
cat sections.yml >> sig.yml
ip netns exec "$NS" "$BUILD/pcap-proc" -t sig.yml -o sig -v 2> sig.err &
PP=$!
PIDS+=($PP)
sleep 1
in_r ping -q -c 3 -i 0.1 10.77.0.2 > /dev/null
sleep 1.5
kill -INT $PP
wait $PP
eq "pcap-proc until SIGINT: exit status" "$?" 0
eq "pcap-proc until SIGINT: the recording ended by the signal, then processed" \
    "$(jq -c '[.recorded.ended_by_signal, .recorded.frames >= 6, (.inputs | length)]' sig/traffic-info.json)" "[true,true,1]"
check "pcap-proc -v: a progress line while recording (seconds, frames, MB, kernel drops)" \
    grep -qE "^pcap-proc: recording int:lc$$: 2\.[0-9] s, [0-9]+ frames, [0-9.]+ MB, dropped by the kernel 0" sig.err
check "pcap-proc -v: the last one when the recording ends" grep -qE "^pcap-proc: done recording int:lc$$: " sig.err
eq "keep_raw: the raw recording kept, every frame recorded" "$(tshark -r sig-raw.pcap 2>/dev/null | wc -l)" \
    "$(jq .recorded.frames sig/traffic-info.json)"
printf 'live: nosuch9\nnetwork:\n  map:\n    - {src_ip: 10.77.0.1, repro_ip: 127.0.0.2}\n' > nosuch.yml
cat sections.yml >> nosuch.yml
in_ns "$TELREP" -t nosuch.yml -q 2> nosuch.err
eq "a missing interface: exit status 2" "$?" 2
check "a missing interface: the error names it and says what to check" grep -q "int:nosuch9.*ip link" nosuch.err
printf 'live: {interface: lc%s, filter: "udp prot 2055"}\nnetwork:\n  map:\n    - {src_ip: 10.77.0.1, repro_ip: 127.0.0.2}\n' $$ > badf.yml
cat sections.yml >> badf.yml
in_ns "$TELREP" -t badf.yml -q 2> badf.err
eq "a bad filter: exit status 2" "$?" 2
check "a bad filter: the config's line and libpcap's reason" grep -q "badf.yml:1:.*live.filter: filter \"udp prot 2055\"" badf.err

finish
