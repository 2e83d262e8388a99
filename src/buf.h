/* buf.h — a growable byte buffer and the put helpers that build messages in it, in network
 * byte order. A failed allocation makes the buffer `failed` (sticky, like a cursor's): the
 * builder checks once at the end. Messages whose length field comes first are begun, filled,
 * then their length put at the place begun (buf_put_u16_at / buf_put_u32_at). */
#ifndef TELREP_BUF_H
#define TELREP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct buf {
    uint8_t *p;
    size_t len, cap;
    bool failed;
};

void buf_put(struct buf *b, const void *data, size_t n);
void buf_put_u8(struct buf *b, uint8_t v);
void buf_put_u16(struct buf *b, uint16_t v);
void buf_put_u32(struct buf *b, uint32_t v);
void buf_put_zero(struct buf *b, size_t n);
void buf_put_addr(struct buf *b, const struct addr *a);                 /* 4 or 16 bytes */
void buf_put_addr16(struct buf *b, const struct addr *a);               /* 16 bytes, IPv4 at the end */
void buf_put_prefix(struct buf *b, const uint8_t *prefix, uint8_t len); /* NLRI form: bits, then bytes */
void buf_put_u16_at(struct buf *b, size_t at, uint16_t v);
void buf_put_u32_at(struct buf *b, size_t at, uint32_t v);
/* the same bytes (two empty buffers are equal, whether or not either was ever allocated) */
bool buf_equal(const struct buf *a, const struct buf *b);
void buf_free(struct buf *b);

#endif
