/* main.c — the flow-extract command line: captures -> Mimic-style events + flow details. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "decode.h"
#include "flow/events.h"
#include "flow/extract.h"
#include "flow/model.h"
#include "flow/plot.h"
#include "log.h"
#include "version.h"

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void usage(FILE *out)
{
    fprintf(out,
        "usage: flow-extract CAPTURE [CAPTURE...] -o FLOWS.csv [options]\n"
        "Turn the TCP conversations of captures into Mimic-style events (CONN, then SEND / WAIT /\n"
        "CLOSE per side) for flow-replay, and write per-flow details beside them.\n\n"
        "  -o, --output FILE       the events file (required; - = standard output); written to\n"
        "                          FILE.tmp, then renamed\n"
        "  -m, --meta FILE         the per-flow details as JSON (default: FILE with .csv replaced by\n"
        "                          .meta.json; none with -o - unless given)\n"
        "      --compare EVENTS    the check mode: these flows against EVENTS (a model's source), per\n"
        "                          class and parameter the KS statistic and the mean's error, as a table\n"
        "                          (and as JSON with --compare-json FILE)\n"
        "      --model FILE        also fit a traffic model of the flows (JSON: per class and direction,\n"
        "                          Gaussian mixtures by EM and BIC); --classes port|address|one (port)\n"
        "      --fit mixture|empirical  what each distribution of the model is: a Gaussian mixture\n"
        "                          (default) or the data's own quantiles\n"
        "      --plot DIR          pictures (SVG and PNG by gnuplot) and their data files in DIR: CDFs of\n"
        "                          flow sizes, durations and handshake RTTs, and per class the model's\n"
        "                          fits over the histograms of what they were fitted on\n"
        "  -P, --payload-only      leave out flows that carried no payload either way (handshakes,\n"
        "                          scans), as Mimic's extractor does\n"
        "  -g, --quiet-gap SECS    silence that ends a SEND (default 0.5)\n"
        "  -i, --idle-timeout SECS trace time without a packet that ends a flow (default 300)\n"
        "      --max-flows N       flows tracked at once (default 1000000)\n"
        "  -v                      a progress line and a summary on stderr\n"
        "  -q, --quiet             errors only\n"
        "  -h, --help              this text\n"
        "  -V, --version           the version\n\n"
        "Rules: flow-extract(1). Exit status: 0 done; 1 a capture ended in an error (what came before\n"
        "is extracted) or an output could not be written; 2 usage error or no capture could be read.\n");
}

static double number(const char *opt, const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (*end || v <= 0) {
        fprintf(stderr, "flow-extract: %s expects a positive number, not \"%s\"\n", opt, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    enum { OPT_MAX_FLOWS = 256, OPT_MODEL, OPT_CLASSES, OPT_COMPARE, OPT_COMPARE_JSON, OPT_FIT, OPT_PLOT };
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' }, { "meta", required_argument, NULL, 'm' },
        { "quiet-gap", required_argument, NULL, 'g' }, { "idle-timeout", required_argument, NULL, 'i' },
        { "max-flows", required_argument, NULL, OPT_MAX_FLOWS }, { "quiet", no_argument, NULL, 'q' },
        { "payload-only", no_argument, NULL, 'P' }, { "model", required_argument, NULL, OPT_MODEL },
        { "classes", required_argument, NULL, OPT_CLASSES }, { "compare", required_argument, NULL, OPT_COMPARE },
        { "compare-json", required_argument, NULL, OPT_COMPARE_JSON }, { "fit", required_argument, NULL, OPT_FIT },
        { "plot", required_argument, NULL, OPT_PLOT },
        { "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' }, { 0 },
    };
    struct flow_extract_options o = { 0 };
    const char *out = NULL, *meta_path = NULL, *model_path = NULL, *compare_path = NULL, *compare_json = NULL,
               *plot_dir = NULL;
    enum model_classes classes = MODEL_BY_PORT;
    enum model_fit fit = MODEL_FIT_MIXTURE;
    bool verbose = false, quiet = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "o:m:g:i:PvqhV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'o': out = optarg; break;
        case 'm': meta_path = optarg; break;
        case 'g': o.quiet_gap = number("--quiet-gap", optarg); break;
        case 'i': o.idle_timeout = number("--idle-timeout", optarg); break;
        case OPT_MAX_FLOWS: o.max_flows = (size_t)number("--max-flows", optarg); break;
        case 'P': o.payload_only = true; break;
        case OPT_MODEL: model_path = optarg; break;
        case OPT_COMPARE: compare_path = optarg; break;
        case OPT_COMPARE_JSON: compare_json = optarg; break;
        case OPT_PLOT: plot_dir = optarg; break;
        case OPT_FIT:
            if (!strcmp(optarg, "mixture") || !strcmp(optarg, "empirical")) {
                fit = !strcmp(optarg, "mixture") ? MODEL_FIT_MIXTURE : MODEL_FIT_EMPIRICAL;
                break;
            }
            fprintf(stderr, "flow-extract: --fit: mixture or empirical, not %s\n", optarg);
            return 2;
        case OPT_CLASSES:
            if (!strcmp(optarg, "port") || !strcmp(optarg, "address") || !strcmp(optarg, "one")) {
                classes = !strcmp(optarg, "port") ? MODEL_BY_PORT : !strcmp(optarg, "address") ? MODEL_BY_ADDRESS : MODEL_ONE;
                break;
            }
            fprintf(stderr, "flow-extract: --classes: port, address or one, not %s\n", optarg);
            return 2;
        case 'v': verbose = true; break;
        case 'q': quiet = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("flow-extract (telrep) %s\n", TELREP_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    log_program = "flow-extract";
    log_set_level(quiet ? LOG_ERROR : verbose ? LOG_INFO : LOG_NOTE);
    if (optind >= argc || !out) {
        fprintf(stderr, "flow-extract: %s (flow-extract --help)\n", optind >= argc ? "no capture given" : "-o FLOWS.csv is required");
        return 2;
    }
    bool to_stdout = !strcmp(out, "-");
    if (to_stdout && (model_path || compare_path || plot_dir)) { /* said before the capture is read */
        fprintf(stderr, "flow-extract: %s needs -o FILE: it reads the events file\n",
                model_path ? "--model" : compare_path ? "--compare" : "--plot");
        return 2;
    }
    char meta_buf[PATH_MAX];
    if (!meta_path && !to_stdout) {
        size_t n = strlen(out);
        bool csv = n > 4 && strcmp(out + n - 4, ".csv") == 0;
        snprintf(meta_buf, sizeof meta_buf, "%.*s.meta.json", (int)(csv ? n - 4 : n), out);
        meta_path = meta_buf;
    }
    /* every capture must open before anything is written */
    for (int i = optind; i < argc; i++) {
        char err[512];
        struct capture *c = capture_open(argv[i], err, sizeof err);
        if (!c) {
            log_error("%s", err);
            return 2;
        }
        capture_close(c);
    }
    /* each output goes to NAME.tmp and is renamed into place once complete: a failed or
     * interrupted run leaves no half-written file (standard output is written as it goes) */
    char csv_tmp[PATH_MAX + 8], meta_tmp[PATH_MAX + 8];
    snprintf(csv_tmp, sizeof csv_tmp, "%s.tmp", out);
    snprintf(meta_tmp, sizeof meta_tmp, "%s.tmp", meta_path ? meta_path : "");
    FILE *csv = to_stdout ? stdout : fopen(csv_tmp, "w"), *meta = meta_path ? fopen(meta_tmp, "w") : NULL;
    if (!csv || (meta_path && !meta)) {
        log_error("cannot write %s: %s", !csv ? csv_tmp : meta_tmp, strerror(errno));
        if (csv && !to_stdout) { fclose(csv); unlink(csv_tmp); }
        if (meta) { fclose(meta); unlink(meta_tmp); }
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    struct values rtts = { 0 };
    if (plot_dir)
        o.handshake_rtts_ms = &rtts;
    o.sources = (const char *const *)argv + optind;
    o.n_sources = (size_t)(argc - optind);
    struct flow_extract *x = flow_extract_new(&o, csv, meta);
    int status = x ? 0 : 1;
    for (int i = optind; x && i < argc && !stop; i++) {
        char err[512];
        struct capture *c = capture_open(argv[i], err, sizeof err);
        if (!c) {
            log_error("%s", err);
            status = 1;
            continue;
        }
        struct capture_packet p;
        int rc = 0;
        uint64_t n = 0;
        while (!stop && (rc = capture_next(c, &p)) == 1) {
            flow_extract_packet(x, p.dlt, p.data, p.caplen, p.ts_ns);
            if (verbose && (++n & 0xfffff) == 0)
                fprintf(stderr, "flow-extract: %s: %llu packets\n", argv[i], (unsigned long long)n);
        }
        if (rc < 0 && !stop) {
            log_error("%s: the capture ends in an error: %s (the packets before it were extracted)", argv[i],
                      capture_error(c));
            status = 1;
        }
        capture_close(c);
    }
    struct flow_extract_stats st = { 0 };
    if (x)
        flow_extract_finish(x, &st);
    flow_extract_free(x);
    bool write_failed = ferror(csv) || (meta && ferror(meta));
    write_failed |= (to_stdout ? fflush(csv) : fclose(csv)) != 0;
    write_failed |= meta && fclose(meta) != 0;
    if (stop || write_failed) {
        log_error(stop ? "interrupted: nothing written" : "cannot write the outputs: %s", strerror(errno));
        if (!to_stdout)
            unlink(csv_tmp);
        if (meta)
            unlink(meta_tmp);
        return 1;
    }
    if ((!to_stdout && rename(csv_tmp, out) < 0) || (meta && rename(meta_tmp, meta_path) < 0)) {
        log_error("cannot rename the outputs into place: %s", strerror(errno));
        return 1;
    }
    struct flow_set set;
    char err[512];
    bool have_set = false;
    if ((model_path || plot_dir || compare_path) && !(have_set = flow_events_load(out, &set, err, sizeof err) == 0)) {
        log_error("%s", err);
        status = 1;
    }
    if (have_set && (model_path || plot_dir)) { /* the model, from the events just written (they are its whole input) */
        json_t *m = flow_model_fit(&set, classes, fit, err, sizeof err);
        if (!m) {
            log_error("--model: %s", err);
            status = 1;
        }
        if (m && model_path && json_dump_file(m, model_path, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9)) < 0) {
            log_error("cannot write %s", model_path);
            status = 1;
        }
        if (m && plot_dir && flow_plot_extract(&set, m, classes, &rtts, plot_dir, err, sizeof err) < 0) {
            log_error("%s", err);
            status = 1;
        }
        json_decref(m);
    }
    if (have_set && compare_path) { /* the check mode: the model's source (a) against these flows (b) */
        struct flow_set a;
        json_t *cmp = NULL;
        if (flow_events_load(compare_path, &a, err, sizeof err) < 0) {
            log_error("--compare: %s", err);
            status = 1;
        } else {
            if (!(cmp = flow_model_compare(&a, &set, classes, quiet ? NULL : stdout, err, sizeof err))) {
                log_error("--compare: %s", err);
                status = 1;
            }
            if (cmp && compare_json && json_dump_file(cmp, compare_json, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
                log_error("cannot write %s", compare_json);
                status = 1;
            }
            json_decref(cmp);
            flow_set_free(&a);
        }
    }
    if (have_set)
        flow_set_free(&set);
    values_free(&rtts);
    if (st.unbalanced)
        log_error("%llu flows whose SENDs and the other side's WAITs disagree (a bug: please report it)",
                  (unsigned long long)st.unbalanced);
    log_info("%llu packets (%llu TCP), %llu flows (%llu without their SYN), %llu events, %llu bytes sent; "
             "retransmitted %llu, missing %llu bytes; %llu segments out of window, %llu flows without payload "
             "left out; %s%s%s written", (unsigned long long)st.packets,
             (unsigned long long)st.tcp_packets, (unsigned long long)st.flows,
             (unsigned long long)st.flows_without_syn, (unsigned long long)st.events,
             (unsigned long long)st.send_bytes, (unsigned long long)st.retransmitted_bytes,
             (unsigned long long)st.missing_bytes, (unsigned long long)st.out_of_window_segments,
             (unsigned long long)st.flows_without_payload, to_stdout ? "standard output" : out,
             meta_path ? " and " : "", meta_path ? meta_path : "");
    return st.unbalanced ? 1 : status;
}
