/* gRPC path, content-type and framing helpers, and the service table.
 * See grpc.h for the contract. */
#include "dissectors/grpc.h"

#include <string.h>

/* SOURCE OF TRUTH for gRPC service -> component mapping. Hand-maintained
 * from ../shared/PROTOCOLS.md ("Vitess gRPC services" and "etcd"); keep it
 * sorted by name in strcmp order (a unit test checks), one line per
 * service. Nothing else in the sensor may repeat this mapping. */
static const struct grpc_service grpc_table[] = {
    {"binlogservice.UpdateStream", "vttablet", {"vttablet"}, "grpc"},
    {"etcdserverpb.Auth", "etcd", {"any"}, "etcd"},
    {"etcdserverpb.Cluster", "etcd", {"any"}, "etcd"},
    {"etcdserverpb.KV", "etcd", {"any"}, "etcd"},
    {"etcdserverpb.Lease", "etcd", {"any"}, "etcd"},
    {"etcdserverpb.Maintenance", "etcd", {"any"}, "etcd"},
    {"etcdserverpb.Watch", "etcd", {"any"}, "etcd"},
    {"grpc.health.v1.Health", "any", {"any"}, "grpc"},
    {"grpc.reflection.v1.ServerReflection", "any", {"any"}, "grpc"},
    {"grpc.reflection.v1alpha.ServerReflection", "any", {"any"}, "grpc"},
    {"mysqlctl.MysqlCtl", "mysqlctld", {"vttablet"}, "grpc"},
    {"queryservice.Query", "vttablet", {"vtgate", "vttablet", "vtctld"}, "grpc"},
    {"tabletmanagerservice.TabletManager",
     "vttablet",
     {"vtctld", "vtorc", "vttablet", "vtbackup"},
     "grpc"},
    {"throttlerservice.Throttler", "vttablet", {"vtctld"}, "grpc"},
    {"v3electionpb.Election", "etcd", {"any"}, "etcd"},
    {"v3lockpb.Lock", "etcd", {"any"}, "etcd"},
    {"vtadmin.VTAdmin", "vtadmin", {"vtadmin-web"}, "grpc"},
    {"vtctlservice.Vtctl", "vtctld", {"vtctlclient", "vtadmin"}, "grpc"},
    {"vtctlservice.Vtctld", "vtctld", {"vtctldclient", "vtadmin"}, "grpc"},
    {"vtgateservice.Vitess", "vtgate", {"app", "vtadmin"}, "grpc"},
};

#define GRPC_TABLE_N           (sizeof(grpc_table) / sizeof(grpc_table[0]))
#define GRPC_REFLECTION_PREFIX "grpc.reflection."
#define GRPC_REFLECTION_SUFFIX ".ServerReflection"

const struct grpc_service *grpc_services(size_t *n)
{
    *n = GRPC_TABLE_N;
    return grpc_table;
}

/* Compare a counted name with a table key in strcmp order. */
static int name_cmp(const char *name, size_t len, const char *key)
{
    size_t kl = strlen(key);
    int c = memcmp(name, key, len < kl ? len : kl);

    if (c != 0)
        return c;
    return len < kl ? -1 : (len > kl ? 1 : 0);
}

static bool is_reflection(const char *name, size_t len)
{
    size_t lp = strlen(GRPC_REFLECTION_PREFIX), ls = strlen(GRPC_REFLECTION_SUFFIX);

    return len > lp + ls && memcmp(name, GRPC_REFLECTION_PREFIX, lp) == 0 &&
           memcmp(name + len - ls, GRPC_REFLECTION_SUFFIX, ls) == 0;
}

const struct grpc_service *grpc_service_lookup(const char *name, size_t len)
{
    size_t lo = 0, hi = GRPC_TABLE_N;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(name, len, grpc_table[mid].name);
        if (c == 0)
            return &grpc_table[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (is_reflection(name, len))
        return grpc_service_lookup("grpc.reflection.v1.ServerReflection",
                                   strlen("grpc.reflection.v1.ServerReflection"));
    return NULL;
}

/* Visible ASCII other than '/', '?' and '#'. */
static bool path_char(char ch)
{
    return ch > 0x20 && ch < 0x7f && ch != '/' && ch != '?' && ch != '#';
}

/* Length of the run of path characters at s[0..len). */
static size_t path_run(const char *s, size_t len)
{
    size_t i = 0;

    while (i < len && path_char(s[i]))
        i++;
    return i;
}

int grpc_split_path(const char *path, size_t len, struct grpc_path *out)
{
    size_t svc, meth;
    const char *dot;

    /* "/" Service-Name */
    if (len < 4 || path[0] != '/')
        return -1;
    svc = path_run(path + 1, len - 1);
    if (svc == 0 || 1 + svc >= len || path[1 + svc] != '/')
        return -1;

    /* "/" method name, running to the end */
    meth = path_run(path + 2 + svc, len - 2 - svc);
    if (meth == 0 || 2 + svc + meth != len)
        return -1;

    out->service = path + 1;
    out->service_len = svc;
    out->method = path + 2 + svc;
    out->method_len = meth;
    dot = NULL;
    for (size_t i = 0; i < svc; i++)
        if (path[1 + i] == '.')
            dot = path + 1 + i;
    out->package = path + 1;
    out->package_len = dot != NULL ? (size_t)(dot - (path + 1)) : 0;
    return 0;
}

static bool ieq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

/* Codec after '+', up to ';' or the end. */
static enum grpc_content_type codec_type(const char *v, size_t len)
{
    size_t n = 0;

    while (n < len && v[n] != ';' && v[n] != ' ')
        n++;
    if (n == 5 && ieq(v, "proto", 5))
        return GRPC_CT_PROTO;
    if (n == 4 && ieq(v, "json", 4))
        return GRPC_CT_JSON;
    return n > 0 ? GRPC_CT_OTHER : GRPC_CT_NONE;
}

enum grpc_content_type grpc_content_type(const char *v, size_t len)
{
    static const char base[] = "application/grpc";
    size_t lb = sizeof(base) - 1;

    if (len < lb || !ieq(v, base, lb))
        return GRPC_CT_NONE;
    if (len == lb || v[lb] == ';' || v[lb] == ' ')
        return GRPC_CT_GRPC;
    if (v[lb] == '+')
        return codec_type(v + lb + 1, len - lb - 1);
    if (v[lb] == '-' && len >= lb + 4 && ieq(v + lb + 1, "web", 3))
        return GRPC_CT_WEB;
    return GRPC_CT_NONE;
}

const char *grpc_content_type_name(enum grpc_content_type ct)
{
    switch (ct) {
    case GRPC_CT_GRPC:
        return "grpc";
    case GRPC_CT_PROTO:
        return "grpc+proto";
    case GRPC_CT_JSON:
        return "grpc+json";
    case GRPC_CT_OTHER:
        return "grpc+other";
    case GRPC_CT_WEB:
        return "grpc-web";
    case GRPC_CT_NONE:
        break;
    }
    return "none";
}

int grpc_msg_header(const uint8_t *buf, size_t n, bool *compressed, uint32_t *len)
{
    /* Compressed-Flag (1 byte, 0 or 1), Message-Length (4 bytes, big endian) */
    if (n < 5)
        return 0;
    if (buf[0] > 1)
        return -1;
    *compressed = buf[0] == 1;
    *len = (uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 8 | buf[4];
    return 1;
}
