#!/usr/bin/env bash
# nfdump's nfcapd as the collector: the flows it stores equal the records replayed,
# and every record's exporter is the router's repro_ip (IPFIX, v9 and v5).
. "$(dirname "$0")/lib.sh"
need nfcapd nfdump jq
make_ns 203.0.113.21 203.0.113.22 2001:db8:90::1
cd "$WORK"
$GEN -o ipfix.pcap --format ipfix --src 10.0.0.1 --routers 2 --packets 20 --records 5 --interval 0.002 > ipfix.json
$GEN -o v9.pcap --format v9 --src 10.9.0.1 --packets 10 --records 3 --interval 0.002 > v9.json
$GEN -o v5.pcap --format v5 --src 10.5.0.1 --packets 5 --records 10 --interval 0.002 > v5.json
cat > c.yml <<CONF
pcap: [ipfix.pcap, v9.pcap, v5.pcap]
time_factor: 0
no_sync: true
network:
  map:
    - {src_ip: 10.0.0.1, repro_ip: 203.0.113.21}
    - {src_ip: 10.0.0.2, repro_ip: 203.0.113.22}
    - {src_ip: 10.9.0.1, repro_ip: 203.0.113.22}
    - {src_ip: 10.5.0.1, repro_ip: 203.0.113.21}
ipfix:
  collector: {ip: 127.0.0.1, port: 20992}
CONF
mkdir -p nf
start_bg nfcapd.log nfcapd -b 127.0.0.1 -p 20992 -w "$WORK/nf" -t 60
NFCAPD_PID=$LAST_PID
wait_udp_listen 20992 || exit 1
in_ns "$TELREP" -t c.yml -q
eq "telrep exit status" "$?" 0
sleep 1
stop_pid "$NFCAPD_PID" TERM
want=$(( $(jq .records ipfix.json) + $(jq .records v9.json) + $(jq .records v5.json) ))
eq "nfdump flows = records" "$(nfdump -R nf -q -o 'fmt:%ra' | grep -c .)" "$want"
eq "flows exported by 203.0.113.21" "$(nfdump -R nf -q -o 'fmt:%ra' | grep -c '203.0.113.21')" \
   "$(( $(jq '.routers["10.0.0.1"]' ipfix.json) + $(jq .records v5.json) ))"
eq "flows exported by 203.0.113.22" "$(nfdump -R nf -q -o 'fmt:%ra' | grep -c '203.0.113.22')" \
   "$(( $(jq '.routers["10.0.0.2"]' ipfix.json) + $(jq .records v9.json) ))"
finish
