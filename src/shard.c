/* shard.c — see shard.h. */
#define _GNU_SOURCE
#include "shard.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash.h"

#define SHARDS_MAX 100000

static int parse_uint(const char *s, const char *end, unsigned long max, unsigned long *out)
{
    if (s == end)
        return -1;
    unsigned long v = 0;
    for (const char *p = s; p < end; p++) {
        if (!isdigit((unsigned char)*p) || v > max / 10)
            return -1;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

int shard_parse(const char *text, struct shard *out, char *err, size_t errlen)
{
    const char *slash = strchr(text, '/');
    const char *count = slash ? slash + 1 : text;
    unsigned long n, k;
    if (parse_uint(count, count + strlen(count), SHARDS_MAX, &n) < 0 || n == 0) {
        snprintf(err, errlen, "--shard: \"%s\" is not K/N or N (N shards, 1 to %d; K from 0 to N-1)", text,
                 SHARDS_MAX);
        return -1;
    }
    const char *from = "--shard";
    const char *ktext = text, *kend = slash;
    if (!slash) { /* K from the scheduler */
        from = "JOB_COMPLETION_INDEX";
        ktext = getenv(from);
        if (!ktext) {
            from = "TELREP_SHARD";
            ktext = getenv(from);
        }
        if (!ktext) {
            snprintf(err, errlen, "--shard %s: which shard is this one? Give --shard K/%s, or set "
                     "JOB_COMPLETION_INDEX (a Kubernetes Indexed Job does) or TELREP_SHARD to K", text, text);
            return -1;
        }
        kend = ktext + strlen(ktext);
    }
    if (parse_uint(ktext, kend, SHARDS_MAX, &k) < 0 || k >= n) {
        snprintf(err, errlen, "%s: shard \"%.*s\" is not a number from 0 to %lu", from, (int)(kend - ktext), ktext,
                 n - 1);
        return -1;
    }
    out->index = (unsigned)k;
    out->count = (unsigned)n;
    return 0;
}

uint32_t shard_hash(const struct addr *src, unsigned clone)
{
    uint8_t key[1 + 16 + 4];
    size_t n = src->family == AF_INET ? 4 : 16;
    key[0] = src->family == AF_INET ? 4 : 6;
    memcpy(key + 1, src->bytes, n);
    for (int i = 0; i < 4; i++)
        key[1 + n + i] = (uint8_t)(clone >> (24 - 8 * i));
    return hash_bytes(HASH_START, key, 1 + n + 4);
}

bool shard_mine(const struct shard *s, const struct addr *src, unsigned clone)
{
    return s->count == 0 || shard_hash(src, clone) % s->count == s->index;
}

/* "2026-12-02T16:30:00Z", "2026-12-02 16:30:00.5+01:00" */
static int parse_rfc3339(const char *t, int64_t *ns)
{
    struct tm tm = { 0 };
    const char *p = strptime(t, "%Y-%m-%d", &tm);
    if (!p || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p = strptime(p + 1, "%H:%M:%S", &tm);
    if (!p)
        return -1;
    int64_t frac = 0, scale = 1000000000;
    if (*p == '.') {
        if (!isdigit((unsigned char)p[1]))
            return -1;
        for (p++; isdigit((unsigned char)*p); p++)
            if (scale > 1)
                frac += (*p - '0') * (scale /= 10);
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        struct tm off = { 0 };
        const char *q = strptime(p + 1, "%H:%M", &off);
        if (!q)
            return -1;
        offset = sign * (off.tm_hour * 3600 + off.tm_min * 60);
        p = q;
    } else {
        return -1; /* RFC 3339 always says its offset */
    }
    if (*p)
        return -1;
    time_t secs = timegm(&tm);
    if (secs == (time_t)-1)
        return -1;
    *ns = ((int64_t)secs - offset) * 1000000000 + frac;
    return 0;
}

int shard_parse_time(const char *text, int64_t *ns, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double secs = strtod(text, &end);
    if (end != text && !*end && !errno && secs > 0 && secs < 1e11) {
        *ns = (int64_t)(secs * 1e9 + 0.5);
        return 0;
    }
    if (parse_rfc3339(text, ns) == 0)
        return 0;
    snprintf(err, errlen, "--start-at: \"%s\" is neither an RFC 3339 time (2026-12-02T16:30:00Z, "
             "2026-12-02T17:30:00.5+01:00) nor seconds since the epoch (date +%%s)", text);
    return -1;
}
