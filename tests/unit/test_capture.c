/* Capture files: good, truncated at every kind of boundary, garbage. */
#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sensor/capture.h"

#define NPKT   5
#define PKTLEN 60

struct seen {
    unsigned n;
    uint64_t ts[NPKT];
    uint32_t caplen[NPKT];
};

static void on_packet(void *ctx, uint64_t ts_us, const uint8_t *data, uint32_t caplen,
                      uint32_t wire_len)
{
    struct seen *s = ctx;
    cr_assert_lt(s->n, NPKT);
    cr_assert_eq(data[0], s->n, "packet %u carries the wrong bytes", s->n);
    cr_assert_eq(wire_len, PKTLEN + 10);
    s->ts[s->n] = ts_us;
    s->caplen[s->n] = caplen;
    s->n++;
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

static int replay(const char *path, struct seen *s, char *err)
{
    memset(s, 0, sizeof(*s));
    struct cap *c = cap_open_file(path, err);
    if (c == NULL)
        return -2;
    int rc = cap_run(c, on_packet, s, err);
    cap_close(c);
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
