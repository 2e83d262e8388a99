/* cursor.h — bounds-checked reads over untrusted bytes.
 *
 * Every byte from a capture or a collector is read through a cursor. A read that would
 * pass the end sets the sticky `failed` flag and yields zeroes, so a parser can read a
 * whole header and check `failed` once. No other code does pointer arithmetic on
 * packet data (decode.c excepted, which only hands out cursors' views). */
#ifndef TELREP_CURSOR_H
#define TELREP_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cursor {
    const uint8_t *data;
    size_t len;
    size_t pos;
    bool failed;
};

static inline struct cursor cursor_make(const void *data, size_t len)
{
    struct cursor c = { .data = data, .len = data ? len : 0, .pos = 0, .failed = false };
    return c;
}

static inline size_t cursor_remaining(const struct cursor *c)
{
    return c->failed ? 0 : c->len - c->pos;
}

static inline bool cursor_ok(const struct cursor *c) { return !c->failed; }

/* Reserve n bytes: returns a pointer to them, or NULL (and fails) if fewer remain. */
static inline const uint8_t *cursor_take(struct cursor *c, size_t n)
{
    if (c->failed || n > c->len - c->pos) {
        c->failed = true;
        return NULL;
    }
    const uint8_t *p = c->data + c->pos;
    c->pos += n;
    return p;
}

static inline bool cursor_skip(struct cursor *c, size_t n) { return cursor_take(c, n) != NULL; }

static inline uint8_t cursor_u8(struct cursor *c)
{
    const uint8_t *p = cursor_take(c, 1);
    return p ? p[0] : 0;
}

static inline uint16_t cursor_be16(struct cursor *c)
{
    const uint8_t *p = cursor_take(c, 2);
    return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static inline uint16_t cursor_le16(struct cursor *c)
{
    const uint8_t *p = cursor_take(c, 2);
    return p ? (uint16_t)(p[1] << 8 | p[0]) : 0;
}

static inline uint32_t cursor_be32(struct cursor *c)
{
    const uint8_t *p = cursor_take(c, 4);
    return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

static inline uint32_t cursor_le32(struct cursor *c)
{
    const uint8_t *p = cursor_take(c, 4);
    return p ? (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0] : 0;
}

static inline uint64_t cursor_be64(struct cursor *c)
{
    uint64_t hi = cursor_be32(c);
    return hi << 32 | cursor_be32(c);
}

static inline bool cursor_copy(struct cursor *c, void *out, size_t n)
{
    const uint8_t *p = cursor_take(c, n);
    if (p)
        memcpy(out, p, n);
    return p != NULL;
}

/* A cursor over the next n bytes; the parent moves past them. */
static inline struct cursor cursor_sub(struct cursor *c, size_t n)
{
    const uint8_t *p = cursor_take(c, n);
    struct cursor sub = cursor_make(p, p ? n : 0);
    sub.failed = p == NULL;
    return sub;
}

/* The unread rest of the cursor, without consuming it. */
static inline const uint8_t *cursor_rest(const struct cursor *c)
{
    return c->failed ? NULL : c->data + c->pos;
}

/* Look at a byte at offset `off` from the current position without moving. */
static inline bool cursor_peek_u8(const struct cursor *c, size_t off, uint8_t *out)
{
    if (c->failed || off >= c->len - c->pos)
        return false;
    *out = c->data[c->pos + off];
    return true;
}

#endif
