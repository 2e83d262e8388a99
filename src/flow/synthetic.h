/* synthetic.h — flows made up from parameters (flow-replay --synthetic), as Mimic can: new
 * connections at a rate, each a number of request/response rounds with byte sizes and a think
 * time that are fixed values or drawn from distributions (seeded: the same set every time). */
#ifndef TELREP_FLOW_SYNTHETIC_H
#define TELREP_FLOW_SYNTHETIC_H

#include <stddef.h>
#include <stdint.h>

#include "flow/events.h"

/* "100" fixed, "uniform:A:B", "exp:MEAN" (exponential); values >= 0 */
struct flow_dist { char kind; double a, b; };

struct flow_synthetic_options {
    size_t flows;               /* how many */
    double rate;                /* new flows per second (arrivals evenly spaced, or Poisson) */
    int poisson;                /* exponential gaps between arrivals */
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
int flow_synthetic(const struct flow_synthetic_options *o, struct flow_set *out, char *err, size_t errlen);

#endif
