#!/usr/bin/env bash
# The reference captures of ../shared/pcaps with the Python tool's own configs
# (pcap paths rewritten, collector pointed at the test, time_factor shortened): the rows
# nfacctd decodes from the live replay equal those it decodes from the capture file
# itself (pcap_savefile), and come from the configured repro_ip.
. "$(dirname "$0")/lib.sh"
if [ -z "$SHARED" ] || [ ! -d "$SHARED/pcaps/anchor" ]; then
    echo "skip - ../shared/pcaps not present"
    exit 0
fi
need nfacctd jq
make_ns 192.168.100.1 192.168.100.2
cd "$WORK"

# anchor-config rewrite: pcap paths, the collector, the speed
rewrite() { # rewrite config.yml out.yml
    sed -e "s#examples/pcaps/#$SHARED/pcaps/anchor/#; s#examples/pcap_processing/#$SHARED/pcaps/anchor/#" \
        -e 's/^\(\s*\)ip: *[0-9A-Za-z.:]*\s*\(#.*\)\?$/\1ip: 127.0.0.1/' \
        -e 's/^\(\s*\)port: *[0-9]*\s*\(#.*\)\?$/\1port: 20991/' \
        -e 's/^time_factor:.*/time_factor: 0.05/' "$1" > "$2"
}

# rows nfacctd decodes from the capture itself
offline_rows() { # offline_rows pcap dir
    mkdir -p "$2"
    cat > "$2/off.conf" <<CONF
daemonize: false
pcap_savefile: $1
pcap_savefile_wait: true
nfacctd_time_new: true
plugins: print[p]
aggregate[p]: src_host, dst_host, src_port, dst_port, proto, tos, timestamp_start, timestamp_end
print_output[p]: json
print_output_file[p]: $2/flows-%s.json
print_output_file_append[p]: true
print_refresh_time[p]: 1
CONF
    nfacctd -f "$2/off.conf" > "$2/off.log" 2>&1 &
    local pid=$!
    sleep 4
    kill -INT $pid; wait $pid 2>/dev/null
    # pcap_savefile_wait may read the file twice: compare distinct flows, not lines
    cat "$2"/flows-*.json 2>/dev/null | flow_keys
}

flow_keys() { jq -c '[.ip_src, .ip_dst, .port_src, .port_dst, .ip_proto, .tos, .timestamp_start, .timestamp_end]' | sort -u; }

for name in ipfix-traffic nfv9-traffic ipfix-vmware; do
    rewrite "$SHARED/compat/anchor-configs/$name.yml" "$name.yml"
    if ! grep -q '^network:' "$name.yml"; then # a pcap-proc config: add a map and a collector
        src=10.212.233.8 # the exporter of ipfix-vmware (pcaps/README.md)
        cat >> "$name.yml" <<CONF
network:
  map:
    - {src_ip: $src, repro_ip: 192.168.100.1}
CONF
        sed -i 's/^\(\s*\)- 9991$/\1- 9991\n  collector: {ip: 127.0.0.1, port: 20991}/' "$name.yml"
    fi
    start_nfacctd "$WORK/live-$name" 127.0.0.1 20991 || exit 1
    in_ns "$TELREP" -t "$name.yml" --no-sync --stats-json "$name.stats.json" -q
    eq "$name: telrep exit status" "$?" 0
    live=$(nfacctd_rows "$WORK/live-$name")
    offline_rows "$SHARED/pcaps/anchor/$name.pcap" "$WORK/off-$name" > "off-$name.keys"
    echo "$live" | flow_keys > "live-$name.keys"
    check "$name: the offline oracle decodes flows ($(wc -l < "off-$name.keys"))" [ -s "off-$name.keys" ]
    check "$name: live flows = flows decoded from the capture" cmp -s "live-$name.keys" "off-$name.keys"
    eq "$name: every row from repro_ip" "$(echo "$live" | jq -r .peer_ip_src | sort -u)" "192.168.100.1"
    eq "$name: packets sent = capture packets" "$(jq .sent "$name.stats.json")" \
       "$(jq .read "$name.stats.json")"
done
finish
