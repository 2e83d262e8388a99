#!/usr/bin/env bash
# IPFIX, NetFlow v9 and v5 captures, replayed at once by two IPv4 and one IPv6 router
# to pmacct nfacctd: every record becomes a row, and each row's exporter is the
# configured repro_ip.
. "$(dirname "$0")/lib.sh"
need nfacctd jq ss
make_ns 203.0.113.21 203.0.113.22 2001:db8:90::1
cd "$WORK"
$GEN -o ipfix.pcap --format ipfix --routers 2 --src 10.0.0.1 --packets 40 --records 7 --interval 0.002 > ipfix.json
$GEN -o v9.pcap --format v9 --src 10.9.0.1 --packets 15 --records 4 --interval 0.002 --start 1672534900 > v9.json
$GEN -o v5.pcap --format v5 --src 2001:db8:5::1 --dst 2001:db8::100 --packets 10 --records 30 --interval 0.002 > v5.json
cat > c.yml <<CONF
pcap: [ipfix.pcap, v9.pcap, v5.pcap]
time_factor: 0.5
no_sync: true
network:
  map:
    - {src_ip: 10.0.0.1, repro_ip: 203.0.113.21}
    - {src_ip: 10.0.0.2, repro_ip: 2001:db8:90::1}
    - {src_ip: 10.9.0.1, repro_ip: 203.0.113.22}
    - {src_ip: 2001:db8:5::1, repro_ip: 203.0.113.21}
ipfix:
  select:
    udp:
      dport: [9991]
  collector: {ip: localhost, port: 20991}
CONF
start_nfacctd "$WORK/nf" "::" 20991 || exit 1
in_ns "$TELREP" -t c.yml --stats-json stats.json -q
eq "telrep exit status" "$?" 0
nfacctd_rows "$WORK/nf" > rows.json

want=$(( $(jq .records ipfix.json) + $(jq .records v9.json) + $(jq .records v5.json) ))
eq "nfacctd rows = records in the captures" "$(wc -l < rows.json)" "$want"
# per exporter: 10.0.0.1 and 2001:db8:5::1 share 203.0.113.21
eq "rows from 203.0.113.21" "$(jq -r 'select(.peer_ip_src=="203.0.113.21")' rows.json | grep -c '"peer_ip_src"')" \
   "$(( $(jq '.routers["10.0.0.1"]' ipfix.json) + $(jq .records v5.json) ))"
eq "rows from 2001:db8:90::1" "$(jq -r 'select(.peer_ip_src=="2001:db8:90::1")' rows.json | grep -c '"peer_ip_src"')" \
   "$(jq '.routers["10.0.0.2"]' ipfix.json)"
eq "rows from 203.0.113.22 (NetFlow v9)" "$(jq -r 'select(.peer_ip_src=="203.0.113.22")' rows.json | grep -c '"peer_ip_src"')" \
   "$(jq .records v9.json)"
eq "no row from another address" "$(jq -r .peer_ip_src rows.json | sort -u | tr '\n' ' ')" \
   "2001:db8:90::1 203.0.113.21 203.0.113.22 "
eq "report: packets sent" "$(jq .sent stats.json)" 65
eq "report: v5 messages of router 2001:db8:5::1" \
   "$(jq '.routers[] | select(.src_ip=="2001:db8:5::1") | .protocols.ipfix.messages.netflow_v5' stats.json)" 10
eq "report: v5 records counted" "$(jq '.routers[] | select(.src_ip=="2001:db8:5::1") | .protocols.ipfix.records' stats.json)" 300
eq "report: nothing refused" "$(jq .refused stats.json)" 0

# Issue 13: looped 3 times with sequence: continuous and export_time: now, nfacctd with
# nfacctd_time_new false (it files flows by their own times) takes every packet of every pass
# and files every flow in the run's minutes. (nfacctd 1.7.7 does not log sequence gaps
# unless debugging; test_nfcapd counts them with nfdump.)
loop_to_nfacctd() { # name port [ipfix keys...]
    local name=$1 port=$2; shift 2
    {
        echo "pcap: [ipfix.pcap, v9.pcap, v5.pcap]"
        echo "repeat: {count: [3, 3, 3], pattern: round-robin}"
        sed -n '/^time_factor/,/^ipfix:/p' c.yml | sed 's/^time_factor:.*/time_factor: 0.2/'
        echo "  collector: {ip: localhost, port: $port}"
        for k in "$@"; do echo "  $k"; done
    } > "$name.yml"
    start_nfacctd "$WORK/nf-$name" "::" "$port" false || return 1
    in_ns "$TELREP" -t "$name.yml" -q
    eq "$name: telrep exit status" "$?" 0
    nfacctd_rows "$WORK/nf-$name" > "rows-$name.json"
}
packets() { jq -s 'map(.packets) | add' "$1"; }
loop_to_nfacctd keep 20995
t0=$(date +%s)
# (the directory's name is short on purpose: nfacctd 1.7.7 corrupts its heap and dies with some
# lengths of nfacctd_templates_file's path, /tmp/telrep-e2e.XXXXXX/nf-continuous/templates.json
# among them, whatever it receives)
loop_to_nfacctd cont 20996 "sequence: continuous" "export_time: now"
t1=$(date +%s)
eq "keep: every packet of the 3 passes counted" "$(packets rows-keep.json)" "$(( $(packets rows.json) * 3 ))"
eq "continuous: every packet of the 3 passes counted" "$(packets rows-cont.json)" "$(( $(packets rows.json) * 3 ))"
old=$(jq -r '.timestamp_end' rows-cont.json | while read -r ts; do
    e=$(date -d "$ts" +%s 2>/dev/null) || { echo x; continue; }
    [ "$e" -ge $((t0 - 1)) ] && [ "$e" -le $((t1 + 1)) ] || echo x; done | grep -c x)
