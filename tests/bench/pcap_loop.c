/* The bare libpcap read loop: reads every packet of a capture with
 * pcap_next_ex and touches one byte of each. The replay speed limit that
 * `make bench` compares vtls-sensor against. */
/* libpcap headers use the BSD u_int types, which strict C11 hides. */
#define _DEFAULT_SOURCE
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_pcap_loop FILE\n");
        return 2;
    }
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(argv[1], err);
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
