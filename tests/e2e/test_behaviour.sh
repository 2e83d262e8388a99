#!/usr/bin/env bash
# Replay behaviour: time_factor scaling, captures whose time goes backwards, repeat,
# --ask-for-input, keep_open with SIGTERM, minute sync, and SO_BINDTODEVICE on a veth.
# Durations are only compared with each other (the machine is shared and noisy).
. "$(dirname "$0")/lib.sh"
need jq ss bc
make_ns
cd "$WORK"
$GEN -o a.pcap --packets 20 --records 1 --interval 0.05 > /dev/null
$GEN -o b.pcap --packets 5 --records 1 --interval 0.01 --src 10.0.0.1 > /dev/null
$GEN -o back.pcap --packets 20 --records 1 --interval 0.05 --backwards-at 0.5 --backwards-by 30 > /dev/null

conf() { # conf file pcap-list time_factor [extra yaml]
    cat > "$1" <<CONF
pcap: $2
time_factor: $3
no_sync: true
network:
  map:
    - {src_ip: 10.0.0.1, repro_ip: 127.0.0.1}
ipfix:
  collector: {ip: 127.0.0.1, port: 21200}
${4:-}
CONF
}
timed() { # timed command... ; sets SECS
    local t0 t1
    t0=$(date +%s.%N)
    "$@"
    RC=$?
    t1=$(date +%s.%N)
    SECS=$(echo "$t1 - $t0" | bc)
}
sink() { start_bg "$1" "$SINK" 127.0.0.1 21200 --idle "${2:-1}" --timeout 60; SINK_PID=$LAST_PID; wait_udp_listen 21200; }
ratio_between() { echo "$1 / $2 >= $3 && $1 / $2 <= $4" | bc -l | grep -q 1; }

# --- time_factor scales the capture's gaps
conf tf1.yml a.pcap 1; conf tf2.yml a.pcap 2; conf tf0.yml a.pcap 0
sink s.out; timed in_ns "$TELREP" -t tf1.yml -q; T1=$SECS; wait $SINK_PID
eq "time_factor 1: all packets" "$(jq .datagrams s.out)" 20
sink s.out; timed in_ns "$TELREP" -t tf2.yml -q; T2=$SECS; wait $SINK_PID
check "time_factor 2 takes about twice as long as 1 ($T2 s vs $T1 s)" ratio_between "$T2" "$T1" 1.6 2.4
sink s.out; timed in_ns "$TELREP" -t tf0.yml -q; T0=$SECS; wait $SINK_PID
eq "time_factor 0: all packets" "$(jq .datagrams s.out)" 20
check "time_factor 0 is much faster than 1 ($T0 s vs $T1 s)" ratio_between "$T0" "$T1" 0 0.5

# --- --busy-wait spins through the gaps (a core) where the default sleeps in them; same packets
cpu_share() { # cpu_share command...: CPU seconds / wall seconds of the command, into SHARE
    local TIMEFORMAT='%R %U %S' t
    t=$( { time "$@" > /dev/null 2>&1; } 2>&1 )
    SHARE=$(echo "$t" | awk '{ printf "%.2f", ($2 + $3) / $1 }')
}
sink s.out; cpu_share in_ns "$TELREP" -t tf1.yml -q --busy-wait; BUSY=$SHARE; wait $SINK_PID
eq "--busy-wait: all packets" "$(jq .datagrams s.out)" 20
sink s.out; cpu_share in_ns "$TELREP" -t tf1.yml -q; SLEEPY=$SHARE; wait $SINK_PID
check "--busy-wait spins through the gaps: $BUSY of a core (without it $SLEEPY)" \
    ratio_between "$BUSY" 1 0.5 1.5
check "without --busy-wait telrep sleeps in them: $SLEEPY of a core, under half of $BUSY" \
    ratio_between "$SLEEPY" "$BUSY" 0 0.5
# ... the packets' gaps only: after the capture, keep_open's wait is slept, busy-wait or not
conf bw.yml b.pcap 1
sink s.out 5; start_bg bw.log "$TELREP" -t bw.yml -q --busy-wait --keep-open; BP=$LAST_PID
sleep 1
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
T_A=$(ticks $BP); sleep 2; T_B=$(ticks $BP)
stop_pid $BP TERM; wait $BP; wait $SINK_PID
IDLE=$(echo "($T_B - $T_A) / $(getconf CLK_TCK) / 2" | bc -l)
check "--busy-wait --keep-open: the wait after the capture sleeps ($(printf %.2f "$IDLE") of a core)" \
    ratio_between "$IDLE" 1 0 0.2

