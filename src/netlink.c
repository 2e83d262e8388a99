#include "netlink.h"

#include <linux/if_addr.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <stdio.h>
#include <string.h>

static bool on_loopback(struct nl_cache *links, int ifindex)
{
    struct rtnl_link *link = rtnl_link_get(links, ifindex);
    bool lo = link && (rtnl_link_get_flags(link) & IFF_LOOPBACK);
    if (link)
        rtnl_link_put(link);
    return lo;
}

/* Is `a` a local address? Assigned to an interface, or inside the prefix of an address
 * on a loopback device (127.0.0.1/8 makes all of 127/8 local, as the kernel does).
 * *tentative tells an IPv6 address still in duplicate address detection. */
static bool address_is_local(struct nl_cache *addrs, struct nl_cache *links, const struct addr *a, bool *tentative)
{
    for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
        struct rtnl_addr *ra = (struct rtnl_addr *)o;
        struct nl_addr *local = rtnl_addr_get_local(ra);
        size_t n = a->family == AF_INET ? 4 : 16;
        if (!local || nl_addr_get_family(local) != a->family || nl_addr_get_len(local) != n)
            continue;
        struct addr have;
        addr_from_bytes(&have, a->family, nl_addr_get_binary_addr(local));
        if (addr_equal(&have, a)) {
            *tentative = (rtnl_addr_get_flags(ra) & IFA_F_TENTATIVE) != 0;
            return true;
        }
        have.prefix = (uint8_t)rtnl_addr_get_prefixlen(ra);
        if (have.prefix < n * 8 && addr_in_prefix(a, &have) && on_loopback(links, rtnl_addr_get_ifindex(ra))) {
            *tentative = false;
            return true;
        }
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
    size_t off = 0;
    err[0] = '\0';
    for (size_t i = 0; i < c->n_map; i++) {
        const struct addr *a = &c->map[i].repro;
        char r[ADDR_STRLEN], s[ADDR_STRLEN];
        bool tentative = false;
        bool local = address_is_local(addrs, links, a, &tentative);
        if (local && !tentative)
            continue;
        int w = snprintf(err + off, errlen - off, "%srepro_ip %s (for src_ip %s, config line %u) %s; fix: "
                         "ip addr add %s/%d dev %s%s", off ? "\n" : "", addr_format(a, r),
                         addr_format(&c->map[i].src, s), c->map[i].line,
                         local ? "is still tentative (IPv6 duplicate address detection)"
                               : "is not assigned to any local interface",
                         r, a->family == AF_INET ? 32 : 128, dev, a->family == AF_INET6 ? " nodad" : "");
        if (w < 0 || (size_t)w >= errlen - off)
            break;
        off += (size_t)w;
    }
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
