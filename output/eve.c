/* EVE-like JSON lines: see eve.h. */
#include "output/eve.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output/community_id.h"

/* ---- record scope (see eve.h) ---- */

#define EVE_ARENA_BYTES (32u * 1024u)

struct eve_arena {
    alignas(max_align_t) unsigned char buf[EVE_ARENA_BYTES];
    size_t used;
    bool open;
};

static _Thread_local struct eve_arena eve_arena;
static pthread_once_t eve_alloc_once = PTHREAD_ONCE_INIT;

static void *eve_json_alloc(size_t n)
{
    struct eve_arena *a = &eve_arena;
    size_t need = (n + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
    if (a->open && need <= EVE_ARENA_BYTES - a->used) {
        void *p = a->buf + a->used;
        a->used += need;
        return p;
    }
    return malloc(n);
}

static void eve_json_free(void *p)
{
    const unsigned char *c = p;
    const struct eve_arena *a = &eve_arena;
    if (c >= a->buf && c < a->buf + EVE_ARENA_BYTES)
        return; /* released with its scope */
    free(p);
}

/* Every allocation not made inside a scope is an ordinary malloc, so the
 * functions may be installed while values already exist. */
static void eve_install_alloc(void)
{
    json_set_alloc_funcs(eve_json_alloc, eve_json_free);
}

void eve_scope_begin(void)
{
    pthread_once(&eve_alloc_once, eve_install_alloc);
    eve_arena.used = 0;
    eve_arena.open = true;
}

size_t eve_scope_used(void)
{
    return eve_arena.open ? eve_arena.used : 0;
}

void eve_scope_end(void)
{
    eve_arena.open = false;
    eve_arena.used = 0;
}

/* ---- writer ---- */

struct eve_writer {
    int fd;
    bool is_stdout;
    char *path;
    struct eve_stats st;
};

static int eve_open_fd(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

struct eve_writer *eve_open(const char *path, char *err)
{
    struct eve_writer *w = calloc(1, sizeof(*w));
    if (w == NULL || (w->path = strdup(path)) == NULL) {
        snprintf(err, EVE_ERRLEN, "%s: out of memory", path);
        free(w);
        return NULL;
    }
    w->is_stdout = strcmp(path, "-") == 0;
    w->fd = w->is_stdout ? STDOUT_FILENO : eve_open_fd(path);
    if (w->fd < 0) {
        snprintf(err, EVE_ERRLEN, "%s: cannot open for appending: %s", path, strerror(errno));
        free(w->path);
        free(w);
        return NULL;
    }
    return w;
}

bool eve_reopen(struct eve_writer *w, char *err)
{
    if (w->is_stdout)
        return true;
    int fd = eve_open_fd(w->path);
    if (fd < 0) {
        snprintf(err, EVE_ERRLEN, "%s: cannot reopen: %s", w->path, strerror(errno));
        return false;
    }
    close(w->fd);
    w->fd = fd;
    return true;
}

/* One write() of the whole line; EINTR is retried, anything short is a loss. */
static bool eve_write_line(struct eve_writer *w, const char *buf, size_t len)
{
    ssize_t n;
    do {
        n = write(w->fd, buf, len);
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t)len) {
        w->st.lines++;
        w->st.bytes += len;
        return true;
    }
    w->st.write_errors++;
    w->st.last_errno = n < 0 ? errno : ENOSPC;
    return false;
}

bool eve_write(struct eve_writer *w, const json_t *obj)
{
    char stackbuf[4096];
    size_t flags = JSON_COMPACT | JSON_REAL_PRECISION(10);
    /* One encoding pass when the line fits the stack buffer (nearly always). */
    size_t need = json_dumpb(obj, stackbuf, sizeof(stackbuf) - 1, flags);
    if (need == 0) {
        w->st.encode_errors++;
        return false;
    }
    char *buf = stackbuf;
    if (need + 1 > sizeof(stackbuf)) {
        buf = malloc(need + 1);
        if (buf == NULL) {
            w->st.encode_errors++;
            return false;
        }
        need = json_dumpb(obj, buf, need, flags);
    }
    buf[need] = '\n';
    bool ok = eve_write_line(w, buf, need + 1);
    if (buf != stackbuf)
        free(buf);
    return ok;
}

const struct eve_stats *eve_writer_stats(const struct eve_writer *w)
{
    return &w->st;
}

const char *eve_writer_path(const struct eve_writer *w)
{
    return w->path;
}

void eve_close(struct eve_writer *w)
{
    if (w == NULL)
        return;
    if (!w->is_stdout)
        close(w->fd);
    free(w->path);
    free(w);
}

char *eve_time(uint64_t us, char buf[32])
{
    time_t secs = (time_t)(us / 1000000u);
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL) {
        snprintf(buf, 32, "invalid");
        return buf;
    }
    size_t n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, 32 - n, ".%06uZ", (unsigned)(us % 1000000u));
    return buf;
}

