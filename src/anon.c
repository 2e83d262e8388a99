/* anon.c — Crypto-PAn addresses and permuted AS numbers (anon.h), AES from libcrypto. */
#include "anon.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define CACHE_SIZE 4096 /* recent addresses: a capture names the same few again and again */
#define PREFIX_CACHE 16384 /* recent /24s and /64s: their images' leading bits, computed once */
#define FEISTEL_ROUNDS 4

struct cache_entry {
    uint8_t len; /* 0: empty */
    uint8_t in[16], out[16];
};

/* The first `len` bytes of an address and of its image: Crypto-PAn's bit i depends on the
 * first i bits only, so an address of a known /24 (IPv4) or /64 (IPv6) costs 8 or 64 AES
 * rounds instead of 32 or 128. */
struct prefix_entry {
    uint8_t len; /* 0: empty; 3 or 8 */
    uint8_t in[8], out[8];
};

struct anon {
    EVP_CIPHER_CTX *addr_ctx; /* AES-128 with the key's first half */
    EVP_CIPHER_CTX *as_ctx;   /* AES-128 with a key derived for the AS permutation */
    uint8_t pad[16];
    bool as_off;
    anon_recorder record;
    void *record_ctx;
    struct addr keep[ANON_KEEP_MAX];
    size_t n_keep;
    struct cache_entry cache[CACHE_SIZE];
    struct prefix_entry prefixes[PREFIX_CACHE];
};

static EVP_CIPHER_CTX *aes_ctx(const uint8_t key[16])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (c && (EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, key, NULL) != 1 || EVP_CIPHER_CTX_set_padding(c, 0) != 1)) {
        EVP_CIPHER_CTX_free(c);
        return NULL;
    }
    return c;
}

/* one AES block; ECB over a single block is the block cipher itself */
static void aes(EVP_CIPHER_CTX *c, const uint8_t in[16], uint8_t out[16])
{
    int n = 0;
    if (EVP_EncryptUpdate(c, out, &n, in, 16) != 1 || n != 16)
        abort(); /* a set-up context does not fail on one whole block */
}

struct anon *anon_new(const uint8_t key[ANON_KEY_LEN], char *err, size_t errlen)
{
    struct anon *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    uint8_t as_key[16];
    static const uint8_t as_tag[16] = "telrep AS map v1";
    if (!(a->addr_ctx = aes_ctx(key))) {
        snprintf(err, errlen, "libcrypto cannot set up AES-128");
        anon_free(a);
        return NULL;
    }
    aes(a->addr_ctx, key + 16, a->pad);
    aes(a->addr_ctx, as_tag, as_key);
    if (!(a->as_ctx = aes_ctx(as_key))) {
        snprintf(err, errlen, "libcrypto cannot set up AES-128");
        anon_free(a);
        return NULL;
    }
    return a;
}

void anon_free(struct anon *a)
{
    if (!a)
        return;
    EVP_CIPHER_CTX_free(a->addr_ctx);
    EVP_CIPHER_CTX_free(a->as_ctx);
    free(a);
}

static int hex(int c) { return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10; }

int anon_key_load(const char *path, uint8_t key[ANON_KEY_LEN], char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s (a key file holds 32 bytes, or 64 hex digits: head -c 32 /dev/urandom > %s)",
                 path, strerror(errno), path);
        return -1;
    }
    uint8_t buf[256];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (n == ANON_KEY_LEN) {
        memcpy(key, buf, ANON_KEY_LEN);
        return 0;
    }
    size_t digits = 0;
    for (size_t i = 0; i < n; i++) {
        if (isspace(buf[i]))
            continue;
        if (!isxdigit(buf[i]) || digits == 2 * ANON_KEY_LEN) {
            digits = 0;
            break;
        }
        if (digits % 2 == 0)
            key[digits / 2] = (uint8_t)(hex(buf[i]) << 4);
        else
            key[digits / 2] |= (uint8_t)hex(buf[i]);
        digits++;
    }
    if (digits != 2 * ANON_KEY_LEN) {
        snprintf(err, errlen, "%s: not a key: 32 bytes, or 64 hex digits, are expected (%zu bytes read)", path, n);
        return -1;
    }
    return 0;
}

