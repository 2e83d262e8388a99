/* anonymise.c — pcap-proc's anonymisation (proc_int.h): each message of the pass's protocol
 * through its plugin's anonymiser (BGP, BMP, IPFIX/NetFlow; anon.h holds the keyed mappings),
 * what cannot be mapped counted and dropped or failed, and the key holder's table of what
 * became what. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anon.h"
#include "log.h"
#include "pcapproc/proc_int.h"

#define ANON_MAP_MAX 1000000 /* entries the key holder's table keeps (past it: counted) */

void proc_record_mapping(void *ctx, enum anon_kind kind, const uint8_t *orig, const uint8_t *image, size_t len)
{
    struct proc *p = ctx;
    static const char *const section[] = { "addresses", "as_numbers", "names" };
    json_t *t = json_object_get(p->anon_map, section[kind]);
    char k[ADDR_STRLEN + 16], v[ADDR_STRLEN + 16];
    if (kind == ANON_ADDR) {
        struct addr x;
        addr_from_bytes(&x, len == 4 ? AF_INET : AF_INET6, orig);
        addr_format(&x, k);
        addr_from_bytes(&x, len == 4 ? AF_INET : AF_INET6, image);
        addr_format(&x, v);
    } else if (kind == ANON_AS) {
        snprintf(k, sizeof k, "%u", (unsigned)((uint32_t)orig[0] << 24 | (uint32_t)orig[1] << 16 | (uint32_t)orig[2] << 8 | orig[3]));
        snprintf(v, sizeof v, "%u", (unsigned)((uint32_t)image[0] << 24 | (uint32_t)image[1] << 16 | (uint32_t)image[2] << 8 | image[3]));
    }
    if (kind == ANON_NAME) {
        char *name = strndup((const char *)orig, len);
        json_t *img = json_stringn((const char *)image, len);
        if (name && img && !json_object_get(t, name)) {
            if (p->anon_map_entries < ANON_MAP_MAX && json_object_set(t, name, img) == 0)
                p->anon_map_entries++;
            else
                p->anon_map_unlisted++;
        }
        json_decref(img);
        free(name);
        return;
    }
    if (json_object_get(t, k))
        return;
    if (p->anon_map_entries < ANON_MAP_MAX) {
        json_object_set_new(t, k, json_string(v));
        p->anon_map_entries++;
    } else {
        p->anon_map_unlisted++;
    }
}

bool proc_anonymise(struct proc *p, struct stream *st, struct proc_router *rt, uint8_t *msg, size_t len)
{
    enum proto_id id = p->pc->id;
    enum anon_result r = ANON_UNMAPPABLE; /* generic payloads: nothing is known of them */
    if (id == PROTO_BGP && st) {
        struct bgp_open o;
        if (msg[BGP_TYPE_OFFSET] == BGP_OPEN && bgp_parse_open(msg, len, &o) == 0) {
            st->bgp_as4 = o.four_byte_as;
            st->bgp_addpath = false;
            for (unsigned i = 0; i < o.n_caps; i++)
                st->bgp_addpath |= o.caps[i] == BGP_CAP_ADD_PATH; /* ADD-PATH offered: its UPDATEs read with path ids */
        }
        r = bgp_anonymise(p->anon, msg, len, st->bgp_as4, st->bgp_addpath, &p->anon_n);
    } else if (id == PROTO_IPFIX && rt) {
        if (!rt->nf_anon && !(rt->nf_anon = netflow_anon_new(p->anon)))
            r = ANON_MALFORMED;
        else
            r = netflow_anonymise(rt->nf_anon, msg, len, &p->anon_n);
    } else if (id == PROTO_BMP && st) {
        if (!st->bmp_anon && !(st->bmp_anon = bmp_anon_new(p->anon)))
            r = ANON_MALFORMED;
        else
            r = bmp_anonymise(st->bmp_anon, msg, len, &p->anon_n);
    }
    if (r == ANON_OK)
        return true;
    (r == ANON_UNMAPPABLE ? p->anon_unmappable : p->anon_malformed)[id]++;
    if (p->c->pcap_processing.anonymise.fail && !p->anon_failed) {
        p->anon_failed = true;
        log_error("anonymise: a %s message that cannot be %s (unmappable: fail): no output is written; "
                  "unmappable: drop leaves such messages out and counts them", proto_names[id],
                  r == ANON_UNMAPPABLE ? "mapped (its content is not known to the anonymiser)" : "read");
    }
    return false;
}
