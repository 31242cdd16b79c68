/* vtls-sensor: command line, lifecycle and signals. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output/eve.h"
#include "sensor/capture.h"
#include "sensor/classify.h"
#include "sensor/pipeline.h"

struct opts {
    const char *read_file;
    const char *iface;
    const char *filter;
    const char *flows_path;
    const char *inventory_path;
    struct cap_live_opts live;
    struct pl_config pl;
    bool quiet;
};

/* The capture that SIGINT/SIGTERM stop; set once before signals are armed. */
static struct cap *volatile main_cap;

enum {
    OPT_FLOWS = 256,
    OPT_NO_PROMISC,
    OPT_BUFFER_SIZE,
    OPT_NO_IMMEDIATE,
    OPT_MEMCAP,
    OPT_STREAM_DEPTH,
    OPT_TIMEOUT_HANDSHAKE,
    OPT_TIMEOUT_ESTABLISHED,
    OPT_TIMEOUT_CLOSED,
    OPT_TIMEOUT_UDP,
    OPT_SEED,
    OPT_VERSION,
    OPT_INVENTORY,
    OPT_CA_BUNDLE,
    OPT_NO_NDPI,
};

static const struct option main_longopts[] = {
    {"read", required_argument, NULL, 'r'},
    {"interface", required_argument, NULL, 'i'},
    {"filter", required_argument, NULL, 'f'},
    {"snaplen", required_argument, NULL, 's'},
    {"no-promisc", no_argument, NULL, OPT_NO_PROMISC},
    {"buffer-size", required_argument, NULL, OPT_BUFFER_SIZE},
    {"no-immediate", no_argument, NULL, OPT_NO_IMMEDIATE},
    {"flows", required_argument, NULL, OPT_FLOWS},
    {"memcap", required_argument, NULL, OPT_MEMCAP},
    {"stream-depth", required_argument, NULL, OPT_STREAM_DEPTH},
    {"timeout-handshake", required_argument, NULL, OPT_TIMEOUT_HANDSHAKE},
    {"timeout-established", required_argument, NULL, OPT_TIMEOUT_ESTABLISHED},
    {"timeout-closed", required_argument, NULL, OPT_TIMEOUT_CLOSED},
    {"timeout-udp", required_argument, NULL, OPT_TIMEOUT_UDP},
    {"hash-seed", required_argument, NULL, OPT_SEED},
    {"inventory", required_argument, NULL, OPT_INVENTORY},
    {"ca-bundle", required_argument, NULL, OPT_CA_BUNDLE},
    {"no-ndpi", no_argument, NULL, OPT_NO_NDPI},
    {"quiet", no_argument, NULL, 'q'},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void main_usage(FILE *out)
{
    fputs("Usage: vtls-sensor (-r FILE | -i IFACE) [options]\n"
          "Passive TLS verification for Vitess clusters.\n\n"
          "Input:\n"
          "  -r, --read FILE           replay a pcap or pcapng file ('-' reads stdin)\n"
          "  -i, --interface IFACE     capture live on IFACE ('any' for all)\n"
          "  -f, --filter EXPR         BPF capture filter\n"
          "  -s, --snaplen BYTES       live: bytes kept per packet (default 262144)\n"
          "      --no-promisc          live: do not put the interface in promiscuous mode\n"
          "      --buffer-size MIB     live: kernel capture buffer size\n"
          "      --no-immediate        live: let the kernel batch packets (100 ms timeout)\n"
          "Vitess:\n"
          "      --inventory FILE      YAML naming the cluster's components by CIDR and port\n"
          "      --ca-bundle FILE      PEM CA certificates to validate certificate chains\n"
          "      --no-ndpi             do not ask nDPI about flows no dissector recognises\n"
          "Flows:\n"
          "      --flows PATH          write a JSON line per ended flow to PATH ('-': stdout)\n"
          "      --memcap MIB          memory for flows and reassembly (default 256)\n"
          "      --stream-depth BYTES  bytes reassembled per direction (default 65536)\n"
          "      --timeout-handshake S, --timeout-established S, --timeout-closed S,\n"
          "      --timeout-udp S       idle timeouts in seconds of packet time\n"
          "                            (defaults 60, 3600, 10, 60)\n"
          "      --hash-seed N         flow hash seed (default: random)\n"
          "Other:\n"
          "  -q, --quiet               no summary on stderr\n"
          "      --version             print the version\n"
          "  -h, --help                this help\n",
          out);
}

/* Parse a decimal in [lo, hi] or exit with a usage error naming the option. */
static unsigned long long main_number(const char *opt, const char *s, unsigned long long lo,
                                      unsigned long long hi)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi) {
        fprintf(stderr, "vtls-sensor: %s: expected a number from %llu to %llu, got \"%s\"\n", opt,
                lo, hi, s);
        exit(2);
    }
    return v;
}