void anon_set_as(struct anon *a, bool on) { a->as_off = !on; }

void anon_set_recorder(struct anon *a, anon_recorder fn, void *ctx)
{
    a->record = fn;
    a->record_ctx = ctx;
}

int anon_keep(struct anon *a, const struct addr *prefix)
{
    if (a->n_keep == ANON_KEEP_MAX)
        return -1;
    a->keep[a->n_keep++] = *prefix;
    return 0;
}

static bool kept(const struct anon *a, const uint8_t *bytes, size_t len)
{
    static const uint8_t zero[16];
    if (!memcmp(bytes, zero, len))
        return true;
    struct addr x;
    addr_from_bytes(&x, len == 4 ? AF_INET : AF_INET6, bytes);
    for (size_t i = 0; i < a->n_keep; i++)
        if (addr_in_prefix(&x, &a->keep[i]))
            return true;
    return false;
}

/* Crypto-PAn: bit i of the image is bit i of the address xor the first bit of
 * AES(the address's first i bits, then the pad's bits after them). */
static void cryptopan(struct anon *a, const uint8_t *in, uint8_t *out, size_t len)
{
    uint8_t block[16], res[16] = { 0 };
    unsigned nbits = (unsigned)len * 8;
    memcpy(block, a->pad, 16);
    /* the leading bytes from the prefix cache, or computed and kept there */
    size_t k = len == 4 ? 3 : 8;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < k; i++)
        h = (h ^ in[i]) * 16777619u;
    struct prefix_entry *pe = &a->prefixes[h % PREFIX_CACHE];
    unsigned start = 0;
    if (pe->len == k && !memcmp(pe->in, in, k)) {
        memcpy(res, pe->out, k);
        memcpy(block, in, k); /* the block after k bytes: the address's first k bytes, then the pad */
        start = (unsigned)k * 8;
    }
    /* every block is known from the address alone (bit i's block: its first i bits, then the
     * pad): one ECB call over all of them lets AES run pipelined */
    uint8_t blocks[128][16], encs[128][16];
    unsigned n = nbits - start;
    for (unsigned i = start; i < nbits; i++) {
        memcpy(blocks[i - start], block, 16);
        unsigned byte = i / 8, bit = 7 - i % 8;
        block[byte] = (uint8_t)((block[byte] & ~(1u << bit)) | (unsigned)((in[byte] >> bit) & 1) << bit);
    }
    int outl = 0;
    if (n && (EVP_EncryptUpdate(a->addr_ctx, encs[0], &outl, blocks[0], (int)(16 * n)) != 1 || outl != (int)(16 * n)))
        abort(); /* a set-up context does not fail on whole blocks */
    for (unsigned i = start; i < nbits; i++) {
        unsigned byte = i / 8, bit = 7 - i % 8;
        res[byte] |= (uint8_t)((((in[byte] >> bit) & 1) ^ (encs[i - start][0] >> 7)) << bit);
    }
    if (start == 0) { /* the prefix's image is known now */
        pe->len = (uint8_t)k;
        memcpy(pe->in, in, k);
        memcpy(pe->out, res, k);
    }
    memcpy(out, res, len);
}

void anon_bytes(struct anon *a, uint8_t *addr, size_t len)
{
    if ((len != 4 && len != 16) || kept(a, addr, len))
        return;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ addr[i]) * 16777619u;
    struct cache_entry *e = &a->cache[h % CACHE_SIZE];
    if (e->len == len && !memcmp(e->in, addr, len)) {
        memcpy(addr, e->out, len);
        return;
    }
    e->len = (uint8_t)len;
    memcpy(e->in, addr, len);
    cryptopan(a, addr, addr, len);
    memcpy(e->out, addr, len);
    if (a->record) /* on each computation: an address evicted from the cache is told again */
        a->record(a->record_ctx, ANON_ADDR, e->in, e->out, len);
}

void anon_addr(struct anon *a, const struct addr *in, struct addr *out)
{
    *out = *in;
    if (in->family == AF_INET || in->family == AF_INET6)
        anon_bytes(a, out->bytes, in->family == AF_INET ? 4 : 16);
}

