/* buf.c — see buf.h. */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

void buf_put(struct buf *b, const void *data, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
}

bool buf_equal(const struct buf *a, const struct buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0); /* empty: p may be NULL */
}

void buf_put_u8(struct buf *b, uint8_t v) { buf_put(b, &v, 1); }

void buf_put_u16(struct buf *b, uint16_t v)
{
    uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    buf_put(b, x, 2);
}

void buf_put_u32(struct buf *b, uint32_t v)
{
    uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    buf_put(b, x, 4);
}

void buf_put_addr(struct buf *b, const struct addr *a) { buf_put(b, a->bytes, a->family == AF_INET6 ? 16 : 4); }

void buf_put_addr16(struct buf *b, const struct addr *a)
{
    if (a->family != AF_INET6)
        buf_put_zero(b, 12);
    buf_put_addr(b, a);
}

void buf_put_zero(struct buf *b, size_t n)
{
    static const uint8_t zero[64];
    for (; n > sizeof zero; n -= sizeof zero)
        buf_put(b, zero, sizeof zero);
    buf_put(b, zero, n);
}

void buf_put_prefix(struct buf *b, const uint8_t *prefix, uint8_t len)
{
    buf_put_u8(b, len);
    buf_put(b, prefix, (len + 7u) / 8);
}

void buf_put_u16_at(struct buf *b, size_t at, uint16_t v)
{
    if (b->failed || at + 2 > b->len)
        return;
    b->p[at] = (uint8_t)(v >> 8);
    b->p[at + 1] = (uint8_t)v;
}

void buf_put_u32_at(struct buf *b, size_t at, uint32_t v)
{
    buf_put_u16_at(b, at, (uint16_t)(v >> 16));
    buf_put_u16_at(b, at + 2, (uint16_t)v);
}

void buf_free(struct buf *b)
{
    free(b->p);
    *b = (struct buf){ 0 };
}

