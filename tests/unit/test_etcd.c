/* Unit tests for dissectors/etcd.c. The fixtures were captured on loopback
 * on 2026-12-03 from a two-member etcd 3.4.23 cluster (Debian 12 package)
 * with tcpdump: a peer's raft stream request, the /members request, a
 * grpc-gateway /v3/kv/put by curl, and a whole `etcdctl get foo` gRPC
 * connection (h2c). Dumped with `tshark -T fields -e tcp.payload`; tshark
 * (-d tcp.port==22379,http2) shows :path /etcdserverpb.KV/Range for it. */
#include <criterion/criterion.h>
#include <string.h>

#include "dissectors/etcd.h"
#include "dissectors/grpc.h"
#include "tests/unit/helper_pkt.h"

#define C DISSECT_DIR_CLIENT
#define S DISSECT_DIR_SERVER

static const char raft_msgapp_req[] = "GET /raft/stream/msgapp/423b42ce2ce66e49 HTTP/1.1\r\n"
                                      "Host: 127.0.0.1:22380\r\n"
                                      "User-Agent: Go-http-client/1.1\r\n"
                                      "X-Etcd-Cluster-Id: 10b333c926bc715f\r\n"
                                      "X-Min-Cluster-Version: 3.0.0\r\n"
                                      "X-Peerurls: http://127.0.0.1:22382\r\n"
                                      "X-Raft-To: 9e737febb6b99eee\r\n"
                                      "X-Server-From: 423b42ce2ce66e49\r\n"
                                      "X-Server-Version: 3.4.23\r\n"
                                      "Accept-Encoding: gzip\r\n"
                                      "\r\n";

static const char raft_msgapp_resp[] = "HTTP/1.1 200 OK\r\n"
                                       "X-Etcd-Cluster-Id: 10b333c926bc715f\r\n"
                                       "X-Server-Version: 3.4.23\r\n"
                                       "Date: Thu, 03 Dec 2026 16:50:03 GMT\r\n"
                                       "Transfer-Encoding: chunked\r\n"
                                       "\r\n";

static const char v3_put_req[] = "POST /v3/kv/put HTTP/1.1\r\n"
                                 "Host: 127.0.0.1:22379\r\n"
                                 "User-Agent: curl/7.88.1\r\n"
                                 "Accept: */*\r\n"
                                 "Content-Length: 29\r\n"
                                 "Content-Type: application/x-www-form-urlencoded\r\n"
                                 "\r\n"
                                 "{\"key\":\"Zm9v\",\"value\":\"YmFy\"}\n";

static const char members_req[] = "GET /members HTTP/1.1\r\n"
                                  "Host: 127.0.0.1:22382\r\n"
                                  "User-Agent: Go-http-client/1.1\r\n"
                                  "Accept-Encoding: gzip\r\n"
                                  "\r\n";

static const char members_resp_head[] = "HTTP/1.1 200 OK\r\n"
                                        "Content-Type: application/json\r\n"
                                        "X-Etcd-Cluster-Id: 10b333c926bc715f\r\n"
                                        "Date: Thu, 03 Dec 2026 16:50:03 GMT\r\n"
                                        "Content-Length: 157\r\n"
                                        "\r\n";

static const uint8_t etcdctl_seg0[24] = {
    0x50, 0x52, 0x49, 0x20, 0x2a, 0x20, 0x48, 0x54, 0x54, 0x50, 0x2f, 0x32,
    0x2e, 0x30, 0x0d, 0x0a, 0x0d, 0x0a, 0x53, 0x4d, 0x0d, 0x0a, 0x0d, 0x0a,
};

