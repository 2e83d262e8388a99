/* session: the state machine (session_fsm.c) driven without a network. Captured messages go
 * in through sessions_segment, the socket is a fake (struct session_ops: what each
 * connection was written, how much it takes, what the collector acknowledged and says),
 * events are raised as the socket's handlers and the timer raise them; the tests read the
 * state and the bytes each connection carried. Each behaviour is an item of issue 12. */
#include "testutil.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>

#include "session_int.h"

/* ---- the fake socket ---- */

#define MAX_CONNS 64
#define OUT_MAX 65536

static struct fake {
    int fd[MAX_CONNS];          /* each connection's descriptor (an eventfd: the loop can watch it) */
    size_t conns;
    uint8_t out[MAX_CONNS][OUT_MAX];
    size_t out_len[MAX_CONNS];
    size_t room;                /* bytes the next writes take in all (SIZE_MAX: any) */
    int write_errno;            /* writes fail with this (0: they do not) */
    bool ack_all;               /* the collector's TCP acknowledges everything written */
    uint64_t acked[MAX_CONNS];  /* else this much */
    uint8_t in[4096];           /* what the collector says next */
    size_t in_len;
    bool in_eof;                /* then it closes */
    int so_error;               /* the connection attempt's outcome */
    bool connect_fails;         /* no socket at all */
    unsigned shutdowns;
} F;

static int conn_of(int fd)
{
    for (size_t i = F.conns; i-- > 0;) /* the latest: a closed connection's number is reused */
        if (F.fd[i] == fd)
            return (int)i;
    fail_msg("descriptor %d is not a connection", fd);
    return -1;
}

static int f_connect(const struct addr *local, const struct sockaddr_storage *remote, socklen_t len,
                     const struct sock_options *o, char *err, size_t errlen)
{
    if (F.connect_fails || F.conns == MAX_CONNS) {
        snprintf(err, errlen, "cannot bind");
        return -1;
    }
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    assert_true(fd >= 0);
    F.fd[F.conns++] = fd;
    return fd;
}

static ssize_t f_writev(int fd, const struct iovec *iov, int n)
{
    int c = conn_of(fd);
    if (F.write_errno) {
        errno = F.write_errno;
        return -1;
    }
    size_t w = 0;
    for (int i = 0; i < n && w < F.room; i++) {
        size_t l = iov[i].iov_len < F.room - w ? iov[i].iov_len : F.room - w;
        assert_true(F.out_len[c] + l <= OUT_MAX);
        memcpy(F.out[c] + F.out_len[c], iov[i].iov_base, l);
        F.out_len[c] += l;
        w += l;
    }
    if (F.room != SIZE_MAX)
        F.room -= w;
    if (w == 0) {
        errno = EAGAIN;
        return -1;
    }
    return (ssize_t)w;
}

static ssize_t f_read(int fd, void *buf, size_t len)
{
    (void)conn_of(fd);
    if (F.in_len) {
        size_t l = F.in_len < len ? F.in_len : len;
        memcpy(buf, F.in, l);
        memmove(F.in, F.in + l, F.in_len - l);
        F.in_len -= l;
        return (ssize_t)l;
    }
    if (F.in_eof)
        return 0;
    errno = EAGAIN;
    return -1;
}

static int f_shutdown(int fd)
{
    (void)conn_of(fd);
    F.shutdowns++;
    return 0;
}

static int f_error(int fd) { return F.so_error; }

static uint64_t f_acked(int fd)
{
    int c = conn_of(fd);
    uint64_t a = F.ack_all ? F.out_len[c] : F.acked[c];
    return a ? a + 1 : 0; /* the SYN counts */
}

static const struct session_ops fake_ops = { f_connect, f_writev, f_read, f_shutdown, close, f_error, f_acked };

static void bgp_messages(void);
static void bmp_messages(void);

/* ---- a world: one router, one protocol, one collector, its messages in M ---- */

static struct world {
    struct loop *loop;
    struct config cfg;
    struct stats stats;
    struct router r;
    struct proto_config pc;
    struct sessions *s;
    struct sockaddr_storage coll;
    uint32_t seq;
} W;

