#!/usr/bin/env bash
# MRT archives replayed as live BMP and BGP sessions (issue 15). bgpdump is the reference
# decoder: for every dump, what pmbmpd and pmbgpd log from telrep's replay is what
# `bgpdump -m` lists, route by route (peer, prefix, path id, AS path, origin, next hop, MED,
# communities: mrt_norm.py), and gobgpd as the BGP collector ends with the RIB the dump leaves
# (`gobgp neighbor N adj-in`). The dumps: gobgpd's own (its mrt-dump of updates and of its
# table while gobgpd speakers with 2- and 4-byte AS numbers, over IPv4 and IPv6, announce,
# withdraw and restart), and tools/mrt-gen's edge cases (ADD-PATH, _ET timestamps, the legacy
# TABLE_DUMP, 2-byte AS sessions, gzip and bzip2, a RIB and its updates as two files, bad
# records, a truncated file).
. "$(dirname "$0")/lib.sh"
need jq ss pmbmpd pmbgpd gobgpd gobgp bgpdump python3 gzip bzip2
NORM="python3 $(cd "$(dirname "$0")" && pwd)/mrt_norm.py"
MRTGEN=$BUILD/mrt-gen
BMP_PORT=21790 BGP_PORT=21791 GOBGP_PORT=21792 GOBGP_API=21793
make_ns
cd "$WORK"

# ---- gobgpd writes the dumps, in a namespace of its own; its table dump comes a minute after
# it starts (gobgpd's shortest interval), so it starts first and the mrt-gen cases run meanwhile
WNS=$NS-w
EXTRA_NS+=("$WNS")
ip netns add "$WNS" || { echo "FAIL - cannot create a network namespace"; exit 1; }
in_w() { ip netns exec "$WNS" "$@"; }
in_w ip link set lo up
in_w ip addr add 203.0.113.1/32 dev lo
in_w ip addr add 203.0.113.2/32 dev lo
in_w ip addr add 203.0.113.100/32 dev lo
in_w ip addr add fd00::1/128 dev lo nodad
in_w ip addr add fd00::4/128 dev lo nodad
start_w() { # start_w log command...
    local log=$1; shift
    ip netns exec "$WNS" "$@" >"$log" 2>&1 &
    PIDS+=($!)
    LAST_PID=$!
}
families='  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"'
mkdir -p w
{
    cat <<CONF
[global.config]
  as = 65000
  router-id = "192.0.2.100"
  port = 1179
  local-address-list = ["203.0.113.100", "fd00::1"]
[global.apply-policy.config]
  default-export-policy = "reject-route"
[[mrt-dump]]
  [mrt-dump.config]
    dump-type = "updates"
    file-name = "w/updates.mrt"
[[mrt-dump]]
  [mrt-dump.config]
    dump-type = "table"
    file-name = "w/table.mrt"
    dump-interval = 60
CONF
    for n in "203.0.113.1 65001" "203.0.113.2 4200000002" "fd00::4 65004"; do
        set -- $n
        printf '[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "%s"\n    peer-as = %s\n' "$1" "$2"
        printf '  [neighbors.timers.config]\n    idle-hold-time-after-reset = 1\n%s\n' "$families"
    done
} > w/writer.toml
# (relative dump names: gobgpd reads the updates file's name as a Go time layout, and the
# digits of a temporary directory's name would be taken for the date)
start_w w/writer.log gobgpd -f w/writer.toml -p --api-hosts 127.0.0.1:51000 --pprof-disable
W_PID=$LAST_PID W_START=$(date +%s)
speaker() { # speaker name address as api collector router-id
    cat > "w/$1.toml" <<CONF
[global.config]
  as = $3
  router-id = "$6"
  port = -1
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$5"
    peer-as = 65000
  [neighbors.timers.config]
    connect-retry = 1
    idle-hold-time-after-reset = 1
  [neighbors.transport.config]
    local-address = "$2"
    remote-port = 1179
$families
CONF
    start_w "w/$1.log" gobgpd -f "w/$1.toml" -p --api-hosts "127.0.0.1:$4" --pprof-disable
    SPEAKER_PID=$LAST_PID
}
sleep 1
speaker s1 203.0.113.1 65001 51001 203.0.113.100 203.0.113.1
speaker s2 203.0.113.2 4200000002 51002 203.0.113.100 203.0.113.2
S2_PID=$SPEAKER_PID
speaker s3 fd00::4 65004 51003 fd00::1 10.0.0.4
established() { in_w gobgp -p 51000 neighbor 2>/dev/null | grep -c Establ; }
for _ in $(seq 150); do [ "$(established)" = 3 ] && break; sleep 0.2; done
eq "gobgpd writer: three speakers established" "$(established)" 3
# (addresses outside 127/8: gobgpd takes a loopback next hop for invalid and drops the route)
# routes, IPv4 and IPv6, of a few attribute sets per speaker; then withdrawals, a changed
# route and a speaker restarted. (The IPv6 session carries IPv6 routes only: pmacct leaves the
# IPv6 next hop of an IPv4 route, RFC 8950, out of its log, where bgpdump shows it.)
for i in 1 2 3; do
    for k in $( [ $i = 3 ] || seq 12); do
        in_w gobgp -p "5100$i" global rib -a ipv4 add "10.$i.$k.0/24" aspath "6510$i,$((65200 + k % 3))" \
            community "6500$i:$((k % 4))" med "$((k % 3))" origin "$([ $((k % 2)) = 0 ] && echo igp || echo egp)" > /dev/null
    done
    for k in 1 2 3; do
        in_w gobgp -p "5100$i" global rib -a ipv6 add "2a01:$i:$k::/48" aspath "6510$i,6520$k" community "6500$i:$k" \
            med "$((i * 10 + k))" origin igp > /dev/null
    done
