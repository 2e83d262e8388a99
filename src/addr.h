/* addr.h — IPv4/IPv6 addresses and prefixes as plain values. */
#ifndef TELREP_ADDR_H
#define TELREP_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

struct addr {
    uint8_t family; /* AF_INET or AF_INET6; 0 = unset */
    uint8_t prefix; /* prefix length for selectors; 32/128 for a host */
    uint8_t bytes[16];
};

#define ADDR_STRLEN 46

/* "192.0.2.1", "2001:db8::1", optionally "/len". Returns 0 or -1. */
int addr_parse(const char *text, struct addr *out);
const char *addr_format(const struct addr *a, char buf[ADDR_STRLEN]);
/* An IPv4 address held as a number (a BGP identifier, say), dotted. */
const char *addr_format_ipv4(uint32_t v, char buf[ADDR_STRLEN]);
static inline bool addr_equal(const struct addr *a, const struct addr *b)
{
    /* constant lengths: the compiler compares in registers (this runs for every packet) */
    if (a->family != b->family)
        return false;
    return a->family == AF_INET ? !memcmp(a->bytes, b->bytes, 4) : !memcmp(a->bytes, b->bytes, 16);
}
/* Does `a` fall inside prefix `net`? */
bool addr_in_prefix(const struct addr *a, const struct addr *net);
uint32_t addr_hash(const struct addr *a);
/* a + k (the k-th address after a): 0, or -1 when it would leave the address space. */
int addr_add(const struct addr *a, uint64_t k, struct addr *out);
void addr_from_bytes(struct addr *a, int family, const uint8_t *bytes);
/* Socket address for a (port in host order). Returns its length. */
socklen_t addr_to_sockaddr(const struct addr *a, uint16_t port, struct sockaddr_storage *ss);
void addr_from_sockaddr(struct addr *a, const struct sockaddr *sa);

#endif
