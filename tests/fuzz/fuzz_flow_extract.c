/* fuzz_flow_extract — any sequence of raw IP frames through flow-extract. Input: classic pcap
 * records without the file header ([sec][usec][caplen][len] little-endian, then the frame),
 * link type raw IP, so a generated capture minus its first 24 bytes is a seed. Checks that
 * every flow's SENDs equal the other side's WAITs, whatever the segments say. */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cursor.h"
#include "flow/extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *csv = fopen("/dev/null", "w"), *meta = fopen("/dev/null", "w");
    struct flow_extract_options o = { .quiet_gap = 0.05, .idle_timeout = 1, .max_flows = 4 };
    struct flow_extract *x = flow_extract_new(&o, csv, meta);
    struct cursor c = cursor_make(data, size);
    while (cursor_remaining(&c) >= 16) {
        uint32_t sec = cursor_le32(&c), usec = cursor_le32(&c), caplen = cursor_le32(&c);
        cursor_le32(&c);
        if (caplen > cursor_remaining(&c))
            caplen = (uint32_t)cursor_remaining(&c);
        const uint8_t *frame = cursor_take(&c, caplen);
        flow_extract_packet(x, DLT_RAW, frame, caplen, (int64_t)sec * 1000000000 + (int64_t)usec * 1000);
    }
    struct flow_extract_stats st;
    flow_extract_finish(x, &st);
    flow_extract_free(x);
    fclose(csv);
    fclose(meta);
    if (st.unbalanced)
        abort();
    return 0;
}
