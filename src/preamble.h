/* preamble.h — what a reconnected TCP session sends first, so that the new connection means
 * what the old one meant at this point of the capture.
 *
 * The preamble follows the messages the collector acknowledged, by the role the protocol's
 * plugin gives each (proto->msg_role):
 * - ROLE_START (BGP OPEN, BMP INIT) begins a new preamble: it alone;
 * - ROLE_PEER_UP (BMP PEER_UP) is added, replacing an earlier one of the same peer
 *   (proto->peer_key: BMP keys a peer by type, distinguisher and address);
 * - ROLE_PEER_DOWN removes its peer's PEER_UP: a reconnect never revives a peer the
 *   capture took down;
 * - ROLE_END (BMP TERM) empties it.
 * preamble_bytes() gives the START message, then the PEER_UPs of the peers that are up in
 * the order they came up. With keep_down (the loops' view of what was queued) a peer that
 * went down keeps its last PEER_UP, which preamble_peer() gives back, to bring it up again. Each message costs O(1) (a hash of the peers); the bytes are
 * assembled only when a reconnect asks. At most PREAMBLE_MAX bytes and PREAMBLE_PEERS peers
 * are kept; a PEER_UP beyond is not (counted in dropped). */
#ifndef TELREP_PREAMBLE_H
#define TELREP_PREAMBLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

#define PREAMBLE_MAX (1u << 20)
#define PREAMBLE_PEERS 65536
#define PREAMBLE_KEY 32

struct preamble_peer {
    uint8_t key[PREAMBLE_KEY];
    uint8_t key_len;
    uint8_t *msg;  /* its PEER_UP; NULL: the peer went down */
    size_t len;
    bool down;     /* keep_down: down, msg kept */
};

struct preamble {
    uint8_t *start;               /* the START message (NULL: none yet) */
    size_t start_len;
    struct preamble_peer *peers;  /* in the order they first came up; some down */
    size_t n_peers, cap_peers, up;
    uint32_t *slots;              /* open addressing over peers: index + 1, 0 = empty */
    size_t n_slots;
    size_t bytes;                 /* of start and the PEER_UPs of peers up */
    uint8_t *buf;                 /* preamble_bytes(): assembled here */
    uint64_t dropped;             /* PEER_UPs not kept: over the bounds or no memory */
    bool keep_down;               /* a peer that goes down keeps its PEER_UP (preamble_peer) */
};

/* One acknowledged message of the given kind (proto->inspect's). */
void preamble_apply(struct preamble *p, const struct proto *pr, int kind, const uint8_t *m, size_t len);
/* The peer a message is about (proto->peer_key): 1 up, 0 down (with keep_down, *up_msg is
 * its last PEER_UP), -1 never seen or no peer in the message. */
int preamble_peer(const struct preamble *p, const struct proto *pr, const uint8_t *m, size_t len,
                  const uint8_t **up_msg, size_t *up_len);
/* The preamble as bytes (valid until the next call), its length and message count. */
const uint8_t *preamble_bytes(struct preamble *p, size_t *len, size_t *msgs);
void preamble_free(struct preamble *p);

#endif