done
# (the table's #Received column: this gobgp's JSON has no per-peer counts, and a JSON path
# that reads 0 made every wait below run to its limit, 20 s each)
received() { in_w gobgp -p 51000 neighbor 2>/dev/null | awk 'NR > 1 { n += $(NF - 1) } END { print n + 0 }'; }
wait_received() { # until the writer's received count stops moving
    local last=-1 now
    for _ in $(seq 40); do
        now=$(received); [ "$now" = "$last" ] && [ "$now" != 0 ] && return; last=$now; sleep 0.3
    done
}
wait_received
in_w gobgp -p 51001 global rib -a ipv4 del 10.1.2.0/24 > /dev/null
in_w gobgp -p 51001 global rib -a ipv4 del 10.1.3.0/24 > /dev/null
in_w gobgp -p 51003 global rib -a ipv6 del 2a01:3:1::/48 > /dev/null
in_w gobgp -p 51001 global rib -a ipv6 add 2a01:1:2::/48 aspath 65109 med 99 origin egp > /dev/null
wait_received
# the restart: s2 stops and starts again (its new session comes up while the mrt-gen cases run)
stop_pid "$S2_PID" INT
for _ in $(seq 50); do [ "$(established)" = 2 ] && break; sleep 0.2; done
speaker s2 203.0.113.2 4200000002 51002 203.0.113.100 203.0.113.2

# ---- the replay's collectors
mkdir -p bmp bgp
start_pmbmpd "$WORK/bmp" $BMP_PORT
MAX_PEERS=400 start_pmbgpd "$WORK/bgp" $BGP_PORT

