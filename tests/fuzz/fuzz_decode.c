/* fuzz_decode — decode_frame() on any bytes, for every link type it knows.
 * The first byte picks the link type; the rest is the frame. An OK result must point
 * its payload inside the frame. */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>

#include "decode.h"

static const int dlts[] = { DLT_EN10MB, DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_LINUX_SLL,
                            DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP, 12 /* DLT_RAW on some BSDs */ };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int dlt = dlts[data[0] % (sizeof dlts / sizeof dlts[0])];
    const uint8_t *frame = data + 1;
    size_t len = size - 1;
    struct decoded d;
    if (decode_frame(dlt, frame, len, &d) == DECODE_OK) {
        if (d.payload < frame || d.payload + d.payload_len > frame + len)
            abort();
    }
    return 0;
}
