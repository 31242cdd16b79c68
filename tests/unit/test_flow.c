/* Unit tests of the flow table (sensor/flow.c). */
#include <criterion/criterion.h>
#include <malloc.h>
#include <string.h>

#include "sensor/flow.h"

#define SEC      1000000ull
#define MAX_ENDS 512

struct ends {
    unsigned n;
    uint64_t id[MAX_ENDS];
    enum flow_end why[MAX_ENDS];
};

static struct ends g_ends;

static void on_end(void *ctx, struct flow *f, enum flow_end why)
{
    struct ends *e = ctx;

    cr_assert_lt(e->n, MAX_ENDS);
    e->id[e->n] = f->id;
    e->why[e->n] = why;
    e->n++;
}

static struct flow_table *table_new(uint64_t memcap, unsigned budget)
{
    struct flow_config cfg;

    memset(&g_ends, 0, sizeof(g_ends));
    flow_config_default(&cfg);
    if (memcap)
        cfg.memcap = memcap;
    if (budget)
        cfg.expire_budget = budget;
    cfg.on_end = on_end;
    cfg.ctx = &g_ends;
    struct flow_table *ft = flow_table_new(&cfg);
    cr_assert_not_null(ft);
    return ft;
}

static struct dec_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    struct dec_addr x;

    memset(&x, 0, sizeof(x));
    x.b[0] = a;
    x.b[1] = b;
    x.b[2] = c;
    x.b[3] = d;
    return x;
}

/* A TCP packet from 10.0.0.<s>:sport to 10.0.0.<d>:dport. */
static struct dec_packet tcp(uint8_t s, uint16_t sport, uint8_t d, uint16_t dport, uint8_t flags,
                             uint32_t payload)
{
    struct dec_packet p;

    memset(&p, 0, sizeof(p));
    p.src = v4(10, 0, 0, s);
    p.dst = v4(10, 0, 0, d);
    p.sport = sport;
    p.dport = dport;
    p.family = 4;
    p.ip_proto = 6;
    p.tcp_flags = flags;
    p.payload_wire = payload;
    p.wscale = 0xff;
    return p;
}

static struct dec_packet udp(uint8_t s, uint16_t sport, uint8_t d, uint16_t dport)
{
    struct dec_packet p = tcp(s, sport, d, dport, 0, 20);

    p.ip_proto = 17;
    return p;
}

static struct flow *track(struct flow_table *ft, const struct dec_packet *p, uint64_t t,
                          enum flow_dir *dir)
{
    enum flow_dir d;
    struct flow *f = flow_track(ft, p, 60 + p->payload_wire, t, dir ? dir : &d);

    cr_assert_not_null(f);
    return f;
}

static const uint8_t *client_addr(const struct flow *f)
{
    return f->key.addr[flow_client_side(f)].b;
}

static uint16_t client_port(const struct flow *f)
{
    return f->key.port[flow_client_side(f)];
}

Test(flow, key_symmetry_and_hash)
{
    struct flow_table *ft = table_new(0, 0);
    struct dec_packet a = tcp(1, 40000, 2, 443, DEC_TCP_ACK, 10);
    struct dec_packet b = tcp(2, 443, 1, 40000, DEC_TCP_ACK, 10);
    enum flow_dir da, db;

    struct flow *f1 = track(ft, &a, SEC, &da);
    uint32_t h = f1->hash;
    struct flow *f2 = track(ft, &b, 2 * SEC, &db);
    cr_assert_eq(f1, f2);
    cr_assert_eq(f2->hash, h);
    cr_assert_neq(da, db);
    cr_assert_eq(flow_table_stats(ft)->active, 1);
    /* Canonical order: side 0 is the lower address. */
    cr_assert_eq(f1->key.addr[0].b[3], 1);
    cr_assert_eq(f1->key.port[0], 40000);

    /* Same key, reversed first packet: same hash in a table with the same seed. */
    struct flow_table *ft2 = table_new(0, 0);
    struct flow *g = track(ft2, &b, SEC, NULL);
    cr_assert_eq(g->hash, h);
    cr_assert_eq(memcmp(&g->key, &f1->key, sizeof(g->key)), 0);
    flow_table_free(ft2);

    /* Another seed gives another hash (for this key). */
    struct flow_config cfg;
    flow_config_default(&cfg);
    cfg.seed = 12345;
    struct flow_table *ft3 = flow_table_new(&cfg);
    cr_assert_neq(track(ft3, &a, SEC, NULL)->hash, h);
    flow_table_free(ft3);
    flow_table_free(ft);
}