static void main_set_timeout(struct opts *o, enum flow_tclass c, const char *opt, const char *s)
{
    o->pl.flow.timeout_s[c] = (uint32_t)main_number(opt, s, 1, 30u * 86400u);
}

static void main_parse_long(struct opts *o, int c, const char *arg)
{
    switch (c) {
    case OPT_FLOWS:
        o->flows_path = arg;
        break;
    case OPT_NO_PROMISC:
        o->live.promisc = false;
        break;
    case OPT_BUFFER_SIZE:
        o->live.buffer_mb = (int)main_number("--buffer-size", arg, 1, 4096);
        break;
    case OPT_NO_IMMEDIATE:
        o->live.immediate = false;
        break;
    case OPT_MEMCAP:
        o->pl.flow.memcap = main_number("--memcap", arg, 1, 1u << 20) * 1024u * 1024u;
        break;
    case OPT_STREAM_DEPTH:
        o->pl.stream.depth = (uint32_t)main_number("--stream-depth", arg, 0, 16u << 20);
        break;
    case OPT_TIMEOUT_HANDSHAKE:
        main_set_timeout(o, FLOW_T_HANDSHAKE, "--timeout-handshake", arg);
        break;
    case OPT_TIMEOUT_ESTABLISHED:
        main_set_timeout(o, FLOW_T_ESTABLISHED, "--timeout-established", arg);
        break;
    case OPT_TIMEOUT_CLOSED:
        main_set_timeout(o, FLOW_T_CLOSED, "--timeout-closed", arg);
        break;
    case OPT_TIMEOUT_UDP:
        main_set_timeout(o, FLOW_T_UDP, "--timeout-udp", arg);
        break;
    case OPT_SEED:
        o->pl.flow.seed = (uint32_t)main_number("--hash-seed", arg, 0, UINT32_MAX);
        break;
    case OPT_INVENTORY:
        o->inventory_path = arg;
        break;
    case OPT_CA_BUNDLE:
        o->pl.ca_bundle = arg;
        break;
    case OPT_NO_NDPI:
        o->pl.ndpi = false;
        break;
    case OPT_VERSION:
        printf("vtls-sensor %s\n", VTLS_VERSION);
        exit(0);
    default:
        main_usage(stderr);
        exit(2);
    }
}

static void main_parse(struct opts *o, int argc, char **argv)
{
    bool seeded = false;
    int c;
    while ((c = getopt_long(argc, argv, "r:i:f:s:qh", main_longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            o->read_file = optarg;
            break;
        case 'i':
            o->iface = optarg;
            break;
        case 'f':
            o->filter = optarg;
            break;
        case 's':
            o->live.snaplen = (int)main_number("--snaplen", optarg, 64, 262144);
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'h':
            main_usage(stdout);
            exit(0);
        default:
            seeded |= c == OPT_SEED;
            main_parse_long(o, c, optarg);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vtls-sensor: unexpected argument \"%s\"\n", argv[optind]);
        exit(2);
    }
    if ((o->read_file == NULL) == (o->iface == NULL)) {
        fprintf(stderr, "vtls-sensor: give exactly one of -r FILE or -i IFACE\n");
        main_usage(stderr);
        exit(2);
    }
    if (!seeded)
        o->pl.flow.seed = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
}

static void main_on_signal(int sig)
{
    (void)sig;
    if (main_cap != NULL)
        cap_stop(main_cap);
}

static void main_arm_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = main_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed output pipe is a counted write error */
}

