/* sockets.c — flow-replay's addresses, namespaces and sockets (replay_int.h): the maps of
 * --map and --port-map, a socket opened in another network namespace, the per-flow socket
 * options of the config's rules, and ECN (a namespace's sysctl, Linux has no per-socket
 * switch). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "flow/replay_int.h"

struct addr flow_map_addr(const struct flow_replay_options *o, const struct addr *a)
{
    for (size_t i = 0; i < o->n_map; i++)
        if (addr_equal(&o->map[i].from, a))
            return o->map[i].to;
    return *a;
}

/* A socket in a network namespace (-1 = this one). */
int flow_socket_in(struct engine *e, int netns, int family)
{
    if (netns >= 0 && setns(netns, CLONE_NEWNET) < 0)
        return -1;
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int saved = errno;
    if (netns >= 0 && setns(e->netns_self, CLONE_NEWNET) < 0)
        log_error("cannot return to the original network namespace: %s", strerror(errno));
    errno = saved;
    return fd;
}

uint16_t flow_map_port(const struct flow_replay_options *o, uint16_t port)
{
    for (size_t i = 0; i < o->n_port_map; i++)
        if (o->port_map[i].from == port)
            return o->port_map[i].to;
    return port;
}

/* A flow's options: the first rule that matches it, over the global ones. */
struct flow_sockopts flow_opts_of(const struct flow_replay_options *o, const struct flow_spec *f)
{
    struct flow_sockopts r = o->sock;
    for (size_t i = 0; i < o->n_rules; i++) {
        const struct flow_rule *u = &o->rules[i];
        if ((u->has_fid && u->fid != f->fid) || (u->has_client && !addr_equal(&u->client, &f->side[0].ip)) ||
            (u->has_server && !addr_equal(&u->server, &f->side[1].ip)) ||
            (u->server_port >= 0 && u->server_port != f->side[1].port))
            continue;
        if (u->opts.congestion)
            r.congestion = u->opts.congestion;
        if (u->opts.nodelay >= 0)
            r.nodelay = u->opts.nodelay;
        if (u->opts.sndbuf)
            r.sndbuf = u->opts.sndbuf;
        if (u->opts.rcvbuf)
            r.rcvbuf = u->opts.rcvbuf;
        break;
    }
    return r;
}

void flow_tune(int fd, const struct flow_sockopts *s)
{
    static unsigned warned;
    if (s->nodelay >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &s->nodelay, sizeof s->nodelay);
    if (s->congestion && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, s->congestion, (socklen_t)strlen(s->congestion)) < 0)
        log_warn_limited(&warned, 3, "congestion control \"%s\": %s (is its module loaded? see "
                         "/proc/sys/net/ipv4/tcp_available_congestion_control)", s->congestion, strerror(errno));
    if (s->sndbuf)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &s->sndbuf, sizeof s->sndbuf);
    if (s->rcvbuf)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &s->rcvbuf, sizeof s->rcvbuf);
}

int flow_open_netns(const char *name, char *err, size_t errlen)
{
    if (!name)
        return -1;
    char path[256];
    snprintf(path, sizeof path, "/var/run/netns/%s", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        snprintf(err, errlen, "network namespace \"%s\": %s (ip netns list shows the names)", name, strerror(errno));
    return fd;
}

/* net.ipv4.tcp_ecn of a namespace (ECN has no per-socket switch on Linux): 0 or -1. */
int flow_set_ecn(struct engine *e, int netns, int value)
{
    if (setns(netns, CLONE_NEWNET) < 0)
        return -1;
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_ecn", "w");
    int rc = f && fprintf(f, "%d\n", value) > 0 ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (setns(e->netns_self, CLONE_NEWNET) < 0)
        log_error("cannot return to the original network namespace: %s", strerror(errno));
    return rc;
}
