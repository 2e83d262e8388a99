/* plot.h — flow-replay's pictures (--plot DIR): from its results file (JSON lines: each flow
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

#include <stddef.h>

#define PLOT_SERIES_MAX 20

/* 0, or -1 with err (DIR cannot be written, results unreadable, gnuplot missing or failing). */
int flow_plot(const char *results_path, const char *dir, char *err, size_t errlen);

#endif
