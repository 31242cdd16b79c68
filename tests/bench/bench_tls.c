/* TLS handshakes parsed per second: the real conversations of pcaps/ (as
 * extracted for the unit tests into tests/unit/data/tls_pcap/*.txt: one
 * "C hex" or "S hex" line per reassembled chunk) replayed through the TLS
 * dissector and the JA3/JA3S/JA4 fingerprints, over and over, for a few
 * seconds; the heap bytes the parser allocated per handshake (its peak,
 * from tls_mem()); and, apart, X.509 parses per second of the leaf
 * certificates (the sensor parses each distinct certificate once).
 *
 *   bench_tls [--seconds S]
 * prints "bench_tls handshakes_per_sec=N bytes_per_handshake=N ...".
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dissectors/fingerprint.h"
#include "dissectors/tls.h"
#include "dissectors/x509.h"

#define MAX_CHUNKS 64
#define MAX_CONVS  256

struct chunk {
    int dir;
    size_t len;
    uint8_t *data;
};

struct conv {
    struct chunk c[MAX_CHUNKS];
    unsigned n;
};

static int hexval(int ch)
{
    return ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10;
}

/* One fixture file into cv; returns the number of chunks. */
static unsigned load_conv(const char *path, struct conv *cv)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    cv->n = 0;
    while (f != NULL && (len = getline(&line, &cap, f)) > 0 && cv->n < MAX_CHUNKS) {
        if ((line[0] != 'C' && line[0] != 'S') || line[1] != ' ')
            continue;
        size_t hex = strcspn(line + 2, "\r\n");
        struct chunk *ch = &cv->c[cv->n];
        ch->dir = line[0] == 'C' ? TLS_DIR_CLIENT : TLS_DIR_SERVER;
        ch->len = hex / 2;
        ch->data = malloc(ch->len ? ch->len : 1);
        for (size_t i = 0; i < ch->len; i++)
            ch->data[i] = (uint8_t)(hexval(line[2 + 2 * i]) << 4 | hexval(line[3 + 2 * i]));
        cv->n++;
    }
    free(line);
    if (f != NULL)
        fclose(f);
    return cv->n;
}

/* Parse one conversation as the sensor does; returns the parser's heap peak. */
static size_t handshake(const struct conv *cv)
{
    struct tls_parser p;
    char str[FP_JA3_STR_MAX], md5[FP_MD5_HEX], ja4[FP_JA4_LEN];
    size_t peak = 0;
    tls_init(&p);
    for (unsigned i = 0;
         i < cv->n && tls_feed(&p, cv->c[i].dir, cv->c[i].data, cv->c[i].len) == TLS_MORE; i++)
        ;
    fp_ja3(&tls_facts(&p)->ch, str, sizeof(str), md5);
    fp_ja3s(&tls_facts(&p)->sh, str, sizeof(str), md5);
    fp_ja4(&tls_facts(&p)->ch, ja4);
    tls_mem(&p, &peak);
    tls_free(&p);
    return peak;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* X.509 parses per second over the server leaf certificates of the conversations. */
static double bench_x509(const struct conv *convs, unsigned n, double seconds)
{
    static struct x509_info info;
    unsigned long long parsed = 0;
    double start = now_s(), elapsed;
    do {
        for (unsigned i = 0; i < n; i++) {
            struct tls_parser p;
            size_t len;
            tls_init(&p);
            for (unsigned k = 0; k < convs[i].n; k++)
                tls_feed(&p, convs[i].c[k].dir, convs[i].c[k].data, convs[i].c[k].len);
            const uint8_t *der = tls_cert_der(&p, TLS_DIR_SERVER, 0, &len);
            if (der != NULL && x509_parse(der, len, &info) == X509_OK)
                parsed++;
            tls_free(&p);
        }
    } while ((elapsed = now_s() - start) < seconds && parsed > 0);
    return (double)parsed / elapsed;
}

int main(int argc, char **argv)
{
    static struct conv convs[MAX_CONVS];
    double seconds = argc == 3 && strcmp(argv[1], "--seconds") == 0 ? atof(argv[2]) : 2.0;
    const char *dir = VTLS_SOURCE_DIR "/tests/unit/data/tls_pcap";
    DIR *d = opendir(dir);
    struct dirent *de;
    unsigned n = 0;
    while (d != NULL && (de = readdir(d)) != NULL && n < MAX_CONVS) {
        char path[1024];
        if (strstr(de->d_name, ".txt") == NULL)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        n += load_conv(path, &convs[n]) > 0;
    }
    if (d != NULL)
        closedir(d);
    if (n == 0) {
        fprintf(stderr, "bench_tls: no conversations in %s\n", dir);
        return 1;
    }

    unsigned long long done = 0, heap = 0;
    double start = now_s(), elapsed;
    do {
        for (unsigned i = 0; i < n; i++)
            heap += handshake(&convs[i]);
        done += n;
    } while ((elapsed = now_s() - start) < seconds);
    double x509_rate = bench_x509(convs, n, seconds / 2);
    printf("tls: %u conversations, %llu handshakes in %.2f s: %.0f handshakes/s, "
           "%.0f heap bytes (peak) per handshake; %.0f X.509 parses/s\n",
           n, done, elapsed, (double)done / elapsed, (double)heap / (double)done, x509_rate);
    printf("bench_tls handshakes_per_sec=%.0f bytes_per_handshake=%.0f x509_per_sec=%.0f "
           "conversations=%u\n",
           (double)done / elapsed, (double)heap / (double)done, x509_rate, n);
    return 0;
}
