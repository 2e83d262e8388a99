#!/usr/bin/env bash
# The BMP and BGP reference captures of ../shared/pcaps with the Python tool's own configs
# (pcap paths rewritten, collectors pointed at pmbmpd / pmbgpd in the namespace; the long
# multi-source repeats at time_factor 0): per router address, telrep sends every message
# of every type tshark finds in the captures (times the repeats), and the collector logs
# every INIT, PEER_UP and route monitoring of them.
. "$(dirname "$0")/lib.sh"
if [ -z "$SHARED" ] || [ ! -d "$SHARED/pcaps/anchor" ]; then
    echo "skip - ../shared/pcaps not present"
    exit 0
fi
need pmbmpd pmbgpd tshark jq
addrs=""
for i in $(seq 1 14); do addrs="$addrs 192.168.100.$i"; done
for i in $(seq 1 8); do addrs="$addrs cafe::$i"; done
make_ns $addrs
cd "$WORK"
A=$SHARED/pcaps/anchor

rewrite() { # rewrite config out collector-ip port [time_factor]
    sed -e "s#examples/pcaps/#$A/#; s#bgp-multi-sources-open#bgp-multi-souces-open#" \
        -e "s/^\(\s*\)ip: *[0-9A-Za-z.:]*\s*\(#.*\)\?$/\1ip: \"$3\"/" \
        -e "s/^\(\s*\)port: *[0-9]*\s*\(#.*\)\?$/\1port: $4/" \
        -e "s/^keep_open:.*/keep_open: false/" "$1" > "$2"
    [ -n "${5:-}" ] && sed -i "s/^time_factor:.*/time_factor: $5/" "$2"
    return 0
}
# per source address and message type, in the captures: "src type count"
tshark_counts() { # tshark_counts filter field decode pcap...
    local filter=$1 field=$2 decode=$3; shift 3
    for f in "$@"; do
        tshark -r "$f" $decode -Y "$filter" -T fields -e ip.src -e ipv6.src -e "$field" 2>/dev/null
    done | awk -F'\t' '{ src = $1 != "" ? $1 : $2; n = split($3, t, ","); for (i = 1; i <= n; i++) c[src " " t[i]]++ }
                       END { for (k in c) print k, c[k] }' | sort
}
bmp_name() { case $1 in 0) echo route_monitoring;; 1) echo stats;; 2) echo peer_down;; 3) echo peer_up;;
             4) echo init;; 5) echo term;; 100) echo rpat;; *) echo other;; esac; }
# how many "src type count" lines of a want file differ from the report (each one is shown)
mismatches() { # mismatches want report proto name-function
    local bad=0 src type n got
    while read -r src type n; do
        [ "$3" = bgp ] && [ "$type" = 4 ] && n=$((n - $(replaced "$src" "$2")))
        got=$(jq ".routers[] | select(.src_ip == \"$src\") | .protocols.$3.messages.$($4 "$type") // 0" "$2")
        [ "$got" = "$n" ] || { bad=$((bad + 1)); echo "  $src $($4 "$type"): sent $got, capture x repeat $n" >&2; }
    done < "$1"
    echo "$bad"
}
bgp_name() { case $1 in 1) echo open;; 2) echo update;; 3) echo notification;; 4) echo keepalive;; esac; }
# the router's KEEPALIVEs that answered its collector's OPEN: telrep answers the live
# collector itself, so those are not replayed (issue 12 item 9)
replaced() { jq "[.sessions[] | select(.router == \"$1\") | .confirms_replaced] | add // 0" "$2"; }

# --- BMP: bmp-traffic, once
rewrite "$SHARED/compat/anchor-configs/bmp-traffic.yml" bmp1.yml 127.0.0.1 21790
start_pmbmpd "$WORK/bmp1" 21790
in_ns "$TELREP" -t bmp1.yml -q --stats-json bmp1.json
eq "bmp-traffic: exit status" "$?" 0
sleep 1
stop_pid "$PMBMPD_PID" INT
tshark_counts bmp bmp.type "-d tcp.port==1790,bmp" "$A/bmp-traffic.pcap" > bmp1.want
while read -r src type n; do
    eq "bmp-traffic: $src $(bmp_name "$type") sent" \
        "$(jq ".routers[] | select(.src_ip == \"$src\") | .protocols.bmp.messages.$(bmp_name "$type")" bmp1.json)" "$n"
