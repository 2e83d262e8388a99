/* main.c — the flow-replay command line: an events file -> real TCP flows -> results. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flow/events.h"
#include "flow/model.h"
#include "flow/plot.h"
#include "shard.h"
#include "loop.h"
#include "flow/flowconfig.h"
#include "flow/replay.h"
#include "flow/synthetic.h"
#include "log.h"
#include "version.h"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: flow-replay FLOWS.csv [options]\n"
        "       flow-replay --synthetic [--flows N] [--rate R] [--rounds D] [--request D] [--response D] ... [options]\n"
        "Play the flows of an events file (flow-extract's, or Mimic's) over real TCP sockets: SEND writes\n"
        "that many bytes, WAIT waits until that many more arrived, CLOSE half-closes; events start at\n"
        "their capture time (x --time-scale), never before the one before them is done.\n\n"
        "  -C, --config FILE        a YAML config (see flow-replay(1)); the flags override it\n"
        "  -r, --role ROLE          both (default: client and server ends in this process), client, server\n"
        "  -s, --time-scale X       event times x X (default 1; 0.5 = twice as fast)\n"
        "  -a, --asap               every event as soon as the one before it is done\n"
        "  -m, --map FROM=TO        replay the captured address FROM as TO (repeatable)\n"
        "      --client-netns NAME  create the client sockets in network namespace NAME (ip netns)\n"
        "      --server-netns NAME  the same for the server sockets\n"
        "  -c, --congestion ALG     congestion control of every socket (cubic, reno, bbr, ...)\n"
        "      --nodelay            TCP_NODELAY on every socket\n"
        "      --ecn on|off         net.ipv4.tcp_ecn in the client and server namespaces (ECN has no\n"
        "                           per-socket switch); tcp_info says whether a flow used it\n"
        "      --sndbuf BYTES, --rcvbuf BYTES  socket buffer sizes\n"
        "      --stall-timeout SECS a flow without progress this long ends as stalled (default 30)\n"
        "      --timeout SECS       the whole run at most this long (default: no limit)\n"
        "      --plot DIR           pictures into DIR as SVG and PNG by gnuplot: cwnd, RTT and delivery rate\n"
        "                           over time (with -i), CDFs of completion time, bytes and lateness\n"
        "      --start-at TIME      time 0 at TIME (RFC 3339, or epoch seconds): client and server hosts\n"
        "                           started by any job runner begin together\n"
        "      --user NAME          once the listeners are open, run as NAME with only the capabilities the\n"
        "                           flows need (default: sudo's user, else root without capabilities)\n"
        "  -i, --tcpinfo-interval SECS  sample tcp_info of open flows this often (default: at the end only)\n"
        "  -o, --results FILE       per-flow results and tcp_info samples, JSON lines (default: none)\n"
        "  -S, --summary FILE       the summary as JSON (default: on stdout)\n"
        "  -v                       progress on stderr; -q errors only\n"
        "Made-up traffic (--synthetic, no file); D = N, uniform:A:B, exp:MEAN, normal:MEAN:SD,\n"
        "lognormal:MU:SIGMA (of ln x) or a mixture of them, W*D+W*D (e.g. 0.3*normal:200:20+0.7*exp:900):\n"
        "      --flows N            how many flows (default 100)     --rate R   new flows per second (100)\n"
        "      --poisson            exponential gaps between new flows (default: even)\n"
        "      --arrival D          seconds between new flows, drawn from D (instead of --rate)\n"
        "      --rounds D           request/response rounds per flow (1)\n"
        "      --request D, --response D  bytes of each (100, 1000)  --think D  seconds before a response (0)\n"
        "      --client ADDR, --clients N  the first client address and how many (127.0.0.1, 1)\n"
        "      --server ADDR, --port P     the server (127.0.0.2, 18080)   --seed N   (a fixed default)\n"
        "      --model FILE         flows drawn from a traffic model (flow-extract --model): --flows N of\n"
        "                           them in its classes' proportions, --rate-scale X times its arrival\n"
        "                           rate; or --duration SECS: each class's flows as they arrive in that\n"
        "                           time; --client/--server/--port/--seed as for --synthetic\n"
        "      --bulk SECS          timed bulk flows instead of rounds: each sends as fast as congestion\n"
        "                           control allows for SECS, then closes; --bulk-dir up|down|both (up)\n"
        "      --write-events FILE  write the flows as an events file (- = stdout) and stop: the same\n"
        "                           flows replay later with flow-replay FILE\n"
        "  -h, --help, -V, --version\n\n"
        "Exit status: 0 every flow completed; 1 some did not (refused, reset, stalled, timeout);\n"
        "2 usage error, an events file error (file:line), or the replay could not start.\n");
}

/* The flows as an events file: FILE.tmp renamed into place, so no half-written file is left;
 * "-" is standard output. The exit status. */
