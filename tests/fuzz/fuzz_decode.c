/* libFuzzer target for packet decoding: the first input byte picks the link
 * type, the rest is one frame; every decoded packet is also fed to a flow
 * table so orientation and state handling see hostile headers too. */
#include <pcap/dlt.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sensor/decode.h"
#include "sensor/flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int fz_dlts[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
                              DLT_NULL,   DLT_LOOP,      DLT_IPV4,       DLT_IPV6};

static void fz_end(void *ctx, struct flow *f, enum flow_end why)
{
    (void)ctx, (void)f, (void)why;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct flow_table *ft;
    static uint64_t now;
    if (ft == NULL) {
        struct flow_config cfg;
        flow_config_default(&cfg);
        cfg.memcap = 1u << 20;
        cfg.on_end = fz_end;
        ft = flow_table_new(&cfg);
    }
    if (size < 1)
        return 0;
    struct dec_stats st = {{0}};
    struct dec_packet pkt;
    int dlt = fz_dlts[data[0] % (sizeof(fz_dlts) / sizeof(fz_dlts[0]))];
    /* The one-pass path must agree with the layer-by-layer decoder. */
    struct dec_stats st2 = {{0}};
    struct dec_packet pkt2;
    bool ok = dec_packet(dlt, data + 1, (uint32_t)(size - 1), &pkt, &st);
    bool ok2 = dec_packet_layers(dlt, data + 1, (uint32_t)(size - 1), &pkt2, &st2);
    if (ok != ok2 || (ok && memcmp(&pkt, &pkt2, sizeof(pkt)) != 0) ||
        memcmp(&st, &st2, sizeof(st)) != 0)
        __builtin_trap();
    if (ok) {
        enum flow_dir dir;
        flow_track(ft, &pkt, (uint32_t)size, now += 1000, &dir);
        flow_expire(ft, now);
    }
    return 0;
}
