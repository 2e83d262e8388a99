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
 * A distribution with fewer than MODEL_MIN_SAMPLES values is left out (said with its count).
 *
 * The model is JSON, readable by people: {"model": "telrep flow model", "version": 1,
 * "classes": {name: {"flows": n, distribution: {"n", "k", "log_scale", "bic",
 * "components": [{"weight", "mean", "sd"}], "data_mean"}, ...}}}. */
#ifndef TELREP_FLOW_MODEL_H
#define TELREP_FLOW_MODEL_H

#include <jansson.h>

#include "flow/events.h"

#define MODEL_VERSION 1
#define MODEL_MIN_SAMPLES 5

enum model_classes { MODEL_BY_PORT, MODEL_BY_ADDRESS, MODEL_ONE };

/* A new JSON model of the flows; NULL with err. */
json_t *flow_model_fit(const struct flow_set *set, enum model_classes by, char *err, size_t errlen);

#endif
