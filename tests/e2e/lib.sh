# lib.sh — shared helpers for the end-to-end tests. Each test runs in network namespaces
# it creates, starts its daemons itself and kills them by PID on exit.
set -u
BUILD=${BUILD:-build}
BUILD=$(cd "$BUILD" && pwd)
TELREP=$BUILD/telrep
GEN=$BUILD/gen-pcap
SINK=$BUILD/udp-sink
TCP_SINK=$BUILD/tcp-sink
SHARED=${SHARED:-}
NS=telrep-e2e-$$
WORK=$(mktemp -d /tmp/telrep-e2e.XXXXXX)
PIDS=()
EXTRA_NS=() # more namespaces a test made (deleted on exit)
PASS=0
FAIL=0

cleanup() {
    for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
    sleep 0.2
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    ip netns del "$NS" 2>/dev/null
    for n in "${EXTRA_NS[@]}"; do ip netns del "$n" 2>/dev/null; done
    rm -rf "/etc/netns/$NS"
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
check() { # check "description" command...
    local what=$1; shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}
eq() { # eq "description" got want
    if [ "$2" = "$3" ]; then ok "$1 ($2)"; else not_ok "$1: got '$2', want '$3'"; fi
}
# a replay config: routers 10.0.0.i -> 203.0.113.(20+i), i = 1..ROUTERS (default 2), time_factor TF
write_conf() { # write_conf file pcap proto port [extra yaml]
    {
        printf 'pcap: %s\ntime_factor: %s\nno_sync: true\nnetwork:\n  map:\n' "$2" "${TF:-0}"
        for i in $(seq "${ROUTERS:-2}"); do printf '    - {src_ip: 10.0.0.%d, repro_ip: 203.0.113.%d}\n' "$i" $((20 + i)); done
        printf '%s:\n  collector: {ip: 127.0.0.1, port: %s}\n%s\n' "$3" "$4" "${5:-}"
    } > "$1"
}

# jq that says what it could not read: a broken JSON file fails the assertion with its content
jqf() { # jqf filter file
    [ -s "$2" ] && jq "$1" "$2" 2>/dev/null && return 0
    echo "# $2 is not the JSON expected; it holds: '$(head -c 400 "$2" | tr '\n' ' ')';" \
         "beside it: $(cat "$2.err" "$2.status" 2>/dev/null | head -c 400 | tr '\n' ' ')" >&2
    return 1
}
# wait for a background process; its exit status goes to FILE.status when it is not 0
wait_status() { # wait_status pid file
    wait "$1"
    local rc=$?
    [ $rc -eq 0 ] || echo "exit status $rc" > "$2.status"
    return 0
}
finish() {
    echo "$(basename "$0" .sh): $PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
}

# A tool the test needs: in CI its absence is a failure, not a skip.
need() {
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 && continue
        echo "FAIL - required tool '$t' is missing (make deps installs it)"
        exit 1
    done
}

in_ns() { ip netns exec "$NS" "$@"; }

# the namespace, with loopback and the given extra addresses on lo
make_ns() {
    ip netns add "$NS" || { echo "FAIL - cannot create a network namespace (root needed)"; exit 1; }
    mkdir -p "/etc/netns/$NS"
    printf '127.0.0.1 localhost\n::1 localhost\n' > "/etc/netns/$NS/hosts"
    in_ns ip link set lo up
    for a in "$@"; do
        case $a in
            *:*) in_ns ip addr add "$a/128" dev lo nodad ;;
            *) in_ns ip addr add "$a/32" dev lo ;;
        esac
    done
}

# start a daemon in the namespace in the background; remember its PID
start_bg() { # start_bg logfile command...   (stderr too, unless START_BG_ERR names a file)
    local log=$1; shift
    ip netns exec "$NS" "$@" >"$log" 2>"${START_BG_ERR:-$log}" &
    PIDS+=($!)
    LAST_PID=$!
}