static const struct sockaddr_storage *collector(void *ctx, int proto, unsigned k, int family, socklen_t *len)
{
    *len = sizeof(struct sockaddr_in);
    return &W.coll;
}

static bool LOOP_BODY; /* the next world's sessions play a loop's body (config loop:) */

static void world(enum proto_id id, int reconnect, bool keep_open)
{
    memset(&F, 0, sizeof F);
    F.room = SIZE_MAX;
    memset(&W, 0, sizeof W);
    assert_non_null(W.loop = loop_new());
    assert_int_equal(addr_parse("10.0.0.1", &W.r.src), 0);
    assert_int_equal(addr_parse("127.0.0.1", &W.r.repro), 0);
    W.pc.id = id;
    W.pc.proto = id == PROTO_BGP ? &proto_bgp : &proto_bmp;
    W.pc.session = (struct session_config){ .reconnect = reconnect, .open_timeout = 10, .drain_timeout = 1,
                                            .hold_time = -1 };
    W.coll.ss_family = AF_INET;
    W.seq = 1000;
    struct session_env env = { .cfg = &W.cfg, .stats = &W.stats, .collector = collector, .keep_open = keep_open,
                               .loop = W.loop, .ops = &fake_ops, .loop_body = LOOP_BODY };
    assert_non_null(W.s = sessions_new(&env));
    log_set_level(LOG_ERROR);
    if (id == PROTO_BGP)
        bgp_messages();
    else
        bmp_messages();
}

static void world_end(void)
{
    sessions_free(W.s);
    loop_free(W.loop);
}

/* a captured segment of the router's conversation, due now */
static void feed(const uint8_t *m, size_t len)
{
    struct decoded d = { .ip_proto = IPPROTO_TCP, .sport = 40000, .dport = 1790, .seq = W.seq,
                         .tcp_flags = TCP_ACK | TCP_PSH, .payload = m, .payload_len = len };
    d.src = W.r.src;
    assert_int_equal(addr_parse("192.0.2.99", &d.dst), 0);
    sessions_segment(W.s, &W.r, &W.pc, &d, 0);
    W.seq += (uint32_t)len;
}

/* the queued messages written, as the posted flush does */
static void flush(void) { sessions_flush(W.s); }

static struct session *the(void)
{
    assert_non_null(W.s->list);
    return W.s->list;
}

static const char *st(void) { return session_state_names[the()->state]; }

/* what connection c carried, as message letters: BMP I(NIT) U(p) D(own) R(oute monitoring)
 * T(ERM); BGP O(PEN) K(EEPALIVE) u(PDATE) N(OTIFICATION); '|' where a message is cut */
static const char *carried(size_t c)
{
    static char out[4096];
    size_t off = 0, o = 0;
    const struct proto *p = W.pc.proto;
    out[0] = 0;
    assert_true(c < F.conns);
    while (off < F.out_len[c] && o + 2 < sizeof out) {
        ssize_t n = p->frame_ext ? p->frame_ext(F.out[c] + off, F.out_len[c] - off)
                                 : p->frame(F.out[c] + off, F.out_len[c] - off);
        if (n < 0)
            print_message("connection %zu: \"%.*s\" then bytes that are not a message at %zu of %zu\n", c, (int)o,
                          out, off, F.out_len[c]);
        assert_true(n >= 0); /* never bytes that are not a message's start */
        if (n == 0) {
            out[o++] = '|';
            break;
        }
        uint8_t t = F.out[c][off + p->kind_offset];
        out[o++] = W.pc.id == PROTO_BGP ? " OuNKR"[t] : "R?DUIT"[t];
        off += (size_t)n;
    }
    out[o] = 0;
    return out;
}

/* ---- messages ---- */

static uint8_t M[8][256];
static size_t ML[8];
enum { INIT, PU1, PU2, PD1, RM, TERM };
enum { OPEN, KA, UPD, NOTIF };

static void bmp_messages(void)
{
    ML[INIT] = tu_bmp(M[INIT], 4, 0, 0);
    ML[PU1] = tu_bmp(M[PU1], 3, 1, 65001);
    ML[PU2] = tu_bmp(M[PU2], 3, 2, 65002);
    ML[PD1] = tu_bmp(M[PD1], 2, 1, 65001);
    ML[RM] = tu_bmp(M[RM], 0, 1, 65001);
    ML[TERM] = tu_bmp(M[TERM], 5, 0, 0);
}

