/* config_live.c — the config's `live:` section: a live interface as the source (source/live.h).
 * `live: int:eth0` is short for `live: {interface: int:eth0}`; a bare device name means int:.
 * The interface becomes the run's one play (a relay has no end but a signal or duration:). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "source/live.h"

/* the interface: a libtrace live URI, or a device name for int: */
static int key_interface(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct live_options *o = t;
    const char *s = yw_scalar(v);
    if (!s || !*s)
        return yw_fail(p, v, "live.interface: expected an interface (eth0) or a libtrace URI (int:eth0, ring:eth0, "
                       "pcapint:eth0), not %s", s ? "an empty string" : yw_kind(v));
    const char *colon = strchr(s, ':');
    if (colon && !live_spec(s))
        return yw_fail(p, v, "live.interface: \"%s\": telrep captures live from int:, ring: or pcapint: URIs (files "
                       "go in pcap:)", s);
    size_t len = strlen(s) + 5;
    free(o->uri);
    if (!(o->uri = malloc(len)))
        return yw_fail(p, v, "out of memory");
    snprintf(o->uri, len, "%s%s", colon ? "" : "int:", s);
    return 0;
}

static int key_filter(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    char **f = t, err[512];
    free(*f);
    *f = NULL;
    if (yw_is_null(v))
        return 0;
    if (yw_string(p, v, f) < 0)
        return -1;
    if (live_check_filter(*f, err, sizeof err) < 0)
        return yw_fail(p, v, "live.filter: %s", err);
    return 0;
}

static int key_snaplen(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    unsigned long n;
    if (yw_ulong(p, v, 0, ULONG_MAX, &n) < 0)
        return -1;
    if (n < 64 || n > 262144)
        return yw_fail(p, v, "live.snaplen: the bytes kept of each frame, 64 to 262144 (a message cut short cannot be "
                       "replayed: leave it out for whole frames), not %lu", n);
    *(unsigned *)t = (unsigned)n;
    return 0;
}

int config_key_live(struct yw *p, yaml_node_t *v, void *t, int arg)
{
    struct config *c = STATE(p)->cfg;
    struct live_options *o = &c->live;
    STATE(p)->live_node = v;
    o->line = (unsigned)v->start_mark.line + 1;
    o->max_delay = LIVE_MAX_DELAY_DEFAULT;
    if (v->type != YAML_MAPPING_NODE)
        return key_interface(p, v, o, 0);
    const struct yw_key keys[] = {
        { "interface", key_interface, o, 0 },
        { "filter", key_filter, &o->filter, 0 },
        { "snaplen", key_snaplen, &o->snaplen, 0 },
        { "promisc", config_key_bool, &o->promisc, 0 },
        { "max_delay", config_key_nonneg_double, &o->max_delay, 0 },
        { "keep_raw", config_key_string, &o->keep_raw, 0 },
    };
    if (yw_walk_mapping(p, v, keys, sizeof keys / sizeof *keys, "live") < 0)
        return -1;
    if (!o->uri)
        return yw_fail(p, v, "live: name the interface (live: {interface: eth0, filter: \"udp port 2055\"})");
    if (o->max_delay <= 0)
        return yw_fail(p, v, "live.max_delay: a frame may wait this long (seconds) before it is dropped: above 0");
    return 0;
}

/* After the whole config: the interface is a play (with pcap: files it is an error: a relay
 * never reaches the files after it). A live URI in pcap: takes live:'s defaults. */
int config_check_live(struct yw *p)
{
    struct config *c = STATE(p)->cfg;
    struct live_options *o = &c->live;
    yaml_node_t *at = STATE(p)->live_node;
    size_t n_live = 0;
    for (size_t i = 0; i < c->n_pcaps; i++)
        n_live += live_spec(c->pcaps[i]);
    if (o->uri) {
        if (c->n_pcaps)
            return yw_fail(p, at, "live: and pcap: together: a live interface has no end, so the captures would never "
                           "be reached; replay them in another run");
        char **v = yw_grow(c->pcaps, c->n_pcaps, sizeof *v);
        if (v)
            c->pcaps = v;
        struct config_mark *marks = v ? yw_grow(c->pcap_at, c->n_pcaps, sizeof *marks) : NULL;
        char *spec = strdup(o->uri);
        if (!marks || !spec)
            return free(spec), yw_fail(p, at, "out of memory");
        c->pcap_at = marks;
        c->pcap_at[c->n_pcaps] = config_mark_of(at);
        c->pcaps[c->n_pcaps++] = spec;
        n_live = 1;
    } else if (n_live) {
        o->max_delay = LIVE_MAX_DELAY_DEFAULT;
    }
    if (!n_live)
        return 0;
    if (c->n_pcaps > 1)
        return yw_fail(p, at, "a live interface in pcap: with other entries: a live interface has no end, so it must "
                       "be the run's only source");
    if (c->loop.on || c->repeat_counts)
        return yw_fail(p, at ? at : STATE(p)->loop_node, "loop: and repeat: do not apply to a live interface (it never "
                       "ends: use duration: to stop it)");
    c->sources.live = o;
    c->no_sync = true; /* frames are sent as they arrive */
    return 0;
}
