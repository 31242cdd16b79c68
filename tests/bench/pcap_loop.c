/* The bare libpcap read loop: reads every packet of a capture with
 * pcap_next_ex and touches one byte of each. The replay speed limit that
 * `make bench` compares vtls-sensor against.
 *
 *   bench_pcap_loop [--buffer BYTES] FILE
 *
 * Without --buffer libpcap opens the file itself (pcap_open_offline: a stdio
 * stream with glibc's default 4 KiB buffer). With it the file is opened here
 * with a stdio buffer of BYTES and handed to pcap_fopen_offline, the way
 * vtls-sensor reads a regular file. */
/* libpcap headers use the BSD u_int types, which strict C11 hides. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pcap_t *open_capture(const char *path, size_t buffer, char *err)
{
    if (buffer == 0)
        return pcap_open_offline(path, err);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, PCAP_ERRBUF_SIZE, "%s", strerror(errno));
        return NULL;
    }
    /* Never freed: it lives as long as the stream, until exit. Page-aligned
     * like the sensor's (the kernel copies into it much faster so). */
    char *buf = aligned_alloc(4096, (buffer + 4095) / 4096 * 4096);
    if (buf == NULL || setvbuf(f, buf, _IOFBF, buffer) != 0) {
        snprintf(err, PCAP_ERRBUF_SIZE, "cannot set a %zu-byte buffer", buffer);
        fclose(f);
        return NULL;
    }
    pcap_t *p = pcap_fopen_offline(f, err);
    if (p == NULL)
        fclose(f);
    return p;
}

int main(int argc, char **argv)
{
    size_t buffer = 0;
    if (argc == 4 && strcmp(argv[1], "--buffer") == 0) {
        buffer = strtoul(argv[2], NULL, 10);
        argv += 2;
        argc -= 2;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: bench_pcap_loop [--buffer BYTES] FILE\n");
        return 2;
    }
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = open_capture(argv[1], buffer, err);
    if (p == NULL) {
        fprintf(stderr, "bench_pcap_loop: %s: %s\n", argv[1], err);
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    unsigned long long n = 0, bytes = 0, sum = 0;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        n++;
        bytes += h->caplen;
        sum += h->caplen ? data[0] : 0;
    }
    if (rc == PCAP_ERROR)
        fprintf(stderr, "bench_pcap_loop: %s: %s\n", argv[1], pcap_geterr(p));
    printf("%llu packets %llu bytes (checksum %llu)\n", n, bytes, sum);
    pcap_close(p);
    return rc == PCAP_ERROR ? 1 : 0;
}
