/* Capture files: good, truncated at every kind of boundary, garbage; each
 * read on the caller's thread and through the reader thread. */
#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sensor/capture.h"

#define NPKT   5
#define PKTLEN 60

struct seen {
    unsigned n;
    uint64_t ts[NPKT];
    uint32_t caplen[NPKT];
};

static void on_packets(void *ctx, const struct cap_pkt *p, size_t n)
{
    struct seen *s = ctx;
    for (size_t i = 0; i < n; i++) {
        cr_assert_lt(s->n, NPKT);
        cr_assert_eq(p[i].data[0], s->n, "packet %u carries the wrong bytes", s->n);
        cr_assert_eq(p[i].wire_len, PKTLEN + 10);
        s->ts[s->n] = p[i].ts_us;
        s->caplen[s->n] = p[i].caplen;
        s->n++;
    }
}

/* Write NPKT Ethernet-sized records into a fresh temporary file; returns its size. */
static long write_capture(char *path)
{
    strcpy(path, "/tmp/vtls-test-capXXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    cr_assert_not_null(d);
    for (unsigned i = 0; i < NPKT; i++) {
        uint8_t pkt[PKTLEN];
        memset(pkt, (int)i, sizeof(pkt));
        struct pcap_pkthdr h = {
            .ts = {.tv_sec = 1700000000 + i, .tv_usec = 250}, .caplen = PKTLEN, .len = PKTLEN + 10};
        pcap_dump((u_char *)d, &h, pkt);
    }
    pcap_dump_close(d);
    pcap_close(dead);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    return (long)st.st_size;
}

static int replay_mode(const char *path, struct seen *s, char *err, bool threaded)
{
    memset(s, 0, sizeof(*s));
    struct cap *c = cap_open_file(path, err);
    if (c == NULL)
        return -2;
    cap_set_threaded(c, threaded);
    int rc = cap_run(c, on_packets, s, err);
    struct cap_stats st;
    cap_get_stats(c, &st);
    cr_expect_eq(st.received, s->n, "the count matches what the callback saw");
    cap_close(c);
    return rc;
}

/* Both modes must give the same result: the caller's thread's first. */
static int replay(const char *path, struct seen *s, char *err)
{
    struct seen s2;
    char err2[CAP_ERRLEN] = "";
    int rc = replay_mode(path, s, err, false);
    int rc2 = replay_mode(path, &s2, err2, true);
    cr_expect_eq(rc2, rc, "threaded %d, not %d", rc2, rc);
    cr_expect(memcmp(&s2, s, sizeof(s2)) == 0, "threaded read delivered other packets");
    if (rc != 0)
        cr_expect_str_eq(err2, err);
    return rc;
}

Test(capture, reads_every_packet_with_packet_time)
{
    char path[64], err[CAP_ERRLEN];
    struct seen s;
    write_capture(path);
    cr_assert_eq(replay(path, &s, err), 0, "%s", err);
    cr_assert_eq(s.n, NPKT);
    cr_assert_eq(s.ts[2], (1700000002ull * 1000000u) + 250u);
    cr_assert_eq(s.caplen[4], PKTLEN);
    unlink(path);
}

/* ---- many packets through the reader thread ---- */

#define MANY 30000

/* Packet i: its length (0 to 65535, a few at the snap length so that one
 * fills a batch alone) and the byte at offset k. */
static uint32_t many_len(unsigned i)
{
    return i % 997 == 0 ? 65535 : (i * 7919u) % 1600;
}

static uint8_t many_byte(unsigned i, uint32_t k)
{
    return (uint8_t)(i * 31u + k * 7u);
}

static void write_many(char *path)
{
    strcpy(path, "/tmp/vtls-test-manyXXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    cr_assert_not_null(d);
    static uint8_t pkt[65535];
    for (unsigned i = 0; i < MANY; i++) {
        uint32_t len = many_len(i);
        for (uint32_t k = 0; k < len; k++)
            pkt[k] = many_byte(i, k);
        struct pcap_pkthdr h = {.ts = {.tv_sec = 1700000000 + i / 1000, .tv_usec = i % 1000},
                                .caplen = len,
                                .len = len + 4};
        pcap_dump((u_char *)d, &h, pkt);
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

struct many {
    unsigned n, calls, ticks, biggest;
    unsigned stop_at; /* cap_stop() from the callback after this many; 0: never */
    struct cap *c;
};

static void on_many(void *ctx, const struct cap_pkt *p, size_t n)
{
    struct many *m = ctx;
    cr_assert(n >= 1 && n <= CAP_VEC, "%zu packets in one call", n);
    m->calls++;
    m->biggest = n > m->biggest ? (unsigned)n : m->biggest;
    for (size_t j = 0; j < n; j++, m->n++) {
        unsigned i = m->n;
        cr_assert_eq(p[j].caplen, many_len(i), "packet %u", i);
        cr_assert_eq(p[j].wire_len, many_len(i) + 4);
        cr_assert_eq(p[j].ts_us, (1700000000ull + i / 1000) * 1000000u + i % 1000);
        for (uint32_t k = 0; k < p[j].caplen; k += 97)
            cr_assert_eq(p[j].data[k], many_byte(i, k), "packet %u byte %u", i, k);
    }
    if (m->stop_at != 0 && m->n >= m->stop_at)
        cap_stop(m->c);
}

static void on_tick(void *ctx)
{
    ((struct many *)ctx)->ticks++;
}

static int run_many(const char *path, struct many *m, bool threaded, char *err)
{
    struct cap *c = cap_open_file(path, err);
    cr_assert_not_null(c, "%s", err);
    m->c = c;
    cap_set_threaded(c, threaded);
    cap_set_tick(c, on_tick, m);
    int rc = cap_run(c, on_many, m, err);
    cap_close(c);
    return rc;
}

Test(capture, reader_thread_delivers_every_packet_in_order)
{
    char path[64], err[CAP_ERRLEN];
    write_many(path);
    for (int threaded = 0; threaded < 2; threaded++) {
        struct many m = {0};
        cr_assert_eq(run_many(path, &m, threaded, err), 0, "%s", err);
        cr_expect_eq(m.n, MANY);
        /* A tick at least every 4096 packets of a file. */
        cr_expect_geq(m.ticks, MANY / 4096, "%u ticks", m.ticks);
        if (threaded)
            cr_expect_gt(m.biggest, 1, "the reader thread hands packets over in batches");
        else
            cr_expect_eq(m.calls, MANY, "without it, one packet per call");
    }
    unlink(path);
}

Test(capture, stop_from_the_callback_ends_the_run)
{
    char path[64], err[CAP_ERRLEN];
    write_many(path);
    for (int threaded = 0; threaded < 2; threaded++) {
        struct many m = {.stop_at = 5000};
        cr_assert_eq(run_many(path, &m, threaded, err), 0, "%s", err);
        cr_expect_geq(m.n, 5000);
        cr_expect_lt(m.n, 5000 + CAP_VEC, "%u packets after a stop at 5000", m.n);
    }
    unlink(path);
}

/* ---- notes made on the reader thread (cap_set_prep) ---- */

struct note_rec {
    uint64_t ts_us;
    uint32_t caplen;
    uint8_t first, last;
    bool note_was_null;
};

static const int prep_ctx = 7;

/* Runs on the reader thread: no Criterion assertions here, only records. */
static void prep_note(const void *ctx, const struct cap_pkt *p, void *note)
{
    struct note_rec *r = note;
    r->ts_us = p->ts_us + (ctx == &prep_ctx ? 0 : 1);
    r->caplen = p->caplen;
    r->first = p->caplen ? p->data[0] : 0;
    r->last = p->caplen ? p->data[p->caplen - 1] : 0;
    r->note_was_null = p->note == NULL;
}

struct noted {
    unsigned n, noted, bad, mixed_calls;
    unsigned slow_calls; /* the first calls sleep, so that the reader gets ahead */
};

static void on_noted(void *ctx, const struct cap_pkt *p, size_t n)
{
    struct noted *m = ctx;
    unsigned with = 0;
    for (size_t j = 0; j < n; j++) {
        const struct note_rec *r = p[j].note;
        if (r == NULL)
            continue;
        with++;
        bool ok = r->ts_us == p[j].ts_us && r->caplen == p[j].caplen && r->note_was_null &&
                  (p[j].caplen == 0 ||
                   (r->first == p[j].data[0] && r->last == p[j].data[p[j].caplen - 1]));
        m->bad += !ok;
    }
    m->mixed_calls += with != 0 && with != n;
    m->noted += with;
    m->n += (unsigned)n;
    if (m->slow_calls > 0) {
        m->slow_calls--;
        nanosleep(&(struct timespec){0, 200000}, NULL);
    }
}

static void run_noted(const char *path, bool threaded, bool always, struct noted *m,
                      struct cap_stats *st)
{
    char err[CAP_ERRLEN];
    struct cap *c = cap_open_file(path, err);
    cr_assert_not_null(c, "%s", err);
    cap_set_threaded(c, threaded);
    cap_set_prep(c, prep_note, &prep_ctx, sizeof(struct note_rec), always);
    cr_assert_eq(cap_run(c, on_noted, m, err), 0, "%s", err);
    cap_get_stats(c, st);
    cap_close(c);
}

Test(capture, reader_notes_every_packet_when_asked)
{
    char path[64];
    write_many(path);
    struct noted m = {0};
    struct cap_stats st;
    run_noted(path, true, true, &m, &st);
    cr_expect_eq(m.n, MANY);
    cr_expect_eq(m.noted, MANY, "%u of %u packets noted", m.noted, m.n);
    cr_expect_eq(m.bad, 0, "%u notes do not match their packet", m.bad);
    cr_expect(st.threaded);
    cr_expect_eq(st.noted, MANY);
    unlink(path);
}

Test(capture, reader_notes_batches_when_the_callbacks_fall_behind)
{
    char path[64];
    write_many(path);
    struct noted m = {.slow_calls = 200};
    struct cap_stats st;
    run_noted(path, true, false, &m, &st);
    cr_expect_eq(m.n, MANY);
    cr_expect_gt(m.noted, 0, "the reader was ahead and noted no batch");
    cr_expect_eq(m.bad, 0, "%u notes do not match their packet", m.bad);
    cr_expect_eq(m.mixed_calls, 0, "a call mixed packets with and without notes");
    cr_expect_eq(st.noted, m.noted);

    /* Without the reader thread nothing is noted. */
    struct noted one = {0};
    run_noted(path, false, true, &one, &st);
    cr_expect_eq(one.n, MANY);
    cr_expect_eq(one.noted, 0);
    cr_expect(!st.threaded);
    cr_expect_eq(st.noted, 0);
    unlink(path);
}

Test(capture, error_after_many_packets_names_the_packet)
{
    char path[64], err[CAP_ERRLEN];
    write_many(path);
    FILE *f = fopen(path, "a");
    cr_assert_not_null(f);
    uint32_t hdr[4] = {1700000009, 0, 0xC0000000u, 0xC0000000u};
    fwrite(hdr, sizeof(hdr), 1, f);
    fclose(f);
    for (int threaded = 0; threaded < 2; threaded++) {
        struct many m = {0};
        cr_assert_eq(run_many(path, &m, threaded, err), -1);
        cr_expect_eq(m.n, MANY, "every good packet is delivered first");
        cr_expect(strstr(err, "packet 30001") != NULL, "%s", err);
    }
    unlink(path);
}

Test(capture, cut_inside_a_record_names_file_and_packet)
{
    char path[64], err[CAP_ERRLEN];
    struct seen s;
    long size = write_capture(path);
    long rec = 16 + PKTLEN;
    /* Cut in the middle of the data of record 4 (1-based), then inside its header. */
    long cuts[] = {24 + 3 * rec + 16 + 7, 24 + 3 * rec + 5};
    for (unsigned i = 0; i < 2; i++) {
        cr_assert_lt(cuts[i], size);
        cr_assert_eq(truncate(path, cuts[i]), 0);
        int rc = replay(path, &s, err);
        cr_assert_eq(rc, -1, "cut at %ld: rc %d", cuts[i], rc);
        cr_expect_eq(s.n, 3, "every good packet before the cut is delivered");
        cr_expect(strstr(err, path) != NULL, "error names the file: %s", err);
        cr_expect(strstr(err, "packet 4") != NULL, "error names the packet: %s", err);
    }
    unlink(path);
}

Test(capture, cut_header_and_garbage_are_clear_errors)
{
    char path[64], err[CAP_ERRLEN];
    struct seen s;
    write_capture(path);
    cr_assert_eq(truncate(path, 10), 0);
    cr_assert_eq(replay(path, &s, err), -2);
    cr_expect(strstr(err, path) != NULL, "%s", err);

    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 4096; i++)
        fputc((i * 7919) & 0xff, f);
    fclose(f);
    cr_assert_eq(replay(path, &s, err), -2);
    cr_expect(strstr(err, path) != NULL, "%s", err);
    unlink(path);

    cr_assert_eq(replay("/nonexistent/vtls.pcap", &s, err), -2);
    cr_expect(strstr(err, "/nonexistent/vtls.pcap") != NULL, "%s", err);
}

Test(capture, garbage_after_good_records)
{
    char path[64], err[CAP_ERRLEN];
    struct seen s;
    write_capture(path);
    /* A record header claiming a 3 GB packet after the good ones. */
    FILE *f = fopen(path, "a");
    cr_assert_not_null(f);
    uint32_t hdr[4] = {1700000009, 0, 0xC0000000u, 0xC0000000u};
    fwrite(hdr, sizeof(hdr), 1, f);
    fclose(f);
    cr_assert_eq(replay(path, &s, err), -1);
    cr_expect_eq(s.n, NPKT);
    cr_expect(strstr(err, "packet 6") != NULL, "%s", err);
    unlink(path);
}

Test(capture, bad_filter_is_reported)
{
    char path[64], err[CAP_ERRLEN];
    write_capture(path);
    struct cap *c = cap_open_file(path, err);
    cr_assert_not_null(c, "%s", err);
    cr_expect(!cap_set_filter(c, "tcp port nonsense((", err));
    cr_expect(strstr(err, "bad filter") != NULL, "%s", err);
    cr_expect(cap_set_filter(c, "tcp port 443", err), "%s", err);
    cap_close(c);
    unlink(path);
}

Test(capture, live_on_missing_interface_names_it)
{
    char err[CAP_ERRLEN];
    struct cap_live_opts o;
    cap_live_opts_default(&o);
    struct cap *c = cap_open_live("vtls-nosuch0", &o, err);
    cr_assert_null(c);
    cr_expect(strstr(err, "vtls-nosuch0") != NULL, "%s", err);
}
