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
static inline void tu_bytes(struct tu_buf *b, const void *p, size_t n) { memcpy(b->b + b->n, p, n); b->n += n; }
static inline void tu_set16(struct tu_buf *b, size_t at, uint16_t v) { b->b[at] = v >> 8; b->b[at + 1] = v & 0xff; }

#endif
