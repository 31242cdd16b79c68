/* Packet capture with libpcap: see capture.h. */
#include "sensor/capture.h"

#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cap {
    pcap_t *pcap;
    char *source;
    bool live;
    volatile sig_atomic_t stop;
    uint64_t delivered; /* packets handed to the callback so far */
    uint64_t bytes;
    cap_packet_fn fn;
    void *ctx;
    cap_tick_fn tick;
    void *tick_ctx;
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

struct cap *cap_open_file(const char *path, char *err)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;

    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
    if (p == NULL) {
        snprintf(err, CAP_ERRLEN, "%s: cannot read capture: %s", name, ebuf);
        return NULL;
    }
    struct cap *c = cap_new(p, name, false);
    if (c == NULL) {
        pcap_close(p);
        snprintf(err, CAP_ERRLEN, "%s: out of memory", name);
    }
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
    uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;

    c->delivered++;
    c->bytes += h->caplen;
    c->fn(c->ctx, ts, bytes, h->caplen, h->len);
}

void cap_set_tick(struct cap *c, cap_tick_fn fn, void *ctx)
{
    c->tick = fn;
    c->tick_ctx = ctx;
}

int cap_run(struct cap *c, cap_packet_fn fn, void *ctx, char *err)
{
    c->fn = fn;
    c->ctx = ctx;
    while (!c->stop) {
        /* A batch: one buffer when live, up to 4096 packets from a file. */
        int n = pcap_dispatch(c->pcap, c->live ? -1 : 4096, cap_on_packet, (u_char *)c);
        if (n == PCAP_ERROR_BREAK && c->stop)
            return 0;
        if (n == PCAP_ERROR) {
            if (c->live)
                snprintf(err, CAP_ERRLEN, "%s: capture failed: %s", c->source,
                         pcap_geterr(c->pcap));
            else
                snprintf(err, CAP_ERRLEN, "%s: packet %llu: %s", c->source,
                         (unsigned long long)c->delivered + 1, pcap_geterr(c->pcap));
            return -1;
        }
        if (n == 0 && !c->live)
            return 0;
        if (c->tick != NULL)
            c->tick(c->tick_ctx);
    }
    return 0;
}

void cap_stop(struct cap *c)
{
    c->stop = 1;
    pcap_breakloop(c->pcap);
}

void cap_interrupt(struct cap *c)
{
    pcap_breakloop(c->pcap);
}

void cap_get_stats(struct cap *c, struct cap_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->received = c->delivered;
    st->bytes = c->bytes;
    if (!c->live)
        return;
    struct pcap_stat ps;
    if (pcap_stats(c->pcap, &ps) == 0) {
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
