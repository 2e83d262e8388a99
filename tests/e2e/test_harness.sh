#!/usr/bin/env bash
# A harness-friendly run (issue 14 item 5): a test that waits on telrep's ready file instead
# of sleeping, follows its --events lines and scrapes its metrics. BGP goes to pmbgpd and
# gobgpd (which refuses one router's AS with a NOTIFICATION), BMP to a pmbmpd started only
# once telrep said the collector refused, IPFIX to a port where nothing listens; the body
# is looped twice. Every events line is JSON with its time and event; the metrics file and
# the HTTP scrape parse with prometheus_client's parser (Debian python3-prometheus-client)
# and say what the report says.
. "$(dirname "$0")/lib.sh"
need jq ss pmbgpd pmbmpd gobgpd mergecap /usr/bin/python3
/usr/bin/python3 -c 'import prometheus_client.parser' ||
    { echo "FAIL - python3-prometheus-client is missing (make deps installs it)"; exit 1; }
make_ns 203.0.113.21 203.0.113.22
cd "$WORK"
$GEN -o bgp1.pcap --format bgp --routers 1 --packets 20 --records 2 --hold 30 --interval 0.05 > bgp1.json
$GEN -o bgp2.pcap --format bgp --routers 1 --src 10.0.0.2 --asn 65002 --packets 20 --records 2 --hold 30 \
    --interval 0.05 > bgp2.json
$GEN -o bmp.pcap --format bmp --routers 2 --peers 2 --packets 20 --records 2 --interval 0.05 > bmp.json
$GEN -o ipfix.pcap --format ipfix --routers 2 --packets 20 --records 2 --interval 0.05 > ipfix.json
mergecap -F pcap -w all.pcap bgp1.pcap bgp2.pcap bmp.pcap ipfix.pcap
cat > c.yml <<CONF
pcap: all.pcap
time_factor: 1
no_sync: true
loop: {count: 2, gap: 0.5}
network:
  map:
    - {src_ip: 10.0.0.1, repro_ip: 203.0.113.21}
    - {src_ip: 10.0.0.2, repro_ip: 203.0.113.22}
bgp:
  select: {tcp: {dport: [179]}}
  collector: [{ip: 127.0.0.1, port: 20179}, {ip: 127.0.0.1, port: 20180}]
  open_timeout: 5
bmp:
  select: {tcp: {dport: [1790]}}
  collector: {ip: 127.0.0.1, port: 21790}
  reconnect: true
ipfix:
  select: {udp: {dport: [9991]}}
  collector: {ip: 127.0.0.1, port: 20991}
CONF
start_pmbgpd "$WORK/pmbgp" 20179 || exit 1
start_gobgpd "$WORK/gobgp" 20180 50074 203.0.113.0/24 || exit 1

