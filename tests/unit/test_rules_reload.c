/* Rules reload: the holder swaps in a completely compiled set, keeps the
 * old one on errors, counts outcomes; concurrent readers see whole sets;
 * inotify sees edits, replacements and ConfigMap symlink swaps; SIGHUP.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper_rules.h"
#include "rules/rules.h"

static char tmpdir[64];

static void make_tmp(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/vtls-rules-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void rm_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

/* A valid set of n rules all named "vV-i", so a reader can tell a whole
 * set from a mix. */
static void write_version(const char *path, int v, int n)
{
    char buf[8192];
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        at += (size_t)snprintf(buf + at, sizeof(buf) - at,
                               "- rule: v%d-%d\n  condition: flow.app exists\n"
                               "  output: \"v%d\"\n  severity: info\n",
                               v, i, v);
    }
    write_file(path, buf);
}

static const char *set_version(const struct rules_set *s, char *buf, size_t len)
{
    const char *name = rules_rule_name(rules_set_rule(s, 0));
    snprintf(buf, len, "%.*s", (int)strcspn(name, "-"), name);
    return buf;
}

Test(rules_reload, good_replaces_broken_keeps, .init = make_tmp, .fini = rm_tmp)
{
    char path[128], v[16];
    const char *paths[] = {path};
    struct rules_holder h;
    struct rules_errors e = {0};

    snprintf(path, sizeof(path), "%s/r.yaml", tmpdir);
    cr_assert(rules_holder_init(&h));
    cr_assert_null(rules_holder_acquire(&h));

    write_version(path, 1, 3);
    cr_assert(rules_holder_reload(&h, paths, 1, 1000, &e));
    struct rules_set *s1 = rules_holder_acquire(&h);
    cr_assert_str_eq(set_version(s1, v, sizeof(v)), "v1");
    struct rules_reload_stats st = rules_holder_stats(&h);
    cr_assert_eq(st.success, 1);
    cr_assert_eq(st.failure, 0);
    cr_assert_eq(st.last_success, 1000);
    cr_assert_eq(st.rules_loaded, 3);

    /* broken: the old set stays, the failure is counted and reported */
    write_file(path, "- rule: x\n  condition: flow.app = = grpc\n  output: o\n  severity: low\n");
    cr_assert_not(rules_holder_reload(&h, paths, 1, 2000, &e));
    cr_assert_eq(e.count, 1);
    cr_assert(strstr(e.msg[0], "r.yaml:2:25: expected a value after the operator, got '='"), "%s",
              e.msg[0]);
    rules_errors_free(&e);
    struct rules_set *s2 = rules_holder_acquire(&h);
    cr_assert_eq(s2, s1);
    rules_set_release(s2);
    st = rules_holder_stats(&h);
    cr_assert_eq(st.success, 1);
    cr_assert_eq(st.failure, 1);
    cr_assert_eq(st.last_failure, 2000);
    cr_assert_eq(st.rules_loaded, 3);

    /* good again: swapped; the set acquired before stays usable */
    write_version(path, 2, 5);
    cr_assert(rules_holder_reload(&h, paths, 1, 3000, &e));
    struct rules_set *s3 = rules_holder_acquire(&h);
    cr_assert_str_eq(set_version(s3, v, sizeof(v)), "v2");
    cr_assert_str_eq(set_version(s1, v, sizeof(v)), "v1");
    struct rules_event ev = {.kind = RULES_EVENT_FLOW};
    ev.flow.app = "grpc";
    cr_assert_eq(rules_set_eval(s1, &ev, NULL, NULL), 3);
    cr_assert_eq(rules_set_eval(s3, &ev, NULL, NULL), 5);
    rules_set_release(s1); /* last user of v1: freed now (ASan checks) */
    st = rules_holder_stats(&h);
    cr_assert_eq(st.success, 2);
    cr_assert_eq(st.rules_loaded, 5);
    rules_set_release(s3);
    rules_holder_destroy(&h);
}

struct race {
    struct rules_holder *h;
    atomic_bool stop;
    atomic_long evals;
    atomic_long mixed;
};

/* Reader: every set acquired must be whole: n rules of one version, all
 * matching the event, each output naming that version. */
static void *reader(void *arg)
{
    struct race *r = arg;
    struct rules_event ev = {.kind = RULES_EVENT_FLOW};
    ev.flow.app = "grpc";

    while (!atomic_load(&r->stop)) {
        struct rules_set *s = rules_holder_acquire(r->h);
        char v[16], out[32];
        if (!s)
            continue;
        set_version(s, v, sizeof(v));
        size_t n = rules_set_count(s);
        bool whole = (strcmp(v, "v1") == 0 && n == 4) || (strcmp(v, "v2") == 0 && n == 9);
        whole = whole && rules_set_eval(s, &ev, NULL, NULL) == n;
        for (size_t i = 0; whole && i < n; i++) {
            rules_rule_format(rules_set_rule(s, i), &ev, out, sizeof(out));
            whole = strcmp(out, v) == 0;
        }
        if (!whole)
            atomic_fetch_add(&r->mixed, 1);
        atomic_fetch_add(&r->evals, 1);
        rules_set_release(s);
    }
    return NULL;
}

