#!/usr/bin/env bash
# demo.sh [BUILD] — a real replay: pmacct's nfacctd listens on 127.0.0.1:2055 inside a
# private network namespace (nothing leaves this machine, no port of the host is taken),
# telrep replays examples/ipfix.yml to it, and nfacctd's own output shows what arrived:
# every flow, with each router's repro_ip as its exporter (peer_ip_src). Needs root.
set -u
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd)
NS=telrep-demo-$$
DIR=$(mktemp -d /tmp/telrep-demo.XXXXXX)
NFACCTD=
cleanup() {
    [ -n "$NFACCTD" ] && kill -INT "$NFACCTD" 2>/dev/null && wait "$NFACCTD" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$DIR"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates a network namespace)" >&2; exit 1; }
command -v nfacctd > /dev/null || { echo "demo: nfacctd missing: make deps installs pmacct" >&2; exit 1; }

ip netns add "$NS" && ip -n "$NS" link set lo up || exit 1
cat > "$DIR/nfacctd.conf" <<CONF
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: 2055
nfacctd_time_new: true
plugins: print[p]
aggregate[p]: peer_src_ip, src_host, dst_host, src_port, dst_port, proto
print_output[p]: json
print_output_file[p]: $DIR/flows-%s.json
print_output_file_append[p]: true
print_refresh_time[p]: 1
CONF
ip netns exec "$NS" nfacctd -f "$DIR/nfacctd.conf" > "$DIR/nfacctd.log" 2>&1 &
NFACCTD=$!
for _ in $(seq 50); do ip netns exec "$NS" ss -lun | grep -q ':2055 ' && break; sleep 0.1; done

echo "demo: nfacctd listens on 127.0.0.1:2055 in network namespace $NS"
echo "demo: telrep -t examples/ipfix.yml --stats-json report.json"
ip netns exec "$NS" "$BUILD/telrep" -t examples/ipfix.yml --progress 1 --stats-json "$DIR/report.json"
rc=$?
sleep 2.5 # nfacctd writes its rows every second
kill -INT "$NFACCTD"; wait "$NFACCTD" 2>/dev/null; NFACCTD=

echo
echo "demo: telrep sent $(jq .sent "$DIR/report.json") IPFIX messages, $(jq .refused "$DIR/report.json") refused"
echo "demo: nfacctd decoded, per exporter (peer_ip_src):"
cat "$DIR"/flows-*.json 2>/dev/null | jq -r .peer_ip_src | sort | uniq -c | sed 's/^/    /'
echo "demo: (the capture holds 100 records from 10.0.0.1 and 100 from 10.0.0.2, replayed from 127.0.0.1 and 127.0.0.2)"
exit $rc
