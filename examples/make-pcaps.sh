#!/bin/sh
# make-pcaps.sh [BUILD] — regenerates examples/pcaps/ with the project's own generator
# (deterministic: the same files every time). `make examples` runs it.
set -eu
cd "$(dirname "$0")"
G=${1:-../build}/gen-pcap
[ -x "$G" ] || G=$(cd .. && pwd)/${1:-build}/gen-pcap
mkdir -p pcaps
$G -o pcaps/ipfix-2routers.pcap --format ipfix --routers 2 --src 10.0.0.1 --packets 40 --records 5 --interval 0.1 --start 1672534805
$G -o pcaps/nfv9.pcap --format v9 --src 10.0.1.1 --packets 20 --records 4 --interval 0.05
$G -o pcaps/nfv5.pcap --format v5 --src 2001:db8::1 --dst 2001:db8::100 --packets 20 --records 10 --interval 0.05
$G -o pcaps/syslog.pcap --format udp --src 10.0.2.1 --dport 514 --packets 10 --interval 0.2
$G -o pcaps/bmp-2routers.pcap --format bmp --routers 2 --src 10.0.3.1 --peers 2 --packets 60 --records 2 --interval 0.05 --start 1672534805 --peer-down --term
$G -o pcaps/bgp.pcap --format bgp --src 10.0.4.1 --asn 65001 --hold 90 --packets 30 --records 3 --segment 300 --interval 0.1 --start 1672534805
# a raw capture for pcap-proc: handshakes, both directions, two route monitoring messages
# before each INIT, retransmitted and reordered segments
$G -o pcaps/bmp-raw.pcap --format bmp --routers 2 --src 10.0.5.1 --peers 2 --packets 30 --records 2 --interval 0.05 --start 1672534805 --handshake --replies --before-start 2 --retransmit-every 6 --reorder-every 9 --segment 200
# an MRT dump (RouteViews / RIS style: a TABLE_DUMP_V2 RIB, then BGP4MP updates with a peer
# restart), gzip'd as the archives are, for examples/mrt.yml
M=${1:-../build}/mrt-gen
[ -x "$M" ] || M=$(cd .. && pwd)/${1:-build}/mrt-gen
$M --peers 4 --v4 200 --v6 50 --updates 20 --restart --time 1672534800 pcaps/rib-updates.mrt
gzip -nf pcaps/rib-updates.mrt
