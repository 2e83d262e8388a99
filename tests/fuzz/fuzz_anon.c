/* fuzz_anon — any bytes as a BGP message anonymised in place (proto/bgp_anon.c): the first byte
 * chooses 4-byte AS paths and ADD-PATH. Checks that the length never changes and that a
 * message it says it mapped is still the same BGP message kind and length. */
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
