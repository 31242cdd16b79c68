/* Packet capture with libpcap: see capture.h. */
#include "sensor/capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* The reader thread hands packets over in CAP_BATCHES batches of at least
 * CAP_BATCH_BYTES each, used in turn. */
#define CAP_BATCHES     8
#define CAP_BATCH_BYTES (256u * 1024u)
#define CAP_BATCH_PKTS  2048        /* records per batch */
#define CAP_ALIGN       64          /* packet data starts on a cache line */
#define CAP_NOTE_ALIGN  16          /* notes (cap_set_prep) start on a multiple of this */
#define CAP_NOTE_BEHIND 2           /* batches waiting that make the reader note */
#define CAP_FILE_CHUNK  4096        /* packets per pcap_dispatch() on a file */
#define CAP_FILE_BUF    (1u << 20)  /* stdio buffer of a regular capture file */
#define CAP_WAIT_NS     100000000L  /* the consumer ticks at least this often */
#define CAP_STATS_NS    250000000LL /* live: kernel counters refreshed this often */
#define CAP_SPIN_NS     200000LL    /* how long a side polls before sleeping */

/* A packet in a batch. Its caplen bytes follow the previous packet's in the
 * batch's data area, each starting at a multiple of CAP_ALIGN. The records
 * sit in an array of their own, so the consumer finds every packet without
 * touching packet data and can ask the cache for many at once. */
struct cap_rec {
    uint64_t ts_us;
    uint32_t caplen;
    uint32_t wire_len;
};

struct cap_batch {
    struct cap_rec *rec;
    uint8_t *buf;
    uint8_t *notes;    /* a note of cap->note_stride bytes per record, or NULL */
    bool noted;        /* the reader wrote the notes of this batch's packets */
    unsigned count;    /* records */
    size_t used;       /* bytes of buf */
    atomic_bool ready; /* published by the reader, not yet drained */
    bool last;         /* the reader's final batch: its result is in cap_thr */
    bool flush;        /* live: published at the end of a buffer */
};

/* The reader thread and the queue between it and cap_run()'s thread. Each
 * batch is filled by the reader only, then drained by the consumer only; the
 * two semaphores count the batches each side may take, and sem_post/sem_wait
 * order the batch contents between the threads. A token in `filled` without
 * a ready batch is a wake-up from cap_stop() or cap_interrupt(). */
struct cap_thr {
    pthread_t tid;
    size_t batch_bytes;
    struct cap_batch b[CAP_BATCHES];
    /* What each side writes often sits on a cache line of its own. */
    _Alignas(64) sem_t filled;
    _Alignas(64) sem_t free;
    _Alignas(64) unsigned w; /* the reader's: next batch to fill */
    struct cap_batch *cur;   /* the batch being filled, or NULL */
    uint64_t read;           /* packets taken from libpcap */
    int rc;                  /* the result, set before the last batch */
    char err[CAP_ERRLEN];
    _Alignas(64) unsigned r;    /* the consumer's: next batch to drain */
    pthread_mutex_t stats_lock; /* guards ps and have_ps */
    struct pcap_stat ps;
    bool have_ps;
    int64_t stats_ns; /* when ps was last refreshed */
};

struct cap {
    pcap_t *pcap;
    char *source;
    bool live;
    bool threaded; /* cap_set_threaded() */
    bool pipe;     /* a file that is not a regular file: read as it comes */
    /* Written by signal handlers and read by both threads: lock-free atomics. */
    atomic_bool thread_alive; /* a reader thread runs (inside cap_run) */
    bool thr_ran;             /* a reader thread was started */
    atomic_bool stop;
    atomic_bool interrupted;
    uint64_t delivered; /* packets handed to the callback so far */
    uint64_t bytes;
    cap_batch_fn fn;
    void *ctx;
    cap_tick_fn tick;
    void *tick_ctx;
    struct cap_thr *thr;
    void *file_buf; /* the file stream's buffer, freed after pcap_close() */
    cap_prep_fn prep;
    const void *prep_ctx;
    bool prep_always;   /* the reader notes every batch, not only when it is ahead */
    size_t note_stride; /* note_size rounded up to CAP_NOTE_ALIGN */
    uint64_t noted;     /* packets delivered with a note */
};