done < bmp1.want
eq "bmp-traffic: pmbmpd logged the INIT" "$(msglog_count "$WORK/bmp1" bmp 192.168.100.1 bmp_msg_type init)" 1
eq "bmp-traffic: pmbmpd logged every PEER_UP" "$(msglog_count "$WORK/bmp1" bmp 192.168.100.1 bmp_msg_type peer_up)" \
    "$(awk '$2 == 3 {print $3}' bmp1.want)"
eq "bmp-traffic: pmbmpd logged every route monitoring" \
    "$(msglog_count "$WORK/bmp1" bmp 192.168.100.1 bmp_msg_type route_monitor)" "$(awk '$2 == 0 {print $3}' bmp1.want)"

# --- BMP: 14 routers over four captures (INIT, PEER_UP, route monitoring x10, stats x10)
rewrite "$SHARED/compat/anchor-configs/bmp-multi-sources-repeat.yml" bmpm.yml 127.0.0.1 21790 0
start_pmbmpd "$WORK/bmpm" 21790
in_ns "$TELREP" -t bmpm.yml -q --stats-json bmpm.json
eq "bmp multi-sources: exit status" "$?" 0
sleep 2
stop_pid "$PMBMPD_PID" INT
{
    tshark_counts bmp bmp.type "-d tcp.port==1790,bmp" "$A/bmp-multi-sources-init.pcap" "$A/bmp-multi-sources-peer-up.pcap"
    tshark_counts bmp bmp.type "-d tcp.port==1790,bmp" "$A/bmp-multi-sources-route-monitoring.pcap" \
        "$A/bmp-multi-sources-stats.pcap" > bmpm.once
    for _ in $(seq 10); do cat bmpm.once; done
} | awk '{ c[$1 " " $2] += $3 } END { for (k in c) print k, c[k] }' | sort > bmpm.want
eq "bmp multi-sources: every message of every type, per router, with the repeats ($(wc -l < bmpm.want) router/type pairs)" \
    "$(mismatches bmpm.want bmpm.json bmp bmp_name)" 0
bad=0
for repro in $(jq -r '.routers[] | select(.protocols.bmp.messages.init) | .repro_ip' bmpm.json); do
    src=$(jq -r ".routers[] | select(.repro_ip == \"$repro\") | .src_ip" bmpm.json)
    for t in init peer_up; do
        want=$(jq ".routers[] | select(.repro_ip == \"$repro\") | .protocols.bmp.messages.$t // 0" bmpm.json)
        got=$(msglog_count "$WORK/bmpm" bmp "$repro" bmp_msg_type $t)
        [ "$got" = "$want" ] || { bad=$((bad + 1)); echo "  $src ($repro) $t: pmbmpd $got, sent $want"; }
    done
done
eq "bmp multi-sources: pmbmpd logged every INIT and PEER_UP per router" "$bad" 0
eq "bmp multi-sources: one session per router for the whole run" \
    "$(jq '(.sessions | length) == (.sessions | map(.router) | unique | length)' bmpm.json)" true

# --- the segmented BMP + IPFIX scenario: one router's BMP session across seven captures (INIT
# and PEER_UPs, route monitoring, Loc-RIB and global peer down/up) with IPFIX in between
rewrite "$SHARED/compat/anchor-configs/ipfix-bmp-scenario-segmented.yml" scen.yml ::1 21790 0.1
sed -i "/^ipfix:/,\$ s/port: 21790/port: 21991/" scen.yml
start_pmbmpd "$WORK/scen" 21790 ::
start_bg scen-udp.out "$SINK" ::1 21991 --idle 3 --timeout 120
SCEN_UDP_PID=$LAST_PID
wait_udp_listen 21991
in_ns "$TELREP" -t scen.yml -q --stats-json scen.json
eq "bmp/ipfix scenario: exit status" "$?" 0
sleep 1
stop_pid "$PMBMPD_PID" INT
wait "$SCEN_UDP_PID"
parts=("$A"/ipfix-bmp-scenario-PART*.pcap)
tshark_counts bmp bmp.type "-d tcp.port==1790,bmp" "${parts[@]}" > scen.want
while read -r src type n; do
    eq "bmp/ipfix scenario: $src $(bmp_name "$type") sent" \
        "$(jq ".routers[] | select(.src_ip == \"$src\") | .protocols.bmp.messages.$(bmp_name "$type")" scen.json)" "$n"