# --- a capture that jumps 30 s back: no stall, no burst, the step is reported
conf back.yml back.pcap 1
sink s.out; timed in_ns "$TELREP" -t back.yml -q --stats-json back.json; TB=$SECS; wait $SINK_PID
eq "backwards capture: all packets" "$(jq .datagrams s.out)" 20
check "backwards capture: duration like the monotonic one ($TB s vs $T1 s)" ratio_between "$TB" "$T1" 0.8 1.2
eq "backwards capture: the step is reported" "$(jq .timing.backward_steps back.json)" 1

# --- repeat round-robin [2,1] and bulk
conf rep.yml "[a.pcap, b.pcap]" 0 "repeat: {count: [2, 1], pattern: round-robin}"
sink s.out; in_ns "$TELREP" -t rep.yml -q --stats-json rep.json; wait $SINK_PID
eq "repeat [2,1]: packets delivered" "$(jq .datagrams s.out)" 45
eq "repeat [2,1]: packets read" "$(jq .read rep.json)" 45

# --- --ask-for-input: 'y' replays, anything else skips
conf ask.yml "[a.pcap, b.pcap]" 0
sink s.out
printf 'n\ny\n' | in_ns "$TELREP" -t ask.yml --ask-for-input -q --stats-json ask.json 2> ask.err
wait $SINK_PID
eq "ask-for-input: only the confirmed capture" "$(jq .datagrams s.out)" 5
check "ask-for-input: the prompt names the capture" grep -q "replay a.pcap?" ask.err

# --- keep_open: stays after the last capture, exits cleanly on SIGTERM
conf keep.yml b.pcap 0 "keep_open: true"
sink s.out
ip netns exec "$NS" "$TELREP" -t keep.yml -q --stats-json keep.json & # not in_ns: $! must be telrep
TP=$!
sleep 1.5
check "keep_open: still running after the capture" kill -0 $TP
kill -TERM $TP
wait $TP
eq "keep_open: SIGTERM ends it with status 0" "$?" 0
eq "keep_open: report written" "$(jq .sent keep.json)" 5
wait $SINK_PID

# --- minute sync: the first packet waits for its second-of-minute
now=$(date +%s)
target=$(( (now + 4) % 60 ))
start=$(( 1672531200 + target )) # a minute boundary in 2023 plus the target second
$GEN -o sync.pcap --packets 3 --records 1 --interval 0.01 --start $start > /dev/null
conf sync.yml sync.pcap 1
sed -i 's/no_sync: true/no_sync: false/' sync.yml
sink s.out
in_ns "$TELREP" -t sync.yml -v --progress 0 2> sync.err
wait $SINK_PID
arrived=$(date +%s)
eq "minute sync: all packets" "$(jq .datagrams s.out)" 3
check "minute sync: it waited for the second of the minute" grep -q "waiting .* for second $target of the minute" sync.err