static const uint8_t etcdctl_seg1[9] = {
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t etcdctl_seg2[21] = {
    0x00, 0x00, 0x0c, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
    0x00, 0x00, 0x40, 0x00, 0x00, 0x03, 0xff, 0xff, 0xff, 0xff,
};

static const uint8_t etcdctl_seg3[9] = {
    0x00, 0x00, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t etcdctl_seg4[144] = {
    0x00, 0x00, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6b, 0x01, 0x04, 0x00, 0x00,
    0x00, 0x01, 0x83, 0x86, 0x45, 0x90, 0x60, 0xa9, 0x24, 0x88, 0x2d, 0x9d, 0xcb, 0x65, 0x71, 0xaf,
    0x9b, 0x8b, 0x1b, 0x47, 0x54, 0xc5, 0x41, 0x8b, 0x08, 0x9d, 0x5c, 0x0b, 0x81, 0x70, 0xdc, 0x10,
    0x99, 0x75, 0xff, 0x5f, 0x8b, 0x1d, 0x75, 0xd0, 0x62, 0x0d, 0x26, 0x3d, 0x4c, 0x4d, 0x65, 0x64,
    0x7a, 0x8b, 0x9a, 0xca, 0xc8, 0xb4, 0xc7, 0x60, 0x2b, 0xb2, 0xca, 0xec, 0xff, 0x40, 0x02, 0x74,
    0x65, 0x86, 0x4d, 0x83, 0x35, 0x05, 0xb1, 0x1f, 0x40, 0x89, 0x9a, 0xca, 0xc8, 0xb2, 0x4d, 0x49,
    0x4f, 0x6a, 0x7f, 0x86, 0x69, 0xf7, 0xde, 0x70, 0x01, 0xb7, 0x40, 0x8d, 0x25, 0x06, 0x2d, 0x49,
    0x58, 0x75, 0x99, 0x6e, 0xe5, 0xb1, 0x06, 0x3d, 0x5f, 0x03, 0x33, 0x2e, 0x34, 0x00, 0x00, 0x0a,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0a, 0x03, 0x66, 0x6f, 0x6f,
};

static const uint8_t etcdctl_seg5[30] = {
    0x00, 0x00, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00,
    0x08, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x10, 0x10, 0x09, 0x0e, 0x07, 0x07,
};

static const uint8_t etcdctl_seg6[17] = {
    0x00, 0x00, 0x08, 0x06, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x04, 0x10, 0x10, 0x09, 0x0e, 0x07, 0x07,
};

static const uint8_t etcdctl_seg7[117] = {
    0x00, 0x00, 0x0e, 0x01, 0x04, 0x00, 0x00, 0x00, 0x01, 0x88, 0x5f, 0x8b, 0x1d, 0x75, 0xd0,
    0x62, 0x0d, 0x26, 0x3d, 0x4c, 0x4d, 0x65, 0x64, 0x00, 0x00, 0x34, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2f, 0x0a, 0x19, 0x08, 0xdf, 0xe2, 0xf1, 0xb5, 0x92,
    0xf9, 0xcc, 0xd9, 0x10, 0x10, 0xee, 0xbd, 0xe6, 0xb5, 0xbb, 0xfd, 0xdf, 0xb9, 0x9e, 0x01,
    0x18, 0x02, 0x20, 0x02, 0x12, 0x10, 0x0a, 0x03, 0x66, 0x6f, 0x6f, 0x10, 0x02, 0x18, 0x02,
    0x20, 0x01, 0x2a, 0x03, 0x62, 0x61, 0x72, 0x20, 0x01, 0x00, 0x00, 0x18, 0x01, 0x05, 0x00,
    0x00, 0x00, 0x01, 0x40, 0x88, 0x9a, 0xca, 0xc8, 0xb2, 0x12, 0x34, 0xda, 0x8f, 0x01, 0x30,
    0x40, 0x89, 0x9a, 0xca, 0xc8, 0xb5, 0x25, 0x42, 0x07, 0x31, 0x7f, 0x00,
};

static const uint8_t etcdctl_seg8[30] = {
    0x00, 0x00, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x34, 0x00, 0x00,
    0x08, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x10, 0x10, 0x09, 0x0e, 0x07, 0x07,
};

static const uint8_t etcdctl_seg9[17] = {
    0x00, 0x00, 0x08, 0x06, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x04, 0x10, 0x10, 0x09, 0x0e, 0x07, 0x07,
};

static const struct {
    int dir;
    const uint8_t *b;
    size_t n;
} etcdctl_segs[] = {
    {0, etcdctl_seg0, sizeof(etcdctl_seg0)}, {0, etcdctl_seg1, sizeof(etcdctl_seg1)},
    {1, etcdctl_seg2, sizeof(etcdctl_seg2)}, {1, etcdctl_seg3, sizeof(etcdctl_seg3)},
    {0, etcdctl_seg4, sizeof(etcdctl_seg4)}, {1, etcdctl_seg5, sizeof(etcdctl_seg5)},
    {0, etcdctl_seg6, sizeof(etcdctl_seg6)}, {1, etcdctl_seg7, sizeof(etcdctl_seg7)},
    {0, etcdctl_seg8, sizeof(etcdctl_seg8)}, {1, etcdctl_seg9, sizeof(etcdctl_seg9)},
};

static enum dissect_status feed_str(struct etcd_parser *p, int dir, const char *s, size_t k)
{
    enum dissect_status st = etcd_status(p);
    size_t n = strlen(s);
    for (size_t off = 0; off < n; off += k) {
        size_t len = n - off < k ? n - off : k;
        st = etcd_feed(p, dir, (const uint8_t *)s + off, len);
    }
    return st;
}

Test(etcd, raft_stream_is_peer)
{
    struct etcd_parser p;
    etcd_init(&p);
    cr_assert_eq(feed_str(&p, C, raft_msgapp_req, SIZE_MAX), DISSECT_MORE);
    cr_assert_eq(etcd_facts(&p)->kind, ETCD_PEER);
    cr_assert_eq(etcd_facts(&p)->evidence, ETCD_EV_HEADER);
    cr_assert_eq(feed_str(&p, S, raft_msgapp_resp, SIZE_MAX), DISSECT_DONE);
    const struct http1_facts *h = etcd_http(&p);
    cr_assert_str_eq(h->path, "/raft/stream/msgapp/423b42ce2ce66e49");
    cr_assert_str_eq(h->x_server_from, "423b42ce2ce66e49");
    cr_assert_str_eq(h->x_raft_to, "9e737febb6b99eee");
    cr_assert_str_eq(h->x_etcd_cluster_id, "10b333c926bc715f");
    cr_assert_str_eq(h->x_server_version, "3.4.23");
    cr_assert_eq(h->status, 200);
    cr_assert_str_eq(etcd_app_name(etcd_facts(&p)->kind), "etcd-peer");
    etcd_free(&p);
}

Test(etcd, every_chunk_size_same_facts)
{
    struct etcd_parser whole, part;
    etcd_init(&whole);
    feed_str(&whole, C, raft_msgapp_req, SIZE_MAX);
    feed_str(&whole, S, raft_msgapp_resp, SIZE_MAX);
    for (size_t k = 1; k < 30; k++) {
        etcd_init(&part);
        feed_str(&part, C, raft_msgapp_req, k);
        feed_str(&part, S, raft_msgapp_resp, k);
        cr_assert(memcmp(&whole.http.facts, &part.http.facts, sizeof(whole.http.facts)) == 0);
        cr_assert_eq(whole.facts.kind, part.facts.kind);
        cr_assert_eq(whole.facts.evidence, part.facts.evidence);
    }
}

Test(etcd, members_is_peer_by_path)
{
    struct etcd_parser p;
    etcd_init(&p);
    feed_str(&p, C, members_req, SIZE_MAX);
    cr_assert_eq(etcd_facts(&p)->kind, ETCD_PEER);
    cr_assert_eq(etcd_facts(&p)->evidence, ETCD_EV_PATH);
    cr_assert_eq(feed_str(&p, S, members_resp_head, SIZE_MAX), DISSECT_DONE);
    cr_assert_eq(etcd_facts(&p)->evidence, ETCD_EV_HEADER); /* X-Etcd-Cluster-Id in the reply */
    cr_assert_eq(etcd_facts(&p)->kind, ETCD_PEER);
}

Test(etcd, gateway_is_client)
{
    struct etcd_parser p;
    etcd_init(&p);
    feed_str(&p, C, v3_put_req, SIZE_MAX);
    cr_assert_eq(etcd_facts(&p)->kind, ETCD_CLIENT);
    cr_assert_eq(etcd_facts(&p)->evidence, ETCD_EV_PATH);
    cr_assert_str_eq(etcd_http(&p)->method, "POST");
    cr_assert_str_eq(etcd_app_name(ETCD_CLIENT), "etcd");
}

Test(etcd, paths)
{
    static const struct {
        const char *path;
        enum etcd_kind kind;
        enum etcd_evidence ev;
    } cases[] = {
        {"/raft", ETCD_PEER, ETCD_EV_PATH},
        {"/raft/probing", ETCD_PEER, ETCD_EV_PATH},
        {"/raft/snapshot", ETCD_PEER, ETCD_EV_PATH},
        {"/raft/stream/message/9e737febb6b99eee", ETCD_PEER, ETCD_EV_PATH},
        {"/members", ETCD_PEER, ETCD_EV_PATH},
        {"/leases", ETCD_PEER, ETCD_EV_PATH},
        {"/leases/internal", ETCD_PEER, ETCD_EV_PATH},
        {"/v3/kv/range", ETCD_CLIENT, ETCD_EV_PATH},
        {"/v3beta/watch", ETCD_CLIENT, ETCD_EV_PATH},
        {"/v2/keys/vitess/global?recursive=true", ETCD_CLIENT, ETCD_EV_PATH},
        {"/v2/keys", ETCD_CLIENT, ETCD_EV_PATH},
        {"/version", ETCD_EITHER, ETCD_EV_PATH_WEAK},
        {"/health", ETCD_CLIENT, ETCD_EV_PATH_WEAK},
        {"/health?serializable=true", ETCD_CLIENT, ETCD_EV_PATH_WEAK},
        {"/rafting", ETCD_NONE, ETCD_EV_NONE},
        {"/membership", ETCD_NONE, ETCD_EV_NONE},
        {"/v2/keysx", ETCD_NONE, ETCD_EV_NONE},
        {"/debug/vars", ETCD_NONE, ETCD_EV_NONE},
        {"/", ETCD_NONE, ETCD_EV_NONE},
        {"", ETCD_NONE, ETCD_EV_NONE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum etcd_evidence ev;
        size_t n = strlen(cases[i].path);
        const char *g = (const char *)guard_copy(cases[i].path, n);
        cr_assert_eq(etcd_classify_path(g, n, &ev), cases[i].kind, "%s", cases[i].path);
        cr_assert_eq(ev, cases[i].ev, "%s", cases[i].path);
    }
    cr_assert_str_eq(etcd_kind_name(ETCD_EITHER), "either");
    cr_assert_str_eq(etcd_evidence_name(ETCD_EV_GRPC), "grpc-service");
    cr_assert_null(etcd_app_name(ETCD_NONE));
}

Test(etcd, plain_http_is_not_etcd)
{
    struct etcd_parser p;
    etcd_init(&p);
    feed_str(&p, C, "GET /debug/status HTTP/1.1\r\nHost: vttablet:15100\r\n\r\n", SIZE_MAX);
    cr_assert_eq(feed_str(&p, S, "HTTP/1.1 200 OK\r\n\r\n", SIZE_MAX), DISSECT_DONE);
    cr_assert_eq(etcd_facts(&p)->kind, ETCD_NONE);
    etcd_init(&p);
    cr_assert_eq(feed_str(&p, C, "\x16\x03\x01", SIZE_MAX), DISSECT_ERROR);
    cr_assert_eq(etcd_error(&p), HTTP1_E_NOT_HTTP);
}

/* The real etcdctl connection through the HTTP/2 dissector, whole and one
 * byte at a time. */
static void run_etcdctl(struct h2_parser *h, size_t k)
{
    h2_init(h);
    for (size_t i = 0; i < sizeof(etcdctl_segs) / sizeof(etcdctl_segs[0]); i++)
        for (size_t off = 0; off < etcdctl_segs[i].n; off += k) {
            size_t len = etcdctl_segs[i].n - off < k ? etcdctl_segs[i].n - off : k;
            h2_feed(h, etcdctl_segs[i].dir, etcdctl_segs[i].b + off, len);
        }
}

Test(etcd, etcdctl_grpc_is_client)
{
    struct h2_parser h, h1;
    enum etcd_evidence ev;
    run_etcdctl(&h, SIZE_MAX);
    const struct h2_facts *f = h2_facts(&h);
    cr_assert(f->recognised && f->preface);
    cr_assert_eq(f->npaths, 1);
    cr_assert_str_eq(f->paths[0], "/etcdserverpb.KV/Range"); /* as tshark shows */
    cr_assert_str_eq(f->authority, "127.0.0.1:22379");
    cr_assert_str_eq(f->content_type, "application/grpc");
    cr_assert_str_eq(f->user_agent, "grpc-go/1.33.3");
    cr_assert_eq(f->status, 200);
    cr_assert(f->has_grpc_status);
    cr_assert_eq(f->grpc_status, 0);
    cr_assert(!f->decoder_broken[C] && !f->decoder_broken[S]);
    cr_assert_eq(etcd_classify_h2(f, &ev), ETCD_CLIENT);
    cr_assert_eq(ev, ETCD_EV_GRPC);
    size_t peak;
    h2_mem(&h, &peak);
    cr_log_info("etcdctl flow: h2 parser %zu bytes + inflater heap peak %zu bytes",
                sizeof(struct h2_parser), peak);
    run_etcdctl(&h1, 1);
    cr_assert(memcmp(&h.facts, &h1.facts, sizeof(h.facts)) == 0);
    h2_free(&h);
    h2_free(&h1);
}

Test(etcd, h2_non_etcd_service)
{
    struct h2_facts f;
    enum etcd_evidence ev;
    memset(&f, 0, sizeof(f));
    strcpy(f.paths[0], "/queryservice.Query/Execute");
    strcpy(f.paths[1], "/not a path");
    f.npaths = 2;
    cr_assert_eq(etcd_classify_h2(&f, &ev), ETCD_NONE);
    cr_assert_eq(ev, ETCD_EV_NONE);
    strcpy(f.paths[1], "/v3lockpb.Lock/Lock");
    cr_assert_eq(etcd_classify_h2(&f, &ev), ETCD_CLIENT);
}
