/* shard.h — one replay split over processes, pods or hosts, with no master: every process
 * reads the same config and captures, takes the routers that fall in its share, and all of
 * them start at one instant.
 *
 * Rules:
 * - A router is its captured src_ip and its clone number; its shard is FNV-1a (32 bits) over
 *   the address's family byte (4 or 6), its 4 or 16 bytes and the clone number as 4
 *   big-endian bytes, modulo the count. Nothing else enters the hash, so the partition is
 *   the same on every host, architecture and version, and a router's clones spread over
 *   the shards.
 * - "--shard K/N" takes share K (0-based) of N; "--shard N" takes K from the environment,
 *   JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs) or TELREP_SHARD.
 * - "--start-at" is an RFC 3339 time (2026-12-02T16:30:00Z, fractions and offsets allowed)
 *   or seconds since the epoch (1796000000.25); the replay's first packet is due then (with
 *   minute sync, at the first instant from then on whose second of the minute is the
 *   capture's). */
#ifndef TELREP_SHARD_H
#define TELREP_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct shard {
    unsigned index, count; /* count 0: the whole run */
};

/* "K/N" or "N" (K from the environment). 0, or -1 with a message. */
int shard_parse(const char *text, struct shard *out, char *err, size_t errlen);
uint32_t shard_hash(const struct addr *src, unsigned clone);
/* Is the router (src_ip, clone) this shard's? Always with count 0. */
bool shard_mine(const struct shard *s, const struct addr *src, unsigned clone);
/* RFC 3339 or epoch seconds -> nanoseconds since the epoch. 0, or -1 with a message. */
int shard_parse_time(const char *text, int64_t *ns, char *err, size_t errlen);

#endif
