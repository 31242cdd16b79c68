/* gRPC over HTTP/2: path split, content-type recognition, message framing,
 * and the table of Vitess and etcd gRPC services (which component serves
 * each, which components call it).
 *
 * Everything here is stateless and pure: the HTTP/2 dissector (http2.h)
 * supplies :path and content-type; these functions interpret them.
 * Wire facts: gRPC PROTOCOL-HTTP2.md ("Path -> :path /" Service-Name "/"
 * {method name}, "Content-Type -> application/grpc [("+proto" / "+json" /
 * {custom})]", "Length-Prefixed-Message -> Compressed-Flag Message-Length
 * Message"), services from ../shared/PROTOCOLS.md.
 */
#ifndef VTLS_GRPC_H
#define VTLS_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A split path; pointers point into the caller's path string (not
 * NUL-terminated: use the lengths). */
struct grpc_path {
    const char *service; /* "queryservice.Query" (package and service) */
    size_t service_len;
    const char *package; /* "queryservice"; empty (len 0) when there is no '.' */
    size_t package_len;
    const char *method; /* "StreamExecute" */
    size_t method_len;
};

/* Split path[0..len) of the form "/<service>/<method>" where service and
 * method are non-empty and made of visible ASCII without '/'. A query
 * string is not allowed. Returns 0 and fills *out, or -1 (out untouched)
 * when the path is not a gRPC path. */
int grpc_split_path(const char *path, size_t len, struct grpc_path *out);

enum grpc_content_type {
    GRPC_CT_NONE = 0, /* not gRPC */
    GRPC_CT_GRPC,     /* application/grpc */
    GRPC_CT_PROTO,    /* application/grpc+proto */
    GRPC_CT_JSON,     /* application/grpc+json */
    GRPC_CT_OTHER,    /* application/grpc+<other codec> */
    GRPC_CT_WEB,      /* application/grpc-web[+...] / grpc-web-text */
};

/* Recognise a content-type value v[0..len): "application/grpc" compared
 * case-insensitively, optionally followed by "+codec" and/or ";params". */
enum grpc_content_type grpc_content_type(const char *v, size_t len);

/* "grpc", "grpc+proto", "grpc+json", "grpc+other", "grpc-web", "none". */
const char *grpc_content_type_name(enum grpc_content_type ct);

/* Length-Prefixed-Message header at buf[0..n): returns 1 and sets
 * *compressed and *len when 5 bytes are there and the flag is 0 or 1; 0 when
 * n < 5; -1 when the flag byte is neither 0 nor 1. */
int grpc_msg_header(const uint8_t *buf, size_t n, bool *compressed, uint32_t *len);

/* Component names used in the table (DESIGN.md vitess.client/server). */
#define GRPC_MAX_CALLERS 4

/* One gRPC service. server and callers name components: "vtgate",
 * "vttablet", "vtctld", "vtadmin", "mysqld", "mysqlctld", "etcd", ... or
 * "any" (served or called by every component). */
struct grpc_service {
    const char *name;                      /* "package.Service", the table's sort key */
    const char *server;                    /* component that serves it */
    const char *callers[GRPC_MAX_CALLERS]; /* typical callers; unused slots NULL */
    const char *app;                       /* flow.app for this service: "grpc" or "etcd" */
};

/* Look a service name (name[0..len), e.g. grpc_path.service) up in the
 * table. Returns the entry (static storage) or NULL when unknown. Any
 * "grpc.reflection.<version>.ServerReflection" matches the reflection
 * entry. Binary search: O(log n). */
const struct grpc_service *grpc_service_lookup(const char *name, size_t len);

/* The whole table, sorted by name (strcmp order); *n receives its size. */
const struct grpc_service *grpc_services(size_t *n);

#endif
