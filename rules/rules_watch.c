/* Reload triggers: the SIGHUP flag and inotify watches on the rule files
 * and their directories.
 *
 * A file is watched itself (edits in place) and through its directory
 * (replacement by rename, deletion and re-creation, and Kubernetes
 * ConfigMap updates, which write a new `..<timestamp>` directory and swap
 * the `..data` symlink that the visible file names point through).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules/rules_int.h"

static volatile sig_atomic_t rules_reload_flag;

void rules_reload_request(void)
{
    rules_reload_flag = 1;
}

void rules_sighup_handler(int sig)
{
    (void)sig;
    rules_reload_flag = 1;
}

bool rules_reload_pending(void)
{
    if (!rules_reload_flag)
        return false;
    rules_reload_flag = 0;
    return true;
}

#define WATCH_MAX 64

#define FILE_MASK (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF)
#define DIR_MASK  (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_MODIFY)

struct rules_watch_entry {
    char path[PATH_MAX];
    char base[NAME_MAX + 1]; /* file name inside dir; "" for a watched directory */
    bool is_dir;
    int wd;     /* watch on the file itself (or the watched directory) */
    int dir_wd; /* watch on the directory holding the file */
};

struct rules_watch {
    int fd;
    size_t n;
    struct rules_watch_entry e[WATCH_MAX];
};

static void watch_arm(struct rules_watch *w, struct rules_watch_entry *e)
{
    char dir[PATH_MAX];

    e->wd = inotify_add_watch(w->fd, e->path, e->is_dir ? DIR_MASK : FILE_MASK);
    if (e->is_dir)
        return;
    snprintf(dir, sizeof(dir), "%s", e->path);
    if (e->dir_wd < 0)
        e->dir_wd = inotify_add_watch(w->fd, dirname(dir), DIR_MASK);
}

struct rules_watch *rules_watch_open(const char *const *paths, size_t n, char *err, size_t errlen)
{
    struct rules_watch *w;

    if (n > WATCH_MAX) {
        snprintf(err, errlen, "too many rule paths to watch (at most %d)", WATCH_MAX);
        return NULL;
    }
    w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0) {
        snprintf(err, errlen, "inotify_init1: %s", strerror(errno));
        free(w);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        struct rules_watch_entry *e = &w->e[w->n++];
        struct stat st;
        char tmp[PATH_MAX];
        snprintf(e->path, sizeof(e->path), "%s", paths[i]);
        snprintf(tmp, sizeof(tmp), "%s", paths[i]);
        snprintf(e->base, sizeof(e->base), "%s", basename(tmp));
        e->is_dir = stat(e->path, &st) == 0 && S_ISDIR(st.st_mode);
        e->wd = e->dir_wd = -1;
        watch_arm(w, e);
        if (e->wd < 0 && e->dir_wd < 0) {
            snprintf(err, errlen, "cannot watch %s: %s", e->path, strerror(errno));
            rules_watch_close(w);
            return NULL;
        }
    }
    return w;
}

int rules_watch_fd(const struct rules_watch *w)
{
    return w->fd;
}

static bool yaml_file_name(const char *n)
{
    size_t l = strlen(n);
    return (l > 5 && strcmp(n + l - 5, ".yaml") == 0) || (l > 4 && strcmp(n + l - 4, ".yml") == 0);
}

/* Does event ev concern entry e? */
static bool watch_hit(const struct rules_watch_entry *e, const struct inotify_event *ev)
{
    const char *name = ev->len ? ev->name : "";

    if (ev->wd == e->wd)
        return !e->is_dir || name[0] == '.' || yaml_file_name(name);
    if (ev->wd != e->dir_wd)
        return false;
    /* in the file's directory: the file itself, or a ConfigMap "..data" swap */
    return strcmp(name, e->base) == 0 || strncmp(name, "..", 2) == 0;
}

bool rules_watch_changed(struct rules_watch *w)
{
    _Alignas(struct inotify_event) char buf[4096];
    bool hit = false;
    ssize_t r;

    while ((r = read(w->fd, buf, sizeof(buf))) > 0) {
        for (char *p = buf; p < buf + r;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            for (size_t i = 0; i < w->n; i++) {
                struct rules_watch_entry *e = &w->e[i];
                hit |= watch_hit(e, ev);
                if (ev->wd == e->wd && (ev->mask & IN_IGNORED))
                    e->wd = -1; /* file gone or replaced: re-armed below */
            }
            p += sizeof(*ev) + ev->len;
        }
    }
    /* Re-arm: a replaced file has a new inode; adding the same inode again
     * just returns its existing watch. */
    for (size_t i = 0; hit && i < w->n; i++) {
        struct rules_watch_entry *e = &w->e[i];
        if (!e->is_dir) {
            int wd = inotify_add_watch(w->fd, e->path, FILE_MASK);
            if (wd >= 0)
                e->wd = wd;
        }
    }
    return hit;
}

void rules_watch_close(struct rules_watch *w)
{
    if (!w)
        return;
    close(w->fd);
    free(w);
}
