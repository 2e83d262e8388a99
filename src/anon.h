/* anon.h — keyed, deterministic anonymisation of the addresses and AS numbers a capture
 * holds, so that captures of production telemetry can be shared (pcap-proc's anonymise).
 *
 * Rules:
 * - Addresses are mapped by Crypto-PAn (Xu, Fan, Ammar, Moon, "Prefix-preserving IP address
 *   anonymization", ICNP 2002), IPv4 as published (its reference vectors are the unit test)
 *   and IPv6 by the same construction over 128 bits: two addresses that share their first n
 *   bits map to two that share exactly their first n bits. The key is 32 bytes: the first 16
 *   are the AES-128 key, the last 16, encrypted, the pad. AES is OpenSSL's (libcrypto).
 * - The same key gives the same mapping in every run, file and process; there is no state
 *   but a cache of recent results.
 * - A prefix (an address and a length, as BGP carries them) maps to the first `length` bits
 *   of its addresses' images, the rest zero: a route and the addresses inside it stay
 *   consistent.
 * - Addresses inside a kept prefix (anon_keep: documentation ranges, the collector's address)
 *   map to themselves; so do the unspecified address, loopback and multicast, which name no
 *   one (and a collector must still read them as such).
 * - Names (BMP sysName, sysDescr) keep their length, so every length field stays true.
 * - AS numbers are permuted by a keyed permutation within their class: public 2-byte ASes
 *   (1-64495 but 23456) among themselves, public 4-byte ones (65552-4199999999) among
 *   themselves; reserved, documentation and private ASes and AS_TRANS stay (RFC 6996, 5398,
 *   7300, 6793). A 2-byte AS stays a 2-byte AS, so every AS_PATH keeps its encoding. */
#ifndef TELREP_ANON_H
#define TELREP_ANON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define ANON_KEY_LEN 32
#define ANON_KEEP_MAX 64

struct anon;

/* NULL with err when libcrypto cannot set the key up. */
struct anon *anon_new(const uint8_t key[ANON_KEY_LEN], char *err, size_t errlen);
void anon_free(struct anon *a);
/* A key file: 32 raw bytes, or 64 hexadecimal digits (white space ignored). -1 with err. */
int anon_key_load(const char *path, uint8_t key[ANON_KEY_LEN], char *err, size_t errlen);
/* false: AS numbers stay as they are (anon_as is the identity). */
void anon_set_as(struct anon *a, bool on);
/* Addresses in this prefix stay as they are. -1 past ANON_KEEP_MAX. */
int anon_keep(struct anon *a, const struct addr *prefix);

/* Told of each mapping made (for the key holder's table: pcap-proc --anon-map): kind is
 * ANON_ADDR (orig, image: len bytes), ANON_AS (4 bytes each, big-endian) or ANON_NAME. A
 * mapping may be told more than once. */
enum anon_kind { ANON_ADDR, ANON_AS, ANON_NAME };
typedef void (*anon_recorder)(void *ctx, enum anon_kind kind, const uint8_t *orig, const uint8_t *image, size_t len);
void anon_set_recorder(struct anon *a, anon_recorder fn, void *ctx);

/* An address in place: 4 bytes (IPv4) or 16 (IPv6). */
void anon_bytes(struct anon *a, uint8_t *addr, size_t len);
void anon_addr(struct anon *a, const struct addr *in, struct addr *out);
/* A prefix in place: its first (bits + 7) / 8 bytes of a len-byte address (4 or 16). */
void anon_prefix(struct anon *a, uint8_t *prefix, unsigned bits, size_t len);
/* An AS number (see the rules above). */
uint32_t anon_as(struct anon *a, uint32_t as);
/* A name (a router's sysName, a description) in place, its length and shape kept: each letter
 * and digit replaced by one drawn from a keyed MAC of the whole name, punctuation and spaces
 * kept ("rtr01.ams.example.net" -> "k3x9a.p2f.q8sjzwe.m4d"); the same name, the same result. */
void anon_name(struct anon *a, uint8_t *s, size_t len);

#endif