void cap_live_opts_default(struct cap_live_opts *o)
{
    o->snaplen = 262144;
    o->promisc = true;
    o->buffer_mb = 32;
    o->immediate = false;
    o->timeout_ms = 100;
}

static struct cap *cap_new(pcap_t *p, const char *source, bool live)
{
    struct cap *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->source = strdup(source);
    if (c->source == NULL) {
        free(c);
        return NULL;
    }
    c->pcap = p;
    c->live = live;
    return c;
}

/* A regular file is opened here rather than by libpcap, so that its stream
 * reads CAP_FILE_BUF bytes per system call instead of the 4 KiB of a default
 * stdio buffer (read calls were a third of a replay's reading time).
 * Returns NULL with errno set; *vbuf is the buffer to free after the stream
 * is closed (NULL for stdin or when none could be had); *regular says
 * whether the stream is a regular file (not stdin, a pipe or a device). */
static FILE *cap_fopen(const char *path, void **vbuf, bool *regular)
{
    *vbuf = NULL;
    *regular = false;
    if (strcmp(path, "-") == 0)
        return stdin;
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (f == NULL || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        return f;
    *regular = true;
    /* Page-aligned: the kernel's copy into a buffer 16 bytes off a line
     * boundary (where malloc puts a large block) took half as long again. */
    *vbuf = aligned_alloc(4096, CAP_FILE_BUF);
    if (*vbuf != NULL && setvbuf(f, *vbuf, _IOFBF, CAP_FILE_BUF) != 0) {
        free(*vbuf);
        *vbuf = NULL;
    }
    return f;
}

struct cap *cap_open_file(const char *path, char *err)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    void *vbuf;
    bool regular;
    FILE *f = cap_fopen(path, &vbuf, &regular);
    if (f == NULL) {
        snprintf(err, CAP_ERRLEN, "%s: cannot read capture: %s", name, strerror(errno));
        return NULL;
    }
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
    if (p == NULL) {
        snprintf(err, CAP_ERRLEN, "%s: cannot read capture: %s", name, ebuf);
        if (f != stdin)
            fclose(f);
        free(vbuf);
        return NULL;
    }
    /* Only one thread reads the file; glibc would otherwise lock the stream
     * twice per packet once the process has a second thread. */
    __fsetlocking(f, FSETLOCKING_BYCALLER);
    struct cap *c = cap_new(p, name, false);
    if (c == NULL) {
        pcap_close(p);
        free(vbuf);
        snprintf(err, CAP_ERRLEN, "%s: out of memory", name);
        return NULL;
    }
    c->file_buf = vbuf;
    c->pipe = !regular;
    return c;
}

/* Apply one pcap_set_* result; false with a message when it failed. */
static bool cap_setopt(int rc, const char *what, const char *iface, char *err)
{
    if (rc == 0)
        return true;
    snprintf(err, CAP_ERRLEN, "%s: cannot set %s: %s", iface, what, pcap_statustostr(rc));
    return false;
}

static bool cap_configure(pcap_t *p, const char *iface, const struct cap_live_opts *o, char *err)
{
    if (!cap_setopt(pcap_set_snaplen(p, o->snaplen), "snaplen", iface, err))
        return false;
    if (!cap_setopt(pcap_set_promisc(p, o->promisc), "promiscuous mode", iface, err))
        return false;
    if (!cap_setopt(pcap_set_timeout(p, o->timeout_ms), "read timeout", iface, err))
        return false;
    if (!cap_setopt(pcap_set_immediate_mode(p, o->immediate), "immediate mode", iface, err))
        return false;
    if (o->buffer_mb > 0 &&
        !cap_setopt(pcap_set_buffer_size(p, o->buffer_mb * 1024 * 1024), "buffer size", iface, err))
        return false;
    return true;
}

