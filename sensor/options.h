/* Command line of vtls-sensor. */
#ifndef VTLS_OPTIONS_H
#define VTLS_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "sensor/capture.h"
#include "sensor/pipeline.h"

#define OPT_MAX_RULES 32

struct opts {
    const char *read_file;
    const char *iface;
    const char *filter;
    const char *flows_path;
    const char *alerts_path; /* default "-" */
    bool ecs;
    const char *inventory_path;
    const char *rules[OPT_MAX_RULES];
    unsigned nrules; /* 0: the default policy file */
    const char *geoip[OPT_MAX_RULES];
    unsigned ngeoip;
    bool check_rules, list_fields;
    const char *metrics_listen;
    unsigned metrics_linger; /* seconds to keep serving after a replay */
    const char *web_config;
    const char *user;
    uint64_t dedup_window_us; /* 0: default */
    bool no_dedup;            /* --dedup-window 0 */
    int summary;              /* -1 auto (stdout is a terminal), 0 off, 1 on */
    bool quiet;
    unsigned threads; /* 1 or 2 (a capture thread); default by the number of CPUs */
    struct cap_live_opts live;
    struct pl_config pl;
};

/* Parse argv into o (defaults first). Exits with status 0 for --help and
 * --version, and 2 with a message for usage errors. */
void opt_parse(struct opts *o, int argc, char **argv);

/* The default policy file: the installed one, else the source tree's. */
const char *opt_default_rules(void);

#endif
