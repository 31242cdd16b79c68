/* GeoIP and zone enrichment. See geo.h. */
#include "output/geo.h"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEO_MAX_DEPTH 16 /* nesting followed when skipping a value */

struct geo_slot {
    bool used;
    uint8_t family;
    uint8_t addr[16];
    struct geo_result r;
};

struct geo {
    MMDB_s db[GEO_MAX_DBS];
    size_t ndb;
    struct geo_stats st;
    struct geo_slot cache[GEO_CACHE_SLOTS];
};

struct geo *geo_new(void)
{
    return calloc(1, sizeof(struct geo));
}

bool geo_add(struct geo *g, const char *path, char *err)
{
    int rc;

    if (g->ndb == GEO_MAX_DBS) {
        snprintf(err, GEO_ERRLEN, "%s: more than %d --geoip databases", path, GEO_MAX_DBS);
        return false;
    }
    rc = MMDB_open(path, MMDB_MODE_MMAP, &g->db[g->ndb]);
    if (rc != MMDB_SUCCESS) {
        snprintf(err, GEO_ERRLEN, "%s: %s", path, MMDB_strerror(rc));
        return false;
    }
    g->ndb++;
    memset(g->cache, 0, sizeof(g->cache)); /* answers may change */
    return true;
}

size_t geo_count(const struct geo *g)
{
    return g->ndb;
}

void geo_free(struct geo *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->ndb; i++)
        MMDB_close(&g->db[i]);
    free(g);
}

void geo_get_stats(const struct geo *g, struct geo_stats *st)
{
    *st = g->st;
}

/* Copy a string of n bytes (not NUL-terminated) into out (len bytes), cut at
 * a UTF-8 boundary. Returns true when it fit whole. */
static bool geo_copy(char *out, size_t len, const char *s, size_t n)
{
    size_t k = n < len - 1 ? n : len - 1;

    if (k < n)
        while (k > 0 && ((uint8_t)s[k] & 0xc0) == 0x80)
            k--;
    memcpy(out, s, k);
    out[k] = '\0';
    return k == n;
}

