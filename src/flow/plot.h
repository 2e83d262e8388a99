/* plot.h — the flow path's pictures. flow-replay's (--plot DIR): from its results file (JSON lines: each flow
 * when it ends, tcp_info samples) data files and a gnuplot script are written into DIR, and
 * gnuplot (Debian gnuplot-nox) draws each picture as SVG and PNG:
 *   cwnd, rtt, delivery   per flow end over time, from the samples (the first PLOT_SERIES_MAX
 *                         series drawn; the data file holds every one)
 *   fct, bytes, lateness  CDFs over the flows: completion time, bytes sent by both ends, start
 *                         lateness
 * The data files (samples.dat: one gnuplot index per flow end; *.cdf: value, fraction) are
 * the pictures' whole input, so another tool can draw them too. Nothing is drawn by hand. */
#ifndef TELREP_FLOW_PLOT_H
#define TELREP_FLOW_PLOT_H

#include <jansson.h>
#include <stddef.h>

#include "flow/events.h"
#include "flow/model.h"
#include "flow/values.h"

#define PLOT_SERIES_MAX 20
#define PLOT_CLASSES_MAX 8

/* 0, or -1 with err (DIR cannot be written, results unreadable, gnuplot missing or failing). */
int flow_plot(const char *results_path, const char *dir, char *err, size_t errlen);

/* flow-extract's pictures (--plot DIR), from the flows, their model (flow_model_fit's JSON)
 * and the handshake RTTs if known (NULL: none):
 *   sizes, durations, rtt   CDFs over the flows: bytes both ways, last event - start, SYN to
 *                           SYN-ACK at the capture point (*.cdf: value, fraction)
 *   fit-CLASS               per class (the PLOT_CLASSES_MAX with most flows), a panel per
 *                           distribution: the data's histogram with the model's density over
 *                           it, on the model's scale (fit-CLASS.dat: per distribution an index
 *                           of the histogram and one of the model, "x density" rows)
 * Sorts the RTTs. 0, or -1 with err. */
int flow_plot_extract(const struct flow_set *set, json_t *model, enum model_classes by, struct values *rtts_ms,
                      const char *dir, char *err, size_t errlen);

#endif