static size_t bgp(uint8_t *out, uint8_t type, const uint8_t *body, size_t len)
{
    struct tu_buf b = { .n = 0 };
    for (int i = 0; i < 16; i++)
        tu_u8(&b, 0xff);
    tu_u16(&b, (uint16_t)(19 + len));
    tu_u8(&b, type);
    tu_bytes(&b, body, len);
    memcpy(out, b.b, b.n);
    return b.n;
}

static void bgp_messages(void)
{
    struct tu_buf b;
    tu_bgp_open(&b, 65001, 65001, 90);
    memcpy(M[OPEN], b.b, b.n);
    ML[OPEN] = b.n;
    ML[KA] = bgp(M[KA], 4, NULL, 0);
    const uint8_t eor[4] = { 0 }, cease[2] = { 6, 2 };
    ML[UPD] = bgp(M[UPD], 2, eor, sizeof eor);
    ML[NOTIF] = bgp(M[NOTIF], 3, cease, sizeof cease);
}

static void feed_m(int i) { feed(M[i], ML[i]); }

/* the collector of session x says message i */
static void says_to(struct session *x, int i)
{
    memcpy(F.in + F.in_len, M[i], ML[i]);
    F.in_len += ML[i];
    session_event(x, EPOLLIN);
}

static void says(int i) { says_to(the(), i); }

/* a BGP session up to established: our OPEN, theirs, our KEEPALIVE, theirs */
static void bgp_handshake(void)
{
    session_fsm(the(), EV_CONNECTED, NULL);
    assert_string_equal(st(), "open_sent");
    says(OPEN);
    assert_string_equal(st(), "open_confirm");
    says(KA);
    assert_string_equal(st(), "established");
}

/* ---- the tests ---- */

/* BMP: the first message connects; once connected the queue is written in order. */
static void test_bmp_connects_and_writes(void **state)
{
    world(PROTO_BMP, -1, false);
    feed_m(RM); /* before the session's start: skipped */
    feed_m(INIT);
    assert_string_equal(st(), "connecting");
    assert_int_equal(F.conns, 1);
    feed_m(PU1);
    feed_m(RM);
    session_fsm(the(), EV_CONNECTED, NULL);
    assert_string_equal(st(), "established");
    assert_string_equal(carried(0), "IUR");
    feed_m(RM);
    flush();
    assert_string_equal(carried(0), "IURR");
    assert_int_equal(the()->skipped_before_start, 1);
    F.ack_all = true;
    session_ack(the());
    assert_int_equal(the()->messages_sent, 4);
    world_end();
}

/* BGP: only our OPEN until the collector's OPEN; it is answered with a KEEPALIVE, and the
 * captured KEEPALIVE that was the router's answer is not replayed (item 9). */
static void test_bgp_handshake_one_keepalive(void **state)
{
    world(PROTO_BGP, -1, false);
    feed_m(OPEN);
    feed_m(KA);
    feed_m(UPD);
    feed_m(UPD);
    session_fsm(the(), EV_CONNECTED, NULL);
    assert_string_equal(st(), "open_sent");
    assert_string_equal(carried(0), "O");
    says(OPEN);
    assert_string_equal(st(), "open_confirm");
    assert_string_equal(carried(0), "OK");
    says(KA);
    assert_string_equal(st(), "established");
    assert_string_equal(carried(0), "OKuu");
    assert_int_equal(the()->confirms_replaced, 1);
    assert_int_equal(the()->keepalives_sent, 1);
    world_end();
}

/* open_timeout: a collector that never sends its OPEN takes the session down. */
static void test_bgp_open_timeout(void **state)
{
    world(PROTO_BGP, 0, false);
    feed_m(OPEN);
    session_fsm(the(), EV_CONNECTED, NULL);
    F.ack_all = true; /* its kernel took our OPEN */
    session_fsm(the(), EV_TIMEOUT, NULL);
    assert_string_equal(st(), "failed");
    assert_non_null(strstr(the()->last_error, "did not answer the OPEN"));
    world_end();
}

