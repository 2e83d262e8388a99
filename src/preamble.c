/* preamble.c — see preamble.h. */
#include "hash.h"
#include "preamble.h"

#include <stdlib.h>
#include <string.h>


/* The slot of key: the one holding it, or the empty one where it would go. */
static uint32_t *slot_of(const struct preamble *p, const uint8_t *key, size_t key_len)
{
    size_t mask = p->n_slots - 1;
    for (size_t i = hash_bytes(HASH_START, key, key_len) & mask;; i = (i + 1) & mask) {
        uint32_t *s = &p->slots[i];
        if (!*s)
            return s;
        const struct preamble_peer *e = &p->peers[*s - 1];
        if (e->key_len == key_len && memcmp(e->key, key, key_len) == 0)
            return s;
    }
}

/* The peers that are down are dropped and the index made anew (when they are as many as
 * those up: each peer is moved a bounded number of times). */
static int rebuild(struct preamble *p, size_t want_slots)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n_peers; i++)
        if (p->peers[i].msg)
            p->peers[k++] = p->peers[i];
    p->n_peers = k;
    size_t n = 64;
    while (n < want_slots)
        n *= 2;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    free(p->slots);
    p->slots = slots;
    p->n_slots = n;
    for (size_t i = 0; i < p->n_peers; i++)
        *slot_of(p, p->peers[i].key, p->peers[i].key_len) = (uint32_t)i + 1;
    return 0;
}

static void peer_down(struct preamble *p, struct preamble_peer *e)
{
    if (!e->msg || e->down)
        return;
    p->up--;
    if (p->keep_down) { /* kept (still counted in bytes: the bounds hold) */
        e->down = true;
        return;
    }
    p->bytes -= e->len;
    free(e->msg);
    e->msg = NULL;
}

/* a PEER_UP replaces what its peer had */
static void peer_forget(struct preamble *p, struct preamble_peer *e)
{
    peer_down(p, e);
    if (e->msg) {
        p->bytes -= e->len;
        free(e->msg);
        e->msg = NULL;
    }
    e->down = false;
}

static void peer_up(struct preamble *p, const uint8_t *key, size_t key_len, const uint8_t *m, size_t len)
{
    if (p->n_slots == 0 || 2 * (p->n_peers + 1) > p->n_slots || p->n_peers - p->up > p->up + 1024) {
        if (rebuild(p, 4 * (p->up + 1)) < 0) {
            p->dropped++;
            return;
        }
    }
    uint32_t *s = slot_of(p, key, key_len);
    struct preamble_peer *e = *s ? &p->peers[*s - 1] : NULL;
    size_t replaced = e && e->msg ? e->len : 0; /* up, or kept down */
    uint8_t *copy = malloc(len);
    if (!copy || p->bytes - replaced + len > PREAMBLE_MAX || (!e && p->up >= PREAMBLE_PEERS)) {
        free(copy);
        p->dropped++;
        return;
    }
    memcpy(copy, m, len);
    if (!e) {
        if (p->n_peers == p->cap_peers) {
            size_t cap = p->cap_peers ? 2 * p->cap_peers : 16;
            struct preamble_peer *np = realloc(p->peers, cap * sizeof *np);
            if (!np) {
                free(copy);
                p->dropped++;
                return;
            }
            p->peers = np;
            p->cap_peers = cap;
        }
        e = &p->peers[p->n_peers++];
        *e = (struct preamble_peer){ .key_len = (uint8_t)key_len };
        memcpy(e->key, key, key_len);
        *s = (uint32_t)p->n_peers;
    }
    peer_forget(p, e); /* a second PEER_UP replaces the first */
    e->msg = copy;
    e->len = len;
    p->bytes += len;
    p->up++;
}

static void clear(struct preamble *p)
{
    for (size_t i = 0; i < p->n_peers; i++)
        free(p->peers[i].msg);
    free(p->start);
    p->start = NULL;
    p->start_len = p->n_peers = p->up = p->bytes = 0;
    if (p->slots)
        memset(p->slots, 0, p->n_slots * sizeof *p->slots);
}

void preamble_apply(struct preamble *p, const struct proto *pr, int kind, const uint8_t *m, size_t len)
{
    if (!pr->msg_role)
        return;
    uint8_t key[PREAMBLE_KEY];
    size_t key_len;
    switch (pr->msg_role(kind)) {
    case ROLE_START: {
        clear(p);
        if (len > PREAMBLE_MAX || !(p->start = malloc(len))) {
            p->dropped++;
            break;
        }
        memcpy(p->start, m, len);
        p->start_len = p->bytes = len;
        break;
    }
    case ROLE_PEER_UP:
        if ((key_len = pr->peer_key(m, len, key, sizeof key)))
            peer_up(p, key, key_len, m, len);
        break;
    case ROLE_PEER_DOWN:
        if ((key_len = pr->peer_key(m, len, key, sizeof key)) && p->n_slots) {
            uint32_t *s = slot_of(p, key, key_len);
            if (*s)
                peer_down(p, &p->peers[*s - 1]);
        }
        break;
    case ROLE_END:
        clear(p);
        break;
    case ROLE_NONE:
    case ROLE_CONFIRM:
        break;
    }
}

const uint8_t *preamble_bytes(struct preamble *p, size_t *len, size_t *msgs)
{
    free(p->buf);
    p->buf = p->bytes ? malloc(p->bytes) : NULL;
    *len = *msgs = 0;
    if (!p->buf)
        return NULL;
    if (p->start) {
        memcpy(p->buf, p->start, p->start_len);
        *len = p->start_len;
        *msgs = 1;
    }
    for (size_t i = 0; i < p->n_peers; i++)
        if (p->peers[i].msg && !p->peers[i].down) {
            memcpy(p->buf + *len, p->peers[i].msg, p->peers[i].len);
            *len += p->peers[i].len;
            (*msgs)++;
        }
    return p->buf;
}

int preamble_peer(const struct preamble *p, const struct proto *pr, const uint8_t *m, size_t len,
                  const uint8_t **up_msg, size_t *up_len)
{
    uint8_t key[PREAMBLE_KEY];
    size_t key_len = pr->peer_key ? pr->peer_key(m, len, key, sizeof key) : 0;
    if (!key_len || !p->n_slots)
        return -1;
    uint32_t s = *slot_of(p, key, key_len);
    if (!s || !p->peers[s - 1].msg)
        return -1;
    const struct preamble_peer *e = &p->peers[s - 1];
    *up_msg = e->msg;
    *up_len = e->len;
    return e->down ? 0 : 1;
}

void preamble_free(struct preamble *p)
{
    clear(p);
    free(p->peers);
    free(p->slots);
    free(p->buf);
    *p = (struct preamble){ 0 };
}