static int write_events_file(const char *path, const struct flow_set *set)
{
    char err[512];
    if (flow_events_writable(set, err, sizeof err) < 0) {
        log_error("--write-events: %s", err);
        return 2;
    }
    bool std = !strcmp(path, "-");
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = std ? stdout : fopen(tmp, "w");
    if (!f) {
        log_error("cannot write %s: %s", tmp, strerror(errno));
        return 2;
    }
    bool bad = flow_events_write(f, set) < 0;
    bad |= std ? fflush(f) != 0 : fclose(f) != 0;
    if (bad || (!std && rename(tmp, path) < 0)) {
        log_error("cannot write %s: %s", path, strerror(errno));
        if (!std)
            unlink(tmp);
        return 1;
    }
    log_info("%zu flows written to %s", set->n, path);
    return 0;
}

static double number(const char *opt, const char *s, double min)
{
    char *end;
    double v = strtod(s, &end);
    if (*end || end == s || v < min) {
        fprintf(stderr, "flow-replay: %s expects a number >= %g, not \"%s\"\n", opt, min, s);
        exit(2);
    }
    return v;
}

static void on_signal(int sig) { (void)sig; loop_stop = 1; }

int main(int argc, char **argv)
{
    enum { O_CNS = 256, O_WRITE_EVENTS, O_SNS, O_NODELAY, O_SNDBUF, O_RCVBUF, O_STALL, O_TIMEOUT, O_SYN, O_FLOWS, O_RATE, O_POISSON,
           O_ROUNDS, O_REQ, O_RESP, O_THINK, O_CLIENT, O_CLIENTS, O_SERVER, O_PORT, O_SEED, O_ECN, O_START_AT, O_PLOT, O_BULK, O_BULK_DIR, O_MODEL, O_RATE_SCALE, O_USER, O_ARRIVAL, O_DURATION };
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'C' }, { "role", required_argument, NULL, 'r' }, { "time-scale", required_argument, NULL, 's' },
        { "asap", no_argument, NULL, 'a' }, { "map", required_argument, NULL, 'm' },
        { "client-netns", required_argument, NULL, O_CNS }, { "server-netns", required_argument, NULL, O_SNS },
        { "congestion", required_argument, NULL, 'c' }, { "nodelay", no_argument, NULL, O_NODELAY },
        { "sndbuf", required_argument, NULL, O_SNDBUF }, { "rcvbuf", required_argument, NULL, O_RCVBUF },
        { "stall-timeout", required_argument, NULL, O_STALL }, { "timeout", required_argument, NULL, O_TIMEOUT },
        { "tcpinfo-interval", required_argument, NULL, 'i' }, { "results", required_argument, NULL, 'o' },
        { "summary", required_argument, NULL, 'S' }, { "quiet", no_argument, NULL, 'q' },
        { "synthetic", no_argument, NULL, O_SYN }, { "flows", required_argument, NULL, O_FLOWS },
        { "rate", required_argument, NULL, O_RATE }, { "poisson", no_argument, NULL, O_POISSON },
        { "rounds", required_argument, NULL, O_ROUNDS }, { "request", required_argument, NULL, O_REQ },
        { "response", required_argument, NULL, O_RESP }, { "think", required_argument, NULL, O_THINK },
        { "arrival", required_argument, NULL, O_ARRIVAL },
        { "client", required_argument, NULL, O_CLIENT }, { "clients", required_argument, NULL, O_CLIENTS },
        { "server", required_argument, NULL, O_SERVER }, { "port", required_argument, NULL, O_PORT },
        { "seed", required_argument, NULL, O_SEED },
        { "write-events", required_argument, NULL, O_WRITE_EVENTS }, { "ecn", required_argument, NULL, O_ECN },
        { "start-at", required_argument, NULL, O_START_AT }, { "plot", required_argument, NULL, O_PLOT },
        { "user", required_argument, NULL, O_USER },
        { "bulk", required_argument, NULL, O_BULK }, { "bulk-dir", required_argument, NULL, O_BULK_DIR },
        { "model", required_argument, NULL, O_MODEL }, { "rate-scale", required_argument, NULL, O_RATE_SCALE },
        { "duration", required_argument, NULL, O_DURATION },
        { "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' }, { 0 },
    };
    log_program = "flow-replay";
    static struct flow_config fc;
    flow_config_defaults(&fc);
    char err[1024], derr[256];
    /* the config first, wherever it is on the line: the flags override it */
    for (int i = 1; i < argc; i++) {
        const char *path = !strcmp(argv[i], "-C") || !strcmp(argv[i], "--config") ? (i + 1 < argc ? argv[i + 1] : NULL)
                         : !strncmp(argv[i], "--config=", 9) ? argv[i] + 9 : NULL;
        if (path && flow_config_load(path, &fc, err, sizeof err) < 0) {
            fprintf(stderr, "flow-replay: error: %s\n", err);
            return 2;
        }
    }
    struct flow_addr_map map[256];
    size_t n_map = 0;
    const char *results = fc.results, *summary_path = fc.summary, *write_events = NULL, *plot_dir = NULL;
    const char *model_path = NULL;
    double rate_scale = 1, duration = 0;
    bool flows_given = false;
    char plot_results[4096];
    bool verbose = false, quiet = false, synthetic = fc.synthetic;
    int opt;
    while ((opt = getopt_long(argc, argv, "C:r:s:am:c:i:o:S:vqhV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'C': break; /* read above */
        case O_WRITE_EVENTS: write_events = optarg; break;
        case 'r':
            if (!strcmp(optarg, "both")) fc.o.role = FLOW_ROLE_BOTH;
            else if (!strcmp(optarg, "client")) fc.o.role = FLOW_ROLE_CLIENT;
            else if (!strcmp(optarg, "server")) fc.o.role = FLOW_ROLE_SERVER;
            else { fprintf(stderr, "flow-replay: --role is both, client or server, not \"%s\"\n", optarg); return 2; }
            break;
        case 's': fc.o.time_scale = number("--time-scale", optarg, 0); break;
        case 'a': fc.o.asap = true; break;
        case 'm': {
            char from[64], to[64];
            const char *eq = strchr(optarg, '=');
            if (!eq || n_map == sizeof map / sizeof *map || (size_t)(eq - optarg) >= sizeof from || strlen(eq + 1) >= sizeof to) {
                fprintf(stderr, "flow-replay: --map expects FROM=TO addresses, not \"%s\"\n", optarg);
                return 2;
            }
            snprintf(from, sizeof from, "%.*s", (int)(eq - optarg), optarg);
            snprintf(to, sizeof to, "%s", eq + 1);
            if (addr_parse(from, &map[n_map].from) < 0 || addr_parse(to, &map[n_map].to) < 0 ||
                map[n_map].from.family != map[n_map].to.family) {
                fprintf(stderr, "flow-replay: --map %s: two addresses of one family expected\n", optarg);
                return 2;
            }
            n_map++;
            break;
        }
        case O_CNS: fc.o.client_netns = optarg; break;
        case O_SNS: fc.o.server_netns = optarg; break;
        case 'c': fc.o.sock.congestion = optarg; break;
        case O_NODELAY: fc.o.sock.nodelay = 1; break;
        case O_ECN:
            if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
                fprintf(stderr, "flow-replay: --ecn is on or off, not \"%s\"\n", optarg);
                return 2;
            }
            fc.o.ecn = !strcmp(optarg, "on");
            break;
        case O_SNDBUF: fc.o.sock.sndbuf = (int)number("--sndbuf", optarg, 1); break;
        case O_RCVBUF: fc.o.sock.rcvbuf = (int)number("--rcvbuf", optarg, 1); break;
        case O_STALL: fc.o.stall_timeout = number("--stall-timeout", optarg, 0.001); break;
        case O_TIMEOUT: fc.o.timeout = number("--timeout", optarg, 0.001); break;
        case O_PLOT: plot_dir = optarg; break;
        case O_USER: fc.o.user = optarg; break;
        case O_MODEL: model_path = optarg; break;
        case O_RATE_SCALE: rate_scale = number("--rate-scale", optarg, 0.000001); break;
        case O_DURATION: duration = number("--duration", optarg, 0.000001); break;
        case O_BULK: fc.syn.bulk = number("--bulk", optarg, 0.001); break;
        case O_BULK_DIR:
            if (!strcmp(optarg, "up") || !strcmp(optarg, "down") || !strcmp(optarg, "both")) {
                fc.syn.bulk_dir = !strcmp(optarg, "up") ? 0 : !strcmp(optarg, "down") ? 1 : 2;
                break;
            }
            fprintf(stderr, "flow-replay: --bulk-dir: up (the client sends), down (the server) or both, not %s\n", optarg);
            return 2;
        case O_START_AT:
            if (shard_parse_time(optarg, &fc.o.start_at_ns, err, sizeof err) < 0) {
                fprintf(stderr, "flow-replay: %s\n", err);
                return 2;
            }
            break;
        case 'i': fc.o.tcpinfo_interval = number("--tcpinfo-interval", optarg, 0.001); break;
        case 'o': results = optarg; break;
        case 'S': summary_path = optarg; break;
        case O_SYN: synthetic = true; break;
        case O_FLOWS: fc.syn.flows = (size_t)number("--flows", optarg, 1); flows_given = true; break;
        case O_RATE: fc.syn.rate = number("--rate", optarg, 0.001); break;
        case O_POISSON: fc.syn.poisson = 1; break;
        case O_ROUNDS: case O_REQ: case O_RESP: case O_THINK: case O_ARRIVAL: {
            struct flow_dist *d = opt == O_ROUNDS ? &fc.syn.rounds : opt == O_REQ ? &fc.syn.request
                                : opt == O_RESP ? &fc.syn.response : opt == O_THINK ? &fc.syn.think : &fc.syn.arrival;
            if (flow_dist_parse(optarg, d, derr, sizeof derr) < 0) {
                fprintf(stderr, "flow-replay: %s\n", derr);
                return 2;
            }
            break;
        }
        case O_CLIENT: case O_SERVER:
            if (addr_parse(optarg, opt == O_CLIENT ? &fc.syn.client : &fc.syn.server) < 0) {
                fprintf(stderr, "flow-replay: \"%s\" is not an IPv4 or IPv6 address\n", optarg);
                return 2;
            }
            break;
        case O_CLIENTS: fc.syn.clients = (size_t)number("--clients", optarg, 1); break;
        case O_PORT: fc.syn.port = (uint16_t)number("--port", optarg, 1); break;
        case O_SEED: fc.syn.seed = (uint64_t)number("--seed", optarg, 0); break;
        case 'v': verbose = true; break;
        case 'q': quiet = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("flow-replay (telrep) %s\n", TELREP_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    log_set_level(quiet ? LOG_ERROR : verbose ? LOG_INFO : LOG_NOTE);
    fc.o.progress = verbose;
    if (n_map) { /* --map flags add to the config's map, before it */
        for (size_t i = 0; i < fc.o.n_map && n_map < sizeof map / sizeof *map; i++)
            map[n_map++] = fc.o.map[i];
        fc.o.map = map;
        fc.o.n_map = n_map;
    }
    bool made = synthetic || model_path; /* flows made here, not read from an events file */
    if (made ? optind != argc : optind != argc - 1) {
        fprintf(stderr, "flow-replay: %s (flow-replay --help)\n",
                made ? "--synthetic and --model take no events file" : "one events file expected");
        return 2;
    }
    /* one descriptor per end: many flows at once need more than 1024. Root may raise the hard
     * limit too, up to fs.nr_open; anyone the soft limit up to the hard one. */
    struct rlimit rl;
    FILE *nr = fopen("/proc/sys/fs/nr_open", "r");
    unsigned long nr_open = 0;
    if (nr) {
        if (fscanf(nr, "%lu", &nr_open) != 1)
            nr_open = 0;
        fclose(nr);
    }
    if (nr_open > (1ul << 20))
        nr_open = 1ul << 20;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        struct rlimit more = { .rlim_cur = nr_open, .rlim_max = nr_open };
        if (nr_open <= rl.rlim_max || setrlimit(RLIMIT_NOFILE, &more) < 0) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    struct flow_set set;
    static struct flow_model model;
    if (duration > 0 && (!model_path || flows_given)) {
        fprintf(stderr, "flow-replay: --duration %s\n", model_path ? "or --flows, not both" : "goes with --model");
        return 2;
    }
    struct model_generate_options mg = { .flows = fc.syn.flows, .duration = duration, .scale = rate_scale, .client = fc.syn.client,
                                         .server = fc.syn.server, .port = fc.syn.port, .seed = fc.syn.seed };
    if (model_path ? flow_model_load(model_path, &model, err, sizeof err) < 0 ||
                         flow_model_generate(&model, &mg, &set, err, sizeof err) < 0
        : synthetic ? flow_synthetic(&fc.syn, &set, err, sizeof err) < 0
                    : flow_events_load(argv[optind], &set, err, sizeof err) < 0) {
        log_error("%s", err);
        return 2;
    }
    log_info("%zu flows, %llu events, %llu bytes to send", set.n, (unsigned long long)set.events,
             (unsigned long long)set.send_bytes);
    if (write_events) {
        int rc = write_events_file(write_events, &set);
        flow_set_free(&set);
        flow_config_free(&fc);
        return rc;
    }
    if (plot_dir && !results) { /* the pictures are drawn from the results: kept beside them */
        if (mkdir(plot_dir, 0777) < 0 && errno != EEXIST) {
            log_error("--plot %s: %s", plot_dir, strerror(errno));
            flow_set_free(&set);
            return 2;
        }
        snprintf(plot_results, sizeof plot_results, "%s/results.jsonl", plot_dir);
        results = plot_results;
    }
    FILE *rf = NULL;
    if (results && !(rf = fopen(results, "w"))) {
        log_error("cannot write %s: %s", results, strerror(errno));
        flow_set_free(&set);
        return 2;
    }
    fc.o.results = rf;
    char plot_probe[4200] = "";
    if (plot_dir)
        snprintf(plot_probe, sizeof plot_probe, "%s/probe", plot_dir);
    fc.o.drop_privileges = true;
    fc.o.write_at_end[0] = summary_path;
    fc.o.write_at_end[1] = plot_dir ? plot_probe : NULL;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    json_t *summary = NULL;
    int status = flow_replay_run(&set, &fc.o, &summary, err, sizeof err);
    if (status == 2)
        log_error("%s", err);
    if (rf && fclose(rf) != 0) {
        log_error("cannot write %s: %s", results, strerror(errno));
        status = status ? status : 1;
    }
    if (summary) {
        int flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9);
        if (summary_path) {
            if (json_dump_file(summary, summary_path, flags) < 0) {
                log_error("cannot write %s", summary_path);
                status = status ? status : 1;
            }
        } else {
            json_dumpf(summary, stdout, flags);
            putchar('\n');
        }
        json_t *states = json_object_get(summary, "states");
        if (status == 1)
            log_warn("%lld of %zu flows did not complete: refused %lld, reset %lld, stalled %lld, timeout %lld, "
                     "failed %lld", (long long)(set.n - (size_t)json_integer_value(json_object_get(states, "done"))),
                     set.n, (long long)json_integer_value(json_object_get(states, "refused")),
                     (long long)json_integer_value(json_object_get(states, "reset")),
                     (long long)json_integer_value(json_object_get(states, "stalled")),
                     (long long)json_integer_value(json_object_get(states, "timeout")),
                     (long long)json_integer_value(json_object_get(states, "failed")));
        json_decref(summary);
    }
    if (plot_dir && status != 2) {
        if (flow_plot(results, plot_dir, err, sizeof err) < 0) {
            log_error("%s", err);
            status = status ? status : 1;
        } else {
            log_info("pictures in %s (SVG and PNG; plot.gp draws them again)", plot_dir);
        }
    }
    flow_set_free(&set);
    flow_config_free(&fc);
    return status;
}