void anon_prefix(struct anon *a, uint8_t *prefix, unsigned bits, size_t len)
{
    if ((len != 4 && len != 16) || bits > len * 8)
        return;
    uint8_t full[16] = { 0 };
    size_t n = (bits + 7) / 8;
    memcpy(full, prefix, n);
    if (bits % 8) /* the bits past the length are not the prefix's */
        full[n - 1] &= (uint8_t)(0xff << (8 - bits % 8));
    anon_bytes(a, full, len);
    if (bits % 8)
        full[n - 1] &= (uint8_t)(0xff << (8 - bits % 8));
    memcpy(prefix, full, n);
}

/* ---- AS numbers: a keyed permutation of each class (cycle-walking Feistel) ---- */

static uint32_t feistel(struct anon *a, uint32_t x, unsigned bits)
{
    unsigned half = bits / 2;
    uint32_t mask = (1u << half) - 1, l = x >> half, r = x & mask;
    for (unsigned round = 0; round < FEISTEL_ROUNDS; round++) {
        uint8_t in[16] = { (uint8_t)bits, (uint8_t)round, (uint8_t)(r >> 24), (uint8_t)(r >> 16), (uint8_t)(r >> 8),
                           (uint8_t)r },
                out[16];
        aes(a->as_ctx, in, out);
        uint32_t f = ((uint32_t)out[0] << 24 | (uint32_t)out[1] << 16 | (uint32_t)out[2] << 8 | out[3]) & mask;
        uint32_t t = r;
        r = l ^ f;
        l = t;
    }
    return l << half | r;
}

/* a permutation of lo..hi but skip (which stays): walk the cycle until it lands inside */
static uint32_t permute(struct anon *a, uint32_t as, uint32_t lo, uint32_t hi, uint32_t skip)
{
    uint64_t n = (uint64_t)hi - lo + 1;
    unsigned bits = 2;
    while ((1ull << bits) < n)
        bits += 2;
    uint32_t x = as - lo;
    do
        x = feistel(a, x, bits);
    while (x >= n || x + lo == skip);
    return x + lo;
}

uint32_t anon_as(struct anon *a, uint32_t as)
{
    uint32_t m = as; /* 0, AS_TRANS, documentation, private, reserved: as they are */
    if (a->as_off)
        return as;
    if (as >= 1 && as <= 64495 && as != 23456)
        m = permute(a, as, 1, 64495, 23456);
    else if (as >= 65552 && as <= 4199999999u)
        m = permute(a, as, 65552, 4199999999u, 0);
    if (a->record && m != as) {
        uint8_t o[4] = { (uint8_t)(as >> 24), (uint8_t)(as >> 16), (uint8_t)(as >> 8), (uint8_t)as },
                i[4] = { (uint8_t)(m >> 24), (uint8_t)(m >> 16), (uint8_t)(m >> 8), (uint8_t)m };
        a->record(a->record_ctx, ANON_AS, o, i, 4);
    }
    return m;
}

/* ---- names ---- */

void anon_name(struct anon *a, uint8_t *s, size_t len)
{
    uint8_t orig[256];
    size_t kept_len = len < sizeof orig ? len : 0; /* longer names are not told */
    memcpy(orig, s, kept_len);
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    /* CBC-MAC of the name (its length first) under the AS key: a keyed digest, no one can map back */
    uint8_t tag[16] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len, 'n' }, block[16];
    aes(a->as_ctx, tag, tag);
    for (size_t i = 0; i < len; i += 16) {
        for (size_t k = 0; k < 16; k++)
            block[k] = (uint8_t)(tag[k] ^ (i + k < len ? s[i + k] : 0));
        aes(a->as_ctx, block, tag);
    }
    uint8_t ks[16];
    for (size_t i = 0; i < len; i++) {
        if (i % 16 == 0) { /* the keystream: AES(tag xor counter) */
            memcpy(block, tag, 16);
            block[15] ^= (uint8_t)(i / 16);
            block[14] ^= (uint8_t)(i / 16 >> 8);
            aes(a->as_ctx, block, ks);
        }
        if (isalnum(s[i]))
            s[i] = (uint8_t)alnum[ks[i % 16] % 36];
    }
    if (a->record && kept_len)
        a->record(a->record_ctx, ANON_NAME, orig, s, kept_len);
}