struct cap *cap_open_live(const char *iface, const struct cap_live_opts *o, char *err)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(iface, ebuf);
    if (p == NULL) {
        snprintf(err, CAP_ERRLEN, "%s: cannot open interface: %s", iface, ebuf);
        return NULL;
    }
    err[0] = '\0';
    if (!cap_configure(p, iface, o, err))
        goto fail;

    int rc = pcap_activate(p);
    if (rc < 0) {
        const char *detail = rc == PCAP_ERROR ? pcap_geterr(p) : pcap_statustostr(rc);
        if (rc == PCAP_ERROR_NO_SUCH_DEVICE || rc == PCAP_ERROR_PERM_DENIED)
            snprintf(err, CAP_ERRLEN, "%s: cannot capture: %s (%s)", iface, pcap_statustostr(rc),
                     pcap_geterr(p));
        else
            snprintf(err, CAP_ERRLEN, "%s: cannot capture: %s", iface, detail);
        goto fail;
    }
    if (rc > 0)
        snprintf(err, CAP_ERRLEN, "%s: warning: %s", iface, pcap_statustostr(rc));

    struct cap *c = cap_new(p, iface, true);
    if (c == NULL) {
        snprintf(err, CAP_ERRLEN, "%s: out of memory", iface);
        goto fail;
    }
    return c;

fail:
    pcap_close(p);
    return NULL;
}

bool cap_set_filter(struct cap *c, const char *filter, char *err)
{
    struct bpf_program prog;
    if (pcap_compile(c->pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, CAP_ERRLEN, "%s: bad filter \"%s\": %s", c->source, filter,
                 pcap_geterr(c->pcap));
        return false;
    }
    int rc = pcap_setfilter(c->pcap, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
        snprintf(err, CAP_ERRLEN, "%s: cannot install filter: %s", c->source, pcap_geterr(c->pcap));
        return false;
    }
    return true;
}

int cap_datalink(const struct cap *c)
{
    return pcap_datalink(c->pcap);
}

static void cap_on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct cap *c = (struct cap *)user;
    struct cap_pkt p = {(uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec, bytes,
                        h->caplen, h->len, NULL};

    c->delivered++;
    c->bytes += h->caplen;
    c->fn(c->ctx, &p, 1);
}

void cap_set_tick(struct cap *c, cap_tick_fn fn, void *ctx)
{
    c->tick = fn;
    c->tick_ctx = ctx;
}

void cap_set_prep(struct cap *c, cap_prep_fn fn, const void *ctx, size_t note_size, bool always)
{
    if (note_size > CAP_NOTE_MAX)
        abort(); /* a programming error, not a run-time condition */
    size_t n = note_size > 0 ? note_size : 1;
    c->prep = fn;
    c->prep_ctx = ctx;
    c->prep_always = always;
    c->note_stride = (n + CAP_NOTE_ALIGN - 1) & ~(size_t)(CAP_NOTE_ALIGN - 1);
}

void cap_set_threaded(struct cap *c, bool on)
{
    c->threaded = on;
}

/* The message for a pcap_dispatch() error; n is the number of packets read. */
static void cap_format_error(struct cap *c, uint64_t n, char *err)
{
    if (c->live)
        snprintf(err, CAP_ERRLEN, "%s: capture failed: %s", c->source, pcap_geterr(c->pcap));
    else
        snprintf(err, CAP_ERRLEN, "%s: packet %llu: %s", c->source, (unsigned long long)n + 1,
                 pcap_geterr(c->pcap));
}

static int cap_run_single(struct cap *c, char *err)
{
    while (!c->stop) {
        /* A batch: one buffer when live, up to CAP_FILE_CHUNK packets from a file. */
        int n = pcap_dispatch(c->pcap, c->live ? -1 : CAP_FILE_CHUNK, cap_on_packet, (u_char *)c);
        if (n == PCAP_ERROR_BREAK && c->stop)
            return 0;
        if (n == PCAP_ERROR) {
            cap_format_error(c, c->delivered, err);
            return -1;
        }
        if (n == 0 && !c->live)
            return 0;
        if (c->tick != NULL)
            c->tick(c->tick_ctx);
    }
    return 0;
}

/* ---- the reader thread ---- */

