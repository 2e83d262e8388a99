/* model.h — a traffic model learnt from flows (flow-extract --model): per flow class and
 * direction, the distributions that describe them, each a Gaussian mixture (gmm.h) fitted by
 * EM with its size chosen by BIC, on a log scale where the data spans decades.
 *
 * What is fitted, per class (flows grouped by server port, by server address, or all in one):
 *   arrival_gap             seconds between the class's new flows
 *   rounds                  client SENDs per flow (request/response rounds)
 *   client_bytes, server_bytes   payload bytes per SEND, each direction
 *   client_gap, server_gap  seconds between a side's consecutive SENDs within a flow
 *   think                   seconds from a client SEND to the server's next SEND
 *   flow_bytes, duration    per flow: payload of both sides; last event - its start
 * A distribution with fewer than MODEL_MIN_SAMPLES values is left out (said with its count);
 * one with more than MODEL_FIT_VALUES is fitted on that many of its quantiles (the same
 * distribution, a fit in bounded time whatever the capture's size).
 *
 * Or, with MODEL_FIT_EMPIRICAL, each distribution is its data's own: MODEL_QUANTILES
 * quantiles (0, 1/(MODEL_QUANTILES-1), ..., 1; every value when there are fewer), sampled by
 * linear interpolation between them. No shape is assumed, the tails are as captured (up to the
 * extreme quantiles), and nothing is smoothed: what a mixture cannot fit (a spike beside a
 * heavy tail) comes out as it went in.
 *
 * The model is JSON, readable by people: {"model": "telrep flow model", "version": 1,
 * "fit": "mixture" | "empirical", "classes": {name: {"flows": n, distribution: {"n", "k",
 * "log_scale", "bic", "components": [{"weight", "mean", "sd"}], "data_mean", "model_mean"}
 * or {"n", "quantiles": [...], "data_mean", "model_mean"}, ...}}}. Both kinds may be mixed
 * in one file (written by hand, or edited). */
#ifndef TELREP_FLOW_MODEL_H
#define TELREP_FLOW_MODEL_H

#include <jansson.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>

#include "flow/events.h"
#include "flow/gmm.h"
#include "flow/values.h"

#define MODEL_VERSION 1
#define MODEL_MIN_SAMPLES 5
#define MODEL_FIT_VALUES 20000 /* EM on at most this many quantiles of a distribution's values */
#define MODEL_QUANTILES 101     /* an empirical distribution: its percentiles */
#define MODEL_DURATION_FLOWS 1000000 /* a duration's flows, at most (~300 bytes each with their events) */

enum model_classes { MODEL_BY_PORT, MODEL_BY_ADDRESS, MODEL_ONE };
enum model_fit { MODEL_FIT_MIXTURE, MODEL_FIT_EMPIRICAL };
enum model_dist_id { MODEL_ARRIVAL_GAP, MODEL_ROUNDS, MODEL_CLIENT_BYTES, MODEL_SERVER_BYTES, MODEL_CLIENT_GAP,
                     MODEL_SERVER_GAP, MODEL_THINK, MODEL_FLOW_BYTES, MODEL_DURATION, MODEL_DISTS };

/* The distributions' names, in the order of model_class.d and model_data.d. */
extern const char *const model_dist_names[MODEL_DISTS];

/* A new JSON model of the flows; NULL with err. */
json_t *flow_model_fit(const struct flow_set *set, enum model_classes by, enum model_fit fit, char *err,
                       size_t errlen);

/* The values a model is fitted on, per class, in the order the classes first appear: what the
 * check mode compares and --plot draws the fits over. */
struct model_data {
    char name[64];
    size_t flows;
    double last_start;        /* (while collecting: the class's latest flow start) */
    struct values d[MODEL_DISTS];
};
/* 0, or -1 when memory runs out (*out then holds what was collected: free it all the same). */
int flow_model_data(const struct flow_set *set, enum model_classes by, struct model_data **out, size_t *n);
void flow_model_data_free(struct model_data *d, size_t n);

/* ---- generation (flow-replay --model): flows drawn from a model ---- */

#define MODEL_CLASSES_MAX 64

struct model_dist {
    bool fitted;
    bool empirical;           /* q[0..nq) its quantiles (ascending); else the mixture g */
    struct gmm g;
    unsigned nq;
    double q[MODEL_QUANTILES];
};

struct model_class {
    char name[64];
    uint16_t port;            /* "port N" classes: the server port; else 0 (the options' port) */
    double flows;             /* its share of the model's flows */
    struct model_dist d[MODEL_DISTS]; /* in model_dist_names' order */
};

struct flow_model {
    struct model_class classes[MODEL_CLASSES_MAX];
    size_t n;
};

struct model_generate_options {
    size_t flows;             /* how many, over all classes (in the model's proportions) */
    double duration;          /* > 0 instead: every class's flows arriving within this many seconds,
                               * each class by its own arrival gaps (a class with too few to fit: at
                               * its share of the fitted classes' rate); at most MODEL_DURATION_FLOWS */
    double scale;             /* arrival rate x this (default 1: the model's gaps) */
    struct addr client, server;
    uint16_t port;            /* for classes without a port of their own */
    uint64_t seed;
};

/* A model from its JSON (as flow_model_fit writes it); every value checked: -1 with err naming
 * what is wrong. */
int flow_model_read(json_t *j, struct flow_model *out, char *err, size_t errlen);
int flow_model_load(const char *path, struct flow_model *out, char *err, size_t errlen);
/* One value of a distribution, with the caller's xorshift state. */
double model_dist_sample(const struct model_dist *d, uint64_t *state);
/* Its mean (of what sampling draws), and the fraction of it at or below x. */
double model_dist_mean(const struct model_dist *d);
double model_dist_cdf(const struct model_dist *d, double x);
/* Flows drawn from the model (the same seed, the same flows). 0, or -1 with err. */
int flow_model_generate(const struct flow_model *m, const struct model_generate_options *o, struct flow_set *out,
                        char *err, size_t errlen);
/* The two-sample Kolmogorov-Smirnov statistic of a and b (sorted in place). */
double flow_ks(double *a, size_t na, double *b, size_t nb);
/* The check mode: per class (of a) and parameter, the KS statistic between a's and b's values
 * and the relative error of b's mean against a's, with each side's count: {"classes": {name:
 * {param: {"ks", "mean_error", "n_a", "n_b"}}, "flows": ...}}; the table on `table` if given. */
json_t *flow_model_compare(const struct flow_set *a, const struct flow_set *b, enum model_classes by, FILE *table,
                           char *err, size_t errlen);

#endif