# the peers of a dump in the order bgpdump lists them: "address AS" lines
peers_of() { bgpdump -m "$1" 2>/dev/null | awk -F'|' 'NF > 5 { print $4, $5 }' | awk '!seen[$1]++'; }
# let a collector's message log settle (pmacct writes each message as it decodes it)
settle() { # settle files-glob...
    local last=-1 now
    for _ in $(seq 50); do
        now=$(cat "$@" 2>/dev/null | wc -l); [ "$now" = "$last" ] && [ "$now" != 0 ] && return; last=$now; sleep 0.2
    done
}
N_CASE=0
# replay DUMP (one file or "a b" for a RIB and its updates) as BMP to pmbmpd and as BGP to
# pmbgpd; REFERENCE is what bgpdump reads as the routes that should arrive (default: DUMP)
replay_case() { # replay_case label dump [reference] [want-exit]
    local label=$1 dump=$2 ref=${3:-$2} want=${4:-0} k files="" map="" i=0 peer as
    N_CASE=$((N_CASE + 1)); k=$N_CASE
    for f in $dump; do files="$files${files:+, }$f"; done
    # the reference routes: every file bgpdump reads, one after the other
    for f in $ref; do bgpdump -m "$f" 2>/dev/null; done > "$label.bgpdump"
    $NORM routes bgpdump "$label.bgpdump" > "$label.want"
    $NORM sessions bgpdump "$label.bgpdump" > "$label.want-sessions"
    {
        printf 'mrt: {files: [%s], router: 192.0.2.1, sysname: %s}\ntime_factor: 0\n' "$files" "$label"
        printf 'network:\n  map:\n    - {src_ip: 192.0.2.1, repro_ip: 127.0.%d.100}\n' "$k"
        printf 'bmp:\n  collector: {ip: 127.0.0.1, port: %s}\n' $BMP_PORT
    } > "$label-bmp.yml"
    in_ns "$TELREP" -t "$label-bmp.yml" --stats-json "$label-bmp.report" 2> "$label-bmp.err"
    eq "$label: BMP replay exit status" "$?" "$want"
    {
        printf 'mrt: [%s]\ntime_factor: 0\nnetwork:\n  map:\n' "$files"
        while read -r peer as; do
            i=$((i + 1))
            printf '    - {src_ip: "%s", repro_ip: 127.0.%d.%d}\n' "$peer" "$k" "$i"
            map="$map${map:+,}127.0.$k.$i=$peer"
        done < <(for f in $ref; do peers_of "$f"; done | awk '!seen[$1]++')
        printf 'bgp:\n  collector: {ip: 127.0.0.1, port: %s}\n' $BGP_PORT
    } > "$label-bgp.yml"
    in_ns "$TELREP" -t "$label-bgp.yml" --stats-json "$label-bgp.report" 2> "$label-bgp.err"
    eq "$label: BGP replay exit status" "$?" "$want"
    local bmplog="$WORK/bmp/bmp-127_0_${k}_100.json"
    settle "$bmplog"
    settle "$WORK"/bgp/bgp-127_0_${k}_*.json
    $NORM routes msglog "$bmplog" > "$label.bmp-routes"
    $NORM routes msglog "--map=$map" "$WORK"/bgp/bgp-127_0_${k}_*.json > "$label.bgp-routes"
    local n
    n=$(wc -l < "$label.want")
    check "$label: bgpdump lists routes ($n)" [ "$n" -gt 0 ]
    eq "$label: pmbmpd logged what bgpdump lists (routes differing)" \
        "$(diff "$label.want" "$label.bmp-routes" | grep -c '^[<>]')" 0
    eq "$label: pmbgpd logged what bgpdump lists (routes differing)" \
        "$(diff "$label.want" "$label.bgp-routes" | grep -c '^[<>]')" 0
    $NORM sessions msglog "$bmplog" > "$label.bmp-sessions"
    eq "$label: BMP PEER_UP and PEER_DOWN per peer as the dump's sessions" \
        "$(diff "$label.want-sessions" "$label.bmp-sessions" | grep -c '^[<>]')" 0
    $NORM sessions msglog "--map=$map" "$WORK"/bgp/bgp-127_0_${k}_*.json > "$label.bgp-sessions"
    eq "$label: a BGP session per peer and per restart" \
        "$(grep ' ups ' "$label.want-sessions" | diff - "$label.bgp-sessions" | grep -c '^[<>]')" 0
    [ "$want" = 0 ] && eq "$label: nothing lost" "$(jqf '[.sessions[].lost // 0] | add // 0' "$label-bmp.report")" 0
    MAP=$map
}

