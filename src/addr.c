#include "hash.h"
#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int addr_parse(const char *text, struct addr *out)
{
    char buf[64];
    size_t n = strlen(text);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, text, n + 1);
    memset(out, 0, sizeof *out);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    if (inet_pton(AF_INET, buf, out->bytes) == 1) {
        out->family = AF_INET;
        out->prefix = 32;
    } else if (inet_pton(AF_INET6, buf, out->bytes) == 1) {
        out->family = AF_INET6;
        out->prefix = 128;
    } else {
        return -1;
    }
    if (slash) {
        char *end;
        long len = strtol(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || len < 0 || len > out->prefix)
            return -1;
        out->prefix = (uint8_t)len;
    }
    return 0;
}

const char *addr_format_ipv4(uint32_t v, char buf[ADDR_STRLEN])
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    struct addr a;
    addr_from_bytes(&a, AF_INET, b);
    return addr_format(&a, buf);
}

const char *addr_format(const struct addr *a, char buf[ADDR_STRLEN])
{
    if (a->family != AF_INET && a->family != AF_INET6)
        return strcpy(buf, "?");
    inet_ntop(a->family, a->bytes, buf, ADDR_STRLEN);
    return buf;
}

bool addr_in_prefix(const struct addr *a, const struct addr *net)
{
    if (a->family != net->family)
        return false;
    unsigned bits = net->prefix, full = bits / 8, rest = bits % 8;
    if (memcmp(a->bytes, net->bytes, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a->bytes[full] & mask) == (net->bytes[full] & mask);
}

int addr_add(const struct addr *a, uint64_t k, struct addr *out)
{
    *out = *a;
    size_t n = a->family == AF_INET ? 4 : 16;
    for (size_t i = n; i-- > 0 && k;) { /* big-endian: from the last byte, with the carry */
        uint64_t v = out->bytes[i] + (k & 0xff);
        out->bytes[i] = (uint8_t)v;
        k = (k >> 8) + (v >> 8);
    }
    return k ? -1 : 0;
}

uint32_t addr_hash(const struct addr *a)
{
    /* the significant bytes */
    return hash_bytes(HASH_START ^ (uint32_t)a->family, a->bytes, a->family == AF_INET ? 4 : 16);
}

void addr_from_bytes(struct addr *a, int family, const uint8_t *bytes)
{
    memset(a, 0, sizeof *a);
    a->family = (uint8_t)family;
    a->prefix = family == AF_INET ? 32 : 128;
    memcpy(a->bytes, bytes, family == AF_INET ? 4 : 16);
}

socklen_t addr_to_sockaddr(const struct addr *a, uint16_t port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (a->family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        memcpy(&in->sin_addr, a->bytes, 4);
        return sizeof *in;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    memcpy(&in6->sin6_addr, a->bytes, 16);
    return sizeof *in6;
}

void addr_from_sockaddr(struct addr *a, const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        addr_from_bytes(a, AF_INET, (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr);
    else
        addr_from_bytes(a, AF_INET6, (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr);
}