Test(flow, orientation_full_handshake)
{
    struct flow_table *ft = table_new(0, 0);
    /* Client 10.0.0.9:40000 has the higher address: key side 1. */
    struct dec_packet syn = tcp(9, 40000, 1, 5000, DEC_TCP_SYN, 0);
    struct dec_packet synack = tcp(1, 5000, 9, 40000, DEC_TCP_SYN | DEC_TCP_ACK, 0);
    struct dec_packet ack = tcp(9, 40000, 1, 5000, DEC_TCP_ACK, 0);
    struct dec_packet data = tcp(1, 5000, 9, 40000, DEC_TCP_ACK | DEC_TCP_PSH, 100);
    enum flow_dir d;

    struct flow *f = track(ft, &syn, 1 * SEC, &d);
    cr_assert_eq(d, FLOW_TO_SERVER);
    cr_assert_eq(flow_client_side(f), 1);
    cr_assert_eq(client_addr(f)[3], 9);
    cr_assert_eq(f->state, FLOW_S_SYN_SENT);
    cr_assert_eq(f->tclass, FLOW_T_HANDSHAKE);
    cr_assert(f->flags & FLOW_F_ORIENT_FINAL);
    cr_assert_not(f->flags & FLOW_F_MIDSTREAM);

    f = track(ft, &synack, 2 * SEC, &d);
    cr_assert_eq(d, FLOW_TO_CLIENT);
    cr_assert_eq(f->state, FLOW_S_SYN_ACKED);
    f = track(ft, &ack, 3 * SEC, &d);
    cr_assert_eq(f->state, FLOW_S_ESTABLISHED);
    cr_assert_eq(f->tclass, FLOW_T_ESTABLISHED);
    f = track(ft, &data, 4 * SEC, &d);
    cr_assert_eq(d, FLOW_TO_CLIENT);
    cr_assert_eq(f->pkts[FLOW_TO_SERVER], 2);
    cr_assert_eq(f->pkts[FLOW_TO_CLIENT], 2);
    cr_assert_eq(f->bytes[FLOW_TO_SERVER], 120);
    cr_assert_eq(f->bytes[FLOW_TO_CLIENT], 60 + 160);
    cr_assert_eq(f->first_us, 1 * SEC);
    cr_assert_eq(f->last_us, 4 * SEC);
    cr_assert_eq(client_port(f), 40000);
    flow_table_free(ft);
}

Test(flow, orientation_synack_only)
{
    struct flow_table *ft = table_new(0, 0);
    /* Server 10.0.0.9:7000 answers client 10.0.0.1:50000; the SYN was not captured. */
    struct dec_packet synack = tcp(9, 7000, 1, 50000, DEC_TCP_SYN | DEC_TCP_ACK, 0);
    enum flow_dir d;

    struct flow *f = track(ft, &synack, SEC, &d);
    cr_assert_eq(d, FLOW_TO_CLIENT);
    cr_assert_eq(client_addr(f)[3], 1);
    cr_assert_eq(client_port(f), 50000);
    cr_assert_not(f->flags & FLOW_F_MIDSTREAM);
    cr_assert(f->flags & FLOW_F_ORIENT_FINAL);
    cr_assert_eq(f->state, FLOW_S_SYN_ACKED);
    struct dec_packet ack = tcp(1, 50000, 9, 7000, DEC_TCP_ACK, 0);
    f = track(ft, &ack, 2 * SEC, &d);
    cr_assert_eq(d, FLOW_TO_SERVER);
    cr_assert_eq(f->state, FLOW_S_ESTABLISHED);
    flow_table_free(ft);
}

