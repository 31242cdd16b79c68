/* The reader thread of sensor/capture.c under ThreadSanitizer (Criterion's
 * shared-memory arena cannot start under TSan, so this is a plain program):
 * every packet of a capture arrives in order through the queue, a stop from
 * the callback and interruptions from another thread end or wake the run as
 * they should, notes written on the reader thread (cap_set_prep) reach the
 * callback with their packets, and an error after many packets is reported
 * after all of them. Exits 0 when every check held, 1 with a message otherwise. */
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sensor/capture.h"

#define NPKT 20000

static int failures;

static void check(int ok, const char *fmt, ...)
{
    if (ok)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("capture_threads: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    failures++;
}

static uint32_t pkt_len(unsigned i)
{
    return i % 1009 == 0 ? 65535 : (i * 7919u) % 1500;
}

static void write_capture(const char *path, int garbage)
{
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    if (d == NULL) {
        fprintf(stderr, "capture_threads: %s: %s\n", path, pcap_geterr(dead));
        exit(1);
    }
    static uint8_t pkt[65535];
    for (unsigned i = 0; i < NPKT; i++) {
        uint32_t len = pkt_len(i);
        for (uint32_t k = 0; k < len; k++)
            pkt[k] = (uint8_t)(i + k);
        struct pcap_pkthdr h = {
            .ts = {.tv_sec = 1700000000 + i, .tv_usec = 0}, .caplen = len, .len = len};
        pcap_dump((u_char *)d, &h, pkt);
    }
    pcap_dump_close(d);
    pcap_close(dead);
    if (garbage) {
        FILE *f = fopen(path, "a");
        uint32_t hdr[4] = {1700000009, 0, 0xC0000000u, 0xC0000000u};
        fwrite(hdr, sizeof(hdr), 1, f);
        fclose(f);
    }
}

struct run {
    struct cap *c;
    unsigned n, ticks, stop_at, noted;
    int notes; /* the reader writes a note for every packet (cap_set_prep) */
};

/* A note: written on the reader thread, read on the consumer's. */
struct note {
    uint32_t caplen;
    uint8_t last;
};

static void prep(const void *ctx, const struct cap_pkt *p, void *note)
{
    (void)ctx;
    struct note *nt = note;
    nt->caplen = p->caplen;
    nt->last = p->caplen > 0 ? p->data[p->caplen - 1] : 0;
}

static void on_packets(void *ctx, const struct cap_pkt *p, size_t n)
{
    struct run *r = ctx;
    for (size_t j = 0; j < n; j++, r->n++) {
        check(p[j].caplen == pkt_len(r->n), "packet %u: length %u", r->n, p[j].caplen);
        if (p[j].caplen > 0)
            check(p[j].data[p[j].caplen - 1] == (uint8_t)(r->n + p[j].caplen - 1),
                  "packet %u: bytes", r->n);
        const struct note *nt = p[j].note;
        check(r->notes == (nt != NULL), "packet %u: note %p", r->n, (const void *)nt);
        if (nt == NULL)
            continue;
        r->noted++;
        check(nt->caplen == p[j].caplen, "packet %u: note length %u", r->n, nt->caplen);
        check(p[j].caplen == 0 || nt->last == p[j].data[p[j].caplen - 1], "packet %u: note", r->n);
    }
    if (r->stop_at != 0 && r->n >= r->stop_at)
        cap_stop(r->c);
}

static void on_tick(void *ctx)
{
    ((struct run *)ctx)->ticks++;
}

/* Interrupts the capture from another thread until told to stop. */
struct poker {
    struct cap *c;
    int done;
    pthread_mutex_t lock;
};

static void *poke(void *arg)
{
    struct poker *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        int done = p->done;
        pthread_mutex_unlock(&p->lock);
        if (done)
            return NULL;
        cap_interrupt(p->c);
        nanosleep(&(struct timespec){0, 200000}, NULL);
    }
}

static int run(const char *path, struct run *r, int with_poker, char *err)
{
    r->c = cap_open_file(path, err);
    if (r->c == NULL)
        return -2;
    cap_set_threaded(r->c, true);
    cap_set_tick(r->c, on_tick, r);
    if (r->notes)
        cap_set_prep(r->c, prep, NULL, sizeof(struct note), true);
    struct poker pk = {.c = r->c};
    pthread_t tid;
    pthread_mutex_init(&pk.lock, NULL);
    if (with_poker)
        pthread_create(&tid, NULL, poke, &pk);
    int rc = cap_run(r->c, on_packets, r, err);
    if (with_poker) {
        pthread_mutex_lock(&pk.lock);
        pk.done = 1;
        pthread_mutex_unlock(&pk.lock);
        pthread_join(tid, NULL);
    }
    struct cap_stats st;
    cap_get_stats(r->c, &st);
    check(st.received == r->n, "counted %llu, delivered %u", (unsigned long long)st.received, r->n);
    cap_close(r->c);
    return rc;
}

int main(void)
{
    char path[] = "/tmp/vtls-tsan-capXXXXXX", err[CAP_ERRLEN];
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    close(fd);

    write_capture(path, 0);
    for (int poker = 0; poker < 2; poker++) {
        struct run r = {0};
        int rc = run(path, &r, poker, err);
        check(rc == 0, "rc %d: %s", rc, err);
        check(r.n == NPKT, "%u of %d packets", r.n, NPKT);
        check(r.ticks > 0, "no tick");
    }
    struct run nr = {.notes = 1};
    check(run(path, &nr, 1, err) == 0, "run with notes failed: %s", err);
    check(nr.n == NPKT && nr.noted == NPKT, "%u of %u packets noted", nr.noted, nr.n);
    struct run r = {.stop_at = 7000};
    check(run(path, &r, 1, err) == 0, "stopped run failed: %s", err);
    check(r.n >= 7000 && r.n < 7000 + CAP_VEC, "%u packets after a stop at 7000", r.n);

    write_capture(path, 1);
    struct run e = {0};
    check(run(path, &e, 0, err) == -1, "garbage not reported");
    check(e.n == NPKT, "%u good packets before the error", e.n);
    check(strstr(err, "packet 20001") != NULL, "error: %s", err);
    unlink(path);
    if (failures == 0)
        puts("capture_threads: all checks held");
    return failures == 0 ? 0 : 1;
}
