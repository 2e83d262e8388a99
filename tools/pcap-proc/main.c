/* main.c — the pcap-proc command line: args -> config -> pcapproc_run -> exit status. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "pcapproc/pcapproc.h"
#include "version.h"

extern volatile int pcapproc_stop;

static void usage(FILE *out)
{
    fprintf(out,
        "usage: pcap-proc -t CONFIG.yml [options]\n"
        "Turn raw captures into clean, replayable sessions: BGP from OPEN, BMP from INIT, IPFIX/NetFlow v9\n"
        "data only after its template; TCP re-segmented, time rebased. Writes into the output folder:\n"
        "traffic.pcap, traffic-reproducer.yml (a telrep config that replays it) and traffic-info.json\n"
        "(what the captures hold, per router). The config is telrep's; its pcap_processing section applies.\n\n"
        "  -t, --cfg FILE          the YAML config (see telrep.yml(5), pcap_processing)\n"
        "  -o, --output DIR        the output folder (default: pcap_processing.output_folder, else the\n"
        "                          first pcap's path without its extension)\n"
        "  -s, --summary-only      write traffic-info.json only\n"
        "      --anon-map FILE     with pcap_processing.anonymise: the table of every mapping made\n"
        "                          (addresses, AS numbers, names), for the key holder (mode 0600)\n"
        "      --duration SECS     a live interface (live: in the config): record this long (default: the\n"
        "                          config's duration, else until SIGINT/SIGTERM), then process\n"
        "      --keep-raw FILE     a live interface: also keep the raw recording (a pcap) here\n"
        "      --user NAME         once the interface is open, run as this user (default: sudo's user, else\n"
        "                          root without capabilities); see telrep(1) PRIVILEGES\n"
        "  -v                      informational messages and progress\n"
        "  -d                      debug messages\n"
        "  -q, --quiet             errors only\n"
        "  -h, --help              this text\n"
        "  -V, --version           the version\n\n"
        "Exit status: 0 done; 1 done, but a capture ended in an error (the readable part was processed) or an\n"
        "output could not be written; 2 usage, config or input error (nothing written).\n");
}

static void on_signal(int sig)
{
    (void)sig;
    pcapproc_stop = 1;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "cfg", required_argument, NULL, 't' },
        { "output", required_argument, NULL, 'o' },
        { "summary-only", no_argument, NULL, 's' },
        { "anon-map", required_argument, NULL, 'M' },
        { "duration", required_argument, NULL, 'D' },
        { "keep-raw", required_argument, NULL, 'K' },
        { "user", required_argument, NULL, 'U' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { 0 },
    };
    const char *cfg_path = NULL;
    struct pcapproc_options o = { 0 };
    enum log_level level = LOG_NOTE;
    bool quiet = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "t:o:svdqhV", longopts, NULL)) != -1) {
        switch (opt) {
        case 't': cfg_path = optarg; break;
        case 'o': o.output_folder = optarg; break;
        case 's': o.summary_only = true; break;
        case 'M': o.anon_map = optarg; break;
        case 'D': {
            char *end = NULL;
            o.duration = strtod(optarg, &end);
            if (end == optarg || *end || !(o.duration > 0)) {
                fprintf(stderr, "pcap-proc: --duration %s: expected seconds above 0 (--duration 60)\n", optarg);
                return 2;
            }
            break;
        }
        case 'K': o.keep_raw = optarg; break;
        case 'U': o.user = optarg; break;
        case 'v': if (level < LOG_INFO) level = LOG_INFO; break;
        case 'd': level = LOG_DEBUG; break;
        case 'q': quiet = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("pcap-proc (telrep) %s\n", TELREP_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "pcap-proc: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (!cfg_path) {
        fprintf(stderr, "pcap-proc: the config is required: pcap-proc -t config.yml (pcap-proc --help for more)\n");
        return 2;
    }
    log_program = "pcap-proc";
    log_set_level(quiet ? LOG_ERROR : level);
    o.progress = !quiet && level >= LOG_INFO;
    o.quiet = quiet;
    char err[2048];
    struct config *c = config_load(cfg_path, err, sizeof err);
    if (!c) {
        fprintf(stderr, "pcap-proc: error: %s\n", err);
        return 2;
    }
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int status = pcapproc_run(c, &o, NULL, 0);
    config_free(c);
    return status;
}
