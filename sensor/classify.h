/* Classification of a flow's two ends into Vitess components.
 *
 * Evidence, strongest first: the inventory (CIDR and port of each
 * component, optional TLS name patterns); application facts (the gRPC
 * service called, a MySQL greeting ending in -Vitess or a plain one, etcd or
 * ZooKeeper protocol); TLS names (SNI or certificate names matching the
 * inventory's patterns); default ports of ../shared/PROTOCOLS.md. The client
 * side is inferred from the inventory, else from the service it called.
 */
#ifndef VTLS_CLASSIFY_H
#define VTLS_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor/decode.h"

enum cls_component {
    CLS_UNKNOWN,
    CLS_APP,
    CLS_VTGATE,
    CLS_VTTABLET,
    CLS_VTCTLD,
    CLS_VTCTLDCLIENT,
    CLS_VTORC,
    CLS_VTADMIN,
    CLS_MYSQLD,
    CLS_MYSQLCTLD,
    CLS_ETCD,
    CLS_ZOOKEEPER,
    CLS__COUNT
};

/* Which evidence decided a side. */
enum cls_evidence {
    CLS_EV_NONE,
    CLS_EV_INVENTORY,
    CLS_EV_GRPC_SERVICE,
    CLS_EV_VITESS_GREETING,
    CLS_EV_MYSQL_GREETING,
    CLS_EV_ETCD_PROTOCOL,
    CLS_EV_ZOOKEEPER_PROTOCOL,
    CLS_EV_TLS_NAME,
    CLS_EV_PORT,
};

/* What the dissectors found that bears on the components. */
enum cls_app_hint {
    CLS_HINT_NONE,
    CLS_HINT_GRPC,         /* service in grpc_service */
    CLS_HINT_MYSQL,        /* plain MySQL/MariaDB greeting */
    CLS_HINT_MYSQL_VITESS, /* greeting version ends in -Vitess */
    CLS_HINT_ETCD_CLIENT,  /* etcd client protocol (gRPC service or HTTP gateway) */
    CLS_HINT_ETCD_PEER,    /* etcd peer HTTP (raft) */
    CLS_HINT_ZOOKEEPER,
};

struct cls_input {
    int family;
    const struct dec_addr *client_addr, *server_addr;
    uint16_t client_port, server_port;
    enum cls_app_hint hint;
    enum cls_component grpc_server; /* for CLS_HINT_GRPC: the service's component */
    enum cls_component grpc_client; /* the service's typical caller, CLS_UNKNOWN if any */
    const char *tls_names[8];       /* SNI and certificate names, NULL-terminated */
};

struct cls_result {
    enum cls_component client, server;
    enum cls_evidence client_evidence, server_evidence;
    const char *client_name, *server_name; /* inventory names, or the component's name */
};

struct cls_inventory;

/* Load an inventory file:
 *   components:
 *     - name: vttablet            # a component name, or any label for a known kind
 *       kind: vttablet            # optional when name is a component name
 *       cidrs: [10.1.0.0/16]
 *       ports: [15999]            # optional: only these server ports
 *       tls_names: ["*.vttablet.example"]  # optional fnmatch patterns
 * Returns NULL with "FILE:LINE:COLUMN: message" in err (errlen bytes). */
struct cls_inventory *cls_inventory_load(const char *path, char *err, size_t errlen);
void cls_inventory_free(struct cls_inventory *inv);
size_t cls_inventory_count(const struct cls_inventory *inv);

/* Decide both sides of a flow. inv may be NULL. Never allocates. */
void cls_classify(const struct cls_inventory *inv, const struct cls_input *in,
                  struct cls_result *out);

const char *cls_component_name(enum cls_component c);
/* The component with this name, CLS__COUNT when none. */
enum cls_component cls_component_from_name(const char *name);
const char *cls_evidence_name(enum cls_evidence e);

/* The component a well-known server port suggests (hint only), CLS_UNKNOWN if none. */
enum cls_component cls_port_component(uint16_t port);

#endif