static int64_t cap_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Tell the CPU we are in a polling loop. */
static inline void cap_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Poll sem for up to CAP_SPIN_NS. A batch takes about 100 us to fill or to
 * drain, and a side that sleeps on the futex costs the other a system call
 * and an inter-processor wake-up for each batch (about 13 us each on a
 * virtual machine, where they were 15% of a replay's time). */
static bool cap_spin(sem_t *sem)
{
    int64_t until = 0;
    for (unsigned i = 0;; i++) {
        if (sem_trywait(sem) == 0)
            return true;
        if ((i & 63u) == 0) {
            int64_t now = cap_now_ns();
            if (until == 0)
                until = now + CAP_SPIN_NS;
            else if (now >= until)
                return false;
        }
        cap_relax();
    }
}

/* Wait on sem through signal interruptions; false once the capture stops. */
static bool cap_take(struct cap *c, sem_t *sem)
{
    if (!cap_spin(sem))
        while (sem_wait(sem) != 0 && errno == EINTR)
            ;
    return !c->stop;
}

/* Bytes a packet of caplen bytes takes in a batch's data area. */
static inline size_t cap_padded(uint32_t caplen)
{
    return ((size_t)caplen + CAP_ALIGN - 1) & ~(size_t)(CAP_ALIGN - 1);
}

/* Reader: whether to note the packets of batch b, which it starts: always
 * when asked, else when it has time to spare, the consumer having at least
 * CAP_NOTE_BEHIND batches waiting. */
static bool cap_note_next(struct cap *c, const struct cap_batch *b)
{
    int waiting = 0;
    if (b->notes == NULL)
        return false;
    return c->prep_always ||
           (sem_getvalue(&c->thr->filled, &waiting) == 0 && waiting >= CAP_NOTE_BEHIND);
}

/* Reader: the next empty batch, or NULL when the capture stops meanwhile. */
static struct cap_batch *cap_acquire(struct cap *c)
{
    struct cap_thr *t = c->thr;
    if (!cap_take(c, &t->free))
        return NULL;
    struct cap_batch *b = &t->b[t->w++ % CAP_BATCHES];
    b->used = 0;
    b->count = 0;
    b->last = false;
    b->flush = false;
    b->noted = cap_note_next(c, b);
    return b;
}

/* Reader: hand the batch being filled to the consumer. */
static void cap_publish(struct cap *c, bool flush, bool last)
{
    struct cap_thr *t = c->thr;
    struct cap_batch *b = t->cur;
    t->cur = NULL;
    b->flush = flush;
    b->last = last;
    atomic_store_explicit(&b->ready, true, memory_order_release);
    sem_post(&t->filled);
}

static void cap_on_copy(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct cap *c = (struct cap *)user;
    struct cap_thr *t = c->thr;
    /* libpcap keeps caplen within the snap length a batch is sized for; should
     * a packet still be longer, it is cut rather than overrun the batch. */
    uint32_t caplen = h->caplen <= t->batch_bytes ? h->caplen : (uint32_t)t->batch_bytes;
    size_t need = cap_padded(caplen);
    struct cap_batch *b = t->cur;

    if (b != NULL && (b->used + need > t->batch_bytes || b->count == CAP_BATCH_PKTS))
        cap_publish(c, false, false);
    if (t->cur == NULL && (t->cur = cap_acquire(c)) == NULL) {
        pcap_breakloop(c->pcap);
        return;
    }
    b = t->cur;
    uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
    uint8_t *copy = b->buf + b->used;
    memcpy(copy, bytes, caplen);
    if (b->noted) {
        struct cap_pkt p = {ts, copy, caplen, h->len, NULL};
        c->prep(c->prep_ctx, &p, b->notes + (size_t)b->count * c->note_stride);
    }
    b->rec[b->count++] = (struct cap_rec){ts, caplen, h->len};
    b->used += need;
    t->read++;
}

/* Reader, live: refresh the snapshot of the kernel's counters now and then. */
static void cap_refresh_stats(struct cap *c, bool force)
{
    struct cap_thr *t = c->thr;
    int64_t now = cap_now_ns();
    if (!force && now - t->stats_ns < CAP_STATS_NS)
        return;
    t->stats_ns = now;
    struct pcap_stat ps;
    if (pcap_stats(c->pcap, &ps) != 0)
        return;
    pthread_mutex_lock(&t->stats_lock);
    t->ps = ps;
    t->have_ps = true;
    pthread_mutex_unlock(&t->stats_lock);
}

static void *cap_reader(void *arg)
{
    struct cap *c = arg;
    struct cap_thr *t = c->thr;
    int rc = 0;
    while (!c->stop) {
        int n = pcap_dispatch(c->pcap, c->live ? -1 : CAP_FILE_CHUNK, cap_on_copy, (u_char *)c);
        if (n == PCAP_ERROR) {
            cap_format_error(c, t->read, t->err);
            rc = -1;
            break;
        }
        if (n == 0 && !c->live)
            break;
        if (c->live) {
            if (t->cur != NULL)
                cap_publish(c, true, false);
            cap_refresh_stats(c, false);
        }
    }
    if (c->live)
        cap_refresh_stats(c, true);
    t->rc = rc;
    if (t->cur == NULL && (t->cur = cap_acquire(c)) == NULL)
        return NULL; /* stopped: the consumer no longer waits for a last batch */
    cap_publish(c, true, true);
    return NULL;
}

/* ---- the consumer: cap_run()'s thread ---- */

static void cap_thr_free(struct cap_thr *t)
{
    if (t == NULL)
        return;
    sem_destroy(&t->filled);
    sem_destroy(&t->free);
    pthread_mutex_destroy(&t->stats_lock);
    free(t->b[0].buf);
    free(t->b[0].rec);
    free(t->b[0].notes);
    free(t);
}

static struct cap_thr *cap_thr_new(struct cap *c)
{
    struct cap_thr *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    size_t one = cap_padded((uint32_t)pcap_snapshot(c->pcap));
    t->batch_bytes = one > CAP_BATCH_BYTES ? one : CAP_BATCH_BYTES;
    uint8_t *buf = aligned_alloc(CAP_ALIGN, t->batch_bytes * CAP_BATCHES);
    struct cap_rec *rec = calloc(CAP_BATCHES * CAP_BATCH_PKTS, sizeof(*rec));
    size_t batch_notes = c->note_stride * CAP_BATCH_PKTS;
    uint8_t *notes = c->prep ? aligned_alloc(CAP_ALIGN, batch_notes * CAP_BATCHES) : NULL;
    if (buf == NULL || rec == NULL || (c->prep != NULL && notes == NULL)) {
        free(buf);
        free(rec);
        free(notes);
        free(t);
        return NULL;
    }
    for (unsigned i = 0; i < CAP_BATCHES; i++) {
        t->b[i].buf = buf + i * t->batch_bytes;
        t->b[i].rec = rec + i * CAP_BATCH_PKTS;
        t->b[i].notes = notes ? notes + i * batch_notes : NULL;
        atomic_init(&t->b[i].ready, false);
    }
    sem_init(&t->filled, 0, 0);
    sem_init(&t->free, 0, CAP_BATCHES);
    pthread_mutex_init(&t->stats_lock, NULL);
    return t;
}

/* Start the reader with every signal blocked, so that handlers run on the
 * consumer's thread. */
static bool cap_start_reader(struct cap *c)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&c->thr->tid, NULL, cap_reader, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0) /* named for top -H, perf and gdb */
        pthread_setname_np(c->thr->tid, "vtls-reader");
    return rc == 0;
}

