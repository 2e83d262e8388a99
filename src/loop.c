/* loop.c — see loop.h for the rules. */
#define _GNU_SOURCE
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t loop_stop;

#define EVENTS_MAX 64

struct loop {
    int epfd;
    struct loop_timer **heap; /* a binary min-heap on (at, seq) */
    size_t n, cap;
    uint64_t seq;
    struct loop_work *posted, **posted_tail;
    bool no_pwait2;           /* the kernel lacks epoll_pwait2: millisecond waits */
    /* the events being dispatched: an io unwatched meanwhile is struck out of them */
    struct epoll_event *batch;
    int batch_n;
    bool brk;                 /* loop_break: return after this pass */
    uint64_t sleeps;
};

uint64_t loop_sleeps(const struct loop *l) { return l->sleeps; }

int64_t loop_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct loop *loop_new(void)
{
    struct loop *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        free(l);
        return NULL;
    }
    l->posted_tail = &l->posted;
    return l;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        l->heap[i]->slot = 0;
    for (struct loop_work *w = l->posted; w; w = w->next)
        w->posted = false;
    close(l->epfd);
    free(l->heap);
    free(l);
}

/* ---- descriptors ---- */

int loop_watch(struct loop *l, struct loop_io *io, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = io };
    int op = io->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(l->epfd, op, io->fd, &ev) < 0) {
        if (op == EPOLL_CTL_MOD && errno == ENOENT)
            op = EPOLL_CTL_ADD;
        else if (op == EPOLL_CTL_ADD && errno == EEXIST)
            op = EPOLL_CTL_MOD;
        else
            return -1;
        if (epoll_ctl(l->epfd, op, io->fd, &ev) < 0)
            return -1;
    }
    /* 0 events is a valid watch (errors and hangups are always reported) */
    io->events = events ? events : EPOLLERR;
    return 0;
}

void loop_unwatch(struct loop *l, struct loop_io *io)
{
    if (io->events && io->fd >= 0)
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    io->events = 0;
    /* its object may be freed next: no event of this pass may reach it */
    for (int i = 0; i < l->batch_n; i++)
        if (l->batch[i].data.ptr == io)
            l->batch[i].data.ptr = NULL;
}

/* ---- timers ---- */

static bool before(const struct loop_timer *a, const struct loop_timer *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void place(struct loop *l, size_t i, struct loop_timer *t)
{
    l->heap[i] = t;
    t->slot = i + 1;
}

static void sift_up(struct loop *l, size_t i)
{
    struct loop_timer *t = l->heap[i];
    while (i > 0 && before(t, l->heap[(i - 1) / 2])) {
        place(l, i, l->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    place(l, i, t);
}

static void sift_down(struct loop *l, size_t i)
{
    struct loop_timer *t = l->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->n)
            break;
        if (c + 1 < l->n && before(l->heap[c + 1], l->heap[c]))
            c++;
        if (!before(l->heap[c], t))
            break;
        place(l, i, l->heap[c]);
        i = c;
    }
    place(l, i, t);
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
    if (!t->slot)
        return;
    size_t i = t->slot - 1;
    t->slot = 0;
    struct loop_timer *last = l->heap[--l->n];
    if (i == l->n)
        return;
    place(l, i, last);
    sift_up(l, i);
    sift_down(l, last->slot - 1);
}

int loop_timer_set(struct loop *l, struct loop_timer *t, int64_t at_ns)
{
    loop_timer_cancel(l, t);
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct loop_timer **h = realloc(l->heap, cap * sizeof *h);
        if (!h)
            return -1;
        l->heap = h;
        l->cap = cap;
    }
    t->at = at_ns;
    t->seq = l->seq++;
    place(l, l->n++, t);
    sift_up(l, l->n - 1);
    return 0;
}

/* Fire what is due at now; a handler may set timers (even its own) meanwhile. */
static void run_timers(struct loop *l, int64_t now)
{
    while (l->n && l->heap[0]->at <= now && !loop_stop) {
        struct loop_timer *t = l->heap[0];
        loop_timer_cancel(l, t);
        t->fn(t->obj);
    }
}

/* ---- posted work ---- */

void loop_post(struct loop *l, struct loop_work *w)
{
    if (w->posted)
        return;
    w->posted = true;
    w->next = NULL;
    *l->posted_tail = w;
    l->posted_tail = &w->next;
}

void loop_unpost(struct loop *l, struct loop_work *w)
{
    if (!w->posted)
        return;
    for (struct loop_work **at = &l->posted; *at; at = &(*at)->next)
        if (*at == w) {
            *at = w->next;
            if (l->posted_tail == &w->next)
                l->posted_tail = at;
            break;
        }
    w->posted = false;
}

static void run_posted(struct loop *l)
{
    while (l->posted && !loop_stop) {
        struct loop_work *w = l->posted;
        l->posted = w->next;
        if (!l->posted)
            l->posted_tail = &l->posted;
        w->posted = false;
        w->fn(w->obj);
    }
}

/* ---- the pass ---- */

static int wait_events(struct loop *l, struct epoll_event *ev, int64_t wait_ns)
{
    if (wait_ns <= 0)
        return epoll_wait(l->epfd, ev, EVENTS_MAX, 0);
    if (wait_ns > LOOP_SLEEP_MAX_NS) /* the caller's loop sleeps again: each wake is at most 0.1% late */
        wait_ns = LOOP_SLEEP_MAX_NS;
    l->sleeps++;
    if (!l->no_pwait2) {
        struct timespec ts = { .tv_sec = wait_ns / 1000000000LL, .tv_nsec = wait_ns % 1000000000LL };
        int n = epoll_pwait2(l->epfd, ev, EVENTS_MAX, &ts, NULL);
        if (n >= 0 || errno != ENOSYS)
            return n;
        l->no_pwait2 = true;
    }
    return epoll_wait(l->epfd, ev, EVENTS_MAX, (int)(wait_ns / 1000000)); /* rounded down: the spin ends it */
}

bool loop_run(struct loop *l, int64_t deadline_ns) { return loop_run_spin(l, deadline_ns, LOOP_SPIN_NS); }

bool loop_run_spin(struct loop *l, int64_t deadline_ns, int64_t spin_ns)
{
    struct epoll_event ev[EVENTS_MAX];
    for (;;) {
        if (loop_stop)
            return true;
        run_posted(l);
        int64_t now = loop_now();
        /* sleep until the spin window, the next timer or posted work, whichever is first */
        int64_t wake = deadline_ns - spin_ns;
        if (l->n && l->heap[0]->at < wake)
            wake = l->heap[0]->at;
        int n = wait_events(l, ev, l->posted || l->brk ? 0 : wake - now);
        l->batch = ev;
        l->batch_n = n > 0 ? n : 0;
        for (int i = 0; i < n && !loop_stop; i++) {
            struct loop_io *io = ev[i].data.ptr;
            if (io)
                io->fn(io->obj, ev[i].events);
        }
        l->batch_n = 0;
        if (n < 0 && errno != EINTR)
            return loop_stop; /* an epoll failure: nothing would ever wake it */
        run_timers(l, loop_now());
        if (l->brk) {
            l->brk = false;
            return loop_stop;
        }
        if (loop_now() >= deadline_ns)
            return loop_stop;
    }
}

void loop_break(struct loop *l) { l->brk = true; }
