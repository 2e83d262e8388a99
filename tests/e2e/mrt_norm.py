#!/usr/bin/env python3
"""mrt_norm.py — what a BGP decoder saw, in one form, so that two decoders can be compared.

The reference is `bgpdump -m` over an MRT dump; the others are what the collectors logged from
telrep's replay of it (pmbmpd / pmbgpd message logs, gobgp adj-in). Each route becomes one line

    peer prefix path_id A as_path origin next_hop med communities
    peer prefix path_id W

and the lines are printed sorted (a multiset: the replay packs routes of one attribute set
into one UPDATE, so the order within a peer changes and the routes do not).

    mrt_norm.py routes bgpdump FILE           every route of the dump (RIB entries and updates)
    mrt_norm.py routes msglog [MAP] FILE...   every route a pmacct message log holds
    mrt_norm.py final bgpdump FILE            the routes each peer holds at the end: updates
                                              applied in order, a session that leaves
                                              Established forgets its routes
    mrt_norm.py final gobgp [MAP] FILE...     `gobgp -j neighbor N adj-in` outputs
    mrt_norm.py sessions bgpdump FILE         per peer: "peer ups N", "peer downs N" (STATE
                                              into and out of Established)
    mrt_norm.py sessions msglog [MAP] FILE... the same from BMP peer_up / peer_down; BGP: ups
                                              (session starts) only

    mrt_norm.py locrib bgpdump FILE REPORT    per prefix of a RIB dump the path a router selects
                                              (higher LOCAL_PREF, shorter AS_PATH, lower ORIGIN,
                                              lower MED, lower BGP ID: the peers' IDs from
                                              telrep's report), as peer 0.0.0.0: the Loc-RIB
                                              pmbmpd logs

    mrt_norm.py summary bgpdump FILE          per peer: its AS, RIB entries, prefixes announced
    mrt_norm.py summary telrep FILE           and withdrawn per family, state changes and time
                                              range, from bgpdump's lines or from the summary
                                              pcap-proc wrote (traffic-info.json)

MAP is --map local=peer,...: the address a session came from (BGP: telrep's repro_ip) and the
MRT peer it spoke for. A gobgp adj-in file is named by its neighbor: adj-in-ADDR-ipv4.json.
"""
import json
import os
import re
import sys

ORIGIN = {"IGP": "i", "EGP": "e", "INCOMPLETE": "u", "i": "i", "e": "e", "u": "u", "?": "u", "0": "i",
          "1": "e", "2": "u"}


def route(peer, prefix, path_id, kind, as_path="", origin="", nh="", med=0, comms=""):
    # an IPv4-mapped next hop (an IPv6 route over an IPv4 session): gobgp prints the IPv4 form
    if nh.lower().startswith("::ffff:") and "." in nh:
        nh = nh[7:]
    if kind == "W":
        return f"{peer} {prefix} {path_id} W"
    return f"{peer} {prefix} {path_id} A [{as_path}] {ORIGIN.get(origin, origin)} {nh} {med} [{comms}]"


def bgpdump_records(path):
    """(kind, peer, prefix, path_id, line) for B/A/W, ('STATE', peer, old, new) for states"""
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("|")
            if len(p) < 6:
                continue
            addpath = p[0].endswith("_AP")
            kind, peer = p[2], p[3]
            if kind == "STATE":
                yield ("STATE", peer, int(p[5]), int(p[6]))
                continue
            prefix = p[5]
            i = 6
            path_id = 0
            if addpath:
                path_id = int(p[6])
                i = 7
            if kind == "W":
                yield ("W", peer, prefix, path_id, route(peer, prefix, path_id, "W"))
            elif kind in ("A", "B"):
                as_path, origin, nh, _lp, med, comms = p[i:i + 6]
                yield ("A", peer, prefix, path_id,
                       route(peer, prefix, path_id, "A", as_path, origin, nh, int(med or 0), comms))


