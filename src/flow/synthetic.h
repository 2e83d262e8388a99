/* synthetic.h — flows made up from parameters (flow-replay --synthetic), as Mimic can: new
 * connections at a rate, each a number of request/response rounds with byte sizes and a think
 * time that are fixed values or drawn from distributions (seeded: the same set every time). */
#ifndef TELREP_FLOW_SYNTHETIC_H
#define TELREP_FLOW_SYNTHETIC_H

#include <stddef.h>
#include <stdint.h>

#include "flow/events.h"

/* A distribution of values >= 0 (a draw below 0 counts as 0), written as
 *   100                 fixed
 *   uniform:A:B         uniform between A and B
 *   exp:MEAN            exponential
 *   normal:MEAN:SD      normal
 *   lognormal:MU:SIGMA  lognormal: ln of the value is normal(MU, SIGMA) (median e^MU)
 * or a mixture of up to FLOW_DIST_PARTS of them, each with its weight (normalised):
 *   0.3*normal:200:20+0.7*normal:1200:100
 * the test generator of distributions a model must recover. */
#define FLOW_DIST_PARTS 5
struct flow_dist {
    unsigned n; /* parts; 0 (a zeroed struct) is the fixed value 0 */
    struct flow_dist_part { double w; char kind; double a, b; } p[FLOW_DIST_PARTS];
};
#define FLOW_DIST_FIXED(v) ((struct flow_dist){ .n = 1, .p[0] = { 1, 'f', (v), 0 } })

struct flow_synthetic_options {
    size_t flows;               /* how many */
    double rate;                /* new flows per second (arrivals evenly spaced, or Poisson) */
    int poisson;                /* exponential gaps between arrivals */
    struct flow_dist arrival;   /* n > 0: the seconds between new flows, drawn (rate unused) */
    struct flow_dist rounds, request, response, think; /* think: seconds before each response */
    struct addr client;         /* the first client address; clients take consecutive ones */
    size_t clients;             /* how many client addresses (default 1) */
    struct addr server;
    uint16_t port;              /* the server's */
    uint64_t seed;
    double bulk;                /* > 0: timed bulk flows of this many seconds instead of rounds */
    int bulk_dir;               /* who sends: 0 the client (up), 1 the server (down), 2 both */
};

/* 0, or -1 with the reason in err. */
int flow_dist_parse(const char *text, struct flow_dist *out, char *err, size_t errlen);
/* One value (>= 0), from the caller's xorshift state (not 0). */
double flow_dist_draw(const struct flow_dist *d, uint64_t *state);
int flow_synthetic(const struct flow_synthetic_options *o, struct flow_set *out, char *err, size_t errlen);

#endif
