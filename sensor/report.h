/* The verification summary printed at the end of a replay: for each path
 * (client component to server component) how many flows were TLS 1.3,
 * TLS 1.2, older TLS, plaintext or unknown, then the alerts by rule. */
#ifndef VTLS_REPORT_H
#define VTLS_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "rules/event.h"

struct rep_table;

/* NULL on allocation failure. */
struct rep_table *rep_new(void);
void rep_free(struct rep_table *r);

/* Count one flow verdict. */
void rep_flow(struct rep_table *r, const struct rules_event *ev);

/* Count one alert written (suppressed alerts are not counted). */
void rep_alert(struct rep_table *r, const char *rule, const char *severity);

/* Print the tables. */
void rep_print(const struct rep_table *r, FILE *out);

#endif