/* Item 3: a reconnect reset before the collector acknowledged anything does not leave the
 * preamble queued twice: the next connection carries it once. */
static void test_preamble_once_after_unacked_reconnect(void **state)
{
    world(PROTO_BMP, 1, false);
    feed_m(INIT);
    feed_m(PU1);
    session_fsm(the(), EV_CONNECTED, NULL);
    F.ack_all = true;
    session_fsm(the(), EV_PEER_DOWN, "reset");
    assert_string_equal(st(), "backoff");
    F.ack_all = false;
    for (int i = 1; i <= 3; i++) { /* reset before anything is acknowledged, three times */
        session_fsm(the(), EV_TIMEOUT, NULL);
        assert_string_equal(st(), "connecting");
        session_fsm(the(), EV_CONNECTED, NULL);
        assert_string_equal(carried((size_t)i), "IU");
        session_fsm(the(), EV_PEER_DOWN, "reset");
        assert_string_equal(st(), "backoff");
    }
    assert_int_equal(the()->messages_sent, 2);
    world_end();
}

/* Item 4: a peer the capture took down is not in the preamble of the next connection. */
static void test_preamble_without_peers_down(void **state)
{
    world(PROTO_BMP, 1, false);
    feed_m(INIT);
    feed_m(PU1);
    feed_m(PU2);
    feed_m(PD1);
    session_fsm(the(), EV_CONNECTED, NULL);
    assert_string_equal(carried(0), "IUUD");
    F.ack_all = true;
    session_fsm(the(), EV_PEER_DOWN, "the collector closed the connection");
    session_fsm(the(), EV_TIMEOUT, NULL);
    session_fsm(the(), EV_CONNECTED, NULL);
    assert_string_equal(carried(1), "IU");
    assert_int_equal(F.out[1][ML[INIT] + 6 + 2 + 8 + 15], 2); /* peer 2's PEER_UP */
    world_end();
}

/* Item 5: a collector that never answers the connection attempt: a few quick retries, then
 * the session fails with the reason, and what it had is counted lost. */
static void test_never_answering_collector_fails(void **state)
{
    world(PROTO_BMP, -1, false);
    feed_m(INIT);
    feed_m(RM);
    for (int i = 0; i < 20 && strcmp(st(), "failed"); i++)
        session_fsm(the(), EV_TIMEOUT, NULL); /* connect timeout, backoff over, ... */
    assert_string_equal(st(), "failed");
    assert_int_equal(F.conns, 6); /* the first attempt and 5 quick retries */
    assert_non_null(strstr(the()->last_error, "no answer to the connection attempt"));
    assert_int_equal(the()->lost, 2);
    assert_int_equal(W.stats.session_failures, 1);
    feed_m(RM); /* later messages of a failed session are lost too */
    assert_int_equal(the()->lost, 3);
    world_end();
}

/* Item 6: a collector that accepts and closes at once is retried with a backoff that
 * doubles up to 30 s; a connection that lasted starts it again. */
static void test_backoff_doubles(void **state)
{
    world(PROTO_BMP, 1, false);
    feed_m(INIT);
    F.ack_all = true;
    const double want[] = { 0.5, 1, 2, 4, 8, 16, 30, 30 };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        if (i)
            session_fsm(the(), EV_TIMEOUT, NULL);
        session_fsm(the(), EV_CONNECTED, NULL);
        session_fsm(the(), EV_PEER_DOWN, "the collector closed the connection");
        assert_string_equal(st(), "backoff");
        assert_true(the()->backoff_ns == (int64_t)(want[i] * 1e9));
    }
    session_fsm(the(), EV_TIMEOUT, NULL);
    session_fsm(the(), EV_CONNECTED, NULL);
    the()->c.since -= STABLE_NS; /* this one lasted */
    session_fsm(the(), EV_PEER_DOWN, "the collector closed the connection");
    assert_true(the()->backoff_ns == BACKOFF_MIN_NS);
    world_end();
}

/* Item 7: the acknowledgement that rode on the collector's FIN is read before the session
 * goes down: what it had is delivered, not sent again. */
