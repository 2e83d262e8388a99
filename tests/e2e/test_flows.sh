#!/usr/bin/env bash
# The flow path: real TCP traffic between two network namespaces joined by a veth is captured
# with tcpdump, flow-extract turns the capture into events, flow-replay plays them back with
# both ends across the namespaces, every flow completes with the capture's byte counts;
# under a tbf rate limit a bulk flow slows to the limit and tcp_info shows it, with the
# congestion control asked for; bad events files and absent peers end cleanly.
. "$(dirname "$0")/lib.sh"
need jq tcpdump tc gnuplot
EXTRACT=$BUILD/flow-extract
REPLAY=$BUILD/flow-replay
A=telrep-fa-$$ B=telrep-fb-$$
trap 'cleanup; ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null' EXIT
ip netns add $A && ip netns add $B || { echo "FAIL - cannot create network namespaces (root needed)"; exit 1; }
ip link add fa-$$ type veth peer name fb-$$
ip link set fa-$$ netns $A
ip link set fb-$$ netns $B
ip -n $A addr add 10.9.0.1/24 dev fa-$$
ip -n $B addr add 10.9.0.2/24 dev fb-$$
ip -n $A addr add 2001:db8:9::1/64 dev fa-$$ nodad
ip -n $B addr add 2001:db8:9::2/64 dev fb-$$ nodad
for n in $A $B; do ip -n $n link set lo up; done
ip -n $A link set fa-$$ up
ip -n $B link set fb-$$ up
cd "$WORK"

# --- traffic to capture (headers only, as usual): request/response rounds, a bulk download,
# both ends at once
{
    t=0
    for f in $(seq 0 9); do # 10 request/response flows, 3 rounds each
        echo "CONN,$f,10.9.0.1,$((41000 + f)),->,10.9.0.2,8080,$t"
        e=0
        for r in 1 2 3; do
            echo "EVENT,$f,$e,10.9.0.1,SEND,$((300 + f)),0,$t"; e=$((e + 1))
            echo "EVENT,$f,$e,10.9.0.2,WAIT,$((300 + f)),0,$t"; e=$((e + 1))
            echo "EVENT,$f,$e,10.9.0.2,SEND,$((20000 * r)),0,$t"; e=$((e + 1))
            echo "EVENT,$f,$e,10.9.0.1,WAIT,$((20000 * r)),0,$t"; e=$((e + 1))
        done
        echo "EVENT,$f,$e,10.9.0.1,CLOSE,0,0,$t"; echo "EVENT,$f,$((e + 1)),10.9.0.2,CLOSE,0,0,$t"
        t=$(echo "$t + 0.02" | bc)
    done
    echo "CONN,10,10.9.0.1,42000,->,10.9.0.2,8080,0.1"
    echo "EVENT,10,0,10.9.0.1,SEND,100,0,0.1"
    echo "EVENT,10,1,10.9.0.2,WAIT,100,0,0.1"
    echo "EVENT,10,2,10.9.0.2,SEND,3000000,0,0.1"
    echo "EVENT,10,3,10.9.0.1,WAIT,3000000,0,0.1"
    echo "EVENT,10,4,10.9.0.1,CLOSE,0,0,0.2"
    echo "EVENT,10,5,10.9.0.2,CLOSE,0,0,0.2"
    echo "CONN,11,10.9.0.1,42001,->,10.9.0.2,8081,0.15"
    echo "EVENT,11,0,10.9.0.1,SEND,80000,0,0.15"
    echo "EVENT,11,1,10.9.0.2,SEND,90000,0,0.15"
    echo "EVENT,11,2,10.9.0.1,WAIT,90000,0,0.2"
    echo "EVENT,11,3,10.9.0.2,WAIT,80000,0,0.2"
    echo "EVENT,11,4,10.9.0.1,CLOSE,0,0,0.3"
    echo "EVENT,11,5,10.9.0.2,CLOSE,0,0,0.3"
} > made.csv
ip netns exec $B tcpdump -i fb-$$ -w cap.pcap --immediate-mode -Z root -s 96 -B 65536 tcp 2> tcpdump.log &
TCPDUMP=$!
PIDS+=($TCPDUMP)
for _ in $(seq 50); do grep -q listening tcpdump.log && break; sleep 0.1; done
"$REPLAY" made.csv --client-netns $A --server-netns $B -S made.json -q
eq "made traffic: exit status" "$?" 0
sleep 0.5
kill -INT $TCPDUMP; wait $TCPDUMP 2>/dev/null
eq "made traffic: every flow done" "$(jq .states.done made.json)" 12
eq "made traffic: tcpdump lost nothing (headers only, -s 96)" "$(grep -o '^[0-9]* packets dropped by kernel' tcpdump.log)" \
    "0 packets dropped by kernel"