done < scen.want
for t in init:4 peer_up:3 peer_down:2; do
    eq "bmp/ipfix scenario: pmbmpd logged every ${t%:*}" \
        "$(msglog_count "$WORK/scen" bmp cafe::1 bmp_msg_type "${t%:*}")" "$(awk -v t="${t#*:}" '$2 == t {print $3}' scen.want)"
done
check "bmp/ipfix scenario: pmbmpd logged the route monitoring" \
    [ "$(msglog_count "$WORK/scen" bmp cafe::1 bmp_msg_type route_monitor)" -ge "$(awk '$2 == 0 {print $3}' scen.want)" ]
eq "bmp/ipfix scenario: one BMP session for the seven captures" "$(jq '[.sessions[] | select(.protocol == "bmp")] | length' scen.json)" 1
eq "bmp/ipfix scenario: every IPFIX packet" "$(jqf .datagrams scen-udp.out)" \
    "$(for f in "${parts[@]}"; do tshark -r "$f" -Y "udp.dstport == 9991" 2>/dev/null; done | wc -l)"

# --- BGP: bgp-traffic
rewrite "$SHARED/compat/anchor-configs/bgp-traffic.yml" bgp1.yml 127.0.0.1 20179
start_pmbgpd "$WORK/bgp1" 20179
in_ns "$TELREP" -t bgp1.yml -q --stats-json bgp1.json
eq "bgp-traffic: exit status" "$?" 0
sleep 1
stop_pid "$PMBGPD_PID" INT
tshark_counts "bgp" bgp.type "" "$A/bgp-traffic.pcap" > bgp1.want
while read -r src type n; do
    [ "$type" = 4 ] && n=$((n - $(replaced "$src" bgp1.json)))
    eq "bgp-traffic: $src $(bgp_name "$type") sent" \
        "$(jq ".routers[] | select(.src_ip == \"$src\") | .protocols.bgp.messages.$(bgp_name "$type") // 0" bgp1.json)" "$n"
done < bgp1.want
check "bgp-traffic: pmbgpd logged the UPDATEs' prefixes" \
    [ "$(msglog_count "$WORK/bgp1" bgp 192.168.100.1 log_type update)" -ge "$(awk '$2 == 2 {print $3}' bgp1.want)" ]

# --- BGP: 8 sessions (v4 and v6 sharing BGP IDs), OPENs then UPDATE/KEEPALIVE x100, IPv6 repro addresses
rewrite "$SHARED/compat/anchor-configs/bgp-multi-sources-repeat.yml" bgpm.yml ::1 20179 0
start_pmbgpd "$WORK/bgpm" 20179 ::
in_ns "$TELREP" -t bgpm.yml -q --stats-json bgpm.json
eq "bgp multi-sources: exit status" "$?" 0
sleep 2
stop_pid "$PMBGPD_PID" INT
{
    tshark_counts bgp bgp.type "" "$A/bgp-multi-souces-open.pcap"
    tshark_counts bgp bgp.type "" "$A/bgp-multi-sources-update-keepalive.pcap" > bgpm.once
    for _ in $(seq 100); do cat bgpm.once; done
} | awk '{ c[$1 " " $2] += $3 } END { for (k in c) print k, c[k] }' | sort > bgpm.want
eq "bgp multi-sources: every OPEN, UPDATE and KEEPALIVE per router, with the repeats" \
    "$(mismatches bgpm.want bgpm.json bgp bgp_name)" 0
eq "bgp multi-sources: all 8 sessions established with pmbgpd" \
    "$(jq '[.sessions[] | select(.peer.as)] | length' bgpm.json)" 8
finish
