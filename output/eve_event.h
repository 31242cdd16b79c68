/* The application objects of EVE records, rendered from the facts of an
 * event (struct rules_event): app_proto, encryption, vitess, tls, cert,
 * mysql, grpc, geo, ndpi. Shared by flow records and alerts. */
#ifndef VTLS_EVE_EVENT_H
#define VTLS_EVE_EVENT_H

#include <jansson.h>
#include <stdbool.h>

#include "rules/event.h"

/* Add the objects that apply to rec. Returns false on allocation failure
 * (rec then holds what was added so far). */
bool eve_add_event(json_t *rec, const struct rules_event *ev);

/* "tls", "plaintext" or "unknown" from the event's flow.encrypted. */
const char *eve_encryption(const struct rules_event *ev);

#endif