eq "export_time now, nfacctd_time_new false: every flow ends within the run" "$old" 0
eq "keep, nfacctd_time_new false: the flows are filed in 2023, as captured" \
   "$(jq -r '.timestamp_end[0:4]' rows-keep.json | sort -u)" 2023

# Issue 13: templates: prime. A capture that starts after its template (the template comes in a
# later capture of the list): without priming nfacctd cannot decode its data; with it, the
# templates learned from the whole list go first and every record is decoded.
$GEN -o mid.pcap --format ipfix --src 10.0.0.1 --packets 20 --records 7 --interval 0.002 \
    --template-every 1000 --first-seq 1 > mid.json
$GEN -o tmpl.pcap --format ipfix --src 10.0.0.1 --packets 1 --records 7 --start 1672534900 \
    --template-every 1000 > tmpl.json
ipfix_yml() { # ipfix_yml name port pcap-list time_factor [ipfix keys...]: one router to 127.0.0.1:port
    local name=$1 port=$2 pcaps=$3 tf=$4; shift 4
    {
        echo "pcap: $pcaps"
        echo "time_factor: $tf"
        echo "no_sync: true"
        echo "network: {map: [{src_ip: 10.0.0.1, repro_ip: 203.0.113.21}]}"
        echo "ipfix:"
        echo "  collector: {ip: 127.0.0.1, port: $port}"
        for k in "$@"; do echo "  $k"; done
    } > "$name.yml"
}
prime_run() { # name port [ipfix keys...]
    local name=$1 port=$2; shift 2
    ipfix_yml "$name" "$port" "[mid.pcap, tmpl.pcap]" 0 "$@"
    start_nfacctd "$WORK/p-$name" "::" "$port" true no || return 1
    in_ns "$TELREP" -t "$name.yml" -q --stats-json "$name.json"
    eq "$name: telrep exit status" "$?" 0
    nfacctd_rows "$WORK/p-$name" > "rows-$name.json"
}
prime_run unprimed 20997
prime_run primed 20998 "templates: prime"
eq "without priming: only the records after the template are decoded" "$(wc -l < rows-unprimed.json)" \
   "$(jq .records tmpl.json)"
eq "templates: prime: every record is decoded" "$(wc -l < rows-primed.json)" \
   "$(( $(jq .records mid.json) + $(jq .records tmpl.json) ))"
eq "the report counts the primed message" \
   "$(jq '.routers[0].protocols.ipfix.template_messages_primed' primed.json)" 2

# A collector restarted mid-run (it forgets the templates: no templates file) decodes again at
# once: the refusals while it was away prime the templates again.
$GEN -o long.pcap --format ipfix --src 10.0.0.1 --packets 80 --records 5 --interval 0.05 \
    --template-every 1000 > long.json
restart_run() { # name port [ipfix keys...]
    local name=$1 port=$2; shift 2
    ipfix_yml "$name" "$port" "[long.pcap]" 1 "$@"
    start_nfacctd "$WORK/r1-$name" "::" "$port" true no || return 1
    in_ns "$TELREP" -t "$name.yml" -q > /dev/null 2>&1 &
    local telrep=$!
    sleep 1
    stop_pid "$NFACCTD_PID" INT
    start_nfacctd "$WORK/r2-$name" "::" "$port" true no || return 1
    wait "$telrep"
    nfacctd_rows "$WORK/r2-$name" > "rows-after-$name.json"
}
restart_run plain 20999
restart_run reprimed 21000 "templates: prime"
eq "without priming the restarted nfacctd decodes nothing" "$(wc -l < rows-after-plain.json)" 0
check "with priming it decodes what came after its restart ($(wc -l < rows-after-reprimed.json) records)" \
    test "$(wc -l < rows-after-reprimed.json)" -gt 0
finish