static void test_last_ack_read_at_close(void **state)
{
    world(PROTO_BMP, 1, false);
    feed_m(INIT);
    feed_m(PU1);
    feed_m(RM);
    session_fsm(the(), EV_CONNECTED, NULL);
    assert_int_equal(the()->messages_sent, 0);
    F.ack_all = true; /* acknowledged with its FIN */
    F.in_eof = true;
    session_event(the(), EPOLLIN | EPOLLRDHUP);
    assert_string_equal(st(), "backoff");
    assert_int_equal(the()->messages_sent, 3);
    assert_int_equal(the()->resent, 0);
    F.in_eof = false;
    F.ack_all = false;
    session_fsm(the(), EV_TIMEOUT, NULL);
    session_fsm(the(), EV_CONNECTED, NULL);
    assert_string_equal(carried(1), "IU"); /* the preamble only: RM was delivered */
    world_end();
}

/* Item 8: a capture that ends its BGP session with the router's NOTIFICATION: written alone,
 * then our FIN as the router's; nothing of ours after it, nothing lost; what the capture
 * holds after it is skipped; its next OPEN is a new session on a new connection. */
static void test_captured_notification_ends_session(void **state)
{
    world(PROTO_BGP, -1, false);
    feed_m(OPEN);
    feed_m(KA);
    feed_m(UPD);
    feed_m(NOTIF);
    feed_m(UPD); /* after the end */
    session_fsm(the(), EV_CONNECTED, NULL);
    says(OPEN);
    says(KA);
    assert_string_equal(carried(0), "OKuN");
    assert_string_equal(st(), "restarting");
    assert_int_equal(F.shutdowns, 1);
    assert_int_equal(the()->skipped_after_end, 1);
    F.ack_all = true;
    F.in_eof = true;
    session_event(the(), EPOLLIN); /* the collector closes its side */
    assert_string_equal(st(), "waiting");
    assert_int_equal(the()->lost, 0);
    assert_int_equal(the()->messages_sent, 3);
    F.in_eof = false;
    F.ack_all = false;
    feed_m(OPEN); /* the router's next session */
    assert_string_equal(st(), "connecting");
    session_fsm(the(), EV_CONNECTED, NULL);
    assert_string_equal(carried(1), "O");
    assert_int_equal(F.shutdowns, 1);
    world_end();
}

/* The capture opens a new BGP session while one is established: our Cease, FIN, and the
 * next connection starts with the new OPEN (no preamble: it is a new session). */
static void test_captured_restart(void **state)
{
    world(PROTO_BGP, -1, false);
    feed_m(OPEN);
    feed_m(UPD);
    bgp_handshake();
    F.ack_all = true;
    feed_m(OPEN);
    feed_m(UPD);
    flush();
    assert_string_equal(carried(0), "OKuN");
    assert_string_equal(st(), "restarting");
    assert_int_equal(the()->restarts, 1);
    session_fsm(the(), EV_TIMEOUT, NULL); /* the collector did not close within 2 s */
    assert_string_equal(st(), "connecting");
    F.ack_all = false;
    bgp_handshake();
    assert_string_equal(carried(1), "OKu");
    world_end();
}

/* Item 11: a stop while a message is half written finishes it, then the goodbye (BMP TERM
 * with send_term), then FIN; a full socket only delays the TERM. */
static void test_stop_finishes_the_message(void **state)
{
    world(PROTO_BMP, -1, false);
    W.pc.session.send_term = true;
    feed_m(INIT);
    feed_m(RM);
    F.room = ML[INIT] + 10; /* RM cut after 10 bytes */
    session_fsm(the(), EV_CONNECTED, NULL);
    assert_string_equal(carried(0), "I|");
    session_fsm(the(), EV_STOP, NULL);
    assert_string_equal(st(), "closing");
    assert_int_equal(F.shutdowns, 0);
    F.room = SIZE_MAX;
    session_event(the(), EPOLLOUT);
    assert_string_equal(carried(0), "IRT");
    assert_int_equal(F.shutdowns, 1);
    F.in_eof = true;
    session_event(the(), EPOLLIN);
    assert_int_equal(the()->c.fd, -1);
    session_fsm(the(), EV_RUN_OVER, NULL);
    assert_string_equal(st(), "closed");
    world_end();
}

