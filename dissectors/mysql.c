/* MySQL / MariaDB connection-phase dissector. See mysql.h for the contract.
 *
 * Wire format: MySQL Client/Server Protocol, "Connection Phase" pages
 * (Protocol::Handshake, Protocol::SSLRequest, Protocol::HandshakeResponse41,
 * Protocol::AuthSwitchRequest), MariaDB "Connection" docs for the extended
 * capabilities and the "5.5.5-" version prefix.
 */
#include "dissectors/mysql.h"

#include <stdio.h>
#include <string.h>

/* Parser states: whose turn it is and which packet is expected. */
enum {
    ST_GREETING = 0, /* server: greeting or ERR */
    ST_RESPONSE,     /* client: SSLRequest or HandshakeResponse41 */
    ST_REPLY,        /* server: OK / ERR / AuthSwitchRequest / AuthMoreData */
    ST_END,
};

#define MYSQL_SSL_REQUEST_LEN 32
#define MYSQL_MARIADB_PREFIX  "5.5.5-"
#define MYSQL_VITESS_SUFFIX   "-Vitess"
#define MYSQL_CLEAR_PLUGIN    "mysql_clear_password"

/* A read cursor over one block: p advances, end never moves. */
struct cur {
    const uint8_t *p, *end;
};

static bool cur_has(const struct cur *c, size_t need)
{
    return need <= (size_t)(c->end - c->p);
}

static bool cur_skip(struct cur *c, size_t n)
{
    if (!cur_has(c, n))
        return false;
    c->p += n;
    return true;
}

static bool cur_u8(struct cur *c, uint8_t *v)
{
    if (!cur_has(c, 1))
        return false;
    *v = *c->p++;
    return true;
}

static bool cur_le(struct cur *c, size_t n, uint64_t *v)
{
    if (!cur_has(c, n))
        return false;
    *v = 0;
    for (size_t i = 0; i < n; i++)
        *v |= (uint64_t)c->p[i] << (8 * i);
    c->p += n;
    return true;
}

/* Length-encoded integer (protocol docs "Protocol::LengthEncodedInteger"). */
static bool cur_lenenc(struct cur *c, uint64_t *v)
{
    uint8_t first;

    if (!cur_u8(c, &first))
        return false;
    if (first < 0xfb) {
        *v = first;
        return true;
    }
    if (first == 0xfc)
        return cur_le(c, 2, v);
    if (first == 0xfd)
        return cur_le(c, 3, v);
    if (first == 0xfe)
        return cur_le(c, 8, v);
    return false; /* 0xfb is NULL, 0xff an error marker: not a length */
}

