/* fuzz_anon — any bytes as a BGP message (proto/bgp_anon.c) or a run of BMP messages
 * (proto/bmp_anon.c, one session's state) or of NetFlow/IPFIX messages (proto/netflow_anon.c,
 * one exporter's templates) anonymised in place: the first byte chooses 4-byte AS paths
 * (bit 0), ADD-PATH (bit 1), BMP (bit 2), NetFlow (bit 3; messages of 2-byte length prefixes). Checks that a BGP message it says it mapped
 * is still the same kind and length; ASan checks every access. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anon.h"
#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct anon *a;
    if (!a) {
        uint8_t key[ANON_KEY_LEN] = { 7 };
        char err[200];
        if (!(a = anon_new(key, err, sizeof err)))
            abort();
    }
    if (size < 1)
        return 0;
    bool as4 = data[0] & 1, addpath = data[0] & 2;
    size_t len = size - 1;
    if (data[0] & 8) { /* NetFlow/IPFIX: each message after a 2-byte length, one exporter */
        struct netflow_anon *s = netflow_anon_new(a);
        struct bgp_anon_counts n = { 0 };
        for (size_t at = 1; at + 2 <= size;) {
            size_t mlen = (size_t)data[at] << 8 | data[at + 1];
            at += 2;
            if (mlen > size - at)
                mlen = size - at;
            uint8_t *m = malloc(mlen ? mlen : 1);
            memcpy(m, data + at, mlen);
            netflow_anonymise(s, m, mlen, &n);
            free(m);
            at += mlen;
        }
        netflow_anon_free(s);
        return 0;
    }
    if (data[0] & 4) { /* BMP: messages framed by their own length, one session */
        struct bmp_anon *s = bmp_anon_new(a);
        uint8_t *buf = malloc(len ? len : 1);
        memcpy(buf, data + 1, len);
        struct bgp_anon_counts n = { 0 };
        for (size_t at = 0; at + 6 <= len;) {
            size_t mlen = (size_t)buf[at + 1] << 24 | (size_t)buf[at + 2] << 16 | (size_t)buf[at + 3] << 8 | buf[at + 4];
            if (mlen < 6 || mlen > len - at)
                break;
            bmp_anonymise(s, buf + at, mlen, &n);
            at += mlen;
        }
        free(buf);
        bmp_anon_free(s);
        return 0;
    }
    uint8_t *msg = malloc(len ? len : 1);
    memcpy(msg, data + 1, len);
    if (len >= 19) { /* a true length and marker, so that the parser goes past the header */
        msg[16] = (uint8_t)(len >> 8);
        msg[17] = (uint8_t)len;
    }
    struct bgp_anon_counts n = { 0 };
    enum anon_result r = bgp_anonymise(a, msg, len, as4, addpath, &n);
    if (r == ANON_OK && len >= 19 && (msg[18] != data[19] || msg[16] != (uint8_t)(len >> 8)))
        abort();
    free(msg);
    return 0;
}