static const char *eve_proto_name(uint8_t proto)
{
    return proto == 6 ? "TCP" : proto == 17 ? "UDP" : "IP";
}

/* Set key to a new JSON value; a NULL value (allocation failure) marks failure. */
static bool eve_set(json_t *obj, const char *key, json_t *val)
{
    return val != NULL && json_object_set_new(obj, key, val) == 0;
}

static bool eve_set_str(json_t *obj, const char *key, const char *s)
{
    return eve_set(obj, key, json_string(s));
}

static bool eve_set_int(json_t *obj, const char *key, uint64_t v)
{
    return eve_set(obj, key, json_integer((json_int_t)v));
}

static bool eve_set_time(json_t *obj, const char *key, uint64_t us)
{
    char buf[32];
    return eve_set_str(obj, key, eve_time(us, buf));
}

static bool eve_set_vlan(json_t *obj, const struct flow *f)
{
    if (f->key.vlan[0] == 0 && f->key.vlan[1] == 0)
        return true;
    json_t *arr = json_array();
    bool ok = arr != NULL;
    for (unsigned i = 0; ok && i < DEC_MAX_VLAN; i++)
        if (f->key.vlan[i] != 0)
            ok = json_array_append_new(arr, json_integer(f->key.vlan[i])) == 0;
    return ok ? eve_set(obj, "vlan", arr) : (json_decref(arr), false);
}

json_t *eve_record(const struct flow *f, const char *event_type, uint64_t ts_us, uint16_t cid_seed)
{
    unsigned cs = flow_client_side(f), ss = flow_server_side(f);
    char src[64], dst[64], cid[CID_LEN];
    dec_addr_str(&f->key.addr[cs], f->key.family, src, sizeof(src));
    dec_addr_str(&f->key.addr[ss], f->key.family, dst, sizeof(dst));
    cid_v1(cid_seed, f->key.family, &f->key.addr[cs], f->key.port[cs], &f->key.addr[ss],
           f->key.port[ss], f->key.proto, cid);

    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    bool ok = eve_set_time(o, "timestamp", ts_us) && eve_set_str(o, "event_type", event_type) &&
              eve_set_int(o, "flow_id", f->id) && eve_set_str(o, "community_id", cid) &&
              eve_set_str(o, "src_ip", src) && eve_set_int(o, "src_port", f->key.port[cs]) &&
              eve_set_str(o, "dest_ip", dst) && eve_set_int(o, "dest_port", f->key.port[ss]) &&
              eve_set_str(o, "proto", eve_proto_name(f->key.proto)) && eve_set_vlan(o, f);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static const char *eve_state_name(uint8_t state)
{
    switch (state) {
    case FLOW_S_SYN_SENT:
        return "syn_sent";
    case FLOW_S_SYN_ACKED:
        return "syn_acked";
    case FLOW_S_ESTABLISHED:
        return "established";
    case FLOW_S_FIN_WAIT:
        return "fin_wait";
    case FLOW_S_CLOSED:
        return "closed";
    default:
        return "udp";
    }
}

json_t *eve_flow_record(const struct flow *f, enum flow_end why, uint16_t cid_seed)
{
    json_t *o = eve_record(f, "flow", f->last_us, cid_seed);
    json_t *fl = json_object();
    if (o == NULL || fl == NULL)
        goto fail;
    uint64_t age = (f->last_us - f->first_us) / 1000000u;
    bool ok = eve_set_int(fl, "pkts_toserver", f->pkts[FLOW_TO_SERVER]) &&
              eve_set_int(fl, "pkts_toclient", f->pkts[FLOW_TO_CLIENT]) &&
              eve_set_int(fl, "bytes_toserver", f->bytes[FLOW_TO_SERVER]) &&
              eve_set_int(fl, "bytes_toclient", f->bytes[FLOW_TO_CLIENT]) &&
              eve_set_time(fl, "start", f->first_us) && eve_set_time(fl, "end", f->last_us) &&
              eve_set_int(fl, "age", age) && eve_set_str(fl, "state", eve_state_name(f->state)) &&
              eve_set_str(fl, "reason", flow_end_name(why)) &&
              eve_set(fl, "midstream", json_boolean(f->flags & FLOW_F_MIDSTREAM));
    if (!ok)
        goto fail;
    if (!eve_set(o, "flow", fl)) {
        fl = NULL; /* json_object_set_new() released it */
        goto fail;
    }
    return o;

fail:
    json_decref(fl);
    json_decref(o);
    return NULL;
}
