/* hash.h — the one hash of the tree's tables: FNV-1a over bytes, continued from a previous
 * value so that keys of several fields chain (h = hash_bytes(hash_bytes(HASH_START, a, n), b, m)).
 * Tables index with h & (size - 1) and probe linearly. */
#ifndef TELREP_HASH_H
#define TELREP_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_START 2166136261u

static inline uint32_t hash_bytes(uint32_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static inline uint32_t hash_u32(uint32_t h, uint32_t v) { return hash_bytes(h, &v, sizeof v); }

#endif