# --- extract
"$EXTRACT" cap.pcap -o ex.csv
eq "extract: exit status" "$?" 0
eq "extract: one CONN per flow" "$(grep -c ^CONN ex.csv)" 12
eq "extract: every flow from its SYN" "$(jq .totals.flows_without_syn ex.meta.json)" 0
eq "extract: the details name the capture" "$(jq -r '.source[0]' ex.meta.json)" cap.pcap
eq "extract: every flow ends with both FINs" "$(jq '[.flows[] | select(.close == "fin")] | length' ex.meta.json)" 12
sends() { # sends file: per flow "client_bytes server_bytes" sorted, from its SEND events
    awk -F, '$1 == "CONN" {c[$2] = $3} $1 == "EVENT" && $5 == "SEND" {if ($4 == c[$2]) cs[$2] += $6; else ss[$2] += $6}
             END {for (f in c) print cs[f] + 0, ss[f] + 0}' "$1" | sort
}
eq "extract: the bytes each end sent, per flow, as made" "$(sends ex.csv | md5sum)" "$(sends made.csv | md5sum)"
eq "extract: the request/response rounds kept (SENDs of flow with 3 rounds)" \
    "$(awk -F, '$1 == "CONN" && $3 == "10.9.0.1" && $4 == 41003 {f = $2} $1 == "EVENT" && $2 == f && $5 == "SEND" {n++} END {print n}' ex.csv)" 6
"$EXTRACT" cap.pcap -o - -m stdout.meta.json > stdout.csv
eq "extract -o -: the events on standard output, as in the file" "$(md5sum < stdout.csv)" "$(md5sum < ex.csv)"
check "extract -o -: no file named '-'" test ! -e ./-
"$EXTRACT" cap.pcap -o payload.csv --payload-only
eq "extract --payload-only: every flow here carried payload: all kept" "$(grep -c ^CONN payload.csv)" 12
eq "extract: the handshake seen (SYN options)" "$(jq '[.flows[] | select(.syn_options.mss > 0)] | length' ex.meta.json)" 12

# --- a traffic model of the capture (issue 17): per server port, mixtures of what the flows did
"$EXTRACT" cap.pcap -o mx.csv --model model.json
eq "model: exit status" "$?" 0
eq "model: a documented format, versioned" "$(jq -r '"\(.model) \(.version)"' model.json)" "telrep flow model 1"
eq "model: a class per server port, with its flows" \
    "$(jq -c '.classes | to_entries | map([.key, .value.flows])' model.json)" '[["port 8080",11],["port 8081",1]]'
eq "model: port 8080's requests: 31 SENDs of the made sizes" \
    "$(jq '.classes["port 8080"].client_bytes | "\(.n) \(.data_mean | floor)"' model.json)" \
    "\"31 $(( (3 * (300 * 10 + 45) + 100) / 31 ))\""
eq "model: port 8080's rounds: ten flows of 3, one of 1" "$(jq '.classes["port 8080"].rounds | .model_mean * 11 | round' model.json)" 31
check "model: its mixtures fitted (1-5 components)" \
    jq -e '[.classes["port 8080"] | .client_bytes, .server_bytes, .rounds | .k] | all(. >= 1 and . <= 5)' model.json
"$EXTRACT" cap.pcap -o mx1.csv --model model1.json --classes one
eq "model --classes one: one class of every flow" "$(jq '.classes.all.flows' model1.json)" 12

# --- replay what was extracted, both ends across the namespaces
"$REPLAY" ex.csv --client-netns $A --server-netns $B -o ex.jsonl -S ex.json -q
eq "replay: exit status" "$?" 0
eq "replay: every flow done" "$(jq .states.done ex.json)" 12
eq "replay: the bytes of the capture" "$(jq .bytes_sent ex.json)" "$(jq .bytes_expected ex.json)"
eq "replay: each end sent what the capture says" \
    "$(jq -s '[.[] | select(.type == "flow") | select(.client_end.sent != .client_end.expected_sent or .server_end.sent != .server_end.expected_sent)] | length' ex.jsonl)" 0

