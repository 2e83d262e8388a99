/* sock.h — sockets bound to a router's repro_ip, optionally to a device (VRF). */
#ifndef TELREP_SOCK_H
#define TELREP_SOCK_H

#include <stddef.h>
#include <sys/socket.h>

#include "addr.h"

struct sock_options {
    const char *device; /* SO_BINDTODEVICE, NULL = none */
    int sndbuf, rcvbuf; /* 0 = system default */
};

/* A UDP socket bound to local:0 and connected to remote. Returns the fd or -1 with err. */
int sock_open_udp(const struct addr *local, const struct sockaddr_storage *remote, socklen_t remote_len,
                  const struct sock_options *o, char *err, size_t errlen);
/* A non-blocking TCP socket bound to local:0, its connect to remote started (EPOLLOUT
 * tells when it is done; SO_ERROR how). Returns the fd or -1 with err. */
int sock_open_tcp(const struct addr *local, const struct sockaddr_storage *remote, socklen_t remote_len,
                  const struct sock_options *o, char *err, size_t errlen);
const char *sock_format(const struct sockaddr_storage *ss, char *buf, size_t len);

#endif