Test(flow, orientation_port_hint_midstream)
{
    struct flow_table *ft = table_new(0, 0);
    /* Client 10.0.0.1:51000 to 10.0.0.2:3306, first packet (with payload) from the server. */
    struct dec_packet p = tcp(2, 3306, 1, 51000, DEC_TCP_ACK | DEC_TCP_PSH, 50);
    enum flow_dir d;

    struct flow *f = track(ft, &p, SEC, &d);
    cr_assert_eq(d, FLOW_TO_CLIENT);
    cr_assert(f->flags & FLOW_F_MIDSTREAM);
    cr_assert(f->flags & FLOW_F_ORIENT_FINAL);
    cr_assert_eq(client_addr(f)[3], 1);
    cr_assert_eq(client_port(f), 51000);
    cr_assert_eq(f->state, FLOW_S_ESTABLISHED);
    cr_assert_eq(f->tclass, FLOW_T_ESTABLISHED);
    cr_assert_eq(f->pkts[FLOW_TO_CLIENT], 1);

    /* Hinted port range (vttablet gRPC 16000+uid) and a pure ACK first. */
    struct dec_packet q = tcp(3, 16101 - 101, 4, 45000, DEC_TCP_ACK, 0);
    f = track(ft, &q, SEC, &d);
    cr_assert_eq(client_port(f), 45000);
    cr_assert_eq(d, FLOW_TO_CLIENT);
    cr_assert(f->flags & FLOW_F_ORIENT_FINAL);

    /* No hint: the port below 1024 is the server. */
    struct dec_packet r = tcp(5, 700, 6, 40000, DEC_TCP_ACK, 0);
    f = track(ft, &r, SEC, &d);
    cr_assert_eq(client_port(f), 40000);
    cr_assert_eq(d, FLOW_TO_CLIENT);
    flow_table_free(ft);
}

Test(flow, orientation_first_payload)
{
    struct flow_table *ft = table_new(0, 0);
    /* No hint, both ports >= 1024: a pure ACK from A, then the first payload from B. */
    struct dec_packet a_ack = tcp(1, 40000, 2, 50000, DEC_TCP_ACK, 0);
    struct dec_packet b_data = tcp(2, 50000, 1, 40000, DEC_TCP_ACK | DEC_TCP_PSH, 30);
    struct dec_packet a_data = tcp(1, 40000, 2, 50000, DEC_TCP_ACK | DEC_TCP_PSH, 10);
    enum flow_dir d;

    struct flow *f = track(ft, &a_ack, SEC, &d);
    cr_assert_eq(d, FLOW_TO_SERVER); /* tentative: first sender is the client */
    cr_assert_not(f->flags & FLOW_F_ORIENT_FINAL);
    cr_assert(f->flags & FLOW_F_MIDSTREAM);
    cr_assert_eq(client_port(f), 40000);

    f = track(ft, &b_data, 2 * SEC, &d);
    cr_assert(f->flags & FLOW_F_ORIENT_FINAL);
    cr_assert_eq(client_port(f), 50000);
    cr_assert_eq(d, FLOW_TO_SERVER);
    /* The counters moved with the orientation. */
    cr_assert_eq(f->pkts[FLOW_TO_SERVER], 1);
    cr_assert_eq(f->bytes[FLOW_TO_SERVER], 90);
    cr_assert_eq(f->pkts[FLOW_TO_CLIENT], 1);
    cr_assert_eq(f->bytes[FLOW_TO_CLIENT], 60);

    /* Final: A's payload does not flip it back. */
    f = track(ft, &a_data, 3 * SEC, &d);
    cr_assert_eq(d, FLOW_TO_CLIENT);
    cr_assert_eq(client_port(f), 50000);

    /* First packet with payload: final at once. */
    struct dec_packet c = tcp(3, 40000, 4, 50000, DEC_TCP_ACK | DEC_TCP_PSH, 5);
    f = track(ft, &c, SEC, &d);
    cr_assert(f->flags & FLOW_F_ORIENT_FINAL);
    cr_assert_eq(client_port(f), 40000);
    flow_table_free(ft);
}

