/* vtls-sensor: lifecycle, signals and housekeeping around the pipeline. */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output/eve.h"
#include "output/geo.h"
#include "output/metrics.h"
#include "output/prom_http.h"
#include "output/webconfig.h"
#include "rules/rules.h"
#include "sensor/capture.h"
#include "sensor/classify.h"
#include "sensor/options.h"
#include "sensor/pipeline.h"
#include "sensor/report.h"
#include "sensor/verdict.h"

/* Everything the run owns. */
struct sensor {
    struct opts o;
    const char *const *rule_paths;
    size_t nrule_paths;
    struct cls_inventory *inventory;
    struct geo *geo;
    struct rules_holder rules;
    bool rules_ready;
    struct rules_watch *watch;
    struct eve_writer *alerts, *flows;
    struct metrics *metrics;
    struct metrics_std std;
    struct webconfig *webconfig;
    struct prom_server *prom;
    struct rep_table *report;
    struct vd_engine *vd;
    struct cap *cap;
    struct pipeline *pl;
    time_t last_tick;
    bool progress_shown;
};

/* Set by signal handlers, acted on between packet batches. */
static volatile sig_atomic_t main_hup, main_stop;
static struct cap *volatile main_cap;

static void main_on_stop(int sig)
{
    (void)sig;
    main_stop = 1;
    if (main_cap != NULL)
        cap_stop(main_cap);
}

static void main_on_hup(int sig)
{
    (void)sig;
    main_hup = 1;
    if (main_cap != NULL)
        cap_interrupt(main_cap);
}

/* A live capture blocks in poll() while the link is silent: a timer wakes
 * it once a second for housekeeping (idle expiry, metrics). */
static void main_on_alarm(int sig)
{
    (void)sig;
    if (main_cap != NULL)
        cap_interrupt(main_cap);
}

/* Handle sig with fn; reads restart (a replay from a pipe must not fail with
 * EINTR), a live capture's poll() still returns and pcap_breakloop() does the
 * rest. */
static void main_handle(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = fn;
    sigaction(sig, &sa, NULL);
}