/* Deliver the packets of batch b to the callback, CAP_VEC at a time, until
 * the end or cap_stop(). The counters are updated once per batch: struct cap
 * is read by the reader for each packet. */
static void cap_drain(struct cap *c, const struct cap_batch *b)
{
    const uint8_t *p = b->buf;
    struct cap_pkt v[CAP_VEC];
    uint64_t bytes = 0;
    unsigned i = 0;
    while (i < b->count && !c->stop) {
        size_t n = 0;
        for (; n < CAP_VEC && i < b->count; n++, i++) {
            const struct cap_rec *r = &b->rec[i];
            __builtin_prefetch(p);
            uint8_t *note = b->noted ? b->notes + (size_t)i * c->note_stride : NULL;
            v[n] = (struct cap_pkt){r->ts_us, p, r->caplen, r->wire_len, note};
            bytes += r->caplen;
            p += cap_padded(r->caplen);
        }
        c->fn(c->ctx, v, n);
    }
    c->delivered += i;
    c->bytes += bytes;
    if (b->noted)
        c->noted += i;
}

/* Consumer: wait up to CAP_WAIT_NS for a token; false on a time-out. */
static bool cap_wait_filled(struct cap_thr *t)
{
    if (cap_spin(&t->filled))
        return true;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += CAP_WAIT_NS;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    return sem_timedwait(&t->filled, &dl) == 0;
}