Test(flow, vlan_separates_flows)
{
    struct flow_table *ft = table_new(0, 0);
    struct dec_packet a = tcp(1, 40000, 2, 3306, DEC_TCP_SYN, 0);
    struct dec_packet b = a;

    a.vlan_count = 1;
    a.vlan[0] = 10;
    b.vlan_count = 1;
    b.vlan[0] = 20;
    struct flow *fa = track(ft, &a, SEC, NULL);
    struct flow *fb = track(ft, &b, SEC, NULL);
    cr_assert_neq(fa, fb);
    cr_assert_neq(fa->id, fb->id);
    cr_assert_eq(flow_table_stats(ft)->active, 2);
    struct dec_packet c = a; /* QinQ differs from the single tag */
    c.vlan_count = 2;
    c.vlan[1] = 5;
    cr_assert_neq(track(ft, &c, SEC, NULL), fa);
    cr_assert_eq(flow_table_stats(ft)->active, 3);
    /* Reverse direction of the VLAN 10 flow finds it. */
    struct dec_packet r = tcp(2, 3306, 1, 40000, DEC_TCP_SYN | DEC_TCP_ACK, 0);
    r.vlan_count = 1;
    r.vlan[0] = 10;
    cr_assert_eq(track(ft, &r, SEC, NULL), fa);
    flow_table_free(ft);
}

Test(flow, udp_flow)
{
    struct flow_table *ft = table_new(0, 0);
    struct dec_packet q = udp(1, 53000, 2, 2379);
    enum flow_dir d;

    struct flow *f = track(ft, &q, SEC, &d);
    cr_assert_eq(f->state, FLOW_S_UDP);
    cr_assert_eq(f->tclass, FLOW_T_UDP);
    cr_assert_eq(d, FLOW_TO_SERVER);
    cr_assert_eq(client_port(f), 53000);
    cr_assert(f->flags & FLOW_F_ORIENT_FINAL);
    cr_assert_not(f->flags & FLOW_F_MIDSTREAM);
    flow_table_free(ft);
}

Test(flow, timeouts_per_class)
{
    struct flow_table *ft = table_new(0, 100);
    struct dec_packet hs = tcp(1, 40001, 2, 3306, DEC_TCP_SYN, 0);
    struct dec_packet est = tcp(1, 40002, 2, 3306, DEC_TCP_ACK, 10);
    struct dec_packet u = udp(1, 40003, 2, 2181);

    uint64_t id_hs = track(ft, &hs, 0, NULL)->id;
    uint64_t id_est = track(ft, &est, 0, NULL)->id;
    uint64_t id_u = track(ft, &u, 0, NULL)->id;

    flow_expire(ft, 59 * SEC);
    cr_assert_eq(g_ends.n, 0);
    flow_expire(ft, 61 * SEC);
    cr_assert_eq(g_ends.n, 2);
    for (unsigned i = 0; i < 2; i++) {
        cr_assert_eq(g_ends.why[i], FLOW_END_TIMEOUT);
        cr_assert(g_ends.id[i] == id_hs || g_ends.id[i] == id_u);
    }
    /* Activity keeps the established flow alive. */
    track(ft, &est, 1000 * SEC, NULL);
    flow_expire(ft, 3601 * SEC);
    cr_assert_eq(g_ends.n, 2);
    flow_expire(ft, 4601 * SEC);
    cr_assert_eq(g_ends.n, 3);
    cr_assert_eq(g_ends.id[2], id_est);
    cr_assert_eq(g_ends.why[2], FLOW_END_TIMEOUT);
    cr_assert_eq(flow_table_stats(ft)->ended[FLOW_END_TIMEOUT], 3);
    cr_assert_eq(flow_table_stats(ft)->active, 0);
    flow_table_free(ft);
}