static void main_arm_timer(void)
{
    main_handle(SIGALRM, main_on_alarm);
    struct itimerval it = {.it_interval = {1, 0}, .it_value = {1, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static void main_arm_signals(void)
{
    main_handle(SIGINT, main_on_stop);
    main_handle(SIGTERM, main_on_stop);
    main_handle(SIGHUP, main_on_hup);
    signal(SIGPIPE, SIG_IGN); /* a closed output pipe is a counted write error */
}

static int64_t main_wall(void)
{
    return (int64_t)time(NULL);
}

/* ---- rules ---- */

static void main_publish_rules(struct sensor *s)
{
    if (s->metrics == NULL)
        return;
    struct rules_reload_stats rs = rules_holder_stats(&s->rules);
    metrics_lock(s->metrics);
    metrics_set(s->std.rules_reloads, (const char *[]){"success"}, (double)rs.success);
    metrics_set(s->std.rules_reloads, (const char *[]){"failure"}, (double)rs.failure);
    metrics_set(s->std.rules_last_reload_success, NULL, (double)rs.last_success);
    metrics_set(s->std.rules_loaded, NULL, (double)rs.rules_loaded);
    metrics_unlock(s->metrics);
}

/* Load (or reload) the rules; on failure the set in force stays. */
static bool main_load_rules(struct sensor *s, bool first)
{
    struct rules_errors errs = {0};
    bool ok = rules_holder_reload(&s->rules, s->rule_paths, s->nrule_paths, main_wall(), &errs);
    if (!ok) {
        fprintf(stderr, "vtls-sensor: %s rules rejected%s:\n", first ? "" : "reloaded",
                first ? "" : "; the rules in force stay");
        rules_errors_print(&errs, stderr);
    } else if (!first) {
        fprintf(stderr, "vtls-sensor: rules reloaded: %zu rules in force\n",
                rules_holder_stats(&s->rules).rules_loaded);
    }
    rules_errors_free(&errs);
    main_publish_rules(s);
    return ok;
}

/* ---- housekeeping between packet batches ---- */

static void main_reopen(struct sensor *s)
{
    char err[EVE_ERRLEN];
    struct eve_writer *w[] = {s->alerts, s->flows};
    for (size_t i = 0; i < 2; i++)
        if (w[i] != NULL && !eve_reopen(w[i], err))
            fprintf(stderr, "vtls-sensor: %s\n", err);
}

static void main_progress(struct sensor *s)
{
    if (cap_is_live(s->cap) || s->o.quiet || !isatty(STDERR_FILENO))
        return;
    const struct pl_stats *st = pl_get_stats(s->pl);
    fprintf(stderr, "\r%llu packets, %llu flows ", (unsigned long long)st->packets,
            (unsigned long long)pl_flow_stats(s->pl)->created);
    s->progress_shown = true;
}

static void main_publish(struct sensor *s)
{
    if (s->metrics == NULL)
        return;
    pl_publish_metrics(s->pl, s->metrics, &s->std);
    struct cap_stats cs;
    cap_get_stats(s->cap, &cs);
    metrics_lock(s->metrics);
    metrics_set(s->std.capture_drops, (const char *[]){"kernel"}, (double)cs.kernel_drops);
    metrics_set(s->std.capture_drops, (const char *[]){"interface"}, (double)cs.if_drops);
    metrics_unlock(s->metrics);
}

static void main_tick(void *ctx)
{
    struct sensor *s = ctx;
    if (main_hup) {
        main_hup = 0;
        main_reopen(s);
        if (s->rules_ready)
            main_load_rules(s, false);
    }
    if (s->watch != NULL && rules_watch_changed(s->watch))
        main_load_rules(s, false);
    time_t now = time(NULL);
    if (now == s->last_tick)
        return;
    s->last_tick = now;
    if (cap_is_live(s->cap)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        /* A second behind: packets already stamped are never overtaken. */
        uint64_t wall_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
        pl_idle(s->pl, wall_us - 1000000u);
    }
    main_publish(s);
    main_progress(s);
}

/* ---- setup and teardown ---- */

static bool main_open_outputs(struct sensor *s)
{
    char err[EVE_ERRLEN];
    if (s->o.flows_path != NULL && (s->flows = eve_open(s->o.flows_path, err)) == NULL)
        goto fail;
    if ((s->alerts = eve_open(s->o.alerts_path, err)) == NULL)
        goto fail;
    return true;
fail:
    fprintf(stderr, "vtls-sensor: %s\n", err);
    return false;
}

static bool main_open_metrics(struct sensor *s)
{
    char err[PROM_ERRLEN];
    char pcapv[64];
    const struct metrics_build_info bi = {
        .version = VTLS_VERSION, .libpcap = cap_lib_version(pcapv, sizeof(pcapv)), .ndpi = "4.2"};
    s->metrics = metrics_new();
    if (s->metrics == NULL || !metrics_register_std(s->metrics, &s->std, &bi, err))
        goto fail;
    if (s->o.web_config != NULL && (s->webconfig = webconfig_load(s->o.web_config, err)) == NULL)
        goto fail;
    s->prom = prom_start(s->metrics, s->o.metrics_listen, s->webconfig, err);
    if (s->prom == NULL)
        goto fail;
    return true;
fail:
    fprintf(stderr, "vtls-sensor: metrics: %s\n", s->metrics ? err : "out of memory");
    return false;
}

static bool main_open_policy(struct sensor *s)
{
    char err[512];
    if (s->o.inventory_path != NULL) {
        s->inventory = cls_inventory_load(s->o.inventory_path, err, sizeof(err));
        if (s->inventory == NULL) {
            fprintf(stderr, "vtls-sensor: %s\n", err);
            return false;
        }
    }
    if (s->o.ngeoip > 0 && (s->geo = geo_new()) == NULL)
        return false;
    for (unsigned i = 0; i < s->o.ngeoip; i++) {
        char gerr[GEO_ERRLEN];
        if (!geo_add(s->geo, s->o.geoip[i], gerr)) {
            fprintf(stderr, "vtls-sensor: %s\n", gerr);
            return false;
        }
    }
    if (!rules_holder_init(&s->rules))
        return false;
    s->rules_ready = true;
    if (!main_load_rules(s, true))
        return false;
    s->watch = rules_watch_open(s->rule_paths, s->nrule_paths, err, sizeof(err));
    if (s->watch == NULL)
        fprintf(stderr, "vtls-sensor: warning: rules changes will not be noticed: %s\n", err);
    return true;
}

static bool main_setup(struct sensor *s)
{
    if (!main_open_policy(s) || !main_open_outputs(s))
        return false;
    if (s->o.metrics_listen != NULL && !main_open_metrics(s))
        return false;
    main_publish_rules(s);
    bool summary = s->o.summary < 0 ? isatty(STDOUT_FILENO) : s->o.summary == 1;
    if (summary && (s->report = rep_new()) == NULL)
        return false;
    struct vd_config vc = {.rules = &s->rules,
                           .alerts = s->alerts,
                           .ecs = s->o.ecs,
                           .dedup_window_us = s->o.dedup_window_us,
                           .no_dedup = s->o.no_dedup,
                           .cid_seed = s->o.pl.cid_seed,
                           .metrics = s->metrics,
                           .std = s->metrics ? &s->std : NULL,
                           .report = s->report};
    s->vd = vd_new(&vc);
    return s->vd != NULL;
}

static void main_teardown(struct sensor *s)
{
    pl_free(s->pl);
    main_cap = NULL;
    cap_close(s->cap);
    vd_free(s->vd);
    rep_free(s->report);
    prom_stop(s->prom);
    webconfig_free(s->webconfig);
    metrics_free(s->metrics);
    eve_close(s->alerts);
    eve_close(s->flows);
    rules_watch_close(s->watch);
    if (s->rules_ready)
        rules_holder_destroy(&s->rules);
    cls_inventory_free(s->inventory);
    geo_free(s->geo);
}

/* ---- capture and run ---- */

static bool main_drop_privileges(const char *user)
{
    struct passwd *pw = getpwnam(user);
    if (pw == NULL) {
        fprintf(stderr, "vtls-sensor: --user: no such user \"%s\"\n", user);
        return false;
    }
    if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        fprintf(stderr, "vtls-sensor: --user %s: %s\n", user, strerror(errno));
        return false;
    }
    return true;
}

static bool main_open_capture(struct sensor *s)
{
    char err[CAP_ERRLEN] = "";
    const struct opts *o = &s->o;
    if (o->read_file != NULL) {
        s->cap = cap_open_file(o->read_file, err);
    } else {
        s->cap = cap_open_live(o->iface, &o->live, err);
        if (s->cap != NULL && err[0] != '\0')
            fprintf(stderr, "vtls-sensor: %s\n", err);
    }
    if (s->cap == NULL || (o->filter != NULL && !cap_set_filter(s->cap, o->filter, err))) {
        fprintf(stderr, "vtls-sensor: %s\n", err);
        return false;
    }
    if (o->user != NULL && !main_drop_privileges(o->user))
        return false;
    struct pl_config pc = o->pl;
    pc.flows = s->flows;
    pc.inventory = s->inventory;
    pc.verdicts = s->vd;
    pc.geo = s->geo;
    s->pl = pl_new(&pc, cap_datalink(s->cap), err);
    if (s->pl == NULL) {
        fprintf(stderr, "vtls-sensor: %s: %s\n", cap_source(s->cap), err);
        return false;
    }
    return true;
}

static void main_print_capture_stats(struct cap *c)
{
    struct cap_stats cs;
    cap_get_stats(c, &cs);
    if (cs.threaded)
        fprintf(stderr, "  reader thread: %llu packets, %llu of them decoded there\n",
                (unsigned long long)cs.received, (unsigned long long)cs.noted);
    if (!cap_is_live(c))
        return;
    fprintf(stderr,
            "  capture on %s: %llu received by filter, %llu dropped by kernel, "
            "%llu dropped by interface\n",
            cap_source(c), (unsigned long long)cs.kernel_received,
            (unsigned long long)cs.kernel_drops, (unsigned long long)cs.if_drops);
}

/* Keep serving /metrics after a replay, until the time is up or a signal. */
static void main_linger(struct sensor *s)
{
    if (s->prom == NULL || s->o.metrics_linger == 0 || cap_is_live(s->cap))
        return;
    fprintf(stderr, "vtls-sensor: serving metrics on port %u for %u s\n", prom_port(s->prom),
            s->o.metrics_linger);
    for (unsigned i = 0; i < s->o.metrics_linger * 10u && !main_stop; i++)
        poll(NULL, 0, 100);
}

static int main_run(struct sensor *s)
{
    char err[CAP_ERRLEN];
    main_cap = s->cap;
    cap_set_tick(s->cap, main_tick, s);
    cap_set_threaded(s->cap, s->o.threads > 1);
    /* For tests: the reader decodes every batch, not only when it is ahead. */
    const char *notes = getenv("VTLS_READER_NOTES");
    cap_set_prep(s->cap, pl_prep, s->pl, pl_note_size(),
                 notes != NULL && strcmp(notes, "always") == 0);
    if (cap_is_live(s->cap))
        main_arm_timer();
    int rc = cap_run(s->cap, pl_packets, s->pl, err);
    if (s->progress_shown)
        fputs("\r\033[K", stderr);
    pl_finish(s->pl);
    main_publish(s);
    if (!s->o.quiet) {
        pl_print_summary(s->pl, stderr);
        main_print_capture_stats(s->cap);
    }
    if (rc != 0)
        fprintf(stderr, "vtls-sensor: %s\n", err);
    if (s->report != NULL)
        rep_print(s->report, stdout);
    fflush(stdout);
    main_linger(s);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    static struct sensor s;
    opt_parse(&s.o, argc, argv);
    const char *default_rules[] = {opt_default_rules()};
    s.rule_paths = s.o.nrules ? s.o.rules : default_rules;
    s.nrule_paths = s.o.nrules ? s.o.nrules : 1;

    if (s.o.list_fields) {
        rules_list_fields(stdout);
        return 0;
    }
    if (s.o.check_rules)
        return rules_check_files(s.rule_paths, s.nrule_paths, stderr);

    main_arm_signals();
    int rc = 1;
    if (main_setup(&s) && main_open_capture(&s))
        rc = main_run(&s);
    main_teardown(&s);
    return rc;
}
