/* testutil.h — helpers shared by the cmocka unit tests. */
#ifndef TELREP_TESTUTIL_H
#define TELREP_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* a fresh directory under /tmp, removed by the caller with tu_rmdir */
static inline char *tu_tmpdir(void)
{
    char *d = strdup("/tmp/telrep-unit-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static inline void tu_rmdir(char *d)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    assert_int_equal(system(cmd), 0);
    free(d);
}

static inline void tu_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* byte builder */
struct tu_buf { uint8_t b[16384]; size_t n; };
static inline void tu_u8(struct tu_buf *b, uint8_t v) { b->b[b->n++] = v; }
static inline void tu_u16(struct tu_buf *b, uint16_t v) { tu_u8(b, v >> 8); tu_u8(b, v & 0xff); }
static inline void tu_u32(struct tu_buf *b, uint32_t v) { tu_u16(b, v >> 16); tu_u16(b, v & 0xffff); }
static inline void tu_bytes(struct tu_buf *b, const void *p, size_t n) { if (n) memcpy(b->b + b->n, p, n); b->n += n; }
static inline void tu_set16(struct tu_buf *b, size_t at, uint16_t v) { b->b[at] = v >> 8; b->b[at + 1] = v & 0xff; }

/* A BMP message of type t (0 route monitoring, 2 PEER_DOWN, 3 PEER_UP, 4 INIT, 5 TERM); the
 * per-peer header for peer p (address 192.0.2.p, AS as) when t has one. Returns its length. */
static inline size_t tu_bmp(uint8_t *out, uint8_t t, uint8_t p, uint32_t as)
{
    struct tu_buf b = { .n = 0 };
    tu_u8(&b, 3);
    tu_u32(&b, 0); /* length, set below */
    tu_u8(&b, t);
    if (t != 4 && t != 5) {
        tu_u8(&b, 0);               /* global instance peer */
        tu_u8(&b, 0);               /* flags: IPv4 */
        for (int i = 0; i < 8; i++) /* distinguisher */
            tu_u8(&b, 0);
        for (int i = 0; i < 12; i++)
            tu_u8(&b, 0);
        tu_u8(&b, 192); tu_u8(&b, 0); tu_u8(&b, 2); tu_u8(&b, p);
        tu_u32(&b, as);             /* may differ between a peer's PEER_DOWN and PEER_UP */
        tu_u32(&b, 0x0a000000u | p);
        tu_u32(&b, 0);
        tu_u32(&b, 0);
    }
    tu_u16(&b, 0); /* a little body */
    b.b[1] = 0; b.b[2] = 0; b.b[3] = (uint8_t)(b.n >> 8); b.b[4] = (uint8_t)b.n;
    memcpy(out, b.b, b.n);
    return b.n;
}

/* A BGP OPEN: AS my_as (4-octet capability as4), hold time, BGP ID 10.0.0.1, IPv4 MPLS VPN. */
static inline void tu_bgp_open(struct tu_buf *b, uint16_t my_as, uint32_t as4, uint16_t hold)
{
    b->n = 0;
    for (int i = 0; i < 16; i++)
        tu_u8(b, 0xff);
    tu_u16(b, 0); tu_u8(b, 1);
    tu_u8(b, 4); tu_u16(b, my_as); tu_u16(b, hold); tu_u32(b, 0x0a000001);
    tu_u8(b, 16);
    tu_u8(b, 2); tu_u8(b, 14);
    tu_u8(b, 1); tu_u8(b, 4); tu_u16(b, 1); tu_u8(b, 0); tu_u8(b, 128); /* IPv4 / MPLS VPN */
    tu_u8(b, 2); tu_u8(b, 0);
    tu_u8(b, 65); tu_u8(b, 4); tu_u32(b, as4);
    tu_set16(b, 16, (uint16_t)b->n);
}

#endif