# ---- the same dump's BGP replay to gobgpd as the collector: its adj-in is the dump's final RIB
gobgp_case() { # gobgp_case label dump
    local label=$1 dump=$2 i=0 peer as dir="$WORK/gobgp-$1"
    mkdir -p "$dir"
    {
        printf '[global.config]\n  as = 4200009999\n  router-id = "127.0.0.1"\n  port = %s\n' $GOBGP_PORT
        printf '  local-address-list = ["127.0.0.1"]\n'
        while read -r peer as; do
            i=$((i + 1))
            printf '[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "127.0.9.%d"\n    peer-as = %s\n' "$i" "$as"
            printf '  [neighbors.transport.config]\n    passive-mode = true\n'
            printf '  [neighbors.timers.config]\n    idle-hold-time-after-reset = 1\n%s\n' "$families"
        done < <(peers_of "$dump")
    } > "$dir/gobgpd.toml"
    START_BG_ERR="$dir/gobgpd.err" start_bg "$dir/gobgpd.log" gobgpd -f "$dir/gobgpd.toml" -p \
        --api-hosts "127.0.0.1:$GOBGP_API" --pprof-disable
    local gpid=$LAST_PID map=""
    wait_udp_listen $GOBGP_PORT tcp
    i=0
    {
        printf 'mrt: %s\ntime_factor: 0\nkeep_open: true\nnetwork:\n  map:\n' "$dump"
        while read -r peer as; do
            i=$((i + 1))
            printf '    - {src_ip: "%s", repro_ip: 127.0.9.%d}\n' "$peer" "$i"
            map="$map${map:+,}127.0.9.$i=$peer"
        done < <(peers_of "$dump")
        printf 'bgp:\n  collector: {ip: 127.0.0.1, port: %s}\n  reconnect: true\n' $GOBGP_PORT
    } > "$label-gobgp.yml"
    bgpdump -m "$dump" 2>/dev/null > "$label-gobgp.bgpdump"
    $NORM final bgpdump "$label-gobgp.bgpdump" > "$label-gobgp.want"
    local want n=0
    want=$(wc -l < "$label-gobgp.want")
    start_bg "$label-gobgp.log" "$TELREP" -t "$label-gobgp.yml" -q
    local tpid=$LAST_PID
    # a peer that restarts waits out gobgpd's idle hold before its new session is taken
    for _ in $(seq 150); do
        n=$(in_ns gobgp -p $GOBGP_API neighbor 2>/dev/null | awk 'NR > 1 { n += $NF } END { print n + 0 }') # Accepted
        [ "$n" = "$want" ] && break
        sleep 0.2
    done
    rm -f "$dir"/adj-in-*
    for a in $(seq "$i"); do
        for f in 4 6; do
            in_ns gobgp -p $GOBGP_API -j neighbor "127.0.9.$a" adj-in -a "ipv$f" > "$dir/adj-in-127.0.9.$a-ipv$f.json" 2>/dev/null
        done
    done
    stop_pid "$tpid" TERM
    stop_pid "$gpid" INT
    $NORM final gobgp "--map=$map" "$dir"/adj-in-*.json > "$label-gobgp.got"
    check "$label: the dump leaves routes ($want)" [ "$want" -gt 0 ]
    eq "$label: gobgpd's adj-in is the dump's final RIB (routes differing)" \
        "$(diff "$label-gobgp.want" "$label-gobgp.got" | grep -c '^[<>]')" 0
}

