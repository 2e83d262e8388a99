/* mrt_summary.c — what an MRT dump holds, as pcap-proc's summary says it (mrt.h:
 * mrt_summary_json): per peer its RIB entries and updates per family, the time range, the
 * attributes carried and AS path lengths, what was skipped and why. From the reader's counts
 * through its accessors. */
#include <stdio.h>

#include "proto/proto.h"
#include "source/mrt.h"

static json_t *peer_json(const struct mrt_peer *p)
{
    char ip[ADDR_STRLEN], id[ADDR_STRLEN];
    const struct mrt_peer_stats *n = &p->n;
    json_t *o = json_pack("{s:s, s:I}", "address", addr_format(&p->ip, ip), "as", (json_int_t)p->as);
    if (p->bgp_id)
        json_object_set_new(o, "bgp_id", json_string(addr_format_ipv4(p->bgp_id, id)));
    json_object_set_new(o, "rib_entries", json_pack("{s:I, s:I, s:I, s:I}",
        "ipv4_unicast", (json_int_t)n->rib_entries[0][0], "ipv4_multicast", (json_int_t)n->rib_entries[0][1],
        "ipv6_unicast", (json_int_t)n->rib_entries[1][0], "ipv6_multicast", (json_int_t)n->rib_entries[1][1]));
    if (n->addpath_entries)
        json_object_set_new(o, "addpath_entries", json_integer((json_int_t)n->addpath_entries));
    json_object_set_new(o, "updates", json_pack("{s:I, s:{s:I, s:I}, s:{s:I, s:I}}", "messages", (json_int_t)n->updates,
        "announced", "ipv4", (json_int_t)n->announced[0], "ipv6", (json_int_t)n->announced[1],
        "withdrawn", "ipv4", (json_int_t)n->withdrawn[0], "ipv6", (json_int_t)n->withdrawn[1]));
    json_object_set_new(o, "other_messages", json_integer((json_int_t)n->other_messages));
    json_object_set_new(o, "state_changes", json_integer((json_int_t)n->state_changes));
    if (n->first_ns)
        json_object_set_new(o, "time", json_pack("{s:f, s:f}", "first", n->first_ns / 1e9, "last", n->last_ns / 1e9));
    return o;
}

json_t *mrt_summary_json(const struct mrt_reader *r)
{
    const struct mrt_counts *n = mrt_counts(r);
    char id[ADDR_STRLEN];
    json_t *peers = json_array();
    for (size_t i = 0; i < mrt_peer_count(r); i++)
        json_array_append_new(peers, peer_json(mrt_peer(r, (uint32_t)i)));
    json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "records", (json_int_t)n->records,
                          "bytes", (json_int_t)n->bytes, "peer_index_tables", (json_int_t)n->peer_tables,
                          "rib_records", (json_int_t)n->rib_records, "rib_entries", (json_int_t)n->rib_entries,
                          "bgp4mp_messages", (json_int_t)n->messages, "state_changes", (json_int_t)n->state_changes);
    if (mrt_collector_id(r))
        json_object_set_new(o, "collector_bgp_id", json_string(addr_format_ipv4(mrt_collector_id(r), id)));
    if (mrt_view(r)[0])
        json_object_set_new(o, "view", json_string(mrt_view(r)));
    if (n->first_ns)
        json_object_set_new(o, "time", json_pack("{s:f, s:f}", "first", n->first_ns / 1e9, "last", n->last_ns / 1e9));
    json_object_set_new(o, "skipped", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
        "unknown_type", (json_int_t)n->skipped_unknown_type, "malformed", (json_int_t)n->skipped_malformed,
        "local_messages", (json_int_t)n->skipped_local, "unmapped_family", (json_int_t)n->skipped_family,
        "unknown_peer_index", (json_int_t)n->skipped_no_peer, "peers_over_limit", (json_int_t)n->skipped_peers_full,
        "truncated", (json_int_t)n->truncated));
    json_t *carried = json_object(), *hist = json_array();
    for (int t = 0; t < 256; t++) {
        if (!n->attr_paths[t])
            continue;
        char name[16];
        const char *nm = bgp_attr_name((uint8_t)t);
        if (!nm)
            snprintf(name, sizeof name, "type %d", t);
        json_object_set_new(carried, nm ? nm : name, json_integer((json_int_t)n->attr_paths[t]));
    }
    for (int i = 0; i < MRT_AS_PATH_BUCKETS; i++)
        json_array_append_new(hist, json_integer((json_int_t)n->as_path_len[i]));
    json_object_set_new(o, "attributes", json_pack("{s:I, s:o, s:{s:f, s:I, s:o}, s:f}", "paths", (json_int_t)n->paths,
        "carried", carried, "as_path_length", "mean", n->paths ? (double)n->as_path_len_sum / (double)n->paths : 0.0,
        "max", (json_int_t)n->as_path_len_max, "histogram", hist,
        "communities_per_path", n->paths ? (double)n->communities / (double)n->paths : 0.0));
    json_object_set_new(o, "peers", peers);
    return o;
}
