/* Command line of vtls-sensor: see options.h. */
#include "sensor/options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sensor/config.h"

enum {
    OPT_FLOWS = 256,
    OPT_NO_PROMISC,
    OPT_BUFFER_SIZE,
    OPT_IMMEDIATE,
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
    OPT_RULES,
    OPT_ALERTS,
    OPT_ALERT_FORMAT,
    OPT_CHECK_RULES,
    OPT_LIST_FIELDS,
    OPT_METRICS_LISTEN,
    OPT_METRICS_LINGER,
    OPT_WEB_CONFIG,
    OPT_USER,
    OPT_DEDUP_WINDOW,
    OPT_SUMMARY,
    OPT_NO_SUMMARY,
    OPT_GEOIP,
    OPT_CONFIG,
    OPT_THREADS,
};

static const struct option opt_longopts[] = {
    {"read", required_argument, NULL, 'r'},
    {"interface", required_argument, NULL, 'i'},
    {"filter", required_argument, NULL, 'f'},
    {"snaplen", required_argument, NULL, 's'},
    {"no-promisc", no_argument, NULL, OPT_NO_PROMISC},
    {"buffer-size", required_argument, NULL, OPT_BUFFER_SIZE},
    {"immediate", no_argument, NULL, OPT_IMMEDIATE},
    {"threads", required_argument, NULL, OPT_THREADS},
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
    {"rules", required_argument, NULL, OPT_RULES},
    {"alerts", required_argument, NULL, OPT_ALERTS},
    {"alert-format", required_argument, NULL, OPT_ALERT_FORMAT},
    {"check-rules", no_argument, NULL, OPT_CHECK_RULES},
    {"list-fields", no_argument, NULL, OPT_LIST_FIELDS},
    {"metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN},
    {"metrics-linger", required_argument, NULL, OPT_METRICS_LINGER},
    {"web-config", required_argument, NULL, OPT_WEB_CONFIG},
    {"user", required_argument, NULL, OPT_USER},
    {"dedup-window", required_argument, NULL, OPT_DEDUP_WINDOW},
    {"summary", no_argument, NULL, OPT_SUMMARY},
    {"geoip", required_argument, NULL, OPT_GEOIP},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"no-summary", no_argument, NULL, OPT_NO_SUMMARY},
    {"quiet", no_argument, NULL, 'q'},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void opt_usage(FILE *out)
{
    fputs("Usage: vtls-sensor (-r FILE | -i IFACE) [options]\n"
          "       vtls-sensor --check-rules [--rules FILE|DIR ...]\n"
          "       vtls-sensor --list-fields\n"
          "Passive TLS verification for Vitess clusters.\n\n"
          "Input:\n"
          "  -r, --read FILE           replay a pcap or pcapng file ('-' reads stdin)\n"
          "  -i, --interface IFACE     capture live on IFACE ('any' for all)\n"
          "  -f, --filter EXPR         BPF capture filter\n"
          "  -s, --snaplen BYTES       live: bytes kept per packet (default 262144)\n"
          "      --no-promisc          live: do not put the interface in promiscuous mode\n"
          "      --buffer-size MIB     live: kernel capture buffer size (default 32)\n"
          "      --immediate           live: take each packet at once instead of in batches\n"
          "                            (lower latency, more wake-ups, more drops under load)\n"
          "      --threads N           1: one thread does everything; 2: libpcap reads on a\n"
          "                            thread of its own and hands packets over in batches\n"
          "                            (default 2 when there are two or more CPUs; a\n"
          "                            replay from a pipe always reads on one thread)\n"
          "      --user NAME           drop privileges to NAME once the capture is open\n"
          "Policy:\n"
          "      --rules FILE|DIR      rules file or directory of *.yaml (repeatable;\n"
          "                            default: the installed vitess-tls.yaml)\n"
          "      --check-rules         validate the rules files and exit 0 or 1\n"
          "      --list-fields         print every rule field with its type and exit\n"
          "      --inventory FILE      YAML naming the cluster's components by CIDR and port\n"
          "      --ca-bundle FILE      PEM CA certificates to validate certificate chains\n"
          "      --no-ndpi             do not ask nDPI about flows no dissector recognises\n"
          "      --geoip FILE.mmdb     MaxMind database: country, ASN, or custom keys such as\n"
          "                            zone or cell as geo.src.KEY / geo.dst.KEY (repeatable)\n"
          "Output:\n"
          "      --alerts PATH         alert JSON lines (default '-': stdout)\n"
          "      --alert-format FMT    eve (default) or ecs (Elastic Common Schema)\n"
          "      --dedup-window S      one alert per rule, client, server and port per S\n"
          "                            seconds of packet time (default 3600; 0: every alert)\n"
          "      --flows PATH          a JSON line per ended flow ('-': stdout)\n"
          "      --metrics-listen ADDR:PORT  serve Prometheus /metrics (default port 9854)\n"
          "      --metrics-linger S    keep serving S seconds after a replay ends\n"
          "      --web-config FILE     TLS and basic auth for /metrics (exporter-toolkit format)\n"
          "      --summary, --no-summary  verification summary at the end of a replay\n"
          "                            (default: when stdout is a terminal)\n"
          "Flows:\n"
          "      --memcap MIB          memory for flows and reassembly (default 256)\n"
          "      --stream-depth BYTES  bytes reassembled per direction (default 65536)\n"
          "      --timeout-handshake S, --timeout-established S, --timeout-closed S,\n"
          "      --timeout-udp S       idle timeouts in seconds of packet time\n"
          "                            (defaults 60, 3600, 10, 60)\n"
          "      --hash-seed N         flow hash seed (default: random)\n"
          "Other:\n"
          "      --config FILE         YAML mapping of these long options to values; the\n"
          "                            command line wins\n"
          "  -q, --quiet               no statistics on stderr\n"
          "      --version             print the version\n"
          "  -h, --help                this help\n",
          out);
}

/* Parse a decimal in [lo, hi] or exit with a usage error naming the option. */
static unsigned long long opt_number(const char *opt, const char *s, unsigned long long lo,
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

static void opt_timeout(struct opts *o, enum flow_tclass c, const char *opt, const char *s)
{
    o->pl.flow.timeout_s[c] = (uint32_t)opt_number(opt, s, 1, 30u * 86400u);
}

static void opt_rules(struct opts *o, const char *path)
{
    if (o->nrules == OPT_MAX_RULES) {
        fprintf(stderr, "vtls-sensor: --rules: at most %d paths\n", OPT_MAX_RULES);
        exit(2);
    }
    o->rules[o->nrules++] = path;
}

static void opt_alert_format(struct opts *o, const char *arg)
{
    if (strcmp(arg, "eve") != 0 && strcmp(arg, "ecs") != 0) {
        fprintf(stderr, "vtls-sensor: --alert-format: expected eve or ecs, got \"%s\"\n", arg);
        exit(2);
    }
    o->ecs = arg[1] == 'c';
}

/* Options about capture and flows. Returns false when c is not one of them. */
static bool opt_parse_flow(struct opts *o, int c, const char *arg)
{
    switch (c) {
    case OPT_NO_PROMISC:
        o->live.promisc = false;
        break;
    case OPT_BUFFER_SIZE:
        o->live.buffer_mb = (int)opt_number("--buffer-size", arg, 1, 4096);
        break;
    case OPT_IMMEDIATE:
        o->live.immediate = true;
        break;
    case OPT_THREADS:
        o->threads = (unsigned)opt_number("--threads", arg, 1, 2);
        break;
    case OPT_MEMCAP:
        o->pl.flow.memcap = opt_number("--memcap", arg, 1, 1u << 20) * 1024u * 1024u;
        break;
    case OPT_STREAM_DEPTH:
        o->pl.stream.depth = (uint32_t)opt_number("--stream-depth", arg, 0, 16u << 20);
        break;
    case OPT_TIMEOUT_HANDSHAKE:
        opt_timeout(o, FLOW_T_HANDSHAKE, "--timeout-handshake", arg);
        break;
    case OPT_TIMEOUT_ESTABLISHED:
        opt_timeout(o, FLOW_T_ESTABLISHED, "--timeout-established", arg);
        break;
    case OPT_TIMEOUT_CLOSED:
        opt_timeout(o, FLOW_T_CLOSED, "--timeout-closed", arg);
        break;
    case OPT_TIMEOUT_UDP:
        opt_timeout(o, FLOW_T_UDP, "--timeout-udp", arg);
        break;
    case OPT_SEED:
        o->pl.flow.seed = (uint32_t)opt_number("--hash-seed", arg, 0, UINT32_MAX);
        break;
    default:
        return false;
    }
    return true;
}

/* Options about policy and output. Returns false when c is not one of them. */
static bool opt_parse_policy(struct opts *o, int c, const char *arg)
{
    switch (c) {
    case OPT_FLOWS:
        o->flows_path = arg;
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
    case OPT_RULES:
        opt_rules(o, arg);
        break;
    case OPT_CONFIG:
        break; /* read before the command line (opt_parse) */
    case OPT_GEOIP:
        if (o->ngeoip == OPT_MAX_RULES) {
            fprintf(stderr, "vtls-sensor: --geoip: at most %d databases\n", OPT_MAX_RULES);
            exit(2);
        }
        o->geoip[o->ngeoip++] = arg;
        break;
    case OPT_ALERTS:
        o->alerts_path = arg;
        break;
    case OPT_ALERT_FORMAT:
        opt_alert_format(o, arg);
        break;
    case OPT_CHECK_RULES:
        o->check_rules = true;
        break;
    case OPT_LIST_FIELDS:
        o->list_fields = true;
        break;
    case OPT_METRICS_LISTEN:
        o->metrics_listen = arg;
        break;
    case OPT_METRICS_LINGER:
        o->metrics_linger = (unsigned)opt_number("--metrics-linger", arg, 0, 86400);
        break;
    case OPT_WEB_CONFIG:
        o->web_config = arg;
        break;
    case OPT_USER:
        o->user = arg;
        break;
    case OPT_DEDUP_WINDOW:
        o->dedup_window_us = opt_number("--dedup-window", arg, 0, 365u * 86400u) * 1000000u;
        o->no_dedup = o->dedup_window_us == 0;
        break;
    case OPT_SUMMARY:
    case OPT_NO_SUMMARY:
        o->summary = c == OPT_SUMMARY;
        break;
    default:
        return false;
    }
    return true;
}

static void opt_defaults(struct opts *o)
{
    memset(o, 0, sizeof(*o));
    cap_live_opts_default(&o->live);
    pl_config_default(&o->pl);
    o->alerts_path = "-";
    o->summary = -1;
    o->threads = sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1;
    o->pl.flow.seed = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
}

static void opt_check(const struct opts *o)
{
    if (o->check_rules || o->list_fields)
        return;
    if ((o->read_file == NULL) == (o->iface == NULL)) {
        fprintf(stderr, "vtls-sensor: give exactly one of -r FILE or -i IFACE\n");
        opt_usage(stderr);
        exit(2);
    }
    if (o->metrics_linger > 0 && o->metrics_listen == NULL) {
        fprintf(stderr, "vtls-sensor: --metrics-linger needs --metrics-listen\n");
        exit(2);
    }
}

/* Short options and the ones that exit. Returns false when c is not one of them. */
static bool opt_parse_short(struct opts *o, int c, const char *arg)
{
    switch (c) {
    case 'r':
        o->read_file = arg;
        break;
    case 'i':
        o->iface = arg;
        break;
    case 'f':
        o->filter = arg;
        break;
    case 's':
        o->live.snaplen = (int)opt_number("--snaplen", arg, 64, 262144);
        break;
    case 'q':
        o->quiet = true;
        break;
    case 'h':
        opt_usage(stdout);
        exit(0);
    case OPT_VERSION:
        printf("vtls-sensor %s\n", VTLS_VERSION);
        exit(0);
    default:
        return false;
    }
    return true;
}

/* Parse one argument vector into o. */
static void opt_parse_argv(struct opts *o, int argc, char **argv)
{
    int c;
    optind = 0; /* GNU getopt: start over */
    while ((c = getopt_long(argc, argv, "r:i:f:s:qh", opt_longopts, NULL)) != -1) {
        if (!opt_parse_short(o, c, optarg) && !opt_parse_flow(o, c, optarg) &&
            !opt_parse_policy(o, c, optarg)) {
            opt_usage(stderr);
            exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vtls-sensor: unexpected argument \"%s\"\n", argv[optind]);
        exit(2);
    }
}

void opt_parse(struct opts *o, int argc, char **argv)
{
    static struct cfg_args file; /* o keeps pointers into it for the run */
    const char *path = cfg_find_path(argc, argv);
    opt_defaults(o);
    if (path != NULL) {
        char err[512];
        if (cfg_load(path, opt_longopts, argc, argv, &file, err, sizeof(err)) != 0) {
            fprintf(stderr, "vtls-sensor: --config %s\n", err);
            exit(2);
        }
        opt_parse_argv(o, file.argc, file.argv);
    }
    opt_parse_argv(o, argc, argv);
    opt_check(o);
}

const char *opt_default_rules(void)
{
    static const char installed[] = VTLS_DATADIR "/vitess-tls.yaml";
    if (access(installed, R_OK) == 0)
        return installed;
    return VTLS_SOURCE_RULES;
}