# ---- tools/mrt-gen's dumps
"$MRTGEN" --peers 4 --v4 300 --v6 100 --updates 100 --restart rib.mrt
gzip -k rib.mrt
replay_case td2-gz rib.mrt.gz
gobgp_case td2-restart rib.mrt
"$MRTGEN" --peers 4 --v4 120 --v6 40 --updates 40 --addpath ap.mrt
bzip2 -k ap.mrt
replay_case addpath ap.mrt.bz2
"$MRTGEN" --peers 4 --v4 120 --v6 40 --updates 40 --et --restart et.mrt
replay_case et et.mrt
"$MRTGEN" --peers 4 --v4 120 --v6 40 --updates 60 --as2 as2.mrt
replay_case as2 as2.mrt
"$MRTGEN" --format legacy --peers 4 --v4 120 --v6 40 legacy.mrt
replay_case legacy legacy.mrt
"$MRTGEN" --peers 4 --v4 100 --v6 30 --seed 7 two-rib.mrt
"$MRTGEN" --format bgp4mp --peers 4 --updates 80 --restart --seed 8 --time 1767229200 two-upd.mrt
replay_case rib-then-updates "two-rib.mrt two-upd.mrt"
# bad records are skipped with a message; the rest is the dump without them
"$MRTGEN" --peers 4 --v4 100 --v6 30 --updates 30 --seed 9 clean.mrt
"$MRTGEN" --peers 4 --v4 100 --v6 30 --updates 30 --seed 9 --junk junk.mrt
replay_case junk junk.mrt clean.mrt
check "junk: the skipped record is named on stderr" grep -q 'its body contradicts its length: skipped' junk-bmp.err
eq "junk: the report counts the skipped records" \
    "$(jqf '.sources["mrt:junk.mrt"].skipped | .unknown_type + .malformed' junk-bmp.report)" 2
# the INIT's sysName is the config's; the per-peer header's time is the MRT's: an update's
# record time (bgpdump -m lists it), a RIB entry's originated time (mrt-gen writes the dump's
# time - 3600 + the peer's index; bgpdump 1.6.2 -t change prints 0 for them)
eq "td2-gz: INIT's sysName" "$(jq -r 'select(.bmp_msg_type == "init") | .bmp_init_info_sysname' "$WORK/bmp/bmp-127_0_1_100.json")" td2-gz
jq -r 'select(.bmp_msg_type == "route_monitor" and .log_type == "update")
       | "\(.peer_ip) \(.ip_prefix) \(.timestamp | split(".")[0] | try (strptime("%Y-%m-%d %H:%M:%S") | mktime) catch "")"' \
    "$WORK/bmp/bmp-127_0_3_100.json" > et.got
bgpdump -m et.mrt 2>/dev/null | awk -F'|' '$1 == "BGP4MP_ET" && $3 == "A" { split($2, t, "."); print $4, $6, t[1] }' | sort > et.want
awk '$3 >= 1767225600' et.got | sort > et.got-updates
eq "et: each update's per-peer header time is its record's (routes differing)" "$(diff et.want et.got-updates | grep -c '^[<>]')" 0
eq "et: each RIB route's time is its originated time" \
    "$(awk '$3 < 1767225600 && ($3 < 1767222000 || $3 > 1767222003)' et.got | wc -l) $(awk '$3 < 1767225600' et.got | wc -l)" \
    "0 $(grep -c '^TABLE_DUMP2|' et.bgpdump)"
# a selection of peers: by address and by AS; the others are not replayed
N_CASE=$((N_CASE + 1))
printf 'mrt: {files: [rib.mrt], router: 192.0.2.1, peers: [198.51.100.1, AS64502]}\ntime_factor: 0\nnetwork:\n  map:\n    - {src_ip: 192.0.2.1, repro_ip: 127.0.%d.100}\nbmp:\n  collector: {ip: 127.0.0.1, port: %s}\n' \
    $N_CASE $BMP_PORT > select.yml
in_ns "$TELREP" -t select.yml -q
eq "select: exit status" "$?" 0
settle "$WORK/bmp/bmp-127_0_${N_CASE}_100.json"
grep -E '^(198\.51\.100\.1|198\.51\.100\.3) ' td2-gz.want > select.want
check "select: AS64502 is 198.51.100.3's" grep -q '|198.51.100.3|64502|' td2-gz.bgpdump
$NORM routes msglog "$WORK/bmp/bmp-127_0_${N_CASE}_100.json" > select.got
eq "select: the two peers' routes and no other's (routes differing from bgpdump's of them)" \
    "$(diff select.want select.got | grep -c '^[<>]')" 0
check "select: some routes ($(wc -l < select.want))" [ "$(wc -l < select.want)" -gt 100 ]