/* Consumer loop. Returns true when the reader's last batch was drained. */
static bool cap_consume(struct cap *c)
{
    struct cap_thr *t = c->thr;
    uint64_t at_tick = c->delivered;
    while (!c->stop) {
        bool tick = !cap_wait_filled(t) || c->interrupted;
        struct cap_batch *b = &t->b[t->r % CAP_BATCHES];
        if (atomic_load_explicit(&b->ready, memory_order_acquire)) {
            cap_drain(c, b);
            bool last = b->last, flush = b->flush;
            atomic_store_explicit(&b->ready, false, memory_order_relaxed);
            t->r++;
            sem_post(&t->free);
            if (last)
                return true;
            tick = tick || flush || c->delivered - at_tick >= CAP_FILE_CHUNK;
        }
        if (tick && !c->stop && c->tick != NULL) {
            c->interrupted = false;
            at_tick = c->delivered;
            c->tick(c->tick_ctx);
        }
    }
    return false;
}

static int cap_run_threaded(struct cap *c, char *err)
{
    if (!cap_start_reader(c))
        return cap_run_single(c, err);
    c->thr_ran = true;
    c->thread_alive = true;
    bool ended = cap_consume(c);
    if (!ended)
        cap_stop(c); /* wake the reader wherever it waits */
    pthread_join(c->thr->tid, NULL);
    c->thread_alive = false;
    if (ended && c->thr->rc != 0) {
        snprintf(err, CAP_ERRLEN, "%s", c->thr->err);
        return -1;
    }
    return 0;
}

int cap_run(struct cap *c, cap_batch_fn fn, void *ctx, char *err)
{
    c->fn = fn;
    c->ctx = ctx;
    if (!c->threaded || c->pipe)
        return cap_run_single(c, err);
    if (c->thr == NULL && (c->thr = cap_thr_new(c)) == NULL)
        return cap_run_single(c, err);
    return cap_run_threaded(c, err);
}

void cap_stop(struct cap *c)
{
    c->stop = true;
    pcap_breakloop(c->pcap);
    if (c->thr != NULL) {
        sem_post(&c->thr->free);
        sem_post(&c->thr->filled);
    }
}

void cap_interrupt(struct cap *c)
{
    if (!c->thread_alive) {
        pcap_breakloop(c->pcap);
        return;
    }
    c->interrupted = true;
    sem_post(&c->thr->filled);
}

void cap_get_stats(struct cap *c, struct cap_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->received = c->delivered;
    st->bytes = c->bytes;
    st->noted = c->noted;
    st->threaded = c->thr_ran;
    if (!c->live)
        return;
    struct pcap_stat ps;
    bool have;
    if (c->thread_alive) {
        pthread_mutex_lock(&c->thr->stats_lock);
        ps = c->thr->ps;
        have = c->thr->have_ps;
        pthread_mutex_unlock(&c->thr->stats_lock);
    } else {
        have = pcap_stats(c->pcap, &ps) == 0;
    }
    if (have) {
        st->kernel_received = ps.ps_recv;
        st->kernel_drops = ps.ps_drop;
        st->if_drops = ps.ps_ifdrop;
    }
}

bool cap_is_live(const struct cap *c)
{
    return c->live;
}

const char *cap_source(const struct cap *c)
{
    return c->source;
}

void cap_close(struct cap *c)
{
    if (c == NULL)
        return;
    pcap_close(c->pcap);
    free(c->file_buf);
    cap_thr_free(c->thr);
    free(c->source);
    free(c);
}

const char *cap_lib_version(char *buf, size_t len)
{
    const char *v = pcap_lib_version();
    const char *prefix = "libpcap version ";
    if (strncmp(v, prefix, strlen(prefix)) == 0)
        v += strlen(prefix);
    snprintf(buf, len, "%.*s", (int)strcspn(v, " "), v);
    return buf;
}