# --- the same from a config: namespaces, a port map, per-flow congestion control
cat > replay.yml <<CONF
client_netns: $A
server_netns: $B
asap: true
port_map: [{from: 8080, to: 9080}]
socket: {congestion: reno}
flows:
  - match: {server_port: 8081}
    congestion: bbr
results: cfg.jsonl
summary: cfg.json
CONF
"$REPLAY" ex.csv -C replay.yml -q
eq "config: exit status" "$?" 0
eq "config: every flow done" "$(jq .states.done cfg.json)" 12
eq "config: port 8080 replayed as 9080" "$(jq -s '[.[] | select(.type == "flow") | .server_port] | unique' -c cfg.jsonl)" "[8081,9080]"
eq "config: the rule's congestion control for its flow, the global one for the others" \
    "$(jq -r -s '[.[] | select(.type == "flow") | "\(.server_port):\(.server_end.tcp_info.congestion)"] | unique | join(" ")' cfg.jsonl)" \
    "8081:bbr 9080:reno"

# --- congestion response: a bulk flow under a tbf rate limit, with the congestion control asked for
{
    echo "CONN,0,10.9.0.1,43000,->,10.9.0.2,8082,0"
    echo "EVENT,0,0,10.9.0.1,SEND,10,0,0"
    echo "EVENT,0,1,10.9.0.2,WAIT,10,0,0"
    echo "EVENT,0,2,10.9.0.2,SEND,4000000,0,0"
    echo "EVENT,0,3,10.9.0.1,WAIT,4000000,0,0"
    echo "EVENT,0,4,10.9.0.1,CLOSE,0,0,0"
    echo "EVENT,0,5,10.9.0.2,CLOSE,0,0,0"
} > bulk.csv
"$REPLAY" bulk.csv --client-netns $A --server-netns $B --congestion reno -o free.jsonl -S free.json -q
eq "bulk, no limit: done" "$(jq .states.done free.json)" 1
ip netns exec $B tc qdisc add dev fb-$$ root tbf rate 20mbit burst 32kbit latency 50ms
for cc in reno bbr; do
    "$REPLAY" bulk.csv --client-netns $A --server-netns $B --congestion $cc -i 0.2 -o $cc.jsonl -S $cc.json -q
    eq "bulk at 20 Mbit/s, $cc: done" "$(jq .states.done $cc.json)" 1
    eq "bulk at 20 Mbit/s, $cc: the congestion control in effect at both ends" \
        "$(jq -r 'select(.type == "flow") | [.client_end.tcp_info.congestion, .server_end.tcp_info.congestion] | join(" ")' $cc.jsonl)" "$cc $cc"
    check "bulk at 20 Mbit/s, $cc: slower than without the limit (x3 at least)" \
        jq -e --slurpfile f free.json '.seconds > 3 * $f[0].seconds' $cc.json
    check "bulk at 20 Mbit/s, $cc: the sender's delivery rate near the limit (<= 3 MB/s)" \
        jq -e -s '[.[] | select(.type == "tcp_info" and .end == "server") | .tcp_info.delivery_rate] | max < 3000000' $cc.jsonl
    check "bulk at 20 Mbit/s, $cc: tcp_info sampled while it ran" \
        jq -e -s '[.[] | select(.type == "tcp_info")] | length >= 3' $cc.jsonl
done
ip netns exec $B tc qdisc del dev fb-$$ root
for ecn in on off; do
    "$REPLAY" bulk.csv --client-netns $A --server-netns $B --ecn $ecn -o ecn-$ecn.jsonl -q > /dev/null
    eq "--ecn $ecn: negotiated as asked (tcp_info at both ends)" \
        "$(jq -r 'select(.type == "flow") | [.client_end.tcp_info.ecn, .server_end.tcp_info.ecn] | map(tostring) | join(" ")' ecn-$ecn.jsonl)" \
        "$([ $ecn = on ] && echo "true true" || echo "false false")"
done

