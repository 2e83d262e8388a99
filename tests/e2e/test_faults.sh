#!/usr/bin/env bash
# Faults: a collector that is absent, or killed and restarted mid-replay, never stops the
# other routers or the run, and is reported; bad inputs give a clear error and the exit
# status of DESIGN.md (2 = config/usage, nothing sent; 1 = runtime failure).
. "$(dirname "$0")/lib.sh"
need jq ss
make_ns 203.0.113.21 203.0.113.22
cd "$WORK"
$GEN -o two.pcap --format ipfix --routers 2 --src 10.0.0.1 --packets 60 --records 2 --interval 0.005 > two.json

# --- collector absent for one protocol, present for the other
cat > absent.yml <<CONF
pcap: two.pcap
time_factor: 1
no_sync: true
network:
  map:
    - {src_ip: 10.0.0.1, repro_ip: 203.0.113.21}
    - {src_ip: 10.0.0.2, repro_ip: 203.0.113.22}
ipfix:
  select: {ip: {src: [10.0.0.1]}}
  collector: {ip: 127.0.0.1, port: 21001}
udp_generic:
  collector: {ip: 127.0.0.1, port: 21002}
CONF
start_bg sink.out "$SINK" 127.0.0.1 21002 --idle 1.5
wait_udp_listen 21002 || exit 1
in_ns "$TELREP" -t absent.yml --stats-json absent.json -q 2> absent.err
eq "absent collector: exit status 1 (runtime failure)" "$?" 1
wait "$LAST_PID"
eq "the other router's collector got all its packets" "$(jq .datagrams sink.out)" 30
check "refusals are counted for the router whose collector is absent" \
    [ "$(jq '.routers[] | select(.src_ip=="10.0.0.1") | .protocols.ipfix.refused' absent.json)" -gt 0 ]
eq "the run went to the end of the capture" "$(jq .read absent.json)" 60
check "the refusal is reported on stderr" grep -q "refused" absent.err

# --- collector killed mid-replay and restarted
$GEN -o long.pcap --format ipfix --src 10.0.0.1 --packets 150 --records 1 --interval 0.01 > /dev/null
sed -e 's/two.pcap/long.pcap/' -e '/10.0.0.2/d' -e '/select:/d' -e '/udp_generic/,$d' \
    -e 's/21001/21003/' absent.yml > restart.yml
start_bg sink1.out "$SINK" 127.0.0.1 21003 --idle 30
S1=$LAST_PID
wait_udp_listen 21003 || exit 1
in_ns "$TELREP" -t restart.yml --stats-json restart.json -q 2> restart.err &
T=$!
sleep 0.5; stop_pid "$S1" TERM
sleep 0.3
start_bg sink2.out "$SINK" 127.0.0.1 21003 --idle 1
S2=$LAST_PID
wait $T
eq "restart: exit status 1 (refusals happened)" "$?" 1
wait "$S2" 2>/dev/null
first=$(jq .datagrams sink1.out); second=$(jq .datagrams sink2.out)
check "restart: the first collector got packets before it died ($first)" [ "$first" -gt 0 ]
check "restart: the restarted collector got the rest ($second)" [ "$second" -gt 0 ]
check "restart: refusals in between were counted" [ "$(jq .refused restart.json)" -gt 0 ]
eq "restart: every packet was read and tried" "$(jq .read restart.json)" 150
check "restart: nothing counted twice" [ $((first + second)) -le "$(jq .sent restart.json)" ]

# --- bad inputs: clear message, exit 2, nothing sent
start_bg sink3.out "$SINK" 127.0.0.1 21004 --idle 300
S3=$LAST_PID
wait_udp_listen 21004 || exit 1
sed -e 's/21001/21004/' -e '/udp_generic/,$d' -e '/select:/d' absent.yml > good.yml
bad() { # bad "what" expected-status stderr-pattern config
    in_ns "$TELREP" -t "$4" -q 2> bad.err
    local rc=$?
    eq "$1: exit status" "$rc" "$2"
    check "$1: message says '$3'" grep -q -- "$3" bad.err
}
printf 'pcap: [two.pcap\n' > badyaml.yml
bad "bad YAML" 2 "badyaml.yml:2:1: not valid YAML" badyaml.yml
: > empty.pcap; sed 's/two.pcap/empty.pcap/' good.yml > empty.yml
bad "empty capture" 2 "empty file: not a capture" empty.yml
# fixed pseudo-random bytes (not /dev/urandom: a run must not depend on luck)
LC_ALL=C awk 'BEGIN { srand(7); for (i = 0; i < 5000; i++) printf "%c", 1 + int(rand() * 255) }' > garbage.pcap; sed 's/two.pcap/garbage.pcap/' good.yml > garbage.yml
bad "garbage capture" 2 "not a capture" garbage.yml
sed 's/two.pcap/missing.pcap/' good.yml > missing.yml
bad "missing capture" 2 'pcap "missing.pcap" cannot be read' missing.yml
sed 's/203.0.113.22/203.0.113.99/' good.yml > noaddr.yml
bad "repro_ip not local" 2 "ip addr add 203.0.113.99/32 dev lo" noaddr.yml
sed 's/interface: null/interface: nosuchdev/; s/^network:/network:\n  interface: nosuchdev/' good.yml > nodev.yml
bad "interface missing" 2 'network.interface "nosuchdev" does not exist' nodev.yml
sed 's/port: 21004/port: 99999/' good.yml > badport.yml
bad "bad port" 2 "expected an integer from 1 to 65535" badport.yml
in_ns "$TELREP" -q 2> bad.err; eq "no -t: exit status" "$?" 2
stop_pid "$S3" TERM
eq "nothing was sent by the bad runs" "$(jq .datagrams sink3.out)" 0

# --- truncated capture: what is there is sent, then exit 1 with a message
size=$(stat -c %s two.pcap)
head -c $((size - 40)) two.pcap > trunc.pcap
sed 's/two.pcap/trunc.pcap/' good.yml > trunc.yml
start_bg sink4.out "$SINK" 127.0.0.1 21004 --idle 1
wait_udp_listen 21004 || exit 1
in_ns "$TELREP" -t trunc.yml -q --stats-json trunc.json 2> trunc.err
eq "truncated capture: exit status 1" "$?" 1
check "truncated capture: message says truncated" grep -q "truncated" trunc.err
wait "$LAST_PID"
eq "truncated capture: the whole packets before the cut were sent" "$(jq .datagrams sink4.out)" 59

# --- unmapped sources are skipped and counted
sed '/10.0.0.2/d' good.yml > unmapped.yml
start_bg sink5.out "$SINK" 127.0.0.1 21004 --idle 1
wait_udp_listen 21004 || exit 1
in_ns "$TELREP" -t unmapped.yml -q --stats-json unmapped.json
eq "unmapped: exit status" "$?" 0
wait "$LAST_PID"
eq "unmapped: only the mapped router's packets arrive" "$(jq .datagrams sink5.out)" 30
eq "unmapped: counted" "$(jq .skipped.unmapped unmapped.json)" 30
eq "unmapped: source named in the report" "$(jq -r '.unmapped_sources[0].src_ip' unmapped.json)" 10.0.0.2
finish
