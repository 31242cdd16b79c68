/* ZooKeeper ConnectRequest / four-letter command recognition. See
 * zookeeper.h for the contract. */
#include "dissectors/zookeeper.h"

#include <string.h>

/* Verdict on a prefix of the client's first bytes. */
enum judgement {
    J_NEED = 0, /* consistent so far */
    J_CONNECT,  /* a complete, valid ConnectRequest */
    J_FOUR,     /* a four-letter command */
    J_TLS,
    J_BAD,
};

/* Four-letter admin commands (ZooKeeper Administrator's Guide). */
static const char *const zk_commands[] = {"conf", "cons", "crst", "dirs", "dump", "envi",
                                          "gtmk", "isro", "mntr", "ruok", "srst", "srvr",
                                          "stat", "stmk", "wchc", "wchp", "wchs"};

static int64_t be(const uint8_t *b, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++)
        v = v << 8 | b[i];
    if (n == 4)
        return (int32_t)(uint32_t)v;
    return (int64_t)v;
}

static enum judgement judge_four(const uint8_t *b, size_t have)
{
    size_t k = have < 4 ? have : 4;

    for (size_t i = 0; i < sizeof(zk_commands) / sizeof(zk_commands[0]); i++)
        if (memcmp(b, zk_commands[i], k) == 0)
            return have >= 4 ? J_FOUR : J_NEED;
    return J_BAD;
}

/* Length field and the fixed fields, as far as they have arrived. */
static enum judgement judge_fixed(const uint8_t *b, size_t have)
{
    int64_t len;

    /* frame length: 28 .. 45 */
    if (have < 4)
        return memcmp(b, "\0\0\0", have < 3 ? have : 3) == 0 ? J_NEED : J_BAD;
    len = be(b, 4);
    if (len < ZK_CONNECT_MIN_LEN || len > ZK_CONNECT_MAX_LEN)
        return J_BAD;

    /* protocolVersion 0 */
    if (have >= 8 && be(b + 4, 4) != 0)
        return J_BAD;

    /* lastZxidSeen >= 0 */
    if (have >= 16 && be(b + 8, 8) < 0)
        return J_BAD;

    /* timeOut: positive, bounded */
    if (have >= 20 && (be(b + 16, 4) <= 0 || be(b + 16, 4) > ZK_MAX_TIMEOUT_MS))
        return J_BAD;

    /* sessionId >= 0 */
    if (have >= 28 && be(b + 20, 8) < 0)
        return J_BAD;
    return J_NEED;
}

/* passwd and readOnly: the frame must be used up exactly. */
static enum judgement judge_tail(const uint8_t *b, size_t have)
{
    int64_t len = be(b, 4), plen, body;

    if (have < 32)
        return J_NEED;
    plen = be(b + 28, 4);
    if (plen < -1 || plen > ZK_PASSWD_LEN)
        return J_BAD;
    body = ZK_CONNECT_MIN_LEN + (plen > 0 ? plen : 0);
    if (len != body && len != body + 1)
        return J_BAD;
    if (have < (size_t)(4 + len))
        return J_NEED;
    if (len == body + 1 && b[4 + body] > 1)
        return J_BAD;
    return J_CONNECT;
}

static enum judgement judge(const uint8_t *b, size_t have)
{
    enum judgement j;

    if (have == 0)
        return J_NEED;
    if (b[0] == 0x16)
        return have < 2 ? J_NEED : (b[1] == 0x03 ? J_TLS : J_BAD);
    if (b[0] >= 'a' && b[0] <= 'z')
        return judge_four(b, have);
    j = judge_fixed(b, have);
    if (j != J_NEED || have < 4)
        return j;
    return judge_tail(b, have);
}

static void record_connect(struct zk_facts *f, const uint8_t *b)
{
    int64_t body;

    f->connect = true;
    f->frame_len = (uint32_t)be(b, 4);
    f->protocol_version = (int32_t)be(b + 4, 4);
    f->last_zxid = be(b + 8, 8);
    f->timeout_ms = (int32_t)be(b + 16, 4);
    f->session_id = be(b + 20, 8);
    f->passwd_len = (int32_t)be(b + 28, 4);
    body = ZK_CONNECT_MIN_LEN + (f->passwd_len > 0 ? f->passwd_len : 0);
    f->has_read_only = f->frame_len == body + 1;
    f->read_only = f->has_read_only && b[4 + body] == 1;
    f->reconnect = f->session_id != 0;
}

static void conclude(struct zk_parser *p, enum judgement j)
{
    switch (j) {
    case J_CONNECT:
        record_connect(&p->facts, p->buf);
        p->status = DISSECT_DONE;
        break;
    case J_FOUR:
        p->facts.four_letter = true;
        memcpy(p->facts.command, p->buf, 4);
        p->facts.command[4] = '\0';
        p->status = DISSECT_DONE;
        break;
    case J_TLS:
        p->status = DISSECT_ERROR;
        p->error = ZK_E_TLS;
        break;
    case J_BAD:
        p->status = DISSECT_ERROR;
        p->error = ZK_E_NOT_ZK;
        break;
    case J_NEED:
        break;
    }
}

void zk_init(struct zk_parser *p)
{
    memset(p, 0, sizeof(*p));
    p->status = DISSECT_MORE;
}

void zk_free(struct zk_parser *p)
{
    (void)p;
}

enum dissect_status zk_feed(struct zk_parser *p, int dir, const uint8_t *buf, size_t n)
{
    if (p->status != DISSECT_MORE || dir != DISSECT_DIR_CLIENT)
        return (enum dissect_status)p->status;
    while (n > 0 && p->status == DISSECT_MORE) {
        size_t room = sizeof(p->buf) - p->have;
        size_t k = n < room ? n : room;

        /* Judge each prefix one byte at a time: the verdict must not
         * depend on how the bytes were chunked. */
        for (size_t i = 0; i < k && p->status == DISSECT_MORE; i++) {
            p->buf[p->have++] = buf[i];
            conclude(p, judge(p->buf, p->have));
        }
        buf += k;
        n -= k;
        if (p->status == DISSECT_MORE && p->have == sizeof(p->buf))
            conclude(p, J_BAD); /* cannot happen: a valid frame ends first */
    }
    return (enum dissect_status)p->status;
}

enum dissect_status zk_gap(struct zk_parser *p, int dir, uint64_t n)
{
    if (p->status != DISSECT_MORE || (dir != 0 && dir != 1) || n == 0)
        return (enum dissect_status)p->status;
    p->facts.gap[dir] = true;
    if (dir == DISSECT_DIR_CLIENT) {
        p->status = DISSECT_ERROR;
        p->error = ZK_E_GAP;
    }
    return (enum dissect_status)p->status;
}

enum dissect_status zk_status(const struct zk_parser *p)
{
    return (enum dissect_status)p->status;
}

enum zk_error zk_error(const struct zk_parser *p)
{
    return (enum zk_error)p->error;
}

const char *zk_error_name(enum zk_error e)
{
    switch (e) {
    case ZK_E_NONE:
        return "none";
    case ZK_E_NOT_ZK:
        return "not-zookeeper";
    case ZK_E_TLS:
        return "tls";
    case ZK_E_GAP:
        return "gap";
    }
    return "unknown";
}

bool zk_final(const struct zk_parser *p)
{
    return p->status == DISSECT_DONE;
}

const struct zk_facts *zk_facts(const struct zk_parser *p)
{
    return &p->facts;
}