# --- SO_BINDTODEVICE: packets leave through the configured device
NS2=${NS}-peer
ip netns add "$NS2"
trap 'ip netns del "$NS2" 2>/dev/null; cleanup' EXIT
ip link add tr-veth0 netns "$NS" type veth peer name tr-veth1 netns "$NS2"
in_ns ip addr add 198.51.100.1/24 dev tr-veth0
in_ns ip link set tr-veth0 up
ip -n "$NS2" addr add 198.51.100.2/24 dev tr-veth1
ip -n "$NS2" link set tr-veth1 up
ip -n "$NS2" link set lo up
conf dev.yml b.pcap 0
sed -i 's/repro_ip: 127.0.0.1/repro_ip: 198.51.100.1/; s/ip: 127.0.0.1, port: 21200/ip: 198.51.100.2, port: 21201/' dev.yml
sed -i 's/^network:/network:\n  interface: tr-veth0/' dev.yml
bound_replay() { # bound_replay device label peer_expects: replay b.pcap bound to device
    local dev=$1 label=$2 want=$3 before after peer
    sed "s/interface: tr-veth0/interface: $dev/" dev.yml > "$dev.yml"
    ip netns exec "$NS2" "$SINK" 198.51.100.2 21201 --idle 1 --timeout 3 > "$dev.out" &
    peer=$!
    sleep 0.5
    before=$(in_ns cat "/sys/class/net/$dev/statistics/tx_packets")
    in_ns "$TELREP" -t "$dev.yml" -q
    eq "$label: exit status" "$?" 0
    wait $peer
    after=$(in_ns cat "/sys/class/net/$dev/statistics/tx_packets")
    eq "$label: datagrams the peer namespace got" "$(jq .datagrams "$dev.out")" "$want"
    check "$label: all 5 left through $dev ($((after - before)))" [ $((after - before)) -ge 5 ]
}
bound_replay tr-veth0 "bound to the veth towards the collector" 5
# bound to a device with no route to the collector, the packets leave there and never arrive
# (no dummy or vrf module on this kernel: a veth pair inside the namespace is the dead end)
in_ns ip link add tr-dummy0 type veth peer name tr-dummy1
in_ns ip link set tr-dummy0 up
in_ns ip link set tr-dummy1 up
bound_replay tr-dummy0 "bound to a dead-end device" 0
sed 's/interface: tr-veth0/interface: tr-nosuch9/' dev.yml > nosuch.yml
in_ns "$TELREP" -t nosuch.yml -q 2> nosuch.err
eq "a missing device: exit status 2" "$?" 2
check "a missing device: the error names it" grep -q "tr-nosuch9" nosuch.err

# --- rate caps (issue 13): at the sink, over 10 s, within 2 % of the asked rate; a cap per
# router; a bit cap; duration ends a long repeat on time, as a success
$GEN -o many.pcap --packets 10000 --records 1 --interval 0.0001 --routers 2 --src 10.0.0.1 > /dev/null
rate_conf() { # file extra-yaml...
    local f=$1; shift
    conf "$f" many.pcap 0 "$(printf '%s\n' "$@")"
    sed -i 's/^    - {src_ip: 10.0.0.1, repro_ip: 127.0.0.1}/&\n    - {src_ip: 10.0.0.2, repro_ip: 127.0.0.1}/' "$f"
}
rate_of() { jq '(.datagrams - 1) / .seconds' "$1"; }
rate_conf pps.yml "rate: {pps: 1000}"
sink pps.out; in_ns "$TELREP" -t pps.yml -q --stats-json pps.json; RC=$?; wait $SINK_PID
eq "rate pps 1000: exit status" "$RC" 0
eq "rate pps 1000: every packet" "$(jq .datagrams pps.out)" 10000
check "rate pps 1000: $(rate_of pps.out) packets/s at the sink, within 2 %" ratio_between "$(rate_of pps.out)" 1000 0.98 1.02
check "rate pps 1000: the report's rate agrees ($(jq .timing.rate.packets_per_second pps.json))" \
    ratio_between "$(jq .timing.rate.packets_per_second pps.json)" "$(rate_of pps.out)" 0.98 1.02
check "rate pps 1000: the report says how long the caps held the replay back" \
    test "$(jq '.timing.rate.held_back_s > 9' pps.json)" = true
rate_conf router.yml "rate: {router_pps: 100}" "repeat: {count: [1]}"
sed -i 's/^pcap: many.pcap/pcap: many.pcap\nduration: 3/' router.yml
sink router.out; timed in_ns "$TELREP" -t router.yml -q; wait $SINK_PID
eq "duration 3: the replay ends as a success" "$RC" 0
check "duration 3: it ends on time ($SECS s)" ratio_between "$SECS" 3 0.95 1.4
check "router_pps 100, two routers: $(rate_of router.out) packets/s in all" ratio_between "$(rate_of router.out)" 200 0.95 1.05
rate_conf bps.yml "rate: {bps: 800000}"
sed -i 's/^pcap: many.pcap/pcap: many.pcap\nduration: 3/' bps.yml
sink bps.out; in_ns "$TELREP" -t bps.yml -q; wait $SINK_PID
bits=$(jq '.bytes * 8 / .seconds' bps.out)
check "rate bps 800000: $bits bits/s at the sink (UDP payload)" ratio_between "$bits" 800000 0.95 1.05
finish
