#include "netlink.h"

#include <linux/if_addr.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAMED_MAX 8 /* missing addresses named one by one; the rest are counted */

static bool on_loopback(struct nl_cache *links, int ifindex)
{
    struct rtnl_link *link = rtnl_link_get(links, ifindex);
    bool lo = link && (rtnl_link_get_flags(link) & IFF_LOOPBACK);
    if (link)
        rtnl_link_put(link);
    return lo;
}

/* The local addresses, sorted for bsearch (clones make thousands of repro_ips to look up),
 * and the prefixes of addresses on a loopback device (127.0.0.1/8 makes all of 127/8 local,
 * as the kernel does). */
struct local {
    struct addr a;
    bool tentative; /* IPv6, still in duplicate address detection */
};
struct locals {
    struct local *v;
    size_t n;
    struct addr *prefixes;
    size_t n_prefixes;
};

static int local_cmp(const void *x, const void *y)
{
    const struct addr *a = x, *b = y; /* struct local starts with its addr */
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->bytes, b->bytes, sizeof a->bytes);
}

static int locals_read(struct nl_cache *addrs, struct nl_cache *links, struct locals *l)
{
    int n = nl_cache_nitems(addrs);
    l->v = calloc((size_t)n + 1, sizeof *l->v);
    l->prefixes = calloc((size_t)n + 1, sizeof *l->prefixes);
    if (!l->v || !l->prefixes)
        return -1;
    for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
        struct rtnl_addr *ra = (struct rtnl_addr *)o;
        struct nl_addr *local = rtnl_addr_get_local(ra);
        int family = local ? nl_addr_get_family(local) : 0;
        size_t len = family == AF_INET ? 4 : 16;
        if ((family != AF_INET && family != AF_INET6) || nl_addr_get_len(local) != len)
            continue;
        struct local *x = &l->v[l->n++];
        addr_from_bytes(&x->a, family, nl_addr_get_binary_addr(local));
        x->tentative = (rtnl_addr_get_flags(ra) & IFA_F_TENTATIVE) != 0;
        unsigned prefix = (unsigned)rtnl_addr_get_prefixlen(ra);
        if (prefix < len * 8 && on_loopback(links, rtnl_addr_get_ifindex(ra))) {
            l->prefixes[l->n_prefixes] = x->a;
            l->prefixes[l->n_prefixes++].prefix = (uint8_t)prefix;
        }
    }
    qsort(l->v, l->n, sizeof *l->v, local_cmp);
    return 0;
}

static void locals_free(struct locals *l)
{
    free(l->v);
    free(l->prefixes);
}

/* Is `a` a local address? *tentative tells an IPv6 address still in DAD. */
static bool address_is_local(const struct locals *l, const struct addr *a, bool *tentative)
{
    struct addr want;
    addr_from_bytes(&want, a->family, a->bytes); /* the bytes past an IPv4 address are 0, as in the table */
    for (size_t lo = 0, hi = l->n; lo < hi;) {
        size_t mid = (lo + hi) / 2;
        int c = local_cmp(&want, &l->v[mid].a);
        if (c == 0) {
            *tentative = l->v[mid].tentative;
            return true;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    for (size_t i = 0; i < l->n_prefixes; i++)
        if (addr_in_prefix(a, &l->prefixes[i])) {
            *tentative = false;
            return true;
        }
    return false;
}

int netlink_check(const struct config *c, char *err, size_t errlen)
{
    struct nl_sock *sk = nl_socket_alloc();
    struct nl_cache *links = NULL, *addrs = NULL;
    int rc = -1;
    if (!sk || nl_connect(sk, NETLINK_ROUTE) < 0) {
        snprintf(err, errlen, "cannot open a netlink socket to check interfaces and addresses");
        goto out;
    }
    if (rtnl_link_alloc_cache(sk, AF_UNSPEC, &links) < 0 || rtnl_addr_alloc_cache(sk, &addrs) < 0) {
        snprintf(err, errlen, "cannot read interfaces and addresses over netlink");
        goto out;
    }
    const char *dev = c->interface ? c->interface : "lo";
    if (c->interface) {
        struct rtnl_link *link = rtnl_link_get_by_name(links, c->interface);
        if (!link) {
            snprintf(err, errlen, "network.interface \"%s\" does not exist here (`ip link show` lists the "
                     "devices; a VRF is created with `ip link add %s type vrf table N`)", c->interface, c->interface);
            goto out;
        }
        rtnl_link_put(link);
    }
    struct locals l = { 0 };
    if (locals_read(addrs, links, &l) < 0) {
        snprintf(err, errlen, "out of memory");
        locals_free(&l);
        goto out;
    }
    /* every router's repro_ip (each clone's); the first few missing are named, all counted */
    size_t off = 0, missing = 0, named = 0;
    err[0] = '\0';
    for (size_t i = 0; i < c->n_map; i++) {
        for (unsigned k = 0; k < (c->map[i].clones ? c->map[i].clones : 1); k++) {
            struct addr a;
            char r[ADDR_STRLEN], s[ADDR_STRLEN];
            bool tentative = false;
            if (addr_add(&c->map[i].repro, k, &a) < 0)
                continue;
            bool local = address_is_local(&l, &a, &tentative);
            if (local && !tentative)
                continue;
            if (missing++ >= NAMED_MAX)
                continue;
            int w = snprintf(err + off, errlen - off, "%srepro_ip %s (for src_ip %s%s, config line %u) %s; fix: "
                             "ip addr add %s/%d dev %s%s", off ? "\n" : "", addr_format(&a, r),
                             addr_format(&c->map[i].src, s), k ? ", a clone" : "", c->map[i].line,
                             local ? "is still tentative (IPv6 duplicate address detection)"
                                   : "is not assigned to any local interface",
                             r, a.family == AF_INET ? 32 : 128, dev, a.family == AF_INET6 ? " nodad" : "");
            if (w < 0 || (size_t)w >= errlen - off)
                break;
            off += (size_t)w;
            named++;
        }
    }
    if (missing > named && off < errlen)
        off += (size_t)snprintf(err + off, errlen - off, "\n... %zu more repro_ip addresses missing (%zu in all); a "
                                "range of them is local at once as a prefix on the loopback device, e.g. "
                                "ip addr add 203.0.113.0/24 dev lo", missing - named, missing);
    locals_free(&l);
    rc = off ? -1 : 0;
out:
    if (addrs)
        nl_cache_free(addrs);
    if (links)
        nl_cache_free(links);
    if (sk)
        nl_socket_free(sk);
    return rc;
}