stop_pid() { # stop_pid pid [signal]
    kill "-${2:-INT}" "$1" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

# wait_replayed events-file: until a keep_open run has replayed every capture (its "replayed"
# event, from --events FILE; 60 s at most). A signal before that is an interruption (exit 1),
# so a test that stops a keep_open run and expects exit 0 waits here first.
wait_replayed() {
    for _ in $(seq 600); do
        grep -q '"event":"replayed"' "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "# gave up waiting for the replayed event in $1"
    return 1
}

wait_udp_listen() { # wait_udp_listen port [tcp|udp [netns (default $NS)]]
    local flags=-lun
    [ "${2:-}" = tcp ] && flags=-ltn
    for _ in $(seq 100); do
        ip netns exec "${3:-$NS}" ss $flags | grep -q ":$1 " && return 0
        sleep 0.1
    done
    echo "FAIL - nothing listens on ${2:-udp} port $1"
    return 1
}

# nfacctd with the print plugin writing JSON rows, per TESTING.md
start_nfacctd() { # start_nfacctd dir ip port [time_new: true (arrival time) or false (the flows')] [no_templates_file]
    local dir=$1
    mkdir -p "$dir"
    local tf="nfacctd_templates_file: $dir/templates.json"
    [ -n "${5:-}" ] && tf="! no templates file: a restart forgets them"
    cat > "$dir/nfacctd.conf" <<CONF
daemonize: false
nfacctd_ip: $2
nfacctd_port: $3
nfacctd_time_new: ${4:-true}
$tf
plugins: print[p]
aggregate[p]: peer_src_ip, src_host, dst_host, src_port, dst_port, proto, tos, timestamp_start, timestamp_end
print_output[p]: json
print_output_file[p]: $dir/flows-%s.json
print_output_file_append[p]: true
print_refresh_time[p]: 1
${NFACCTD_EXTRA:-}
CONF
    start_bg "$dir/nfacctd.log" nfacctd -f "$dir/nfacctd.conf"
    NFACCTD_PID=$LAST_PID
    wait_udp_listen "$3"
}

# stop nfacctd (it flushes on SIGINT) and print its rows
nfacctd_rows() { # nfacctd_rows dir
    sleep 2.5
    stop_pid "$NFACCTD_PID" INT
    cat "$1"/flows-*.json 2>/dev/null
}

# a telrep config: config FILE PCAP COLLECTOR_IP PORT [time_factor] then map lines "src repro"
write_config() {
    local file=$1 pcap=$2 cip=$3 cport=$4 tf=$5; shift 5
    {
        echo "pcap: $pcap"
        echo "time_factor: $tf"
        echo "no_sync: true"
        echo "network:"
        echo "  map:"
        while [ $# -gt 0 ]; do
            echo "    - src_ip: $1"
            echo "      repro_ip: $2"
            shift 2
        done
        echo "ipfix:"
        echo "  select:"
        echo "    udp:"
        echo "      dport: [9991]"
        echo "  collector:"
        echo "    ip: $cip"
        echo "    port: $cport"
    } > "$file"
}

# pmbmpd / pmbgpd with a JSON message log per router in dir; PMBMPD_PID / PMBGPD_PID
start_pmacct() { # start_pmacct bmp|bgp dir port [listen-ip] [extra config lines]
    local kind=$1 dir=$2 router='$bmp_router'
    mkdir -p "$dir"
    [ "$kind" = bgp ] && router='$peer_src_ip'
    {
        echo "${kind}_daemon_ip: ${4:-127.0.0.1}"
        echo "${kind}_daemon_port: $3"
        echo "${kind}_daemon_max_peers: ${MAX_PEERS:-200}"
        echo "${kind}_daemon_msglog_file: $dir/$kind-$router.json"
        echo "${kind}_daemon_msglog_output: json"
        echo "${5:-}"
    } > "$dir/pm${kind}d.conf"
    start_bg "$dir/pm${kind}d.log" "pm${kind}d" -f "$dir/pm${kind}d.conf"
    wait_udp_listen "$3" tcp
}
start_pmbmpd() { start_pmacct bmp "$1" "$2" "${3:-}"; PMBMPD_PID=$LAST_PID; }
start_pmbgpd() {
    start_pmacct bgp "$1" "$2" "${3:-}" "bgp_daemon_id: 127.0.0.1
bgp_disable_router_id_check: true"
    PMBGPD_PID=$LAST_PID
}
# gobgpd as a BGP collector: AS 65000 on 127.0.0.1:PORT, taking peers of AS 65001 from PREFIX
# (dynamic neighbors, IPv4 unicast), its gRPC API on 127.0.0.1:API (gobgp -p API); GOBGPD_PID
start_gobgpd() { # start_gobgpd dir port api prefix
    mkdir -p "$1"
    cat > "$1/gobgpd.toml" <<CONF
[global.config]
  as = 65000
  router-id = "127.0.0.1"
  port = $2
  local-address-list = ["127.0.0.1"]
[[peer-groups]]
  [peer-groups.config]
    peer-group-name = "replayed"
    peer-as = 65001
  [[peer-groups.afi-safis]]
    [peer-groups.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
[[dynamic-neighbors]]
  [dynamic-neighbors.config]
    prefix = "$4"
    peer-group = "replayed"
CONF
    start_bg "$1/gobgpd.log" gobgpd -f "$1/gobgpd.toml" -p --api-hosts "127.0.0.1:$3" --pprof-disable
    GOBGPD_PID=$LAST_PID
    wait_udp_listen "$2" tcp
}
# message-log lines of one router (file name has its address with _ for . and :)
msglog_count() { # msglog_count dir prefix addr field value
    local f="$1/$2-$(echo "$3" | tr '.:' '__').json"
    [ -f "$f" ] || { echo 0; return; }
    jq -r ".$4 // empty" "$f" | grep -cx "$5"
}
