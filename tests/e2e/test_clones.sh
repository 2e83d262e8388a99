#!/usr/bin/env bash
# Router clones (issue 14 item 2): one captured router replayed as many, each from its own
# address of a range. 500 clones of an IPFIX exporter to nfacctd: 500 exporters, each with
# every record of the capture; 200 clones of a BMP router to pmbmpd: 200 routers, each with
# the capture's messages and a sysName of its own; 5 clones of a BGP router to gobgpd: 5
# peers Established, each with a BGP identifier of its own and every prefix.
. "$(dirname "$0")/lib.sh"
need jq ss nfacctd pmbmpd gobgpd gobgp
make_ns
in_ns ip addr add 10.200.0.0/16 dev lo # every address of the range is local
cd "$WORK"

# --- 500 IPFIX exporters
$GEN -o ipfix.pcap --format ipfix --routers 1 --packets 20 --records 5 --interval 0.2 > ipfix.json
cat > ipfix.yml <<CONF
pcap: ipfix.pcap
time_factor: 1
no_sync: true
network:
  map:
    - {src_ip: 10.0.0.1, repro_ip: 10.200.1.1, clones: 500}
  clones: {stagger: 0.0002} # a packet's 500 copies over 0.1 s
ipfix:
  select: {udp: {dport: [9991]}}
  collector: {ip: 127.0.0.1, port: 20991}
CONF
NFACCTD_EXTRA="nfacctd_pipe_size: 8388608" start_nfacctd "$WORK/nf" 127.0.0.1 20991 || exit 1
in_ns "$TELREP" -t ipfix.yml -q --stats-json ipfix.report
eq "ipfix clones: exit status" "$?" 0
nfacctd_rows "$WORK/nf" > rows.json
eq "ipfix clones: 500 exporters seen by nfacctd" "$(jq -r .peer_ip_src rows.json | sort -u | wc -l)" 500
eq "ipfix clones: the first and the last of the range" \
    "$(jq -r .peer_ip_src rows.json | sort -u -t. -k3,3n -k4,4n | sed -n '1p;$p' | tr '\n' ' ')" "10.200.1.1 10.200.2.244 "
eq "ipfix clones: each exporter with every record of the capture" \
    "$(jq -s -c 'group_by(.peer_ip_src) | map(length) | unique' rows.json)" "[$(jq .records ipfix.json)]"
eq "ipfix clones: the report has 500 routers, each sent the capture" \
    "$(jq -c '[.routers[].protocols.ipfix.packets] | [length, unique]' ipfix.report)" "[500,[20]]"

# --- 200 BMP routers
$GEN -o bmp.pcap --format bmp --routers 1 --peers 3 --packets 20 --records 2 --interval 0.01 > bmp.json
cat > bmp.yml <<CONF
pcap: bmp.pcap
time_factor: 1
no_sync: true
network:
  map:
    - {src_ip: 10.0.0.1, repro_ip: 10.200.3.1, clones: 200}
  clones: {stagger: 0.005} # pmbmpd listens with a backlog of 1: connections one by one
bmp:
  collector: {ip: 127.0.0.1, port: 21790}
CONF
MAX_PEERS=300 start_pmbmpd "$WORK/bmp" 21790 || exit 1
in_ns "$TELREP" -t bmp.yml -q --stats-json bmp.report
eq "bmp clones: exit status" "$?" 0
lines() { cat "$WORK"/bmp/bmp-*.json 2>/dev/null | wc -l; }
last=-1
for _ in $(seq 60); do n=$(lines); [ "$n" = "$last" ] && break; last=$n; sleep 1; done # until pmbmpd has logged all
stop_pid "$PMBMPD_PID" INT
eq "bmp clones: pmbmpd logged 200 routers" "$(ls "$WORK"/bmp/bmp-*.json | wc -l)" 200
bad=0 # per router: one INIT, the PEER_UPs, a line per prefix, two counters per stats message
want="init=1 peer_up=$(jq '.routers["10.0.0.1"].peer_up' bmp.json) route_monitor=$(jq '.routers["10.0.0.1"].prefixes' bmp.json) stats=$(( 2 * $(jq '.routers["10.0.0.1"].stats' bmp.json) )) "
for f in "$WORK"/bmp/bmp-*.json; do
    got=$(jq -r '.bmp_msg_type // empty' "$f" | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')
    [ "$got" = "$want" ] ||
        { bad=$((bad + 1)); [ $bad -le 3 ] && echo "# $f: $got"; }
done
eq "bmp clones: every router with the capture's messages" "$bad" 0
eq "bmp clones: 200 distinct sysNames" "$(cat "$WORK"/bmp/bmp-*.json | jq -r 'select(.bmp_msg_type == "init") | .bmp_init_info_sysname' | sort -u | wc -l)" 200
eq "bmp clones: clone 0 keeps the captured name, clone 199 is named after it" \
    "$(jq -r 'select(.bmp_msg_type == "init") | .bmp_init_info_sysname' "$WORK/bmp/bmp-10_200_3_1.json" "$WORK/bmp/bmp-10_200_3_200.json" | tr '\n' ' ')" \
    "router-1 router-1-199 "

# --- 5 BGP peers
start_gobgpd "$WORK/gobgp" 20180 50073 10.200.0.0/16 || exit 1
$GEN -o bgp.pcap --format bgp --routers 1 --packets 20 --records 2 --hold 9 --interval 0.01 > bgp.json
cat > bgp.yml <<CONF
pcap: bgp.pcap
time_factor: 1
no_sync: true
network:
  map:
    - {src_ip: 10.0.0.1, repro_ip: 10.200.4.1, clones: 5}
bgp:
  collector: {ip: 127.0.0.1, port: 20180}
CONF
ip netns exec "$NS" "$TELREP" -t bgp.yml -q --keep-open --events bgp.events --stats-json bgp.report &
TP=$!
PIDS+=($TP)
want=$(jq '.routers["10.0.0.1"].prefixes' bgp.json)
neighbors() { in_ns gobgp -p 50073 neighbor -j 2>/dev/null; }
for _ in $(seq 100); do
    [ "$(neighbors | jq "[.[] | select(.afi_safis[0].state.received == $want)] | length")" = 5 ] && break
    sleep 0.1
done
eq "bgp clones: 5 peers Established" "$(neighbors | jq '[.[] | select(.state.session_state == 6)] | length')" 5
eq "bgp clones: each with every prefix" "$(neighbors | jq -c '[.[].afi_safis[0].state.received] | unique')" "[$want]"
eq "bgp clones: each with its own BGP identifier (clone k: its address)" \
    "$(neighbors | jq -r '.[].state.router_id' | sort -V | tr '\n' ' ')" "10.0.0.1 10.200.4.2 10.200.4.3 10.200.4.4 10.200.4.5 "
wait_replayed bgp.events
kill -TERM $TP
wait $TP
st=$?
eq "bgp clones: exit status" "$st" 0
[ "$st" = 0 ] || jq -c '{outcome, sessions: [.sessions[] | {router, state, reason, lost}]}' bgp.report
finish