Test(flow, expiry_is_incremental)
{
    struct flow_table *ft = table_new(0, 2);

    uint64_t id[10];

    for (unsigned i = 0; i < 10; i++) {
        struct dec_packet u = udp(1, (uint16_t)(40000 + i), 2, 2379);
        id[i] = track(ft, &u, i, NULL)->id;
    }
    flow_expire(ft, 1000 * SEC);
    cr_assert_eq(g_ends.n, 2);
    cr_assert_eq(flow_table_stats(ft)->active, 8);
    /* Longest idle first. */
    cr_assert_eq(g_ends.id[0], id[0]);
    cr_assert_eq(g_ends.id[1], id[1]);
    for (unsigned i = 0; i < 4; i++)
        flow_expire(ft, 1000 * SEC);
    cr_assert_eq(g_ends.n, 10);
    flow_table_free(ft);
}

static struct flow *handshake(struct flow_table *ft, uint16_t cport, uint64_t t)
{
    struct dec_packet syn = tcp(1, cport, 2, 3306, DEC_TCP_SYN, 0);
    struct dec_packet synack = tcp(2, 3306, 1, cport, DEC_TCP_SYN | DEC_TCP_ACK, 0);
    struct dec_packet ack = tcp(1, cport, 2, 3306, DEC_TCP_ACK, 0);

    track(ft, &syn, t, NULL);
    track(ft, &synack, t, NULL);
    return track(ft, &ack, t, NULL);
}

Test(flow, fin_and_rst_end_reasons)
{
    struct flow_table *ft = table_new(0, 100);
    struct dec_packet cfin = tcp(1, 40000, 2, 3306, DEC_TCP_FIN | DEC_TCP_ACK, 0);
    struct dec_packet sfin = tcp(2, 3306, 1, 40000, DEC_TCP_FIN | DEC_TCP_ACK, 0);
    struct dec_packet rst = tcp(2, 3306, 1, 40001, DEC_TCP_RST, 0);

    uint64_t id_fin = handshake(ft, 40000, 0)->id;
    uint64_t id_rst = handshake(ft, 40001, 0)->id;
    struct flow *f = track(ft, &cfin, SEC, NULL);
    cr_assert_eq(f->state, FLOW_S_FIN_WAIT);
    cr_assert(f->flags & FLOW_F_CLIENT_FIN);
    f = track(ft, &sfin, SEC, NULL);
    cr_assert_eq(f->state, FLOW_S_CLOSED);
    cr_assert_eq(f->tclass, FLOW_T_CLOSED);
    f = track(ft, &rst, SEC, NULL);
    cr_assert_eq(f->state, FLOW_S_CLOSED);
    cr_assert_eq(f->tclass, FLOW_T_CLOSED);

    flow_expire(ft, 10 * SEC);
    cr_assert_eq(g_ends.n, 0);
    flow_expire(ft, 12 * SEC);
    cr_assert_eq(g_ends.n, 2);
    for (unsigned i = 0; i < 2; i++)
        cr_assert_eq(g_ends.why[i], g_ends.id[i] == id_fin ? FLOW_END_FIN : FLOW_END_RST);
    cr_assert(g_ends.id[0] == id_rst || g_ends.id[1] == id_rst);
    cr_assert_eq(flow_table_stats(ft)->ended[FLOW_END_FIN], 1);
    cr_assert_eq(flow_table_stats(ft)->ended[FLOW_END_RST], 1);
    flow_table_free(ft);
}

