/* nDPI 4.2 wrapper: see ndpi.h. */
#include "dissectors/ndpi.h"

#include <ndpi_api.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dpi_engine {
    struct ndpi_detection_module_struct *mod;
};

struct dpi_flow {
    ndpi_protocol proto;
    uint8_t packets;
    bool done;
    bool guessed;
    struct ndpi_flow_struct nf; /* last: nDPI's own state */
};

/* nDPI's heap, counted: each block carries its size in front. The hooks
 * are process-wide (nDPI has no per-module allocator); the count is per
 * thread, so that the difference around a call counts that call's blocks
 * only, whatever other threads do, and no packet touches a shared counter.
 * A flow's nDPI state is made and freed on its pipeline's thread. */
#define DPI_HDR 16
static _Thread_local size_t dpi_heap;
static pthread_once_t dpi_hooks_once = PTHREAD_ONCE_INIT;

static void *dpi_malloc(size_t n)
{
    unsigned char *p = malloc(n + DPI_HDR);
    if (p == NULL)
        return NULL;
    memcpy(p, &n, sizeof(n));
    dpi_heap += n;
    return p + DPI_HDR;
}

static void dpi_free(void *q)
{
    if (q == NULL)
        return;
    unsigned char *p = (unsigned char *)q - DPI_HDR;
    size_t n;
    memcpy(&n, p, sizeof(n));
    dpi_heap -= n;
    free(p);
}

static void dpi_install_hooks(void)
{
    set_ndpi_malloc(dpi_malloc);
    set_ndpi_free(dpi_free);
    set_ndpi_flow_malloc(dpi_malloc);
    set_ndpi_flow_free(dpi_free);
}

size_t dpi_heap_bytes(void)
{
    return dpi_heap;
}

struct dpi_engine *dpi_engine_new(void)
{
    pthread_once(&dpi_hooks_once, dpi_install_hooks);
    struct dpi_engine *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->mod = ndpi_init_detection_module(ndpi_no_prefs);
    if (e->mod == NULL) {
        free(e);
        return NULL;
    }
    NDPI_PROTOCOL_BITMASK all;
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(e->mod, &all);
    ndpi_finalize_initialization(e->mod);
    return e;
}

void dpi_engine_free(struct dpi_engine *e)
{
    if (e == NULL)
        return;
    ndpi_exit_detection_module(e->mod);
    free(e);
}

size_t dpi_flow_size(void)
{
    return sizeof(struct dpi_flow);
}

struct dpi_flow *dpi_flow_new(void)
{
    return calloc(1, sizeof(struct dpi_flow));
}

void dpi_flow_free(struct dpi_flow *f)
{
    if (f == NULL)
        return;
    ndpi_free_flow_data(&f->nf);
    free(f);
}

static bool dpi_detected(const ndpi_protocol *p)
{
    return p->app_protocol != NDPI_PROTOCOL_UNKNOWN || p->master_protocol != NDPI_PROTOCOL_UNKNOWN;
}

bool dpi_packet(struct dpi_engine *e, struct dpi_flow *f, const uint8_t *l3, uint32_t len,
                uint64_t ts_us)
{
    if (f->done)
        return true;
    /* nDPI takes an unsigned short length; a longer packet is cut, not wrapped. */
    unsigned short n = len > 65535 ? 65535 : (unsigned short)len;
    f->proto = ndpi_detection_process_packet(e->mod, &f->nf, l3, n, ts_us / 1000u);
    f->packets++;
    if (dpi_detected(&f->proto) || f->packets >= DPI_MAX_PACKETS)
        f->done = true;
    return f->done;
}

static void dpi_fill_risks(const struct dpi_flow *f, struct dpi_result *out)
{
    out->risk = f->nf.risk;
    for (int r = 1; r < NDPI_MAX_RISK && out->nrisks < DPI_MAX_RISKS; r++)
        if (out->risk & (1ull << r))
            out->risks[out->nrisks++] = ndpi_risk2str((ndpi_risk_enum)r);
}

void dpi_result(struct dpi_engine *e, struct dpi_flow *f, struct dpi_result *out)
{
    memset(out, 0, sizeof(*out));
    if (!dpi_detected(&f->proto) && !f->guessed) {
        uint8_t guessed = 0;
        f->proto = ndpi_detection_giveup(e->mod, &f->nf, 1, &guessed);
        f->guessed = guessed != 0;
    }
    out->guessed = f->guessed;
    out->encrypted = ndpi_is_encrypted_proto(e->mod, f->proto) != 0;
    ndpi_protocol2name(e->mod, f->proto, out->protocol, sizeof(out->protocol));
    snprintf(out->category, sizeof(out->category), "%s",
             ndpi_category_get_name(e->mod, f->proto.category));
    dpi_fill_risks(f, out);
}