static bool geo_key_ok(const char *s, size_t n)
{
    if (n == 0 || n >= GEO_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* The node after the value that starts at n (maps and arrays skipped whole). */
static MMDB_entry_data_list_s *geo_skip(MMDB_entry_data_list_s *n, int depth)
{
    uint32_t type, size;

    if (n == NULL || depth > GEO_MAX_DEPTH)
        return NULL;
    type = n->entry_data.type;
    size = n->entry_data.data_size;
    n = n->next;
    if (type == MMDB_DATA_TYPE_MAP) {
        for (uint32_t i = 0; i < size && n != NULL; i++)
            n = geo_skip(n->next, depth + 1); /* key, then value */
    } else if (type == MMDB_DATA_TYPE_ARRAY) {
        for (uint32_t i = 0; i < size && n != NULL; i++)
            n = geo_skip(n, depth + 1);
    }
    return n;
}

static bool geo_has_key(const struct geo_result *r, const char *key, size_t n)
{
    for (size_t i = 0; i < r->nkv; i++)
        if (strlen(r->kv[i].key) == n && memcmp(r->kv[i].key, key, n) == 0)
            return true;
    return false;
}

static void geo_add_kv(struct geo_result *r, const MMDB_entry_data_s *k, const MMDB_entry_data_s *v)
{
    const char *key = k->utf8_string;
    struct geo_kv *kv;

    if (k->data_size == strlen("autonomous_system_organization") &&
        memcmp(key, "autonomous_system_organization", k->data_size) == 0)
        return;
    if (geo_has_key(r, key, k->data_size))
        return; /* an earlier database answered */
    if (!geo_key_ok(key, k->data_size) || r->nkv == GEO_MAX_KV) {
        r->dropped++;
        return;
    }
    kv = &r->kv[r->nkv++];
    memcpy(kv->key, key, k->data_size);
    kv->key[k->data_size] = '\0';
    if (!geo_copy(kv->value, sizeof(kv->value), v->utf8_string, v->data_size))
        r->dropped++;
}

/* Every top-level string of entry as a key/value pair. */
static void geo_custom(struct geo *g, MMDB_entry_s *entry, struct geo_result *r)
{
    MMDB_entry_data_list_s *list = NULL, *n;
    uint32_t pairs;

    if (MMDB_get_entry_data_list(entry, &list) != MMDB_SUCCESS) {
        g->st.errors++;
        goto out;
    }
    if (list == NULL || list->entry_data.type != MMDB_DATA_TYPE_MAP)
        goto out;
    pairs = list->entry_data.data_size;
    n = list->next;
    for (uint32_t i = 0; i < pairs && n != NULL && n->next != NULL; i++) {
        MMDB_entry_data_list_s *v = n->next;

        if (n->entry_data.type == MMDB_DATA_TYPE_UTF8_STRING &&
            v->entry_data.type == MMDB_DATA_TYPE_UTF8_STRING)
            geo_add_kv(r, &n->entry_data, &v->entry_data);
        n = geo_skip(v, 0);
    }
out:
    MMDB_free_entry_data_list(list);
}

/* The standard fields from one database's record, where still unknown. */
static void geo_standard(MMDB_entry_s *e, struct geo_result *r)
{
    MMDB_entry_data_s d;

    if (r->country[0] == '\0' && MMDB_get_value(e, &d, "country", "iso_code", NULL) == 0 &&
        d.has_data && d.type == MMDB_DATA_TYPE_UTF8_STRING && d.data_size == 2)
        geo_copy(r->country, sizeof(r->country), d.utf8_string, d.data_size);
    if (r->asn == 0 && MMDB_get_value(e, &d, "autonomous_system_number", NULL) == 0 && d.has_data &&
        d.type == MMDB_DATA_TYPE_UINT32)
        r->asn = d.uint32;
    if (r->as_org[0] == '\0' &&
        MMDB_get_value(e, &d, "autonomous_system_organization", NULL) == 0 && d.has_data &&
        d.type == MMDB_DATA_TYPE_UTF8_STRING)
        geo_copy(r->as_org, sizeof(r->as_org), d.utf8_string, d.data_size);
}

static void geo_sockaddr(int family, const uint8_t addr[16], struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (family == 4) {
        struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
        in4->sin_family = AF_INET;
        memcpy(&in4->sin_addr, addr, 4);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        memcpy(&in6->sin6_addr, addr, 16);
    }
}

static void geo_query(struct geo *g, int family, const uint8_t addr[16], struct geo_result *r)
{
    struct sockaddr_storage ss;

    memset(r, 0, sizeof(*r));
    geo_sockaddr(family, addr, &ss);
    for (size_t i = 0; i < g->ndb; i++) {
        int mmdb_err = MMDB_SUCCESS;
        MMDB_lookup_result_s res =
            MMDB_lookup_sockaddr(&g->db[i], (const struct sockaddr *)&ss, &mmdb_err);

        if (mmdb_err != MMDB_SUCCESS) {
            g->st.errors++;
            continue;
        }
        if (!res.found_entry)
            continue;
        r->found = true;
        geo_standard(&res.entry, r);
        geo_custom(g, &res.entry, r);
    }
}

static size_t geo_slot_of(int family, const uint8_t addr[16])
{
    uint32_t h = 2166136261u ^ (uint32_t)family;

    for (size_t i = 0; i < 16; i++)
        h = (h ^ addr[i]) * 16777619u;
    return (h ^ (h >> 16)) % GEO_CACHE_SLOTS;
}

bool geo_lookup(struct geo *g, int family, const uint8_t addr[16], struct geo_result *out)
{
    uint8_t a[16] = {0};
    struct geo_slot *slot;

    memcpy(a, addr, family == 4 ? 4 : 16);
    slot = &g->cache[geo_slot_of(family, a)];
    g->st.lookups++;
    if (slot->used && slot->family == family && memcmp(slot->addr, a, 16) == 0) {
        g->st.cache_hits++;
        *out = slot->r;
        return out->found;
    }
    geo_query(g, family, a, out);
    slot->used = true;
    slot->family = (uint8_t)family;
    memcpy(slot->addr, a, 16);
    slot->r = *out;
    return out->found;
}

const char *geo_get(const struct geo_result *r, const char *key, char *buf)
{
    if (strcmp(key, "country") == 0)
        return r->country[0] ? r->country : NULL;
    if (strcmp(key, "as_org") == 0)
        return r->as_org[0] ? r->as_org : NULL;
    if (strcmp(key, "asn") == 0) {
        if (r->asn == 0)
            return NULL;
        snprintf(buf, 16, "%u", r->asn);
        return buf;
    }
    for (size_t i = 0; i < r->nkv; i++)
        if (strcmp(r->kv[i].key, key) == 0)
            return r->kv[i].value;
    return NULL;
}

json_t *geo_json(const struct geo_result *r)
{
    json_t *o = json_object();
    bool ok = o != NULL;

    if (ok && r->country[0])
        ok = json_object_set_new(o, "country", json_string(r->country)) == 0;
    if (ok && r->asn)
        ok = json_object_set_new(o, "asn", json_integer(r->asn)) == 0;
    if (ok && r->as_org[0])
        ok = json_object_set_new(o, "as_org", json_string(r->as_org)) == 0;
    for (size_t i = 0; ok && i < r->nkv; i++) {
        const char *k = r->kv[i].key;

        if (strcmp(k, "country") == 0 || strcmp(k, "asn") == 0 || strcmp(k, "as_org") == 0)
            continue;
        ok = json_object_set_new(o, k, json_string(r->kv[i].value)) == 0;
    }
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}