Test(flow, flush_keeps_fin_and_rst_reasons)
{
    struct flow_table *ft = table_new(0, 100);
    struct dec_packet cfin = tcp(1, 40000, 2, 3306, DEC_TCP_FIN | DEC_TCP_ACK, 0);
    struct dec_packet sfin = tcp(2, 3306, 1, 40000, DEC_TCP_FIN | DEC_TCP_ACK, 0);
    struct dec_packet rst = tcp(2, 3306, 1, 40001, DEC_TCP_RST, 0);

    uint64_t id_fin = handshake(ft, 40000, 0)->id;
    uint64_t id_rst = handshake(ft, 40001, 0)->id;
    uint64_t id_open = handshake(ft, 40002, 0)->id;
    track(ft, &cfin, SEC, NULL);
    track(ft, &sfin, SEC, NULL);
    track(ft, &rst, SEC, NULL);

    /* The capture ends inside the linger: closed flows keep their reason. */
    flow_flush(ft);
    cr_assert_eq(g_ends.n, 3);
    for (unsigned i = 0; i < 3; i++) {
        enum flow_end want = g_ends.id[i] == id_fin   ? FLOW_END_FIN
                             : g_ends.id[i] == id_rst ? FLOW_END_RST
                                                      : FLOW_END_SHUTDOWN;
        cr_assert_eq(g_ends.why[i], want, "flow %llu", (unsigned long long)g_ends.id[i]);
    }
    (void)id_open;
    flow_table_free(ft);
}

Test(flow, port_reuse)
{
    struct flow_table *ft = table_new(0, 0);
    struct dec_packet cfin = tcp(1, 40000, 2, 3306, DEC_TCP_FIN | DEC_TCP_ACK, 0);
    struct dec_packet sfin = tcp(2, 3306, 1, 40000, DEC_TCP_FIN | DEC_TCP_ACK, 0);
    struct dec_packet syn = tcp(1, 40000, 2, 3306, DEC_TCP_SYN, 0);

    uint64_t old = handshake(ft, 40000, 0)->id;
    track(ft, &cfin, SEC, NULL);
    track(ft, &sfin, SEC, NULL);
    /* A late ACK lingers in the closed flow. */
    struct dec_packet ack = tcp(1, 40000, 2, 3306, DEC_TCP_ACK, 0);
    cr_assert_eq(track(ft, &ack, 2 * SEC, NULL)->id, old);
    cr_assert_eq(g_ends.n, 0);

    struct flow *f = track(ft, &syn, 3 * SEC, NULL);
    cr_assert_eq(g_ends.n, 1);
    cr_assert_eq(g_ends.id[0], old);
    cr_assert_eq(g_ends.why[0], FLOW_END_FIN, "the old connection ended with FIN");
    cr_assert_neq(f->id, old);
    cr_assert_eq(f->state, FLOW_S_SYN_SENT);
    cr_assert_eq(f->pkts[FLOW_TO_SERVER], 1);
    cr_assert_eq(f->first_us, 3 * SEC);
    cr_assert_eq(flow_table_stats(ft)->active, 1);
    cr_assert_eq(flow_table_stats(ft)->ended[FLOW_END_FIN], 1);
    flow_table_free(ft);
}

/* An on_end callback that, like the application layer when a flow's last
 * bytes arrive, charges memory for the ending flow. */
static struct flow_table *g_charging_ft;
static void on_end_charging(void *ctx, struct flow *f, enum flow_end why)
{
    on_end(ctx, f, why);
    if (flow_mem_charge(g_charging_ft, f, 4 * sizeof(struct flow)))
        flow_mem_release(g_charging_ft, 4 * sizeof(struct flow));
}