# --- made-up traffic, client and server as two processes (one per namespace)
SYN="--synthetic --flows 300 --rate 2000 --rounds uniform:1:3 --request exp:300 --response uniform:100:20000 --client 10.9.0.1 --server 10.9.0.2 --port 8090 --seed 7"
ip netns exec $B "$REPLAY" $SYN --role server -S syn-server.json -q &
SERVER=$!
PIDS+=($SERVER)
sleep 0.3
ip netns exec $A "$REPLAY" $SYN --role client -S syn-client.json -q
eq "synthetic, two processes: the client's exit status" "$?" 0
wait $SERVER
eq "synthetic, two processes: the server's exit status" "$?" 0
eq "synthetic: every flow done at both" "$(jq .states.done syn-client.json) $(jq .states.done syn-server.json)" "300 300"
check "synthetic: what both sent adds up to the flows' bytes" \
    jq -e --slurpfile s syn-server.json '.bytes_sent + $s[0].bytes_sent == .bytes_expected' syn-client.json

# --- timed bulk flows (issue 17): 10 s as fast as congestion control allows under a 20 Mbit/s
# tbf measure the limit within 10%, with cubic, reno and bbr in effect, ECN off and on
ip netns exec $B tc qdisc add dev fb-$$ root tbf rate 20mbit burst 32kbit latency 50ms
BULK="--synthetic --flows 1 --bulk 10 --bulk-dir down --client 10.9.0.1 --server 10.9.0.2 --port 8093"
for run in cubic:off reno:off bbr:off cubic:on; do
    cc=${run%:*} ecn=${run#*:}
    "$REPLAY" $BULK --client-netns $A --server-netns $B --congestion $cc --ecn $ecn -o bulk-$cc-$ecn.jsonl -S /dev/null -q
    eq "bulk 10 s, $cc, ECN $ecn: exit status" "$?" 0
    rate=$(jq 'select(.type == "flow") | .client_end.received * 8 / .duration / 1e6' bulk-$cc-$ecn.jsonl)
    check "bulk 10 s, $cc, ECN $ecn: the tbf's 20 Mbit/s within 10% ($(printf '%.2f' "$rate") Mbit/s)" \
        jq -en "$rate > 18 and $rate < 22"
    eq "bulk 10 s, $cc, ECN $ecn: the sender's congestion control and ECN in effect (tcp_info)" \
        "$(jq -r 'select(.type == "flow") | .server_end.tcp_info | "\(.congestion) \(.ecn)"' bulk-$cc-$ecn.jsonl)" \
        "$cc $([ $ecn = on ] && echo true || echo false)"
done
ip netns exec $B tc qdisc del dev fb-$$ root
"$REPLAY" ${BULK/--bulk 10/--bulk 0.5} --write-events bulk-events.csv -q
eq "bulk: its events file names the BULK (microseconds)" "$(grep -c ',BULK,500000,' bulk-events.csv)" 1
"$REPLAY" bulk-events.csv --client-netns $A --server-netns $B -o bulk-file.jsonl -S bulk-file.json -q
eq "bulk: the events file replays as a bulk flow" "$(jq .states.done bulk-file.json)" 1
check "bulk: for its half second" jq -e 'select(.type == "flow") | .duration >= 0.5 and .duration < 2' bulk-file.jsonl

# --- --plot: the pictures (SVG and PNG by gnuplot) and the data files they are drawn from
ip netns exec $B tc qdisc add dev fb-$$ root tbf rate 20mbit burst 32kbit latency 50ms # ~1.6 s: samples to draw
"$REPLAY" bulk.csv --client-netns $A --server-netns $B -i 0.05 --plot plots -S plot.json -q
eq "--plot: exit status" "$?" 0
ip netns exec $B tc qdisc del dev fb-$$ root
for pic in cwnd rtt delivery fct bytes lateness; do
    check "--plot: $pic.svg is an SVG of some size" \
        bash -c "head -c 200 plots/$pic.svg | grep -q '<svg' && tail -c 20 plots/$pic.svg | grep -q '</svg>' && [ \$(stat -c %s plots/$pic.svg) -gt 5000 ]"
    check "--plot: $pic.png is a PNG of some size" \
        bash -c "[ \"\$(head -c 8 plots/$pic.png | od -An -tx1 | tr -d ' \n')\" = 89504e470d0a1a0a ] && [ \$(stat -c %s plots/$pic.png) -gt 3000 ]"
done
check "--plot: samples.dat holds the flow's cwnd, RTT and rate over time (>= 3 rows)" \
    [ "$(grep -c '^[0-9.]* [0-9]* [0-9.]* [0-9.]*$' plots/samples.dat)" -ge 3 ]
eq "--plot: fct.cdf has a row per flow done, ending at fraction 1" \
    "$(grep -vc '^#' plots/fct.cdf) $(tail -1 plots/fct.cdf | awk '{print $2}')" "$(jq .states.done plot.json) 1.000000"
PATH=/usr/sbin:/sbin "$REPLAY" bulk.csv --client-netns $A --server-netns $B --plot plots-nognuplot -S /dev/null -q 2> nognuplot.err
eq "--plot without gnuplot: exit status" "$?" 1
check "--plot without gnuplot: says what to install" grep -q "apt install gnuplot-nox" nognuplot.err
check "--plot without gnuplot: the data files are there" test -s plots-nognuplot/fct.cdf

# --- --start-at: client and server started apart, as job runners do, begin together (issue 17)
AT=$(( $(date +%s) + 3 ))
ip netns exec $B "$REPLAY" $SYN --flows 20 --role server --start-at "$AT" -o at-server.jsonl -S at-server.json -q &
SERVER=$!
PIDS+=($SERVER)
sleep 1.2
ip netns exec $A "$REPLAY" $SYN --flows 20 --role client --start-at "$(date -u -d "@$AT" +%Y-%m-%dT%H:%M:%SZ)" \
    -o at-client.jsonl -S at-client.json -q # the same instant, as RFC 3339
eq "--start-at: the client's exit status" "$?" 0
wait $SERVER
eq "--start-at: the server's exit status" "$?" 0
eq "--start-at: time 0 is the given instant at both" \
    "$(jq --argjson at "$AT" '(.t0_epoch_ns - $at * 1e9) | fabs < 1000' at-client.json at-server.json | tr '\n' ' ')" "true true "
# the first flow's start on each side, in seconds after --start-at's instant (each side's own clock)
gap_ms=$(jq -n --slurpfile c at-client.jsonl --slurpfile s at-server.jsonl \
    'def first(x): [x[] | select(.type == "flow") | .actual_start] | min; (first($c) - first($s)) * 1000 | fabs')
check "--start-at: the first flow began at both within 5 ms ($gap_ms ms)" jq -en "$gap_ms < 5"
"$REPLAY" --synthetic --flows 1 --port 18097 --start-at "$(( $(date +%s) - 10 ))" -q 2> past.err
eq "--start-at in the past: exit status" "$?" 2
check "--start-at in the past: says so" grep -q "in the past" past.err

# --- a model learnt from captured traffic of known distributions (issue 17), two server ports
# at once: on 8095 a two-component request size mix, exponential arrival gaps and lognormal
# think times; on 8096 lognormal arrival gaps and a two-component response mix. The fitted
# mixtures give the parameters back (tolerances below); traffic generated from the model,
# captured and extracted again, has KS < 0.1 per class for sizes and gaps, and the flows and
# bytes the model expects (within 5%). 1200 flows a class: two samples of that size from one
# distribution differ by KS 0.08 (1.95 sqrt(2/n)) once in a thousand runs, so 0.1 is a test
# of the model, not of luck. Arrivals some 8 ms apart: a replay that stalls for a few ms (under
# the sanitizers, on a loaded CI machine) moves a gap by a fraction of it, not by all of it.
KF=1200
K1=(--synthetic --flows $KF --arrival exp:0.008 --rounds uniform:1:3 --request '0.3*normal:200:20+0.7*normal:1200:100'
    --response uniform:1000:30000 --think lognormal:-4.6:1 --port 8095 --seed 9)
K2=(--synthetic --flows $KF --arrival lognormal:-5:0.5 --request exp:300
    --response '0.5*normal:5000:300+0.5*normal:20000:1000' --port 8096 --seed 10)
NS_ARGS="--client 10.9.0.1 --server 10.9.0.2 --client-netns $A --server-netns $B"
capture() { # capture pcap command...: tcpdump on the veth while the command runs
    local pcap=$1; shift
    ip netns exec $B tcpdump -i fb-$$ -w "$pcap" --immediate-mode -Z root -s 96 -B 65536 tcp 2> "$pcap.log" &
    local td=$!
    PIDS+=($td)
    for _ in $(seq 50); do grep -q listening "$pcap.log" && break; sleep 0.1; done
    "$@"
    sleep 0.5
    kill -INT $td; wait $td 2>/dev/null
}
both() { # both ports' generators at once
    "$REPLAY" "${K1[@]}" $NS_ARGS -S known1.json -q & local p1=$!
    "$REPLAY" "${K2[@]}" $NS_ARGS -S known2.json -q
    wait $p1
}
capture known.pcap both
eq "known mix: every flow done" "$(jq -s 'map(.states.done) | add' known1.json known2.json)" $((2 * KF))
"$EXTRACT" known.pcap -o known.csv --model known-model.json --plot known-plots -q
eq "known mix: a class per port" "$(jq -c '.classes | keys' known-model.json)" '["port 8095","port 8096"]'
m() { jq -r ".classes[\"port $1\"].$2" known-model.json; }
within() { # within NAME VALUE EXPECTED TOLERANCE(relative)
    check "$1: $2 (expected $3 within $(jq -n "$4 * 100")%)" jq -en "($2 / $3 - 1) | fabs < $4"
}
# 8095's request sizes: two normal components, each recovered (components in ascending mean)
eq "known mix 8095 request sizes: two components" "$(m 8095 client_bytes.k)" 2
c8095=".classes[\"port 8095\"].client_bytes | .components | sort_by(.mean)"
within "8095 request sizes: the small component's weight" "$(jq "$c8095 | .[0].weight" known-model.json)" 0.3 0.15
within "8095 request sizes: the small component's mean" "$(jq "$c8095 | .[0].mean" known-model.json)" 200 0.05
within "8095 request sizes: the large component's mean" "$(jq "$c8095 | .[1].mean" known-model.json)" 1200 0.05
within "8095 request sizes: the small component's sd" "$(jq "$c8095 | .[0].sd" known-model.json)" 20 0.3
within "8095 request sizes: the large component's sd" "$(jq "$c8095 | .[1].sd" known-model.json)" 100 0.3
# its think times: lognormal, fitted on the log scale as one component of ln x
eq "known mix 8095 think times: on a log scale" "$(m 8095 think.log_scale)" true
check "8095 think times: ln-mean -4.6 within 0.2 ($(m 8095 'think.components | max_by(.weight) | .mean'))" \
    jq -en "$(m 8095 'think.components | max_by(.weight) | .mean') + 4.6 | fabs < 0.2"
check "8095 think times: ln-sd 1 within 0.2 ($(m 8095 'think.components | max_by(.weight) | .sd'))" \
    jq -en "$(m 8095 'think.components | max_by(.weight) | .sd') - 1 | fabs < 0.2"
# its arrival gaps: exponential, mean 8 ms (the model's mean as the data's)
within "8095 arrival gaps: the model's mean" "$(m 8095 arrival_gap.model_mean)" 0.008 0.1
within "8095 rounds: the model's mean (uniform 1-3)" "$(m 8095 rounds.model_mean)" 2 0.1
# 8096: the response mix and lognormal arrivals (mean e^(-5 + 0.125))
eq "known mix 8096 response sizes: two components" "$(m 8096 server_bytes.k)" 2
c8096=".classes[\"port 8096\"].server_bytes | .components | sort_by(.mean)"
within "8096 response sizes: the small component's mean" "$(jq "$c8096 | .[0].mean" known-model.json)" 5000 0.05
within "8096 response sizes: the large component's mean" "$(jq "$c8096 | .[1].mean" known-model.json)" 20000 0.05
within "8096 response sizes: the small component's weight" "$(jq "$c8096 | .[0].weight" known-model.json)" 0.5 0.15
within "8096 arrival gaps: the model's mean" "$(m 8096 arrival_gap.model_mean)" "$(jq -n '(-5 + 0.125) | exp')" 0.1
# generated from the model, captured, extracted: the same traffic
capture gen.pcap "$REPLAY" --model known-model.json --flows $((2 * KF)) $NS_ARGS --seed 4 -S gen.json -q
eq "generated: every flow done" "$(jq .states.done gen.json)" $((2 * KF))
eq "generated: the bytes planned went out" "$(jq .bytes_sent gen.json)" "$(jq .bytes_expected gen.json)"
"$EXTRACT" gen.pcap -o gen.csv --compare known.csv --compare-json check.json > check.txt
eq "check mode: exit status" "$?" 0
check "check mode: a table of every parameter" grep -q 'port 8095 *client_bytes' check.txt
# per class, the sizes and gaps that were drawn (8096 has no think time: its "think" is the
# network's delay, nothing the model was told)
for pp in 8095:client_bytes 8095:server_bytes 8095:arrival_gap 8095:client_gap 8095:think \
          8096:client_bytes 8096:server_bytes 8096:arrival_gap; do
    port=${pp%%:*} p=${pp#*:}
    check "generated vs learnt-from, port $port: $p KS < 0.1 ($(jq ".classes[\"port $port\"].$p.ks" check.json))" \
        jq -e ".classes[\"port $port\"].$p.ks < 0.1" check.json
done
eq "generated vs learnt-from: flows per class" "$(jq -c '[.classes[] | [.flows_a, .flows_b]]' check.json)" "[[$KF,$KF],[$KF,$KF]]"
# the bytes the model expects per flow, E[rounds] x (E[request] + E[response]): the source's
# own mean within 5%, and so is what the generator draws (20,000 flows, written not sent:
# the mean of a sample this size is within 0.5% of its expectation)
"$REPLAY" --model known-model.json --flows 20000 --client 10.9.0.1 --server 10.9.0.2 --seed 5 --write-events big.csv -q
awk -F, '$1 == "CONN" {port[$2] = $7; n[$7]++} $1 == "EVENT" && $5 == "SEND" {b[port[$2]] += $6}
         END {for (p in n) print p, n[p], b[p] / n[p]}' big.csv > big.txt
for port in 8095 8096; do
    expect=$(jq ".classes[\"port $port\"] | .rounds.model_mean * (.client_bytes.model_mean + .server_bytes.model_mean)" known-model.json)
    within "port $port: the captured flows' mean bytes against the model's expectation" "$(m $port flow_bytes.data_mean)" "$expect" 0.05
    within "port $port: generated flows' mean bytes against the model's expectation" "$(awk -v p=$port '$1 == p {print $3}' big.txt)" "$expect" 0.05
    within "port $port: generated flows, the class's share" "$(awk -v p=$port '$1 == p {print $2}' big.txt)" 10000 0.05
done
# a duration instead of a count: each class's flows as its own arrivals bring them
# (some 2,500 flows: their count's own spread is 2%)
"$REPLAY" --model known-model.json --duration 10 --client 10.9.0.1 --server 10.9.0.2 --write-events dur.csv -q
within "--model --duration 10: the flows the arrival gaps bring" "$(grep -c ^CONN dur.csv)" \
    "$(jq '[.classes[] | 10 / .arrival_gap.model_mean] | add' known-model.json)" 0.1
"$REPLAY" --model known-model.json --duration 2 --flows 5 -q 2> dur.err
eq "--duration with --flows: a usage error" "$?" 2
# an empirical model of the same capture: the data's quantiles, and flows drawn from them
"$EXTRACT" known.pcap -o known-e.csv --model known-emp.json --fit empirical -q
eq "empirical model: its distributions are quantiles" \
    "$(jq -c '[.classes[] | .client_bytes.quantiles | length] | unique' known-emp.json)" '[101]'
"$REPLAY" --model known-emp.json --flows 700 --client 10.9.0.1 --server 10.9.0.2 --write-events emp-gen.csv -q
eq "empirical model: generates" "$(grep -c ^CONN emp-gen.csv)" 700

# --- flow-extract --plot (of the known mix above): CDFs and the fits over the histograms
for pic in sizes durations rtt fit-port-8095 fit-port-8096; do
    check "extract --plot: $pic.svg is an SVG of some size" \
        bash -c "head -c 200 known-plots/$pic.svg | grep -q '<svg' && tail -c 20 known-plots/$pic.svg | grep -q '</svg>' && [ \$(stat -c %s known-plots/$pic.svg) -gt 5000 ]"
    check "extract --plot: $pic.png is a PNG of some size" \
        bash -c "[ \"\$(head -c 8 known-plots/$pic.png | od -An -tx1 | tr -d ' \n')\" = 89504e470d0a1a0a ] && [ \$(stat -c %s known-plots/$pic.png) -gt 3000 ]"
done
eq "extract --plot: sizes.cdf has a row per flow" "$(grep -vc '^#' known-plots/sizes.cdf)" $((2 * KF))
eq "extract --plot: rtt.cdf has a row per handshake" "$(grep -vc '^#' known-plots/rtt.cdf)" $((2 * KF))
eq "extract --plot: fit-port-8095.dat holds a histogram and a model per distribution" \
    "$(grep -c '^# histogram' known-plots/fit-port-8095.dat) $(grep -c '^# model' known-plots/fit-port-8095.dat)" "9 9"
"$EXTRACT" known.pcap -o - --plot nowhere > /dev/null 2> plot-stdout.err
eq "extract --plot with -o -: a usage error" "$?" 2
check "extract --plot with -o -: says why" grep -q "needs -o FILE" plot-stdout.err

# --- as fast as possible: thousands of flows due at once, both ends in one process, start
# through the connect window (SYNs unanswered at once: as few as the path needs) and all complete
ip netns exec $A "$REPLAY" --synthetic --flows 3000 --rate 1000000 --client 127.0.0.1 --clients 4 --server 127.0.0.2 \
    --port 18099 -S asap.json -q
eq "asap: every flow done" "$(jq .states.done asap.json)" 3000
check "asap: starts waited for the connect window ($(jq .starts_held_for_connects asap.json))" \
    jq -e '.starts_held_for_connects > 0' asap.json

# --- the made-up flows written as an events file replay as the same flows
"$REPLAY" $SYN --write-events syn.csv -q
eq "--write-events: exit status" "$?" 0
eq "--write-events: one CONN per flow" "$(grep -c ^CONN syn.csv)" 300
"$REPLAY" syn.csv --client-netns $A --server-netns $B -S syn-file.json -q
eq "--write-events: the file replays every flow" "$(jq .states.done syn-file.json)" 300
eq "--write-events: the same bytes as the synthetic flows" "$(jq .bytes_expected syn-file.json)" "$(jq .bytes_expected syn-client.json)"

# --- IPv6: made-up flows between the namespaces, both ends in one process
"$REPLAY" --synthetic --flows 50 --rate 500 --client 2001:db8:9::1 --server 2001:db8:9::2 --port 8091 \
    --client-netns $A --server-netns $B -S v6.json -q
eq "IPv6: every flow done" "$(jq .states.done v6.json)" 50
eq "IPv6: every byte" "$(jq .bytes_sent v6.json)" "$(jq .bytes_expected v6.json)"

# --- robustness
printf 'CONN,0,10.9.0.1,1,->,10.9.0.2,2,0\nEVENT,0,0,10.9.0.1,SEND,ten,0,0\n' > bad.csv
"$REPLAY" bad.csv -q 2> bad.err
eq "bad events file: exit status 2" "$?" 2
check "bad events file: file:line in the message" grep -q "bad.csv:2: EVENT bytes" bad.err
"$REPLAY" bulk.csv --role client --client-netns $A --stall-timeout 2 -S refused.json -q
eq "no server: exit status 1" "$?" 1
eq "no server: the flow ends as refused" "$(jq .states.refused refused.json)" 1
"$REPLAY" bulk.csv --role client --client-netns $A --map 10.9.0.2=10.9.0.9 --stall-timeout 1 -S silent.json -q
eq "a server that never answers: exit status 1" "$?" 1
eq "a server that never answers: the flow ends as timeout" "$(jq .states.timeout silent.json)" 1
# --- least privilege (issue 16): the server's listener on port 80 is opened as root, then both
# ends run as nobody without any capability (read from /proc/PID/status while they run)
chmod 711 "$WORK"
mkdir -m 1777 pub
mkdir -m 700 private
LOW="--synthetic --flows 40 --rate 50 --request exp:300 --response exp:2000 --client 10.9.0.1 --server 10.9.0.2 --port 80 --seed 3"
ip netns exec $B "$REPLAY" $LOW --role server --user nobody -S pub/low-server.json -q &
SERVER=$!
PIDS+=($SERVER)
sleep 0.5
eq "as nobody: the server holds no capability and no root uid while it serves port 80" \
    "$(grep -E '^(Uid|CapEff|CapPrm):' /proc/$SERVER/status | tr -s '\t' ' ' | cut -d' ' -f2 | tr '\n' ' ')" \
    "65534 0000000000000000 0000000000000000 "
ip netns exec $A "$REPLAY" $LOW --role client --user nobody -S pub/low-client.json -q
eq "as nobody: the client's exit status" "$?" 0
wait $SERVER
eq "as nobody: the server's exit status" "$?" 0
eq "as nobody: every flow done at both" "$(jq .states.done pub/low-client.json) $(jq .states.done pub/low-server.json)" "40 40"
ip netns exec $A "$REPLAY" $LOW --role client --user nobody -S private/x.json -q 2> private.err
eq "as nobody, a summary it could not write: exit status 2 before any flow" "$?" 2
check "as nobody, a summary it could not write: said, with the folder" grep -q "private" private.err
finish
