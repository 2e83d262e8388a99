/* fuzz_mrt — any bytes as an MRT dump: the reader (every record read, skipped or refused),
 * then the whole source (the first byte chooses BGP or BMP, and the Loc-RIB) turning it into frames. Checks
 * that every frame decodes as the TCP segment it is meant to be and that an event never
 * claims more bytes than its record holds. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "decode.h"
#include "source.h"
#include "source/mrt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    enum mrt_as as = flags & 1 ? MRT_AS_BMP : MRT_AS_BGP;
    bool loc_rib = flags & 2; /* BMP: the Loc-RIB's decision reads every entry's attributes */
    data++, size--;
    struct mrt_reader *r = mrt_open_memory(data, size);
    struct mrt_event ev;
    for (int n = 0; n < 100000 && mrt_next(r, &ev) == 1; n++) {
        if (ev.kind == MRT_EV_MESSAGE && (ev.bgp.len < 19 || ev.bgp.len > size))
            abort();
        for (size_t i = 0; ev.kind == MRT_EV_RIB && i < ev.rib.n_entries; i++)
            if (ev.rib.entries[i].attrs_len > size || ev.rib.entries[i].peer >= mrt_peer_count(r))
                abort();
    }
    json_decref(mrt_summary_json(r));
    mrt_close(r);

    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("fuzz_mrt", 0)) < 0)
        abort();
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    char path[64], err[512];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    char *files[] = { path };
    /* data[0] & 4 (BMP): the dump twice, side by side, as two routers (the set's merge; a
     * router address the bytes give both is refused) */
    bool two = as == MRT_AS_BMP && (flags & 4);
    struct mrt_options o[2] = {
        { .files = files, .n_files = 1, .as = as, .port = 179, .loc_rib = loc_rib },
        { .files = files, .n_files = 1, .as = as, .port = 179, .loc_rib = loc_rib },
    };
    if (two && flags & 8)
        addr_parse("192.0.2.99", &o[1].router);
    struct source_options so = { .mrt = o, .n_mrt = two ? 2 : 1 };
    struct source *s = source_open("mrt:fuzz", &so, err, sizeof err);
    if (!s)
        return 0;
    struct capture_packet p;
    for (int n = 0; n < 100000 && source_next(s, &p) == 1; n++) {
        struct decoded d;
        if (decode_frame(p.dlt, p.data, p.caplen, &d) != DECODE_OK || d.ip_proto != 6 || d.dport != 179)
            abort();
    }
    json_decref(source_summary(s));
    source_close(s);
    return 0;
}