def parse_map(args):
    m = {}
    if args and args[0].startswith("--map"):
        spec = args[0].split("=", 1)[1] if "=" in args[0] else args[1]
        args = args[1:] if "=" in args[0] else args[2:]
        for pair in filter(None, spec.split(",")):
            local, peer = pair.split("=")
            m[local] = peer
    return m, args


def msglog_lines(files):
    for path in files:
        if not os.path.exists(path):  # a collector that logged nothing: no routes
            continue
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    yield json.loads(line)


def msglog_routes(m, files):
    for j in msglog_lines(files):
        if j.get("log_type") not in ("update", "withdraw"):
            continue
        if j.get("bmp_msg_type", "route_monitor") != "route_monitor":
            continue
        peer = j.get("peer_ip") if "bmp_router" in j else m.get(j.get("peer_ip_src"), j.get("peer_ip_src"))
        kind = "W" if j["log_type"] == "withdraw" else "A"
        yield route(peer, j["ip_prefix"], j.get("as_path_id", 0), kind, j.get("as_path", ""),
                    j.get("origin", ""), j.get("bgp_nexthop", ""), j.get("med", 0), j.get("comms", ""))


def gobgp_final(m, files):
    for path in files:
        name = re.match(r"adj-in-(.*)-ipv[46]\.json$", os.path.basename(path))
        if not name:
            continue
        local = name.group(1)
        peer = m.get(local, local)
        with open(path) as f:
            text = f.read().strip()
        if not text:
            continue
        for prefix, paths in json.loads(text).items():
            for p in paths:
                a = {"as_path": "", "origin": "", "nh": "", "med": 0, "comms": ""}
                for attr in p.get("attrs", []):
                    t = attr.get("type")
                    if t == 1:
                        a["origin"] = str(attr["value"])
                    elif t == 2:
                        a["as_path"] = " ".join(" ".join(str(x) for x in seg["asns"])
                                                for seg in attr.get("as_paths", []))
                    elif t == 3:
                        a["nh"] = attr["nexthop"]
                    elif t == 4:
                        a["med"] = attr["metric"]
                    elif t == 8:
                        a["comms"] = " ".join(f"{c >> 16}:{c & 0xffff}" for c in attr["communities"])
                    elif t == 14:
                        a["nh"] = attr["nexthop"]
                yield route(peer, prefix, p.get("id", 0), "A", a["as_path"], a["origin"], a["nh"], a["med"],
                            a["comms"])