# loc_rib: beside each peer's routes, per prefix the path the router selects, as the Loc-RIB
# (RFC 9069) pmbmpd logs; the reference chooses from bgpdump's lines by the same rules
N_CASE=$((N_CASE + 1))
printf 'mrt: {files: [rib.mrt], router: 192.0.2.1, loc_rib: true}\ntime_factor: 0\nnetwork:\n  map:\n    - {src_ip: 192.0.2.1, repro_ip: 127.0.%d.100}\nbmp:\n  collector: {ip: 127.0.0.1, port: %s}\n' \
    $N_CASE $BMP_PORT > locrib.yml
in_ns "$TELREP" -t locrib.yml -q --stats-json locrib.report
eq "loc_rib: exit status" "$?" 0
settle "$WORK/bmp/bmp-127_0_${N_CASE}_100.json"
bgpdump -m rib.mrt 2>/dev/null > locrib.bgpdump
$NORM locrib bgpdump locrib.bgpdump locrib.report > locrib.want
$NORM routes msglog "$WORK/bmp/bmp-127_0_${N_CASE}_100.json" > locrib.all
grep '^0\.0\.0\.0 ' locrib.all > locrib.got
eq "loc_rib: one selected route per prefix ($(wc -l < locrib.want)), as the decision rules pick (routes differing)" \
    "$(diff locrib.want locrib.got | grep -c '^[<>]')" 0
eq "loc_rib: every peer's routes still there (routes differing)" \
    "$(grep -v '^0\.0\.0\.0 ' locrib.all | diff td2-gz.want - | grep -c '^[<>]')" 0
eq "loc_rib: its PEER_UP (type 3, the table's name)" \
    "$(jq -r 'select(.bmp_msg_type == "peer_up" and .peer_type == 3) | .bmp_peer_up_info_3' "$WORK/bmp/bmp-127_0_${N_CASE}_100.json")" \
    67-6C-6F-62-61-6C

# two dumps side by side, one BMP router each (two collectors' dumps of the same hours): each
# router's connection carries its own dump's routes, as bgpdump lists them, and its sysName
N_CASE=$((N_CASE + 1))
cat > routers.yml <<CONF
mrt:
  - {files: [rib.mrt.gz], router: 192.0.2.1, sysname: rrc00}
  - {files: [clean.mrt], router: 192.0.2.2, sysname: rrc01}
time_factor: 0
network:
  map:
    - {src_ip: 192.0.2.1, repro_ip: 127.0.$N_CASE.100}
    - {src_ip: 192.0.2.2, repro_ip: 127.0.$N_CASE.101}
bmp:
  collector: {ip: 127.0.0.1, port: $BMP_PORT}
CONF
in_ns "$TELREP" -t routers.yml -q --stats-json routers.report
eq "two routers: exit status" "$?" 0
for r in 100 101; do settle "$WORK/bmp/bmp-127_0_${N_CASE}_$r.json"; done
$NORM routes msglog "$WORK/bmp/bmp-127_0_${N_CASE}_100.json" > routers.rrc00
$NORM routes msglog "$WORK/bmp/bmp-127_0_${N_CASE}_101.json" > routers.rrc01
eq "two routers: the first logged its dump's routes ($(wc -l < td2-gz.want); routes differing)" \
    "$(diff td2-gz.want routers.rrc00 | grep -c '^[<>]')" 0
eq "two routers: the second logged its dump's routes ($(wc -l < junk.want); routes differing)" \
    "$(diff junk.want routers.rrc01 | grep -c '^[<>]')" 0
eq "two routers: each INIT's sysName" \
    "$(for r in 100 101; do jq -r 'select(.bmp_msg_type == "init") | .bmp_init_info_sysname' "$WORK/bmp/bmp-127_0_${N_CASE}_$r.json"; done | xargs)" \
    "rrc00 rrc01"
eq "two routers: the report's source says both dumps" "$(jqf '.sources[] | .dumps | map(.router) | join(" ")' routers.report)" \
    '"192.0.2.1 192.0.2.2"'