wait_for() { # wait_for what command...: until the command succeeds (100 ms steps, 30 s at most)
    local what=$1; shift
    for _ in $(seq 300); do "$@" && return 0; sleep 0.1; done
    echo "# gave up waiting for $what"
    return 1
}
has_event() { grep -q "\"event\":\"$1\"" events.jsonl 2>/dev/null; }
scrape() { in_ns /usr/bin/python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' "$1"; }

ip netns exec "$NS" "$TELREP" -t c.yml -q --keep-open --events events.jsonl --ready ready.json \
    --metrics metrics.prom --metrics-interval 0.5 --metrics-listen 127.0.0.1:29460 --stats-json report.json &
TP=$!
PIDS+=($TP)
check "the BMP collector's refusal is an event" wait_for "collector_refused" has_event collector_refused
check "no ready file while a session is down" test ! -e ready.json
start_pmbmpd "$WORK/pmbmp" 21790 || exit 1
check "the ready file, once the BMP sessions are up" wait_for "ready.json" test -s ready.json
eq "ready: every session counted (2 BGP x 2 collectors, 2 BMP), gobgpd's refusal apart" \
    "$(jq -c '[.sessions, .failed]' ready.json)" "[5,1]"
check "the BMP collector's recovery is an event" has_event collector_recovered
wait_for "the second pass" has_event loop_pass
scrape http://127.0.0.1:29460/metrics > scraped.prom
eq "HTTP: a scrape of the running replay: a series per router, protocol and collector" \
    "$(grep -c '^telrep_messages_total{' scraped.prom)" 8
eq "HTTP: telrep_done 0 while it runs" "$(grep '^telrep_done ' scraped.prom)" "telrep_done 0"
eq "HTTP: another path is not found" \
    "$(in_ns /usr/bin/python3 -c 'import urllib.request, urllib.error
try: urllib.request.urlopen("http://127.0.0.1:29460/x")
except urllib.error.HTTPError as e: print(e.code)')" 404
check "the captures replayed (keep_open waits)" wait_for replayed has_event replayed
kill -TERM $TP
wait $TP
eq "exit status 1: gobgpd refused a router" "$?" 1

# every line: JSON with time and event; the events a harness waits for are there
eq "events: every line is a JSON object with time and event" \
    "$(jq -c 'select((.time | type) == "string" and (.event | type) == "string")' events.jsonl | wc -l)" \
    "$(wc -l < events.jsonl)"
for e in run_start capture_start capture_end loop_pass session_connected collector_open notification \
         session_down collector_refused collector_recovered ready replayed done; do
    check "events: $e" has_event $e
done
eq "events: the NOTIFICATION by name, from gobgpd, about router 10.0.0.2" \
    "$(jq -r 'select(.event == "notification") | "\(.router) \(.collector) \(.name)"' events.jsonl | sort -u)" \
    "10.0.0.2 127.0.0.1:20180 OPEN Message Error / Bad Peer AS (2/2)"
eq "events: the collectors' OPENs (pmbgpd answers with each router's AS, gobgpd with its own)" \
    "$(jq -r 'select(.event == "collector_open") | "\(.router) \(.collector) \(.as)"' events.jsonl | sort -u | tr '\n' ' ')" \
    "10.0.0.1 127.0.0.1:20179 65001 10.0.0.1 127.0.0.1:20180 65000 10.0.0.2 127.0.0.1:20179 65002 10.0.0.2 127.0.0.1:20180 65000 "
eq "events: UDP refusal named per router" \
    "$(jq -r 'select(.event == "collector_refused" and .protocol == "ipfix") | .router' events.jsonl | sort -u | tr '\n' ' ')" \
    "10.0.0.1 10.0.0.2 "
eq "events: done last, with the exit status" "$(tail -1 events.jsonl | jq -c '[.event, .exit_status, .outcome]')" \
    '["done",1,"failed"]'
eq "events: two passes" "$(jq -c 'select(.event == "loop_pass") | .pass' events.jsonl)" 2

# the metrics file: strict parse, and the report's numbers
cat > parse.py <<'PY'
import json, sys
from prometheus_client.parser import text_string_to_metric_families
samples = {}
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        key = s.name + "," + ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
        if key in samples:
            sys.exit("duplicate series " + key)
        samples[key] = s.value
print(json.dumps(samples))
PY
/usr/bin/python3 parse.py metrics.prom > metrics.json
check "metrics file: parsed strictly, no duplicate series" test -s metrics.json
/usr/bin/python3 parse.py scraped.prom > /dev/null
check "HTTP scrape: parsed strictly" test $? -eq 0
eq "metrics: done" "$(jq '.["telrep_done,"]' metrics.json)" 1
m() { jq ".[\"telrep_$1_total,collector=$2,protocol=$3,repro_ip=$4,router=$5\"]" metrics.json; }
eq "metrics: BMP messages of 10.0.0.1 = the report's" "$(m messages 127.0.0.1:21790 bmp 203.0.113.21 10.0.0.1)" \
    "$(jq '[.sessions[] | select(.router == "10.0.0.1" and .protocol == "bmp") | .messages_sent] | add | . + 0.0' report.json)"
eq "metrics: BMP connection attempts refused counted" \
    "$(jq '.["telrep_refused_total,collector=127.0.0.1:21790,protocol=bmp,repro_ip=203.0.113.21,router=10.0.0.1"] > 0' metrics.json)" true
eq "metrics: IPFIX refused = the report's" "$(m refused 127.0.0.1:20991 ipfix 203.0.113.22 10.0.0.2)" \
    "$(jq '.routers[] | select(.src_ip == "10.0.0.2") | .protocols.ipfix.refused + 0.0' report.json)"
eq "metrics: gobgpd's share of 10.0.0.2 lost" "$(jq '.["telrep_lost_total,collector=127.0.0.1:20180,protocol=bgp,repro_ip=203.0.113.22,router=10.0.0.2"] > 0' metrics.json)" true
eq "metrics: the lag summary" "$(jq '.["telrep_lag_seconds_count,"] > 0' metrics.json)" true
finish