Test(flow, no_eviction_from_inside_an_ending_flow)
{
    struct flow_table *probe = table_new(0, 0);
    uint64_t base = flow_table_stats(probe)->mem_used;
    flow_table_free(probe);

    memset(&g_ends, 0, sizeof(g_ends));
    struct flow_config cfg;
    flow_config_default(&cfg);
    cfg.memcap = base + 3 * sizeof(struct flow);
    cfg.on_end = on_end_charging;
    cfg.ctx = &g_ends;
    struct flow_table *ft = g_charging_ft = flow_table_new(&cfg);
    struct dec_packet p[4];
    for (unsigned i = 0; i < 4; i++) {
        p[i] = tcp(1, (uint16_t)(41000 + i), 2, 3306, DEC_TCP_ACK, 1);
        cr_assert_not_null(track(ft, &p[i], (i + 1) * SEC, NULL));
    }
    /* The fourth flow evicted one; that one's callback could not evict the others
     * (including the flow being created) to make room for its charge. */
    cr_assert_eq(g_ends.n, 1);
    cr_assert_eq(flow_table_stats(ft)->active, 3);
    flow_table_free(ft);
}

Test(flow, eviction_under_small_cap)
{
    struct flow_table *probe = table_new(0, 0);
    uint64_t base = flow_table_stats(probe)->mem_used;
    flow_table_free(probe);

    struct flow_table *ft = table_new(base + 3 * sizeof(struct flow), 0);
    struct dec_packet p[5];
    uint64_t id[5];
    for (unsigned i = 0; i < 5; i++)
        p[i] = tcp(1, (uint16_t)(40000 + i), 2, 3306, DEC_TCP_ACK, 1);
    for (unsigned i = 0; i < 3; i++)
        id[i] = track(ft, &p[i], (i + 1) * SEC, NULL)->id;
    track(ft, &p[0], 4 * SEC, NULL); /* flow 0 active again: flow 1 is the longest idle */
    id[3] = track(ft, &p[3], 5 * SEC, NULL)->id;
    cr_assert_eq(g_ends.n, 1);
    cr_assert_eq(g_ends.id[0], id[1]);
    cr_assert_eq(g_ends.why[0], FLOW_END_EVICTED);
    cr_assert_eq(flow_table_stats(ft)->evicted, 1);
    cr_assert_eq(flow_table_stats(ft)->ended[FLOW_END_EVICTED], 1);
    cr_assert_eq(flow_table_stats(ft)->active, 3);
    cr_assert_leq(flow_table_stats(ft)->mem_used, base + 3 * sizeof(struct flow));

    /* Charging for flow 3 evicts the longest idle other flows, never flow 3 itself. */
    struct flow *f3 = track(ft, &p[3], 6 * SEC, NULL);
    cr_assert(flow_mem_charge(ft, f3, sizeof(struct flow)));
    cr_assert_eq(g_ends.n, 2);
    cr_assert_eq(g_ends.id[1], id[2]);
    cr_assert(flow_mem_charge(ft, f3, sizeof(struct flow)));
    cr_assert_eq(g_ends.id[2], id[0]);
    cr_assert_not(flow_mem_charge(ft, f3, 1));
    cr_assert_eq(flow_table_stats(ft)->active, 1);
    cr_assert_eq(flow_table_stats(ft)->evicted, 3);

    /* Nothing evictable but a new flow is needed: fail and count. */
    struct flow_table *tiny = flow_table_new(
        &(struct flow_config){.memcap = base + sizeof(struct flow) - 1, .expire_budget = 8});
    enum flow_dir d;
    cr_assert_null(flow_track(tiny, &p[4], 0, SEC, &d));
    cr_assert_eq(flow_table_stats(tiny)->alloc_failed, 1);
    cr_assert_eq(flow_table_stats(tiny)->active, 0);
    flow_table_free(tiny);
    flow_mem_release(ft, 2 * sizeof(struct flow));
    flow_table_free(ft);
}

