#include "sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *sock_format(const struct sockaddr_storage *ss, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
        snprintf(buf, len, "%s:%u", a, ntohs(in->sin_port));
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
        snprintf(buf, len, "[%s]:%u", a, ntohs(in6->sin6_port));
    }
    return buf;
}

static int set_options(int fd, int family, const struct sock_options *o, char *err, size_t errlen)
{
    if (o->device && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->device, (socklen_t)strlen(o->device) + 1) < 0) {
        snprintf(err, errlen, "cannot bind to device %s (SO_BINDTODEVICE): %s", o->device, strerror(errno));
        return -1;
    }
    if (o->sndbuf && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o->sndbuf, sizeof o->sndbuf) < 0) {
        snprintf(err, errlen, "so_sndbuf %d: %s", o->sndbuf, strerror(errno));
        return -1;
    }
    if (o->rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf, sizeof o->rcvbuf) < 0) {
        snprintf(err, errlen, "so_rcvbuf %d: %s", o->rcvbuf, strerror(errno));
        return -1;
    }
    int one = 1;
    if (o->freebind && (family == AF_INET6 ? setsockopt(fd, SOL_IPV6, IPV6_FREEBIND, &one, sizeof one)
                                           : setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof one)) < 0) {
        snprintf(err, errlen, "cannot bind to addresses not on this host (IP_FREEBIND): %s; or let the kernel "
                 "do it for every socket: sysctl net.ipv4.ip_nonlocal_bind=1 net.ipv6.ip_nonlocal_bind=1",
                 strerror(errno));
        return -1;
    }
    return 0;
}

static int sock_open(int type, const struct addr *local, uint16_t port, const struct sockaddr_storage *remote,
                     socklen_t remote_len, const struct sock_options *o, char *err, size_t errlen)
{
    char la[ADDR_STRLEN], ra[80];
    int fd = socket(local->family, type | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t len = addr_to_sockaddr(local, port, &ss);
    if (set_options(fd, local->family, o, err, errlen) < 0)
        goto fail;
    int one = 1;
    if (port)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        snprintf(err, errlen, port ? "cannot bind to %s port %u: %s%s" : "cannot bind to %s%.0u: %s%s",
                 addr_format(local, la), port, strerror(errno),
                 errno == EADDRNOTAVAIL ? " (is the address assigned here? IPv6: added with nodad? or "
                                          "--no-address-check to bind it anyway)" : "");
        goto fail;
    }
    if (type & SOCK_STREAM) /* whole messages are queued: no reason to wait for more */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!remote) { /* each datagram says where: refusals are read from the error queue */
        if ((local->family == AF_INET6 ? setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &one, sizeof one)
                                       : setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof one)) < 0) {
            snprintf(err, errlen, "IP_RECVERR: %s", strerror(errno));
            goto fail;
        }
        return fd;
    }
    if (connect(fd, (const struct sockaddr *)remote, remote_len) < 0 && errno != EINPROGRESS) {
        snprintf(err, errlen, "cannot reach collector %s from %s: %s%s", sock_format(remote, ra, sizeof ra),
                 addr_format(local, la), strerror(errno),
                 o->freebind && errno == ENETUNREACH ? " (with --no-address-check an address not on this host "
                 "can only send to other hosts)" : "");
        goto fail;
    }
    return fd;
fail:
    close(fd);
    return -1;
}

int sock_open_udp(const struct addr *local, uint16_t port, const struct sockaddr_storage *remote,
                  socklen_t remote_len, const struct sock_options *o, char *err, size_t errlen)
{
    return sock_open(SOCK_DGRAM, local, port, remote, remote_len, o, err, errlen);
}

int sock_open_tcp(const struct addr *local, const struct sockaddr_storage *remote, socklen_t remote_len,
                  const struct sock_options *o, char *err, size_t errlen)
{
    return sock_open(SOCK_STREAM | SOCK_NONBLOCK, local, 0, remote, remote_len, o, err, errlen);
}

int sock_udp_refusals(int fd, void (*fn)(void *ctx, const struct sockaddr_storage *to, int err), void *ctx)
{
    int n = 0;
    for (;;) {
        struct sockaddr_storage to;
        uint8_t quoted[64]; /* the datagram's first bytes, unused */
        union { struct cmsghdr align; uint8_t b[256]; } control;
        struct iovec iov = { .iov_base = quoted, .iov_len = sizeof quoted };
        struct msghdr m = { .msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = control.b, .msg_controllen = sizeof control.b };
        memset(&to, 0, sizeof to);
        if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
            return n; /* EAGAIN: the queue is empty */
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
            if (!((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
                  (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)))
                continue;
            struct sock_extended_err ee;
            memcpy(&ee, CMSG_DATA(c), sizeof ee);
            fn(ctx, &to, (int)ee.ee_errno);
            n++;
        }
    }
}
