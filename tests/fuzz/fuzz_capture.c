/* fuzz_capture — any bytes as a capture file: format sniffing (pcap, pcapng, the ERF record
 * walk, compression magics), then every packet read until the end or an error. Checks that
 * a packet never claims more bytes than its record holds. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("fuzz_capture", 0)) < 0)
        abort();
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    char path[64], err[512];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct capture *c = capture_open(path, err, sizeof err);
    if (!c)
        return 0;
    struct capture_packet pkt;
    for (int n = 0; n < 100000 && capture_next(c, &pkt) == 1; n++)
        if (pkt.caplen > 262144 || (pkt.caplen && !pkt.data))
            abort();
    capture_close(c);
    return 0;
}