Test(flow, memory_accounting_and_growth)
{
    struct flow_table *ft = table_new(0, 0);
    const struct flow_stats *st = flow_table_stats(ft);
    uint64_t base = st->mem_used;

    cr_assert_gt(base, 0);
    struct flow *f = handshake(ft, 40000, 0);
    cr_assert_eq(st->mem_used, base + sizeof(struct flow));
    cr_assert(flow_mem_charge(ft, f, 1000));
    cr_assert_eq(st->mem_used, base + sizeof(struct flow) + 1000);
    flow_mem_release(ft, 1000);
    flow_flush(ft);
    cr_assert_eq(st->mem_used, base);
    cr_assert_eq(st->ended[FLOW_END_SHUTDOWN], 1);

    /* Many flows: the bucket array grows, every flow stays findable. */
    struct flow *fl[300];
    for (unsigned i = 0; i < 300; i++) {
        struct dec_packet p = udp(1, (uint16_t)(20000 + i), 2, 2379);
        fl[i] = track(ft, &p, SEC, NULL);
    }
    for (unsigned i = 0; i < 300; i++) {
        struct dec_packet p = udp(2, 2379, 1, (uint16_t)(20000 + i));
        cr_assert_eq(track(ft, &p, 2 * SEC, NULL), fl[i]);
    }
    cr_assert_eq(st->active, 300);
    cr_assert_gt(st->mem_used, base + 300 * sizeof(struct flow));
    cr_assert_geq(st->mem_peak, st->mem_used);
    flow_flush(ft);
    cr_assert_eq(st->active, 0);
    /* Only the (grown) bucket array remains: 512 pointers for 300 flows. */
    cr_assert_eq(st->mem_used, 512 * sizeof(void *));
    flow_table_free(ft);
}

Test(flow, on_end_once_per_flow_and_ids)
{
    struct flow_table *ft = table_new(0, 4);
    unsigned created = 0;

    for (unsigned i = 0; i < 40; i++) {
        struct dec_packet p = tcp(1, (uint16_t)(30000 + i), 2, 15991, DEC_TCP_SYN, 0);
        struct flow *f = track(ft, &p, i * SEC, NULL);
        cr_assert_lt(f->id, 1ull << 53);
        cr_assert_neq(f->id, 0);
        created++;
        if (i % 3 == 0) {
            struct dec_packet r = tcp(2, 15991, 1, (uint16_t)(30000 + i), DEC_TCP_RST, 0);
            track(ft, &r, i * SEC, NULL);
        }
        flow_expire(ft, i * SEC);
    }
    flow_table_free(ft);
    cr_assert_eq(g_ends.n, created);
    for (unsigned i = 0; i < g_ends.n; i++)
        for (unsigned j = i + 1; j < g_ends.n; j++)
            cr_assert_neq(g_ends.id[i], g_ends.id[j]);
}

Test(flow, port_hints_and_names)
{
    uint16_t yes[] = {3306, 15306, 15991, 15999, 15000, 15001, 16000, 16099, 17000, 17099,
                      2379, 2380,  2181,  21811, 21812, 21813, 14200, 14201, 443,   80};
    uint16_t no[] = {0, 22, 1024, 15998, 16100, 16999, 17100, 2378, 21810, 21814, 8080, 65535};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        cr_assert(flow_port_hint(yes[i]), "%u", yes[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        cr_assert_not(flow_port_hint(no[i]), "%u", no[i]);
    cr_assert_str_eq(flow_end_name(FLOW_END_EVICTED), "evicted");
    cr_assert_leq(sizeof(struct flow), 160);
}

/* flow_mem_block() is what glibc really spends on a block: its usable size
 * plus the 8-byte header, for every small size a flow's state comes in. */
Test(flow, mem_block_matches_the_heap)
{
#ifdef __SANITIZE_ADDRESS__
    cr_skip_test("AddressSanitizer's allocator sizes blocks its own way");
#endif
    for (size_t n = 0; n <= 4096; n++) {
        void *p = malloc(n);
        cr_assert_not_null(p);
        size_t real = malloc_usable_size(p) + 8;
        free(p);
        cr_assert_eq(flow_mem_block(n), real, "%zu bytes: charged %zu, heap block %zu", n,
                     flow_mem_block(n), real);
    }
}
