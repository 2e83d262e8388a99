/* main.c — the telrep command line: args -> config -> replay -> exit status. */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "config.h"
#include "events.h"
#include "log.h"
#include "pcapproc/pcapproc.h"
#include "loop.h"
#include "replay.h"
#include "router.h"
#include "shard.h"
#include "version.h"


static void usage(FILE *out)
{
    fprintf(out,
        "usage: telrep -t CONFIG.yml [options]\n"
        "Replay router telemetry (IPFIX, NetFlow v9/v5, BGP, BMP, generic UDP/TCP) from captures to live\n"
        "collectors, each router sending from its own address, with the capture's timing.\n\n"
        "  -t, --cfg, --test FILE the YAML config (traffic-reproducer compatible; see telrep.yml(5))\n"
        "  -v, --verbose          informational messages\n"
        "  -d, --debug            debug messages: a line per packet saying where it went or why it was skipped\n"
        "  -p, --pcap-proc        pre-process the captures first, as pcap-proc(1) does (pcap_processing\n"
        "                         section); with pcap_processing.exit: false, then replay the result\n"
        "      --no-sync          start right away instead of at the capture's second-of-minute\n"
        "      --keep-open        stay (sockets open) after the last capture, until SIGINT/SIGTERM\n"
        "      --ask-for-input    ask before each capture: 'y' replays it, anything else skips it\n"
        "      --stats-json FILE  write the final report per router and protocol as JSON (-: one line on stdout)\n"
        "      --progress SECS    progress line on stderr every SECS seconds (default 5; 0 = off)\n"
        "  -q, --quiet            no progress line, errors only\n"
        "      --check            check config, captures (what each router would send, what would be\n"
        "                         skipped and why), collectors and addresses; send nothing\n"
        "      --strict           an unknown config key is an error, not a warning\n"
        "      --no-address-check do not require each repro_ip to be local (sockets bind with IP_FREEBIND)\n"
        "      --shard K/N        replay only share K (0..N-1) of the routers, by a stable hash of src_ip and\n"
        "                         clone: N processes or hosts with the same config replay the whole; --shard N\n"
        "                         takes K from JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs) or TELREP_SHARD\n"
        "      --start-at TIME    the first packet at TIME (RFC 3339, or epoch seconds), e.g. for every shard\n"
        "      --busy-wait        spin through the gaps between packets instead of sleeping: timing as tight\n"
        "                         as the host allows where it wakes sleepers late (virtual machines), at a\n"
        "                         whole core, as tcpreplay pays it (default: sleep, spin the last 200 us)\n"
        "      --events FILE      JSON lines as the run goes (sessions up and down, the collector's OPEN and\n"
        "                         NOTIFICATIONs, captures, loop passes, refusals, ready, done); -: stdout\n"
        "      --ready FILE       written once every session is up and the first packet is due\n"
        "      --metrics FILE     Prometheus text format per router, protocol and collector, written whole\n"
        "                         every --metrics-interval SECS (default 5) and at the end (node_exporter's\n"
        "                         textfile collector: name it *.prom)\n"
        "      --metrics-listen [ADDR:]PORT  the same served over HTTP: GET /metrics\n"
        "      --user NAME        once the privileged things are open (a live interface, device-bound and\n"
        "                         low-port sockets), run as NAME with only the capabilities still needed\n"
        "                         (default: sudo's user, else root without capabilities; PRIVILEGES in telrep(1))\n"
        "      --addresses        print the repro_ip of each router (of this --shard) one per line, and exit:\n"
        "                         what a pod or host must own before the run (ip addr add ...)\n"
        "  -h, --help             this text\n"
        "  -V, --version          the version\n\n"
        "Exit status: 0 all replayed (also after faults recovered from with nothing lost);\n"
        "1 runtime failure (messages refused, lost or not sent, an unreadable or truncated capture: what\n"
        "could be read was replayed); 2 usage, config or environment error, or nothing to send.\n");
}

extern volatile int pcapproc_stop;

static void on_signal(int sig)
{
    (void)sig;
    loop_stop = 1;
    pcapproc_stop = 1;
}