/* Item 14: with keep_open and reconnect unset, a collector that resets a session it took
 * (a refusal: it never lasted STABLE_NS) ends it; after one that lasted, it comes back. */
static void test_refusal_is_not_a_restart(void **state)
{
    world(PROTO_BGP, -1, true);
    feed_m(OPEN);
    session_fsm(the(), EV_CONNECTED, NULL);
    F.ack_all = true; /* its kernel took the OPEN, then it reset the connection */
    session_fsm(the(), EV_PEER_DOWN, "read: Connection reset by peer");
    assert_string_equal(st(), "failed");
    assert_int_equal(F.conns, 1);
    world_end();

    world(PROTO_BGP, -1, true);
    feed_m(OPEN);
    bgp_handshake();
    F.ack_all = true;
    the()->c.since -= STABLE_NS;
    session_fsm(the(), EV_PEER_DOWN, "read: Connection reset by peer");
    assert_string_equal(st(), "backoff");
    world_end();
}

/* An OPEN error from the collector is a configuration mismatch: never retried. */
static void test_open_error_not_retried(void **state)
{
    world(PROTO_BGP, 1, false);
    feed_m(OPEN);
    session_fsm(the(), EV_CONNECTED, NULL);
    const uint8_t bad_as[2] = { 2, 2 };
    ML[7] = bgp(M[7], 3, bad_as, sizeof bad_as);
    says(7);
    assert_string_equal(st(), "failed");
    assert_non_null(strstr(the()->last_error, "NOTIFICATION"));
    assert_int_equal(the()->notifications_received, 1);
    world_end();
}

/* Item 13: a new connection always starts at a message boundary, with the whole preamble,
 * however the writes were cut and wherever the connections were lost (random cuts and
 * losses, BGP and BMP; carried() fails on bytes that do not start a message). */
static void reconnects_at_boundaries(enum proto_id id, unsigned seed)
{
    if (getenv("TRACE"))
        print_message("%s seed %u\n", id == PROTO_BGP ? "bgp" : "bmp", seed);
    srand(seed);
    world(id, 1, false);
    if (id == PROTO_BGP) {
        feed_m(OPEN);
    } else {
        feed_m(INIT);
        feed_m(PU1);
    }
    for (int step = 0; step < 200 && F.conns < MAX_CONNS; step++) {
        struct session *x = the();
        F.room = rand() % 3 ? (size_t)(rand() % 120) : SIZE_MAX;
        int what = rand() % 6;
        if (getenv("TRACE")) /* TRACE=1: each step */
            print_message("step %d %s room %zu action %d connections %zu\n", step, session_state_names[x->state],
                          F.room, what, F.conns);
        switch (what) {
        case 0: feed_m(id == PROTO_BGP ? UPD : RM); break;
        case 1:
            if (x->state == S_CONNECTING)
                session_fsm(x, EV_CONNECTED, NULL);
            else if (x->state == S_BACKOFF)
                session_fsm(x, EV_TIMEOUT, NULL);
            break;
        case 2:
            if (x->state == S_OPEN_SENT)
                says(OPEN);
            else if (x->state == S_OPEN_CONFIRM)
                says(KA);
            break;
        case 3:
            if (x->c.fd >= 0) {
                F.acked[conn_of(x->c.fd)] = (uint64_t)rand() % (F.out_len[conn_of(x->c.fd)] + 1);
                session_fsm(x, EV_PEER_DOWN, "reset");
            }
            break;
        default:
            if (x->c.fd >= 0)
                session_event(x, EPOLLOUT);
            break;
        }
        assert_true(x->state != S_FAILED);
    }
    for (size_t c = 0; c < F.conns; c++) {
        const char *m = carried(c);
        int start = id == PROTO_BGP ? OPEN : INIT;
        if (*m == '|') /* lost inside its first message: the start of the session's start */
            assert_memory_equal(F.out[c], M[start], F.out_len[c] < ML[start] ? F.out_len[c] : ML[start]);
        else if (*m) /* a connection starts with the session's start */
            assert_int_equal(*m, id == PROTO_BGP ? 'O' : 'I');
        if (id == PROTO_BGP) /* one OPEN per connection */
            assert_null(strchr(m + 1, 'O'));
    }
    world_end();
}

