/* sock.h — sockets bound to a router's repro_ip, optionally to a device (VRF). */
#ifndef TELREP_SOCK_H
#define TELREP_SOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>

#include "addr.h"

struct sock_options {
    const char *device; /* SO_BINDTODEVICE, NULL = none */
    int sndbuf, rcvbuf; /* 0 = system default */
    bool freebind;      /* IP_FREEBIND / IPV6_FREEBIND: bind an address not (yet) on this host */
};

/* A UDP socket bound to local:port (0: the kernel picks) and connected to remote. A
 * fixed port is bound with SO_REUSEADDR (two protocols of one router may share it).
 * Returns the fd or -1 with err.
 * remote NULL: not connected, each datagram names its destination; a refusal (ICMP port
 * unreachable) then fails the socket's next send with ECONNREFUSED, as on a connected one,
 * and waits in its error queue (IP_RECVERR) with the destination it is about:
 * sock_udp_refusals() reads them. */
int sock_open_udp(const struct addr *local, uint16_t port, const struct sockaddr_storage *remote,
                  socklen_t remote_len, const struct sock_options *o, char *err, size_t errlen);
/* The refusals in an unconnected UDP socket's error queue, each given to fn with the
 * destination it is about (other errors are passed too: err is their errno); how many. */
int sock_udp_refusals(int fd, void (*fn)(void *ctx, const struct sockaddr_storage *to, int err), void *ctx);
/* A non-blocking TCP socket bound to local:0, its connect to remote started (EPOLLOUT
 * tells when it is done; SO_ERROR how). Returns the fd or -1 with err. */
int sock_open_tcp(const struct addr *local, const struct sockaddr_storage *remote, socklen_t remote_len,
                  const struct sock_options *o, char *err, size_t errlen);
const char *sock_format(const struct sockaddr_storage *ss, char *buf, size_t len);

#endif
