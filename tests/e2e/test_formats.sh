#!/usr/bin/env bash
# Every capture format and compression, and every link type decode.c knows, replays
# every packet: pcap, pcapng, ERF, each plain and gzip/bzip2/xz/zstd-compressed.
. "$(dirname "$0")/lib.sh"
need editcap gzip bzip2 xz zstd jq ss
make_ns
cd "$WORK"
$GEN -o base.pcap --format ipfix --packets 20 --records 3 --interval 0.001 > /dev/null
editcap -F pcapng base.pcap base.pcapng
$GEN -o base.erf --erf --format ipfix --packets 20 --records 3 --interval 0.001 > /dev/null
for f in base.pcap base.pcapng base.erf; do
    gzip -k "$f"; bzip2 -k "$f"; xz -k "$f"; zstd -q "$f" -o "$f.zst"
done
for link in vlan qinq mpls raw sll sll2 null; do
    $GEN -o "link-$link.pcap" --link "$link" --format ipfix --packets 20 --records 3 --interval 0.001 > /dev/null
done
$GEN -o v6.pcap --src 2001:db8::1 --dst 2001:db8::100 --link sll2 --packets 20 --interval 0.001 > /dev/null

port=21100
replay() { # replay file expected-format
    port=$((port + 1))
    cat > f.yml <<CONF
pcap: $1
time_factor: 0
no_sync: true
network:
  map:
    - {src_ip: 10.0.0.1, repro_ip: 127.0.0.1}
    - {src_ip: 2001:db8::1, repro_ip: 127.0.0.1}
ipfix:
  collector: {ip: 127.0.0.1, port: $port}
CONF
    start_bg sink.out "$SINK" 127.0.0.1 $port --idle 0.5 --timeout 10
    local sink=$LAST_PID
    wait_udp_listen $port || return
    in_ns "$TELREP" -t f.yml -v --progress 0 2> f.err
    local rc=$?
    wait $sink
    eq "$1: exit status" "$rc" 0
    eq "$1: all packets delivered" "$(jq .datagrams sink.out)" 20
    [ -z "${2:-}" ] || check "$1: read as $2" grep -qF "($2)" f.err
}
for f in base.pcap base.pcapng base.erf; do
    kind=${f#base.}
    replay "$f" "$kind"
    replay "$f.gz" "$kind (compressed)"
    replay "$f.bz2" "$kind (compressed)"
    replay "$f.xz" "$kind (compressed)"
    replay "$f.zst" "$kind (compressed)"
done
for link in vlan qinq mpls raw sll sll2 null; do replay "link-$link.pcap"; done
replay v6.pcap
finish
