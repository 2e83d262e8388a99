/* input.h — the bytes of a file, decompressed: what every file source reads (capture.c for
 * pcap, pcapng and ERF; src/source/mrt.c for MRT archives).
 *
 * Compression is sniffed from the magic number, never from the name: gzip through zlib
 * itself (libwandio's gzip reader drops what it inflated in a read that reaches a truncated
 * end: a small truncated .gz gave nothing at all, a large one lost its last megabyte),
 * bzip2, xz, lzo and lz4 through libwandio, zstd through libzstd (the libwandio in Debian 12
 * has none). A plain file is read with read(): no reader thread, no stdio copy.
 *
 * Rules:
 * - input_open() reads the first INPUT_HEAD decompressed bytes (fewer for a short file) so
 *   that the caller can sniff its format (input_head); input_read() serves them again
 *   first, then the rest.
 * - What was decompressed before a truncation or a corrupt byte is returned first, the
 *   error (-1, input_error says what) on the next read. */
#ifndef TELREP_INPUT_H
#define TELREP_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define INPUT_HEAD 65536

struct input;

/* NULL with err ("path: why") when the file cannot be opened or its start not decompressed. */
struct input *input_open(const char *path, char *err, size_t errlen);
const uint8_t *input_head(const struct input *in, size_t *len);
/* Up to size decompressed bytes: > 0, 0 at the end, -1 on an error. */
ssize_t input_read(struct input *in, void *buf, size_t size);
bool input_compressed(const struct input *in);
const char *input_error(const struct input *in);
void input_close(struct input *in);

#endif