/* Progress on a terminal: packets and flows, at most once a second. */
struct main_progress {
    struct pipeline *pl;
    uint64_t next_check;
    time_t last;
};

static void main_progress_packet(void *ctx, uint64_t ts_us, const uint8_t *data, uint32_t caplen,
                                 uint32_t wire_len)
{
    struct main_progress *mp = ctx;
    pl_packet(mp->pl, ts_us, data, caplen, wire_len);
    const struct pl_stats *st = pl_get_stats(mp->pl);
    if (st->packets < mp->next_check)
        return;
    mp->next_check = st->packets + 65536;
    time_t now = time(NULL);
    if (now == mp->last)
        return;
    mp->last = now;
    fprintf(stderr, "\r%llu packets, %llu flows ", (unsigned long long)st->packets,
            (unsigned long long)pl_flow_stats(mp->pl)->created);
}

static struct cap *main_open(const struct opts *o, char *err)
{
    struct cap *c;
    if (o->read_file != NULL) {
        c = cap_open_file(o->read_file, err);
    } else {
        c = cap_open_live(o->iface, &o->live, err);
        if (c != NULL && err[0] != '\0')
            fprintf(stderr, "vtls-sensor: %s\n", err);
    }
    if (c != NULL && o->filter != NULL && !cap_set_filter(c, o->filter, err)) {
        cap_close(c);
        return NULL;
    }
    return c;
}

static void main_print_capture_stats(struct cap *c)
{
    struct cap_stats cs;
    cap_get_stats(c, &cs);
    if (!cap_is_live(c))
        return;
    fprintf(stderr,
            "  capture on %s: %llu received by filter, %llu dropped by kernel, "
            "%llu dropped by interface\n",
            cap_source(c), (unsigned long long)cs.kernel_received,
            (unsigned long long)cs.kernel_drops, (unsigned long long)cs.if_drops);
}

static int main_run(struct opts *o, struct cap *c)
{
    char err[CAP_ERRLEN];
    struct pipeline *pl = pl_new(&o->pl, cap_datalink(c), err);
    if (pl == NULL) {
        fprintf(stderr, "vtls-sensor: %s: %s\n", cap_source(c), err);
        return 1;
    }
    struct main_progress mp = {.pl = pl, .next_check = 65536};
    bool progress = !cap_is_live(c) && !o->quiet && isatty(STDERR_FILENO);

    main_cap = c;
    main_arm_signals();
    int rc =
        cap_run(c, progress ? main_progress_packet : pl_packet, progress ? (void *)&mp : pl, err);
    if (progress && mp.last != 0)
        fputs("\r\033[K", stderr);
    pl_finish(pl);
    if (!o->quiet) {
        pl_print_summary(pl, stderr);
        main_print_capture_stats(c);
    }
    if (rc != 0)
        fprintf(stderr, "vtls-sensor: %s\n", err);
    pl_free(pl);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct opts o;
    memset(&o, 0, sizeof(o));
    cap_live_opts_default(&o.live);
    pl_config_default(&o.pl);
    main_parse(&o, argc, argv);

    char err[CAP_ERRLEN] = "";
    struct cls_inventory *inv = NULL;
    if (o.inventory_path != NULL) {
        inv = cls_inventory_load(o.inventory_path, err, sizeof(err));
        if (inv == NULL) {
            fprintf(stderr, "vtls-sensor: %s\n", err);
            return 1;
        }
        o.pl.inventory = inv;
    }
    if (o.flows_path != NULL) {
        o.pl.flows = eve_open(o.flows_path, err);
        if (o.pl.flows == NULL) {
            fprintf(stderr, "vtls-sensor: %s\n", err);
            cls_inventory_free(inv);
            return 1;
        }
    }
    struct cap *c = main_open(&o, err);
    if (c == NULL) {
        fprintf(stderr, "vtls-sensor: %s\n", err);
        eve_close(o.pl.flows);
        cls_inventory_free(inv);
        return 1;
    }
    int rc = main_run(&o, c);
    main_cap = NULL;
    cap_close(c);
    eve_close(o.pl.flows);
    cls_inventory_free(inv);
    return rc;
}
