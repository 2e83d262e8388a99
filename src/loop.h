/* loop.h — the one event loop: descriptors through epoll, timers in a heap, posted work,
 * and the deadline sleep that ends in a spin.
 *
 * The rules:
 * - Handlers travel with what they serve: a struct loop_io or loop_timer is embedded in its
 *   object and names the function and the object it is called with.
 * - One pass of loop_run() does, in this order: the posted work (each posted item once, in
 *   the order posted, including what a handler posts meanwhile), the ready descriptors, then
 *   the timers that are due. Events come before timers so that a connection that answered
 *   during a stall is seen as answered before its timeout fires.
 * - Every pass serves everything that is ready, however close the deadline: a caller that
 *   waits for the next packet never starves the descriptors (loop_run with a deadline in the
 *   past still does one pass without sleeping).
 * - The last LOOP_SPIN_NS before a deadline are spun, not slept, for precision; while
 *   spinning, ready descriptors are still served. loop_run_spin() names another window: the
 *   replay's packet waits pass LOOP_BUSY_NS with --busy-wait, so every gap shorter than that
 *   is spun through, never slept, for hosts that wake a sleeping process late (virtual
 *   machines do, by up to milliseconds), at the cost of a core, as busy-waiting replayers
 *   pay it. Waits that are not a packet's (keep_open, draining, a live source) keep
 *   LOOP_SPIN_NS and sleep.
 * - No single sleep is longer than LOOP_SLEEP_MAX_NS: the kernel lets an epoll wait end up
 *   to 0.1% of its length late (select_estimate_accuracy), so a 2 s wait to a --start-at
 *   or a sparse capture's next packet would wake 2 ms late, past the spin window.
 * - loop_stop (set by the signal handlers) ends loop_run() at the next pass.
 * - A timer is one absolute CLOCK_MONOTONIC instant; setting an armed timer moves it.
 *   Timers due at the same instant fire in the order they were set.
 *
 * Nothing here allocates per event: the heap grows by doubling (bounded by the number of
 * armed timers), posted work is an intrusive list. */
#ifndef TELREP_LOOP_H
#define TELREP_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOOP_SPIN_NS 200000 /* the last 200 us before a deadline are spun */
#define LOOP_BUSY_NS 1000000000LL /* ... or the last second, with --busy-wait */
#define LOOP_SLEEP_MAX_NS 100000000 /* sleeps of at most 100 ms: at most 100 us late */

struct loop;

/* How many times the loop has slept in the kernel (tests read the rules above with it). */
uint64_t loop_sleeps(const struct loop *l);

struct loop_io {
    int fd;
    uint32_t events; /* EPOLLIN | EPOLLOUT ... as watched */
    void (*fn)(void *obj, uint32_t events);
    void *obj;
};

struct loop_timer {
    int64_t at;      /* CLOCK_MONOTONIC ns */
    uint64_t seq;    /* set order, for ties */
    size_t slot;     /* index + 1 in the heap; 0 = not armed */
    void (*fn)(void *obj);
    void *obj;
};

struct loop_work {
    bool posted;     /* the flag: posting twice before it runs runs it once */
    struct loop_work *next;
    void (*fn)(void *obj);
    void *obj;
};

/* Set by signal handlers: loop_run returns at the next pass. */
extern volatile sig_atomic_t loop_stop;

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Watch io->fd for events (EPOLLIN, EPOLLOUT, ...); again to change them. 0 or -1 (errno). */
int loop_watch(struct loop *l, struct loop_io *io, uint32_t events);
/* Stop watching (before closing the descriptor). */
void loop_unwatch(struct loop *l, struct loop_io *io);

/* Arm (or move) a timer; 0 or -1 when the heap cannot grow. */
int loop_timer_set(struct loop *l, struct loop_timer *t, int64_t at_ns);
void loop_timer_cancel(struct loop *l, struct loop_timer *t);
static inline bool loop_timer_armed(const struct loop_timer *t) { return t->slot != 0; }

/* Run w->fn(w->obj) at the start of the next pass (once, however often posted). */
void loop_post(struct loop *l, struct loop_work *w);
void loop_unpost(struct loop *l, struct loop_work *w);

/* Serve until the CLOCK_MONOTONIC deadline (at least one pass), loop_stop, or a
 * loop_break() from a handler (after its pass). Returns whether it stopped for loop_stop. */
bool loop_run(struct loop *l, int64_t deadline_ns);
/* The same, spinning the last spin_ns before the deadline instead of LOOP_SPIN_NS. */
bool loop_run_spin(struct loop *l, int64_t deadline_ns, int64_t spin_ns);
/* The running loop_run returns after the current pass (the wait is over early). */
void loop_break(struct loop *l);

int64_t loop_now(void);

#endif