/* Copy n bytes as a printable string cut to cap - 1 characters. */
static void copy_printable(char *out, size_t cap, const uint8_t *s, size_t n)
{
    size_t k = n < cap - 1 ? n : cap - 1;

    for (size_t i = 0; i < k; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
    out[k] = '\0';
}

/* NUL-terminated string; fails if the block ends before the NUL. */
static bool cur_cstr(struct cur *c, char *out, size_t cap)
{
    const uint8_t *nul = memchr(c->p, 0, (size_t)(c->end - c->p));

    if (nul == NULL)
        return false;
    copy_printable(out, cap, c->p, (size_t)(nul - c->p));
    c->p = nul + 1;
    return true;
}

/* String running to the NUL or to the end of the block (plugin names of some
 * servers lack the NUL). */
static void cur_cstr_or_end(struct cur *c, char *out, size_t cap)
{
    const uint8_t *nul = memchr(c->p, 0, (size_t)(c->end - c->p));
    const uint8_t *stop = nul != NULL ? nul : c->end;

    copy_printable(out, cap, c->p, (size_t)(stop - c->p));
    c->p = nul != NULL ? nul + 1 : c->end;
}

/* Length-encoded string. */
static bool cur_lenenc_str(struct cur *c, char *out, size_t cap)
{
    uint64_t n;

    if (!cur_lenenc(c, &n) || !cur_has(c, n))
        return false;
    copy_printable(out, cap, c->p, (size_t)n);
    c->p += n;
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);

    return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

/* Store the version, removing MariaDB's replication-compatibility prefix. */
static void set_version(struct mysql_facts *f, const char *raw)
{
    size_t lp = strlen(MYSQL_MARIADB_PREFIX);

    if (strncmp(raw, MYSQL_MARIADB_PREFIX, lp) == 0 && raw[lp] != '\0') {
        f->mariadb_prefix = true;
        raw += lp;
    }
    snprintf(f->server_version, sizeof(f->server_version), "%s", raw);
    f->vitess = ends_with(f->server_version, MYSQL_VITESS_SUFFIX);
    if (f->mariadb_prefix || strstr(f->server_version, "MariaDB") != NULL)
        f->mariadb = true;
}

/* Greeting fields after the capability low bytes (all optional as a group). */
static bool parse_greeting_tail(struct mysql_facts *f, struct cur *c)
{
    uint64_t v, hi;
    uint8_t auth_len;

    if (c->p == c->end)
        return true; /* pre-4.1 servers stop here */
    if (!cur_u8(c, &f->charset) || !cur_le(c, 2, &v) || !cur_le(c, 2, &hi) || !cur_u8(c, &auth_len))
        return false;
    f->status = (uint16_t)v;
    f->server_caps |= (uint32_t)hi << 16;

    /* reserved: 10 bytes; MariaDB puts extended capabilities in the last 4
     * when it clears CLIENT_MYSQL (LONG_PASSWORD). */
    if (!cur_skip(c, 6) || !cur_le(c, 4, &v))
        return false;
    if (!(f->server_caps & MYSQL_CAP_LONG_PASSWORD)) {
        f->mariadb = true;
        f->mariadb_caps = (uint32_t)v;
    }

    /* auth-plugin-data-part-2: max(13, auth_len - 8) bytes */
    if (f->server_caps & MYSQL_CAP_SECURE_CONN) {
        size_t part2 = auth_len > 21 ? (size_t)auth_len - 8 : 13;
        if (!cur_skip(c, part2))
            return false;
    }

    /* auth-plugin-name */
    if (f->server_caps & MYSQL_CAP_PLUGIN_AUTH)
        cur_cstr_or_end(c, f->server_plugin, sizeof(f->server_plugin));
    return true;
}

/* Protocol::HandshakeV10. Returns false when malformed. */
static bool parse_greeting(struct mysql_facts *f, const uint8_t *pl, size_t len)
{
    struct cur c = {pl, pl + len};
    char version[MYSQL_VERSION_LEN + 1];
    uint8_t proto;
    uint64_t v;

    /* protocol version 10 */
    if (!cur_u8(&c, &proto) || proto != 0x0a)
        return false;

    /* server version, NUL-terminated */
    if (!cur_cstr(&c, version, sizeof(version)) || version[0] == '\0')
        return false;
    set_version(f, version);

    /* connection id, auth-plugin-data-part-1 (8), filler (0) */
    if (!cur_le(&c, 4, &v))
        return false;
    f->conn_id = (uint32_t)v;
    if (!cur_skip(&c, 9))
        return false;

    /* capability flags, lower 2 bytes */
    if (!cur_le(&c, 2, &v))
        return false;
    f->server_caps = (uint32_t)v;
    if (!parse_greeting_tail(f, &c))
        return false;
    f->server_ssl = (f->server_caps & MYSQL_CAP_SSL) != 0;
    f->greeting = true;
    return true;
}

/* ERR packet: 0xff, 2-byte error code, message. */
static void parse_err(struct mysql_facts *f, const uint8_t *pl, size_t len)
{
    if (len >= 3)
        f->error_code = (uint16_t)(pl[1] | pl[2] << 8);
}

/* Connection attributes: a length-prefixed block of key/value pairs that
 * must be used up exactly. */
static bool parse_attrs(struct mysql_facts *f, struct cur *c)
{
    uint64_t total;
    struct cur blk;

    if (!cur_lenenc(c, &total) || !cur_has(c, total))
        return false;
    blk.p = c->p;
    blk.end = c->p + total;
    c->p = blk.end;
    while (blk.p < blk.end) {
        struct mysql_attr tmp;
        struct mysql_attr *a = f->nattrs < MYSQL_MAX_ATTRS ? &f->attrs[f->nattrs] : &tmp;

        if (!cur_lenenc_str(&blk, a->key, sizeof(a->key)) ||
            !cur_lenenc_str(&blk, a->value, sizeof(a->value)))
            return false;
        if (f->attrs_total < UINT16_MAX)
            f->attrs_total++;
        if (a != &tmp)
            f->nattrs++;
    }
    return true;
}

/* Auth response: lenenc, 1-byte length or NUL-terminated by capability. */
static bool skip_auth_response(struct mysql_facts *f, struct cur *c)
{
    uint64_t n;
    uint8_t n8;

    if (f->client_caps & MYSQL_CAP_AUTH_LENENC) {
        if (!cur_lenenc(c, &n))
            return false;
    } else if (f->client_caps & MYSQL_CAP_SECURE_CONN) {
        if (!cur_u8(c, &n8))
            return false;
        n = n8;
    } else {
        const uint8_t *nul = memchr(c->p, 0, (size_t)(c->end - c->p));
        if (nul == NULL)
            return false;
        f->auth_len = (uint16_t)(nul - c->p);
        c->p = nul + 1;
        return true;
    }
    f->auth_len = n > UINT16_MAX ? UINT16_MAX : (uint16_t)n;
    return cur_skip(c, n);
}

/* Fields of HandshakeResponse41 after the fixed 32 bytes. A failure on a
 * packet cut at MYSQL_PKT_CAP is a truncation, not a malformation. */
static bool parse_response_fields(struct mysql_facts *f, struct cur *c)
{
    /* username, NUL-terminated */
    if (!cur_cstr(c, f->user, sizeof(f->user)))
        return false;

    /* auth-response */
    if (!skip_auth_response(f, c))
        return false;

    /* database, if CLIENT_CONNECT_WITH_DB */
    if ((f->client_caps & MYSQL_CAP_CONNECT_WITH_DB) && c->p < c->end &&
        !cur_cstr(c, f->database, sizeof(f->database)))
        return false;

    /* client plugin name, if CLIENT_PLUGIN_AUTH */
    if ((f->client_caps & MYSQL_CAP_PLUGIN_AUTH) && c->p < c->end &&
        !cur_cstr(c, f->client_plugin, sizeof(f->client_plugin)))
        return false;

    /* connection attributes, if CLIENT_CONNECT_ATTRS */
    if ((f->client_caps & MYSQL_CAP_CONNECT_ATTRS) && c->p < c->end && !parse_attrs(f, c))
        return false;
    return true;
}

/* The client's first packet: SSLRequest or HandshakeResponse41. Returns
 * false when malformed. */
static bool parse_response(struct mysql_facts *f, const uint8_t *pl, size_t len, bool cut)
{
    struct cur c = {pl, pl + len};
    uint64_t caps, maxp;

    /* capability flags (4), max packet size (4), charset (1), filler (23) */
    if (!cur_le(&c, 4, &caps))
        return false;
    if (!(caps & MYSQL_CAP_PROTOCOL_41)) {
        f->old_client = true; /* Limitation: HandshakeResponse320 is not parsed. */
        return true;
    }
    if (!cur_le(&c, 4, &maxp) || !cur_u8(&c, &f->client_charset) || !cur_skip(&c, 23))
        return false;
    f->client_caps = (uint32_t)caps;
    f->max_packet = (uint32_t)maxp;
    if (len == MYSQL_SSL_REQUEST_LEN) {
        if (!(caps & MYSQL_CAP_SSL))
            return false;
        f->ssl_request = f->client_ssl = true;
        return true;
    }
    f->response = true;
    if (!parse_response_fields(f, &c)) {
        if (!cut)
            return false;
        f->response_truncated = true;
    }
    if (strcmp(f->client_plugin, MYSQL_CLEAR_PLUGIN) == 0)
        f->cleartext = true;
    f->downgrade = f->server_ssl;
    return true;
}

/* The server's answer to a plaintext response. */
static void parse_reply(struct mysql_facts *f, const uint8_t *pl, size_t len)
{
    struct cur c = {pl + 1, pl + len};

    if (len == 0) {
        f->reply = MYSQL_REPLY_OTHER;
        return;
    }
    switch (pl[0]) {
    case 0x00:
        f->reply = MYSQL_REPLY_OK;
        break;
    case 0xff:
        f->reply = MYSQL_REPLY_ERR;
        parse_err(f, pl, len);
        break;
    case 0xfe:
        /* AuthSwitchRequest: plugin name NUL-terminated, then plugin data */
        f->reply = MYSQL_REPLY_SWITCH;
        cur_cstr_or_end(&c, f->switch_plugin, sizeof(f->switch_plugin));
        if (strcmp(f->switch_plugin, MYSQL_CLEAR_PLUGIN) == 0)
            f->cleartext = true;
        break;
    case 0x01:
        f->reply = MYSQL_REPLY_MORE_DATA;
        if (len > 1)
            f->more_data = pl[1];
        break;
    default:
        f->reply = MYSQL_REPLY_OTHER;
        break;
    }
}

static void finish(struct mysql_parser *p)
{
    p->state = ST_END;
    p->status = DISSECT_DONE;
}

static void fail(struct mysql_parser *p, enum mysql_error e)
{
    p->state = ST_END;
    p->status = DISSECT_ERROR;
    p->error = (uint8_t)e;
}

/* A whole packet of the direction whose turn it is: its payload pl[0..len)
 * (only the first len bytes when cut at MYSQL_PKT_CAP) and sequence id. */
static void on_packet(struct mysql_parser *p, const uint8_t *pl, size_t len, bool cut, uint8_t seq)
{
    struct mysql_facts *f = &p->facts;

    switch (p->state) {
    case ST_GREETING:
        if (seq == 0 && len > 0 && pl[0] == 0xff) {
            f->greeting_error = true;
            parse_err(f, pl, len);
            finish(p);
        } else if (seq != 0 || len == 0 || pl[0] != 0x0a) {
            fail(p, MYSQL_E_NOT_MYSQL);
        } else if (cut || !parse_greeting(f, pl, len)) {
            fail(p, MYSQL_E_GREETING);
        } else {
            f->tls_offset[DISSECT_DIR_SERVER] = p->d[DISSECT_DIR_SERVER].offset;
            p->state = ST_RESPONSE;
        }
        break;
    case ST_RESPONSE:
        if (seq != 1 || !parse_response(f, pl, len, cut)) {
            f->malformed = true;
            finish(p);
        } else if (f->ssl_request) {
            f->tls_handoff = true;
            f->tls_offset[DISSECT_DIR_CLIENT] = p->d[DISSECT_DIR_CLIENT].offset;
            finish(p);
        } else if (f->old_client) {
            finish(p);
        } else {
            p->state = ST_REPLY;
        }
        break;
    case ST_REPLY:
        parse_reply(f, pl, len);
        finish(p);
        break;
    default:
        break;
    }
    p->hdr_len = 0;
    p->pkt_len = p->pkt_have = 0;
}

static bool looks_like_tls(const uint8_t *b, size_t n);

/* The server's first bytes are not a greeting header: TLS or not MySQL. */
static void fail_header(struct mysql_parser *p, const uint8_t *hdr)
{
    fail(p, looks_like_tls(hdr, 4) ? MYSQL_E_TLS : MYSQL_E_NOT_MYSQL);
}

/* A greeting is short and has sequence id 0: judge its header at once so
 * that other protocols fail on their first four bytes. */
static bool header_plausible(const struct mysql_parser *p, size_t len, uint8_t seq)
{
    if (p->state != ST_GREETING)
        return true;
    return seq == 0 && len > 0 && len <= MYSQL_PKT_CAP;
}

/* Take bytes of the packet being assembled; returns how many were used. */
static size_t pkt_take(struct mysql_parser *p, const uint8_t *buf, size_t n, bool *complete)
{
    size_t used = 0;

    *complete = false;
    while (p->hdr_len < 4 && used < n) {
        p->hdr[p->hdr_len++] = buf[used++];
        if (p->hdr_len == 4)
            p->pkt_len = (uint32_t)p->hdr[0] | (uint32_t)p->hdr[1] << 8 | (uint32_t)p->hdr[2] << 16;
    }
    if (p->hdr_len < 4)
        return used;

    size_t want = p->pkt_len - p->pkt_have;
    size_t k = want < n - used ? want : n - used;
    if (p->pkt_have < MYSQL_PKT_CAP) {
        size_t room = MYSQL_PKT_CAP - p->pkt_have;
        memcpy(p->buf + p->pkt_have, buf + used, k < room ? k : room);
    }
    p->pkt_have += (uint32_t)k;
    used += k;
    *complete = p->pkt_have == p->pkt_len;
    return used;
}

static int turn(uint8_t state)
{
    return state == ST_RESPONSE ? DISSECT_DIR_CLIENT : DISSECT_DIR_SERVER;
}

void mysql_init(struct mysql_parser *p)
{
    memset(p, 0, sizeof(*p));
    p->state = ST_GREETING;
    p->status = DISSECT_MORE;
}

void mysql_free(struct mysql_parser *p)
{
    (void)p;
}

enum dissect_status mysql_feed(struct mysql_parser *p, int dir, const uint8_t *buf, size_t n)
{
    if (p->status != DISSECT_MORE || (dir != 0 && dir != 1))
        return (enum dissect_status)p->status;
    while (n > 0 && p->status == DISSECT_MORE) {
        size_t used;
        bool complete;

        if (dir != turn(p->state)) {
            /* Out of turn: a client never speaks before the greeting is
             * answered in full, nor a server before the client answers. */
            p->d[dir].offset += n;
            break;
        }
        if (p->hdr_len == 0 && 4 <= n) {
            size_t len = (size_t)buf[0] | (size_t)buf[1] << 8 | (size_t)buf[2] << 16;
            if (!header_plausible(p, len, buf[3])) {
                fail_header(p, buf);
                break;
            }
            /* The whole packet is in buf: parse it in place. */
            if (len <= n - 4) {
                p->d[dir].offset += 4 + len;
                on_packet(p, buf + 4, len, false, buf[3]);
                buf += 4 + len;
                n -= 4 + len;
                continue;
            }
        }
        used = pkt_take(p, buf, n, &complete);
        p->d[dir].offset += used;
        buf += used;
        n -= used;
        if (p->hdr_len == 4 && !header_plausible(p, p->pkt_len, p->hdr[3])) {
            fail_header(p, p->hdr);
            break;
        }
        if (complete) {
            bool cut = p->pkt_len > MYSQL_PKT_CAP;
            on_packet(p, p->buf, cut ? MYSQL_PKT_CAP : p->pkt_len, cut, p->hdr[3]);
        }
    }
    return (enum dissect_status)p->status;
}

enum dissect_status mysql_gap(struct mysql_parser *p, int dir, uint64_t n)
{
    if (p->status != DISSECT_MORE || (dir != 0 && dir != 1) || n == 0)
        return (enum dissect_status)p->status;
    p->facts.gap[dir] = true;
    p->d[dir].offset += n;
    if (p->facts.greeting)
        finish(p);
    else
        fail(p, MYSQL_E_GAP);
    return (enum dissect_status)p->status;
}

enum dissect_status mysql_status(const struct mysql_parser *p)
{
    return (enum dissect_status)p->status;
}

enum mysql_error mysql_error(const struct mysql_parser *p)
{
    return (enum mysql_error)p->error;
}

const char *mysql_error_name(enum mysql_error e)
{
    switch (e) {
    case MYSQL_E_NONE:
        return "none";
    case MYSQL_E_NOT_MYSQL:
        return "not-mysql";
    case MYSQL_E_GREETING:
        return "bad-greeting";
    case MYSQL_E_GAP:
        return "gap";
    case MYSQL_E_TLS:
        return "tls";
    }
    return "unknown";
}

bool mysql_final(const struct mysql_parser *p)
{
    return p->status == DISSECT_DONE;
}

uint64_t mysql_offset(const struct mysql_parser *p, int dir)
{
    return (dir == 0 || dir == 1) ? p->d[dir].offset : 0;
}

const struct mysql_facts *mysql_facts(const struct mysql_parser *p)
{
    return &p->facts;
}

const char *mysql_reply_name(enum mysql_reply r)
{
    switch (r) {
    case MYSQL_REPLY_NONE:
        return "none";
    case MYSQL_REPLY_OK:
        return "ok";
    case MYSQL_REPLY_ERR:
        return "err";
    case MYSQL_REPLY_SWITCH:
        return "switch";
    case MYSQL_REPLY_MORE_DATA:
        return "more-data";
    case MYSQL_REPLY_OTHER:
        return "other";
    }
    return "other";
}

/* ---- Mid-stream recognition ---------------------------------------------- */

/* Command bytes a client sends (MySQL "Text Protocol" / "Prepared
 * Statements" / "Replication Protocol" command phase). */
static bool known_command(uint8_t cmd)
{
    switch (cmd) {
    case 0x01: /* COM_QUIT */
    case 0x02: /* COM_INIT_DB */
    case 0x03: /* COM_QUERY */
    case 0x04: /* COM_FIELD_LIST */
    case 0x09: /* COM_STATISTICS */
    case 0x0e: /* COM_PING */
    case 0x11: /* COM_CHANGE_USER */
    case 0x12: /* COM_BINLOG_DUMP */
    case 0x15: /* COM_REGISTER_SLAVE */
    case 0x16: /* COM_STMT_PREPARE */
    case 0x17: /* COM_STMT_EXECUTE */
    case 0x18: /* COM_STMT_SEND_LONG_DATA */
    case 0x19: /* COM_STMT_CLOSE */
    case 0x1a: /* COM_STMT_RESET */
    case 0x1b: /* COM_SET_OPTION */
    case 0x1c: /* COM_STMT_FETCH */
    case 0x1e: /* COM_BINLOG_DUMP_GTID */
    case 0x1f: /* COM_RESET_CONNECTION */
        return true;
    default:
        return false;
    }
}

/* Query text: printable ASCII, whitespace or UTF-8 bytes. */
static bool plausible_text(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = s[i];
        if (b < 0x20 && b != '\t' && b != '\n' && b != '\r')
            return false;
        if (b == 0x7f)
            return false;
    }
    return true;
}