Test(rules_reload, concurrent_readers_see_whole_sets, .init = make_tmp, .fini = rm_tmp)
{
    char p1[128], p2[128];
    struct rules_holder h;
    struct race r = {.h = &h};
    pthread_t t[2];

    snprintf(p1, sizeof(p1), "%s/v1.yaml", tmpdir);
    snprintf(p2, sizeof(p2), "%s/v2.yaml", tmpdir);
    write_version(p1, 1, 4);
    write_version(p2, 2, 9);
    const char *a[] = {p1}, *b[] = {p2};
    cr_assert(rules_holder_init(&h));
    cr_assert(rules_holder_reload(&h, a, 1, 1, NULL));
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, reader, &r);
    for (int i = 0; i < 200; i++)
        cr_assert(rules_holder_reload(&h, i % 2 ? a : b, 1, i, NULL));
    atomic_store(&r.stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(atomic_load(&r.mixed), 0);
    cr_assert_gt(atomic_load(&r.evals), 0);
    cr_assert_eq(rules_holder_stats(&h).success, 201);
    rules_holder_destroy(&h);
}

/* Wait up to 2 s for the watch fd, then drain it. */
static bool watch_fires(struct rules_watch *w)
{
    struct pollfd pfd = {.fd = rules_watch_fd(w), .events = POLLIN};
    bool hit = false;
    for (int i = 0; i < 20 && !hit; i++) {
        if (poll(&pfd, 1, 100) > 0)
            hit = rules_watch_changed(w);
    }
    return hit;
}

Test(rules_watch, edit_rename_and_configmap_swap, .init = make_tmp, .fini = rm_tmp)
{
    char file[128], other[128], tmp[160], err[128];

    /* a plain file: edited in place, then replaced by rename */
    snprintf(file, sizeof(file), "%s/rules.yaml", tmpdir);
    snprintf(other, sizeof(other), "%s/unrelated.txt", tmpdir);
    write_version(file, 1, 1);
    const char *paths[] = {file};
    struct rules_watch *w = rules_watch_open(paths, 1, err, sizeof(err));
    cr_assert_not_null(w, "%s", err);
    cr_assert_not(rules_watch_changed(w));

    write_version(file, 2, 1);
    cr_assert(watch_fires(w));
    write_file(other, "x"); /* another file in the directory: ignored */
    cr_assert_not(watch_fires(w));
    snprintf(tmp, sizeof(tmp), "%s/.rules.yaml.tmp", tmpdir);
    write_version(tmp, 3, 1);
    cr_assert_eq(rename(tmp, file), 0);
    cr_assert(watch_fires(w));
    write_version(file, 4, 1); /* the new inode is watched too */
    cr_assert(watch_fires(w));
    rules_watch_close(w);
}

Test(rules_watch, configmap_symlink_swap, .init = make_tmp, .fini = rm_tmp)
{
    char path[256], err[128], buf[256];

    /* ConfigMap layout: rules.yaml -> ..data/rules.yaml, ..data -> ..v1 */
    snprintf(buf, sizeof(buf), "%s/..v1", tmpdir);
    mkdir(buf, 0755);
    snprintf(buf, sizeof(buf), "%s/..v1/rules.yaml", tmpdir);
    write_version(buf, 1, 1);
    snprintf(buf, sizeof(buf), "%s/..data", tmpdir);
    cr_assert_eq(symlink("..v1", buf), 0);
    snprintf(path, sizeof(path), "%s/rules.yaml", tmpdir);
    cr_assert_eq(symlink("..data/rules.yaml", path), 0);

    const char *paths[] = {path};
    struct rules_watch *w = rules_watch_open(paths, 1, err, sizeof(err));
    cr_assert_not_null(w, "%s", err);

    /* kubelet: write ..v2, make ..data_tmp -> ..v2, rename over ..data */
    snprintf(buf, sizeof(buf), "%s/..v2", tmpdir);
    mkdir(buf, 0755);
    snprintf(buf, sizeof(buf), "%s/..v2/rules.yaml", tmpdir);
    write_version(buf, 2, 1);
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "%s/..data_tmp", tmpdir);
    cr_assert_eq(symlink("..v2", tmp), 0);
    snprintf(buf, sizeof(buf), "%s/..data", tmpdir);
    cr_assert_eq(rename(tmp, buf), 0);
    cr_assert(watch_fires(w));

    /* the set loads through the new link */
    struct rules_set *s = rules_load(paths, 1, NULL);
    cr_assert_not_null(s);
    cr_assert_str_eq(rules_rule_name(rules_set_rule(s, 0)), "v2-0");
    rules_set_release(s);
    rules_watch_close(w);
}

Test(rules_watch, directory_path, .init = make_tmp, .fini = rm_tmp)
{
    char err[128], buf[160];
    const char *paths[] = {tmpdir};

    snprintf(buf, sizeof(buf), "%s/10-a.yaml", tmpdir);
    write_version(buf, 1, 1);
    struct rules_watch *w = rules_watch_open(paths, 1, err, sizeof(err));
    cr_assert_not_null(w, "%s", err);
    snprintf(buf, sizeof(buf), "%s/20-b.yaml", tmpdir);
    write_version(buf, 2, 1);
    cr_assert(watch_fires(w));
    snprintf(buf, sizeof(buf), "%s/notes.txt", tmpdir);
    write_file(buf, "x");
    cr_assert_not(watch_fires(w));
    rules_watch_close(w);

    const char *missing[] = {"/nonexistent/dir/rules.yaml"};
    cr_assert_null(rules_watch_open(missing, 1, err, sizeof(err)));
    cr_assert(strstr(err, "cannot watch /nonexistent/dir/rules.yaml"), "%s", err);
}

Test(rules_watch, sighup_flag)
{
    struct sigaction sa = {.sa_handler = rules_sighup_handler};
    struct sigaction old;

    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGHUP, &sa, &old), 0);
    cr_assert_not(rules_reload_pending());
    raise(SIGHUP);
    cr_assert(rules_reload_pending());
    cr_assert_not(rules_reload_pending());
    rules_reload_request();
    cr_assert(rules_reload_pending());
    sigaction(SIGHUP, &old, NULL);
}