# the same two dumps without router: both would be the dumps' collector 192.0.2.1: refused
# at their first record, before anything is sent (a config error: exit status 2), saying how
sed -e 's/, router: 192.0.2.[12]//' routers.yml > routers-same.yml
in_ns "$TELREP" -t routers-same.yml -q 2> routers-same.err
eq "two routers of one address: exit status" "$?" 2
check "two routers of one address: says to give each a router:" grep -q 'give each dump a router: of its own' routers-same.err

# a truncated file: what comes before the cut is replayed, then a clear error and exit 1
size=$(stat -c %s rib.mrt)
"$MRTGEN" --peers 4 --v4 300 --v6 100 --updates 100 --restart --truncate $((size / 2)) cut.mrt
replay_case truncated cut.mrt cut.mrt 1
check "truncated: the error says the file ends within a record" grep -q 'the file ends within it' truncated-bmp.err

# ---- gobgpd's dumps: the restarted speaker announces again, and the table is written
for _ in $(seq 300); do [ "$(established)" = 3 ] && break; sleep 0.2; done
eq "gobgpd writer: the restarted speaker is back" "$(established)" 3
for k in 1 2 3 4; do
    in_w gobgp -p 51002 global rib -a ipv4 add "10.2.$k.0/24" aspath "65102,65299" med 7 origin igp > /dev/null
done
wait_received
for _ in $(seq 100); do [ -s w/table.mrt ] && break; sleep 1; done
check "gobgpd wrote its table dump (after $(( $(date +%s) - W_START )) s)" [ -s w/table.mrt ]
sleep 1
stop_pid "$W_PID" INT
check "gobgpd's update dump holds withdrawals" grep -q '|W|' <(bgpdump -m w/updates.mrt 2>/dev/null)
check "gobgpd's update dump holds IPv6 and IPv4 sessions" \
    [ "$(peers_of w/updates.mrt | grep -c :)" = 1 ] && [ "$(peers_of w/updates.mrt | wc -l)" = 3 ]
replay_case gobgp-table w/table.mrt
replay_case gobgp-updates w/updates.mrt
gobgp_case gobgp-table w/table.mrt
gobgp_case gobgp-updates w/updates.mrt

# ---- what a dump holds, as `pcap-proc -s` says it before any replay: per peer its AS, RIB
# entries, prefixes announced and withdrawn per family, state changes and time range, as
# bgpdump counts them (junk.mrt's: clean.mrt's, since bgpdump lists part of the record that
# contradicts its length, which telrep skips whole)
for d in rib.mrt.gz ap.mrt.bz2 et.mrt as2.mrt legacy.mrt junk.mrt:clean.mrt w/table.mrt w/updates.mrt; do
    ref=${d#*:} d=${d%%:*}
    n=$(basename "$d" | tr . -)
    printf 'mrt: %s\nbmp: {collector: {ip: 127.0.0.1, port: %s}}\n' "$d" $BMP_PORT > "sum-$n.yml"
    "$BUILD/pcap-proc" -s -t "sum-$n.yml" -o "sum-$n" -q 2> /dev/null
    eq "summary $d: pcap-proc -s exit status" "$?" 0
    bgpdump -m "$ref" 2>/dev/null > "sum-$n.bgpdump"
    eq "summary $d: per peer as bgpdump counts ($(wc -l < "sum-$n.bgpdump") lines; peers differing)" \
        "$(diff <($NORM summary bgpdump "sum-$n.bgpdump") <($NORM summary telrep "sum-$n/traffic-info.json") | grep -c '^[<>]')" 0
done
# without -o: the folder is named after the dump's first file, not after the play ("mrt:...")
mkdir -p sumdir && cp et.mrt sumdir/
printf 'mrt: sumdir/et.mrt\nbmp: {collector: {ip: 127.0.0.1, port: %s}}\n' $BMP_PORT > sumdir.yml
"$BUILD/pcap-proc" -s -t sumdir.yml -q 2> /dev/null
eq "summary without -o: exit status" "$?" 0
check "summary without -o: written to sumdir/et/traffic-info.json" test -s sumdir/et/traffic-info.json
check "summary without -o: no folder named after the play" test ! -e "mrt:sumdir"

stop_pid "$PMBMPD_PID" INT
stop_pid "$PMBGPD_PID" INT
finish
