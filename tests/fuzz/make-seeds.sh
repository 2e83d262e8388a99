#!/bin/sh
# make-seeds.sh BUILD OUT — seed corpora for the fuzz targets, generated (no captured data):
# frames of every link type for fuzz_decode, IPFIX/v9/v5 messages for fuzz_proto, and the
# project's example configs plus tests/fuzz/config-seeds for fuzz_config.
set -eu
BUILD=$1 OUT=$2
GEN=$BUILD/gen-pcap
mkdir -p "$OUT/fuzz_decode" "$OUT/fuzz_proto" "$OUT/fuzz_config"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# the index of each link type in fuzz_decode.c's dlts[] (first input byte)
for l in eth:0 vlan:0 qinq:0 mpls:0 raw:1 sll:4 sll2:5 null:6; do
    name=${l%:*} idx=${l#*:}
    $GEN -o "$tmp/$name.pcap" --packets 1 --records 2 --link "$name" > /dev/null
    { printf "\\$(printf %03o "$idx")"; tail -c +41 "$tmp/$name.pcap"; } > "$OUT/fuzz_decode/$name"
done
for v in ipfix v9 v5; do
    $GEN -o "$tmp/$v.pcap" --format "$v" --packets 1 --records 3 --link raw > /dev/null
    tail -c +69 "$tmp/$v.pcap" > "$OUT/fuzz_proto/$v"
    # the same message twice with 2-byte length prefixes: a sequence for the digests
    n=$(stat -c %s "$OUT/fuzz_proto/$v")
    { for _ in 1 2; do printf "\\$(printf %03o $((n >> 8)))\\$(printf %03o $((n & 255)))"; cat "$OUT/fuzz_proto/$v"; done; } \
        > "$OUT/fuzz_proto/$v-seq"
done
$GEN -o "$tmp/v6.pcap" --packets 1 --src 2001:db8::1 --dst 2001:db8::2 --link raw > /dev/null
{ printf "\\001"; tail -c +41 "$tmp/v6.pcap"; } > "$OUT/fuzz_decode/raw6"
cp "$(dirname "$0")"/config-seeds/* "$OUT/fuzz_config/"
cp "$(dirname "$0")"/../../examples/*.yml "$OUT/fuzz_config/" 2>/dev/null || true
# tcpstream: a BGP OPEN + KEEPALIVE split into two in-order segments, then a retransmission
mkdir -p "$OUT/fuzz_tcpstream"
{
    printf '\000\000\002\000'                       # SYN at offset 0
    printf '\000\001\030\023'; printf '\377%.0s' $(seq 16); printf '\000\035\001'  # 19 bytes
    printf '\000\024\030\012'; printf '\004\000\132\000\264\001\002\003\004\000'   # 10 more: the OPEN body
    printf '\000\001\030\023'; printf '\377%.0s' $(seq 16); printf '\000\035\001'  # retransmitted
} > "$OUT/fuzz_tcpstream/bgp-open"
# BGP and BMP messages for fuzz_proto: the first message of generated sessions
$GEN -o "$tmp/bgp.pcap" --format bgp --packets 1 --link raw > /dev/null
tail -c +81 "$tmp/bgp.pcap" | head -c 45 > "$OUT/fuzz_proto/bgp-open"
# TCP conversations for fuzz_flow_extract: pcap records without the file header, raw IP
mkdir -p "$OUT/fuzz_flow_extract"
$GEN -o "$tmp/flows.pcap" --format bgp --routers 2 --packets 6 --segment 40 --handshake --replies --retransmit-every 3 \
    --reorder-every 4 --link raw > /dev/null
tail -c +25 "$tmp/flows.pcap" > "$OUT/fuzz_flow_extract/bgp-both-ways"
# an events file for fuzz_flow_events: flow-extract's output of the same conversations
mkdir -p "$OUT/fuzz_flow_events"
"$BUILD/flow-extract" "$tmp/flows.pcap" -o "$OUT/fuzz_flow_events/flows.csv" -q
rm -f "$OUT/fuzz_flow_events/flows.meta.json"
# flow-replay configs for fuzz_flow_config: the one in the man page
mkdir -p "$OUT/fuzz_flow_config"
sed -n '/^role: both/,/^ *client: 10.9.0.1, clients/p' "$(dirname "$0")/../../docs/flow-replay.1" > "$OUT/fuzz_flow_config/man.yml"
# captures for fuzz_capture: pcap, ERF, and (where editcap is installed) pcapng, plain and gzip
mkdir -p "$OUT/fuzz_capture"
$GEN -o "$OUT/fuzz_capture/a.pcap" --packets 3 --records 1 > /dev/null
$GEN -o "$OUT/fuzz_capture/a.erf" --erf --packets 3 --records 1 > /dev/null
gzip -c "$OUT/fuzz_capture/a.pcap" > "$OUT/fuzz_capture/a.pcap.gz"
! command -v editcap > /dev/null || editcap -F pcapng "$OUT/fuzz_capture/a.pcap" "$OUT/fuzz_capture/a.pcapng"
# MRT dumps for fuzz_mrt (the first byte: 0 as BGP, 1 as BMP, 3 as BMP with the Loc-RIB, 5 and 15 as
# BMP twice side by side, with one router address and with two): small ones of each kind the writer makes
mkdir -p "$OUT/fuzz_mrt"
for k in "td2:--updates 6 --restart" "addpath:--addpath --updates 4" "legacy:--format legacy" \
         "et:--format bgp4mp --et --updates 8 --restart" "as2:--format bgp4mp --as2 --updates 6" "junk:--junk"; do
    name=${k%%:*} opts=${k#*:}
    # shellcheck disable=SC2086
    "$BUILD/mrt-gen" --peers 3 --v4 6 --v6 3 $opts "$tmp/$name.mrt"
    for as in 0 1 3 5 15; do { printf "\\$(printf %03o $as)"; cat "$tmp/$name.mrt"; } > "$OUT/fuzz_mrt/$name-$as"; done
done
# BGP messages for fuzz_anon (the first byte: bit 0 4-byte AS paths, bit 1 ADD-PATH, bit 2 BMP, bit 3 NetFlow): an UPDATE
# with ORIGIN, AS_PATH, NEXT_HOP, AGGREGATOR, COMMUNITIES, LARGE_COMMUNITY, MP_REACH_NLRI (IPv6),
# MP_UNREACH_NLRI and an IPv4 prefix; an OPEN with the 4-octet AS capability
mkdir -p "$OUT/fuzz_anon"
python3 - "$OUT/fuzz_anon" <<'PY'
import struct, sys
def msg(kind, body):
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), kind) + body
def attr(flags, kind, value):
    return struct.pack("!BBB", flags, kind, len(value)) + value
attrs = (attr(0x40, 1, b"\0") + attr(0x40, 2, struct.pack("!BBII", 2, 2, 3356, 396982))
         + attr(0x40, 3, bytes([128, 11, 68, 132])) + attr(0xc0, 7, struct.pack("!I", 2914) + bytes([10, 1, 2, 3]))
         + attr(0xc0, 8, struct.pack("!HH", 3356, 70)) + attr(0xc0, 32, struct.pack("!III", 396982, 1, 2))
         + attr(0x80, 14, struct.pack("!HBB", 2, 1, 16) + bytes.fromhex("20010db9000000000000000000000055") + b"\0"
                + bytes([32, 0x20, 0x01, 0x0d, 0xb9]))
         + attr(0x80, 15, struct.pack("!HB", 2, 1) + bytes([48, 0x2a, 0, 0, 1, 0, 0])))
update = msg(2, struct.pack("!H", 3) + bytes([16, 166, 107]) + struct.pack("!H", len(attrs)) + attrs
             + bytes([24, 192, 102, 249]))
caps = struct.pack("!BBI", 65, 4, 396982)
opn = msg(1, struct.pack("!BHHI", 4, 23456, 90, 0x800b4484) + struct.pack("!BBB", len(caps) + 2, 2, len(caps)) + caps)
for name, m in (("update", update), ("open", opn)):
    for flags in (1, 3):
        open(f"{sys.argv[1]}/{name}-{flags}", "wb").write(bytes([flags]) + m)
# a BMP session: INIT, PEER_UP (both OPENs), Route Monitoring of the UPDATE
def bmp(kind, body):
    return struct.pack("!BIB", 3, 6 + len(body), kind) + body
peer = struct.pack("!BB8s", 0, 0, b"\0" * 8) + b"\0" * 12 + bytes([128, 11, 68, 132]) + struct.pack("!III", 3356, 0x81764a04, 0) + b"\0" * 4
init = bmp(4, struct.pack("!HH", 2, 9) + b"rtr01.ams")
up = bmp(3, peer + b"\0" * 12 + bytes([130, 132, 252, 244]) + struct.pack("!HH", 179, 40000) + opn + opn)
rm = bmp(0, peer + update)
open(f"{sys.argv[1]}/bmp-5", "wb").write(bytes([5]) + init + up + rm)
# an IPFIX exporter: a template (sourceIPv4Address, bgpSourceAsNumber, packetDeltaCount), its
# data; a v5 message of one record
tmpl = struct.pack("!HH HH HHHHHH", 2, 20, 256, 3, 8, 4, 16, 4, 2, 4)
data = struct.pack("!HH IIIIII", 256, 28, 0x800b4484, 3356, 77, 0x8284fcf4, 64512, 5)
ipfix = struct.pack("!HHIII", 10, 16 + len(tmpl) + len(data), 1672534805, 1, 7) + tmpl + data
v5 = struct.pack("!HH", 5, 1) + b"\0" * 20 + struct.pack("!III", 0x800b4484, 0x8284fcf4, 0) + b"\0" * 28 + struct.pack("!HH", 3356, 64512) + b"\0" * 4
open(f"{sys.argv[1]}/netflow-8", "wb").write(bytes([8]) + struct.pack("!H", len(ipfix)) + ipfix + struct.pack("!H", len(v5)) + v5)
PY
# traffic models for fuzz_model: one class of fitted and unfitted distributions, one on a log scale
mkdir -p "$OUT/fuzz_model"
printf '%s' '{"model": "telrep flow model", "version": 1, "classes": {"port 443": {"flows": 10, "arrival_gap": {"n": 9, "k": 1, "log_scale": false, "components": [{"weight": 1, "mean": 0.02, "sd": 0.001}]}, "rounds": {"n": 10, "k": 2, "log_scale": false, "components": [{"weight": 0.5, "mean": 1, "sd": 0.1}, {"weight": 0.5, "mean": 3, "sd": 0.1}]}, "server_bytes": {"n": 20, "k": 1, "log_scale": true, "components": [{"weight": 1, "mean": 8, "sd": 1.5}]}, "think": {"n": 3, "fitted": "no: too few values"}}, "10.0.0.9": {"flows": 2}}}' > "$OUT/fuzz_model/model.json"
# and an empirical one (quantiles), as flow-extract --fit empirical writes
printf '%s' '{"model": "telrep flow model", "version": 1, "fit": "empirical", "classes": {"port 80": {"flows": 5, "rounds": {"n": 5, "quantiles": [1, 1, 2, 3, 3]}, "client_bytes": {"n": 9, "quantiles": [10, 100, 1460, 1460, 9000]}, "arrival_gap": {"n": 4, "quantiles": [0.001, 0.5]}}}}' > "$OUT/fuzz_model/empirical.json"
