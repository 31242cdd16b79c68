/* nDPI wrapper on real captures from pcaps/: the packets of one flow, from
 * the IP header on, as the pipeline offers them. */
#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <string.h>

#include "dissectors/ndpi.h"
#include "sensor/decode.h"

static void detect(const char *name, struct dpi_result *res)
{
    char path[512], err[PCAP_ERRBUF_SIZE];
    snprintf(path, sizeof(path), "%s/pcaps/%s", VTLS_SOURCE_DIR, name);
    pcap_t *p = pcap_open_offline(path, err);
    cr_assert_not_null(p, "%s", err);
    struct dpi_engine *e = dpi_engine_new();
    struct dpi_flow *f = dpi_flow_new();
    cr_assert(e != NULL && f != NULL);

    struct pcap_pkthdr *h;
    const u_char *data;
    struct dec_stats st = {{0}};
    unsigned offered = 0;
    while (pcap_next_ex(p, &h, &data) == 1) {
        struct dec_packet pkt;
        if (!dec_packet(pcap_datalink(p), data, h->caplen, &pkt, &st))
            continue;
        uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
        offered++;
        if (dpi_packet(e, f, pkt.l3, pkt.l3_len, ts))
            break;
    }
    cr_assert_gt(offered, 0);
    cr_assert_leq(offered, DPI_MAX_PACKETS);
    dpi_result(e, f, res);
    dpi_flow_free(f);
    dpi_engine_free(e);
    pcap_close(p);
}

Test(ndpi, names_tls_on_a_real_handshake)
{
    struct dpi_result r;
    detect("tls12-basic.pcap", &r);
    cr_expect(strstr(r.protocol, "TLS") != NULL, "protocol %s", r.protocol);
    cr_expect(!r.guessed);
}

Test(ndpi, names_mysql_on_a_real_login)
{
    struct dpi_result r;
    detect("mysql-plain.pcap", &r);
    cr_expect(strstr(r.protocol, "MySQL") != NULL, "protocol %s", r.protocol);
}
