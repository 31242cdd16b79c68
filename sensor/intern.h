/* Interned strings with reference counts. Flows past their verdict keep
 * their facts (SNI, ALPN, fingerprints, gRPC path, MySQL version ...) as
 * pointers into one shared table, so thousands of flows to the same
 * server cost one copy of each string. */
#ifndef VTLS_INTERN_H
#define VTLS_INTERN_H

#include <stddef.h>

struct istr_table;

/* NULL on allocation failure. */
struct istr_table *istr_table_new(void);

/* Free the table; strings still referenced become invalid. NULL is a no-op. */
void istr_table_free(struct istr_table *t);

/* The interned copy of s[0..len) (NUL-terminated), with one more reference
 * for the caller. Returns NULL when s is NULL or memory is short. */
const char *istr_get(struct istr_table *t, const char *s, size_t len);

/* Same for a NUL-terminated string; "" and NULL give NULL (absent). */
const char *istr_cstr(struct istr_table *t, const char *s);

/* One more reference to s (a result of istr_get, or NULL), without a lookup. */
const char *istr_ref(const char *s);

/* Drop one reference to s (a result of istr_get, or NULL: no-op); the copy is
 * freed with its last reference. */
void istr_put(struct istr_table *t, const char *s);

/* Distinct strings held, and bytes they use. */
size_t istr_count(const struct istr_table *t);
size_t istr_mem(const struct istr_table *t);

#endif