static void test_reconnect_starts_at_a_message(void **state)
{
    for (unsigned seed = 1; seed <= 200; seed++) {
        reconnects_at_boundaries(PROTO_BMP, seed);
        reconnects_at_boundaries(PROTO_BGP, seed);
    }
}

/* Final states take no event but the end of the run. */
static void test_failed_stays_failed(void **state)
{
    world(PROTO_BMP, 0, false);
    F.connect_fails = true;
    feed_m(INIT);
    assert_string_equal(st(), "failed");
    for (int ev = 0; ev < EV_COUNT; ev++)
        if (ev != EV_RUN_OVER && ev != EV_CONNECTED) {
            session_fsm(the(), (enum session_event)ev, "test");
            assert_string_equal(st(), "failed");
        }
    assert_int_equal(F.conns, 0);
    session_fsm(the(), EV_RUN_OVER, NULL);
    assert_string_equal(st(), "failed");
    world_end();
}

/* Issue 13 item 3, loop: each session's start goes once, PEER_UPs and PEER_DOWNs only when
 * they change something, a peer the body brought down comes up again before its next
 * message; the router's own TERM never goes. */
static void test_loop_bmp(void **state)
{
    LOOP_BODY = true;
    world(PROTO_BMP, -1, false);
    LOOP_BODY = false;
    ML[6] = tu_bmp(M[6], 0, 2, 65002); /* route monitoring of peer 2 */
    int pass1[] = { INIT, PU1, PU2, RM, 6, PD1, TERM };
    for (size_t i = 0; i < sizeof pass1 / sizeof *pass1; i++)
        feed_m(pass1[i]);
    session_fsm(the(), EV_CONNECTED, NULL);
    assert_string_equal(carried(0), "IUURRD"); /* no TERM: the loop goes on */
    sessions_new_pass(W.s);
    int pass2[] = { INIT, RM, PU1, PU2, RM, 6, PD1, TERM };
    for (size_t i = 0; i < sizeof pass2 / sizeof *pass2; i++)
        feed_m(pass2[i]);
    flush();
    /* INIT skipped; peer 1 is down: its PEER_UP first, then its route monitoring; the
     * captured PEER_UP 1 then says nothing new, nor PEER_UP 2 */
    assert_string_equal(carried(0), "IUURRDURRRD");
    assert_int_equal(the()->loop_peer_ups, 1);
    assert_int_equal(the()->loop_skipped, 5); /* TERM twice, INIT, PEER_UP 1 and 2 */
    assert_string_equal(st(), "established");
    world_end();
}

static void test_loop_bgp(void **state)
{
    LOOP_BODY = true;
    world(PROTO_BGP, -1, false);
    LOOP_BODY = false;
    for (int pass = 0; pass < 3; pass++) {
        if (pass)
            sessions_new_pass(W.s);
        feed_m(OPEN);
        feed_m(KA);
        feed_m(UPD);
        feed_m(NOTIF);
        if (!pass)
            bgp_handshake();
        flush();
    }
    assert_string_equal(carried(0), "OKuuu"); /* one OPEN, our KEEPALIVE, the body thrice */
    assert_string_equal(st(), "established");
    assert_int_equal(F.conns, 1);
    world_end();
}

/* Issue 14: a connection the collector's kernel completed without its application ever
 * taking it (a listen queue of 1 overflowed, SYN cookies: pmbmpd with 200 routers connecting
 * together) acknowledges nothing; after UNANSWERED_NS it is given up and tried again, which
 * loses and duplicates nothing. One that acknowledged something is left alone. */
static void test_unanswered_connection_retried(void **state)
{
    world(PROTO_BMP, -1, false);
    feed_m(INIT);
    feed_m(PU1);
    session_fsm(the(), EV_CONNECTED, NULL);
    assert_string_equal(carried(0), "IU");
    session_on_timer(the());
    assert_string_equal(st(), "established"); /* not yet */
    the()->c.since -= UNANSWERED_NS;
    session_on_timer(the());
    assert_string_equal(st(), "backoff");
    assert_int_equal(the()->quick_retries, 1);
    assert_non_null(strstr(the()->last_error, "acknowledged nothing"));
    session_fsm(the(), EV_TIMEOUT, NULL);
    session_fsm(the(), EV_CONNECTED, NULL);
    assert_string_equal(carried(1), "IU"); /* again, whole, once */
    F.acked[1] = ML[INIT];
    the()->c.since -= UNANSWERED_NS;
    session_on_timer(the());
    assert_string_equal(st(), "established");
    world_end();
}