/* First packet of a server response, judged on its first byte and length. */
static bool plausible_response(const uint8_t *pl, size_t have, uint32_t len)
{
    if (len == 0 || have == 0)
        return have == 0 && len > 0;
    switch (pl[0]) {
    case 0x00:
        return len >= 7; /* OK: affected rows, insert id, status, warnings */
    case 0xff:
        return len >= 3;
    case 0xfe:
        return len < 9; /* EOF (a longer 0xfe packet is an OK in newer servers) */
    case 0xfc:
        return len == 3; /* column count as a 2-byte lenenc */
    default:
        return pl[0] < 0xfb && len == 1; /* column count */
    }
}

static bool looks_like_tls(const uint8_t *b, size_t n)
{
    if (n < 3 || b[1] != 0x03)
        return false;
    if (b[0] == 0x16)
        return b[2] <= 0x04;
    return (b[0] == 0x17 || b[0] == 0x15 || b[0] == 0x14) && b[2] >= 0x01 && b[2] <= 0x04;
}

/* Check packet number i (complete or cut) of a direction. */
static bool probe_packet(int dir, unsigned i, uint8_t seq, uint8_t *prev_seq, const uint8_t *pl,
                         size_t have, uint32_t len)
{
    if (dir == DISSECT_DIR_CLIENT) {
        if (seq != 0 && !(i > 0 && seq == (uint8_t)(*prev_seq + 1)))
            return false;
        if (seq == 0 && (len == 0 || (have > 0 && !known_command(pl[0]))))
            return false;
        if (seq == 0 && have > 1 && pl[0] == 0x03 && !plausible_text(pl + 1, have - 1))
            return false;
    } else if (i == 0) {
        if (seq == 0 || !plausible_response(pl, have, len))
            return false;
    } else if (seq != (uint8_t)(*prev_seq + 1)) {
        return false;
    }
    *prev_seq = seq;
    return true;
}

enum mysql_probe_result mysql_probe(int dir, const uint8_t *buf, size_t n, unsigned *packets)
{
    const uint8_t *p = buf, *end = buf + n;
    unsigned i = 0;
    uint8_t prev_seq = 0;

    if (packets != NULL)
        *packets = 0;
    if (looks_like_tls(buf, n))
        return MYSQL_PROBE_TLS;
    while (4 <= (size_t)(end - p)) {
        uint32_t len = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
        uint8_t seq = p[3];
        size_t avail = (size_t)(end - p) - 4;
        size_t have = len < avail ? len : avail;
        size_t check = have < 64 ? have : 64;

        if (!probe_packet(dir, i, seq, &prev_seq, p + 4, check, len))
            return MYSQL_PROBE_NO;
        if (len > avail)
            break; /* cut by the end of the buffer */
        p += 4 + len;
        i++;
        if (packets != NULL)
            *packets = i;
    }
    if (i == 0)
        return MYSQL_PROBE_MORE;
    return MYSQL_PROBE_YES;
}
