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
 * The model is JSON, readable by people: {"model": "telrep flow model", "version": 1,
 * "classes": {name: {"flows": n, distribution: {"n", "k", "log_scale", "bic",
 * "components": [{"weight", "mean", "sd"}], "data_mean"}, ...}}}. */
#ifndef TELREP_FLOW_MODEL_H
#define TELREP_FLOW_MODEL_H

#include <jansson.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>

#include "flow/events.h"
#include "flow/gmm.h"

#define MODEL_VERSION 1
#define MODEL_MIN_SAMPLES 5
#define MODEL_FIT_VALUES 20000 /* EM on at most this many quantiles of a distribution's values */

enum model_classes { MODEL_BY_PORT, MODEL_BY_ADDRESS, MODEL_ONE };

/* A new JSON model of the flows; NULL with err. */
json_t *flow_model_fit(const struct flow_set *set, enum model_classes by, char *err, size_t errlen);

/* ---- generation (flow-replay --model): flows drawn from a model ---- */

#define MODEL_CLASSES_MAX 64

struct model_dist {
    bool fitted;
    struct gmm g;
};

struct model_class {
    char name[64];
    uint16_t port;            /* "port N" classes: the server port; else 0 (the options' port) */
    double flows;             /* its share of the model's flows */
    struct model_dist d[9];   /* arrival_gap, rounds, client_bytes, server_bytes, client_gap,
                               * server_gap, think, flow_bytes, duration (model.c's order) */
};

struct flow_model {
    struct model_class classes[MODEL_CLASSES_MAX];
    size_t n;
};

struct model_generate_options {
    size_t flows;             /* how many, over all classes (in the model's proportions) */
    double scale;             /* arrival rate x this (default 1: the model's gaps) */
    struct addr client, server;
    uint16_t port;            /* for classes without a port of their own */
    uint64_t seed;
};

/* A model from its JSON (as flow_model_fit writes it); every value checked: -1 with err naming
 * what is wrong. */
int flow_model_read(json_t *j, struct flow_model *out, char *err, size_t errlen);
int flow_model_load(const char *path, struct flow_model *out, char *err, size_t errlen);
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