/* Issue 14 item 1, fan-out: with two collectors the captured session is a session to each,
 * both carrying every message; each BGP session negotiates on its own, and a collector that
 * refuses holds up only its own session, which catches up when it comes back. */
static void test_fan_out(void **state)
{
    world(PROTO_BGP, 1, false);
    W.pc.n_collectors = 2;
    feed_m(OPEN);
    assert_int_equal(F.conns, 2); /* a connection attempt to each */
    struct session *lead = W.s->list->next_all, *second = W.s->list;
    assert_ptr_equal(lead->fan_next, second);
    assert_ptr_equal(second->lead, lead);
    assert_int_equal(second->collector, 1);
    assert_int_equal(lead->collector, 0);
    /* collector 0 answers; collector 1 refuses */
    session_fsm(lead, EV_CONNECTED, NULL);
    session_fsm(second, EV_CONNECT_FAILED, "Connection refused");
    assert_string_equal(session_state_names[second->state], "backoff");
    says_to(lead, OPEN);
    says_to(lead, KA);
    assert_string_equal(session_state_names[lead->state], "established");
    feed_m(KA); /* the router's answer: replaced by telrep's own, on each session */
    feed_m(UPD);
    feed_m(UPD);
    flush();
    assert_string_equal(carried(0), "OKuu");
    /* collector 1 comes back: its own OPEN exchange, then everything the capture held */
    session_fsm(second, EV_TIMEOUT, NULL);
    assert_int_equal(F.conns, 3);
    session_fsm(second, EV_CONNECTED, NULL);
    assert_string_equal(carried(2), "O");
    says_to(second, OPEN);
    says_to(second, KA);
    assert_string_equal(session_state_names[second->state], "established");
    assert_string_equal(carried(2), "OKuu");
    assert_int_equal(second->confirms_replaced, 1);
    assert_int_equal(lead->confirms_replaced, 1);
    F.ack_all = true;
    session_ack(lead);
    session_ack(second);
    struct session_summary t0, t1, all;
    sessions_summary(W.s, &W.r, PROTO_BGP, 0, &t0);
    sessions_summary(W.s, &W.r, PROTO_BGP, 1, &t1);
    sessions_summary(W.s, &W.r, PROTO_BGP, -1, &all);
    assert_int_equal(t0.delivered, 3); /* OPEN and two UPDATEs (telrep's KEEPALIVE is its own) */
    assert_int_equal(t1.delivered, 3);
    assert_int_equal(t1.reconnects, 1);
    assert_int_equal(t0.reconnects, 0);
    assert_int_equal(all.sessions, 2);
    world_end();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fan_out),
        cmocka_unit_test(test_unanswered_connection_retried),
        cmocka_unit_test(test_bmp_connects_and_writes),
        cmocka_unit_test(test_bgp_handshake_one_keepalive),
        cmocka_unit_test(test_bgp_open_timeout),
        cmocka_unit_test(test_preamble_once_after_unacked_reconnect),
        cmocka_unit_test(test_preamble_without_peers_down),
        cmocka_unit_test(test_never_answering_collector_fails),
        cmocka_unit_test(test_backoff_doubles),
        cmocka_unit_test(test_last_ack_read_at_close),
        cmocka_unit_test(test_captured_notification_ends_session),
        cmocka_unit_test(test_captured_restart),
        cmocka_unit_test(test_stop_finishes_the_message),
        cmocka_unit_test(test_refusal_is_not_a_restart),
        cmocka_unit_test(test_open_error_not_retried),
        cmocka_unit_test(test_reconnect_starts_at_a_message),
        cmocka_unit_test(test_failed_stays_failed),
        cmocka_unit_test(test_loop_bmp),
        cmocka_unit_test(test_loop_bgp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