static void install_signals(void)
{
    struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: sleeps wake up */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* One socket per router and protocol: thousands of routers need more than the usual soft
 * limit of 1024 descriptors; take what the hard limit allows. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* --addresses: the repro_ip of every router this process (this shard) replays, clones
 * included, one per line: what a pod or host must own before the run. */
static int print_addresses(const struct config *c, const struct shard *s)
{
    struct router_table t;
    if (router_table_init(&t, c) < 0) {
        fprintf(stderr, "telrep: error: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < t.n; i++) {
        char a[ADDR_STRLEN];
        if (shard_mine(s, &t.routers[i].src, t.routers[i].clone))
            printf("%s\n", addr_format(&t.routers[i].repro, a));
    }
    router_table_free(&t);
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    raise_fd_limit();
    enum { OPT_NO_SYNC = 256, OPT_KEEP_OPEN, OPT_ASK, OPT_STATS, OPT_PROGRESS, OPT_CHECK, OPT_NO_ADDR, OPT_STRICT,
           OPT_SHARD, OPT_START_AT, OPT_BUSY_WAIT, OPT_ADDRESSES, OPT_EVENTS, OPT_READY, OPT_METRICS, OPT_METRICS_LISTEN,
           OPT_METRICS_INTERVAL, OPT_USER };
    static const struct option longopts[] = {
        { "cfg", required_argument, NULL, 't' },
        { "test", required_argument, NULL, 't' }, /* the Python tool's README calls it so */
        { "verbose", no_argument, NULL, 'v' },
        { "debug", no_argument, NULL, 'd' },
        { "strict", no_argument, NULL, OPT_STRICT },
        { "pcap-proc", no_argument, NULL, 'p' },
        { "no-sync", no_argument, NULL, OPT_NO_SYNC },
        { "keep-open", no_argument, NULL, OPT_KEEP_OPEN },
        { "ask-for-input", no_argument, NULL, OPT_ASK },
        { "stats-json", required_argument, NULL, OPT_STATS },
        { "progress", required_argument, NULL, OPT_PROGRESS },
        { "quiet", no_argument, NULL, 'q' },
        { "check", no_argument, NULL, OPT_CHECK },
        { "no-address-check", no_argument, NULL, OPT_NO_ADDR },
        { "shard", required_argument, NULL, OPT_SHARD },
        { "start-at", required_argument, NULL, OPT_START_AT },
        { "busy-wait", no_argument, NULL, OPT_BUSY_WAIT },
        { "addresses", no_argument, NULL, OPT_ADDRESSES },
        { "events", required_argument, NULL, OPT_EVENTS },
        { "ready", required_argument, NULL, OPT_READY },
        { "metrics", required_argument, NULL, OPT_METRICS },
        { "metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN },
        { "metrics-interval", required_argument, NULL, OPT_METRICS_INTERVAL },
        { "user", required_argument, NULL, OPT_USER },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { 0 },
    };
    const char *cfg_path = NULL;
    struct replay_options o = { .progress_interval = 5, .metrics_interval = 5 };
    const char *events_path = NULL;
    bool pcap_proc = false, check_only = false, quiet = false, strict = false, addresses = false;
    enum log_level level = LOG_NOTE;
    int opt;
    while ((opt = getopt_long(argc, argv, "t:vdpqhV", longopts, NULL)) != -1) {
        switch (opt) {
        case 't': cfg_path = optarg; break;
        case 'v': if (level < LOG_INFO) level = LOG_INFO; break;
        case 'd': level = LOG_DEBUG; break;
        case 'p': pcap_proc = true; break;
        case 'q': quiet = true; break;
        case OPT_NO_SYNC: o.no_sync = true; break;
        case OPT_KEEP_OPEN: o.keep_open = true; break;
        case OPT_ASK: o.ask_for_input = true; break;
        case OPT_STATS: o.stats_json = optarg; break;
        case OPT_CHECK: check_only = true; break;
        case OPT_STRICT: strict = true; break;
        case OPT_NO_ADDR: o.skip_address_check = true; break;
        case OPT_ADDRESSES: addresses = true; break;
        case OPT_EVENTS: events_path = optarg; break;
        case OPT_READY: o.ready_path = optarg; break;
        case OPT_METRICS: o.metrics_path = optarg; break;
        case OPT_METRICS_LISTEN: o.metrics_listen = optarg; break;
        case OPT_USER: o.user = optarg; break;
        case OPT_BUSY_WAIT: o.busy_wait = true; break;
        case OPT_SHARD:
        case OPT_START_AT: {
            char e[256];
            if ((opt == OPT_SHARD ? shard_parse(optarg, &o.shard, e, sizeof e)
                                  : shard_parse_time(optarg, &o.start_at_ns, e, sizeof e)) < 0) {
                fprintf(stderr, "telrep: %s\n", e);
                return 2;
            }
            break;
        }
        case OPT_PROGRESS:
        case OPT_METRICS_INTERVAL: {
            char *end;
            double v = strtod(optarg, &end);
            if (*end || end == optarg || v < (opt == OPT_PROGRESS ? 0 : 0.1)) {
                fprintf(stderr, "telrep: %s expects seconds %s, not \"%s\"\n",
                        opt == OPT_PROGRESS ? "--progress" : "--metrics-interval",
                        opt == OPT_PROGRESS ? ">= 0" : ">= 0.1", optarg);
                return 2;
            }
            *(opt == OPT_PROGRESS ? &o.progress_interval : &o.metrics_interval) = v;
            break;
        }
        case 'h': usage(stdout); return 0;
        case 'V': printf("telrep %s%s\n", TELREP_VERSION, TELREP_BUILD_NOTE); return 0;
        default: /* getopt said which option; one line more says where to look */
            fprintf(stderr, "telrep: telrep --help lists the options\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "telrep: unexpected argument \"%s\" (the config goes after -t; telrep --help lists the "
                "options)\n", argv[optind]);
        return 2;
    }
    if (!cfg_path) {
        fprintf(stderr, "telrep: the config is required: telrep -t config.yml (telrep --help for more)\n");
        return 2;
    }
    log_set_level(quiet ? LOG_ERROR : level);
    if (quiet)
        o.progress_interval = 0;

    char err[2048];
    struct config *c = config_load_flags(cfg_path, strict ? CONFIG_STRICT : 0, err, sizeof err);
    if (!c) {
        fprintf(stderr, "telrep: error: %s\n", err);
        return 2;
    }
    if (addresses) {
        int status = print_addresses(c, &o.shard);
        config_free(c);
        return status;
    }
    install_signals();
    if (pcap_proc) { /* pcap-proc first; pcap_processing.exit: false goes on with its output */
        char out[PATH_MAX];
        struct pcapproc_options po = { .progress = !quiet && level >= LOG_INFO, .check_only = check_only,
                                       .user = o.user, .quiet = quiet, .keep_privileges = true };
        int status = pcapproc_run(c, &po, out, sizeof out);
        if (status != 0 || c->pcap_processing.exit || check_only) {
            config_free(c);
            return status;
        }
        if (config_replace_pcaps(c, out) < 0) {
            fprintf(stderr, "telrep: error: out of memory\n");
            config_free(c);
            return 1;
        }
        log_info("replaying the processed capture %s", out);
    }
    if (o.start_at_ns && !check_only) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        double ago = ((double)now.tv_sec * 1e9 + now.tv_nsec - (double)o.start_at_ns) / 1e9;
        if (ago > 0) {
            fprintf(stderr, "telrep: --start-at is %.1f s in the past: give a time to come (every shard must be "
                    "started before it)\n", ago);
            config_free(c);
            return 2;
        }
    }
    o.keep_open |= c->keep_open;
    o.no_sync |= c->no_sync;
    o.ask_for_input |= c->ask_for_input;
    if (check_only) {
        /* everything replay_run() checks before sending, then a dry pass over the captures */
        o.check = true;
        o.keep_open = false;
        o.progress_interval = 0;
    }
    if (events_path && !check_only) {
        char e[512];
        if (events_open(events_path, e, sizeof e) < 0) {
            fprintf(stderr, "telrep: %s\n", e);
            config_free(c);
            return 2;
        }
    }
    int status = replay_run(c, &o);
    events_close();
    if (check_only && status == 0 && !quiet)
        fprintf(stderr, "telrep: %s: config, captures, collectors and addresses are fine\n", cfg_path);
    config_free(c);
    return status;
}
