/* mrt_write.c — writing MRT records and the put helpers that build them (see mrt.h). The
 * dumps the tests, the bench and the examples replay are written here (tools/mrt-gen); the
 * BGP and BMP messages the MRT source synthesises are built with the same helpers. */
#include "source/mrt.h"
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mrt_writer {
    FILE *f;
    bool extended_time;
    struct buf head;
};

struct mrt_writer *mrt_writer_open(const char *path, bool extended_time)
{
    struct mrt_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    if (!(w->f = fopen(path, "wb"))) {
        free(w);
        return NULL;
    }
    w->extended_time = extended_time;
    return w;
}

int mrt_write_record(struct mrt_writer *w, int64_t ts_ns, uint16_t type, uint16_t subtype, const uint8_t *body,
                     size_t len)
{
    bool et = w->extended_time && (type == MRT_BGP4MP_ET);
    w->head.len = 0;
    buf_put_u32(&w->head, (uint32_t)(ts_ns / 1000000000));
    buf_put_u16(&w->head, type);
    buf_put_u16(&w->head, subtype);
    buf_put_u32(&w->head, (uint32_t)(len + (et ? 4 : 0)));
    if (et)
        buf_put_u32(&w->head, (uint32_t)(ts_ns % 1000000000 / 1000));
    if (w->head.failed || fwrite(w->head.p, 1, w->head.len, w->f) != w->head.len ||
        (len && fwrite(body, 1, len, w->f) != len))
        return -1;
    return 0;
}

int mrt_writer_close(struct mrt_writer *w)
{
    if (!w)
        return 0;
    int rc = fclose(w->f) == 0 ? 0 : -1;
    buf_free(&w->head);
    free(w);
    return rc;
}