def main():
    what, src, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    m, files = parse_map(args)
    out = []
    if what == "routes" and src == "bgpdump":
        out = [r[4] for r in bgpdump_records(files[0]) if r[0] != "STATE"]
    elif what == "routes" and src == "msglog":
        out = list(msglog_routes(m, files))
    elif what == "final" and src == "bgpdump":
        rib = {}
        for r in bgpdump_records(files[0]):
            if r[0] == "STATE":
                if r[2] == 6 and r[3] != 6:
                    rib = {k: v for k, v in rib.items() if k[0] != r[1]}
            elif r[0] == "W":
                rib.pop((r[1], r[2], r[3]), None)
            else:
                rib[(r[1], r[2], r[3])] = r[4]
        out = list(rib.values())
    elif what == "final" and src == "gobgp":
        out = list(gobgp_final(m, files))
    elif what == "sessions" and src == "bgpdump":
        # a peer comes up with its first route or a STATE into Established, and goes down
        # with a STATE out of it (what a BMP PEER_UP / PEER_DOWN or a BGP session says)
        up, ups, downs = {}, {}, {}
        for r in bgpdump_records(files[0]):
            peer = r[1]
            ups.setdefault(peer, 0)
            downs.setdefault(peer, 0)
            if r[0] == "STATE" and r[2] == 6 and r[3] != 6:
                if up.get(peer):
                    downs[peer] += 1
                up[peer] = False
            elif (r[0] != "STATE" or r[3] == 6) and not up.get(peer):
                ups[peer] += 1
                up[peer] = True
        out = [f"{p} ups {n}" for p, n in ups.items()] + [f"{p} downs {n}" for p, n in downs.items()]
    elif what == "sessions" and src == "msglog":
        # BMP: PEER_UP and PEER_DOWN per peer; BGP: session starts only (telrep's own end of
        # the replay closes the sessions too)
        ups, downs = {}, {}
        for j in msglog_lines(files):
            if "bmp_router" in j:
                peer = j.get("peer_ip")
                if peer is None:
                    continue
                ups[peer] = ups.get(peer, 0) + (j.get("bmp_msg_type") == "peer_up")
                downs[peer] = downs.get(peer, 0) + (j.get("bmp_msg_type") == "peer_down")
            else:
                peer = m.get(j.get("peer_ip_src"), j.get("peer_ip_src"))
                ups[peer] = ups.get(peer, 0) + (j.get("event_type") == "log_init")
        out = [f"{p} ups {n}" for p, n in ups.items()] + [f"{p} downs {n}" for p, n in downs.items()]
    elif what == "locrib" and src == "bgpdump":
        with open(files[1]) as f:
            report = json.load(f)
        ids = {}
        for summary in report["sources"].values():
            for p in summary["peers"]:
                ids[p["address"]] = tuple(int(x) for x in p.get("bgp_id", "0.0.0.0").split("."))
        best = {}
        with open(files[0]) as f:
            for line in f:
                p = line.rstrip("\n").split("|")
                if len(p) < 12 or p[2] != "B":
                    continue
                peer, prefix, as_path, origin, nh, lp, med, comms = p[3], p[5], p[6], p[7], p[8], p[9], p[10], p[11]
                hops = sum(1 for x in as_path.replace("{", " { ").split() if x not in "{}") if as_path else 0
                sets = as_path.count("{")
                length = hops - sum(len(s.split(",")) for s in as_path.split("{")[1:]) + sets if sets else hops
                rank = (-(int(lp) or 100), length, {"IGP": 0, "EGP": 1, "INCOMPLETE": 2}[origin], int(med or 0),
                        ids.get(peer, (0, 0, 0, 0)))
                if prefix not in best or rank < best[prefix][0]:
                    best[prefix] = (rank, route("0.0.0.0", prefix, 0, "A", as_path, origin, nh, int(med or 0), comms))
        out = [r for _, r in best.values()]
    elif what == "summary" and src == "bgpdump":
        peers = {}
        with open(files[0]) as f:
            for line in f:
                p = line.rstrip("\n").split("|")
                if len(p) < 5:
                    continue
                n = peers.setdefault(p[3], {"as": p[4], "B": [0, 0], "A": [0, 0], "W": [0, 0], "STATE": 0,
                                            "t": []})
                n["t"].append(int(float(p[1])))
                if p[2] == "STATE":
                    n["STATE"] += 1
                elif p[2] in ("B", "A", "W"):
                    n[p[2]][":" in p[5]] += 1
        out = [f"{a} AS{n['as']} rib {n['B'][0]} {n['B'][1]} announced {n['A'][0]} {n['A'][1]} withdrawn "
               f"{n['W'][0]} {n['W'][1]} states {n['STATE']} time {min(n['t'])}-{max(n['t'])}"
               for a, n in peers.items()]
    elif what == "summary" and src == "telrep":
        with open(files[0]) as f:
            info = json.load(f)
        for i in info["inputs"]:
            for p in i["summary"]["peers"]:
                if "time" not in p:  # in the peer table, nothing recorded: bgpdump lists no line of it
                    continue
                r, u = p["rib_entries"], p["updates"]
                out.append(f"{p['address']} AS{p['as']} rib {r['ipv4_unicast'] + r['ipv4_multicast']} "
                           f"{r['ipv6_unicast'] + r['ipv6_multicast']} announced {u['announced']['ipv4']} "
                           f"{u['announced']['ipv6']} withdrawn {u['withdrawn']['ipv4']} {u['withdrawn']['ipv6']} "
                           f"states {p['state_changes']} time {int(p['time']['first'])}-{int(p['time']['last'])}")
    else:
        sys.exit(f"mrt_norm.py: unknown request {what} {src}")
    for line in sorted(out):
        print(line)


if __name__ == "__main__":
    main()
