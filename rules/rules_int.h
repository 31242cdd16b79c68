/* Internal to rules/: field table, compiled trees, arena, compile context.
 * Nothing outside rules/ includes this header.
 */
#ifndef VTLS_RULES_INT_H
#define VTLS_RULES_INT_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/rules.h"

/* ---- arena: every compiled object of a set lives in one ---- */

struct rules_arena_chunk;
struct rules_arena {
    struct rules_arena_chunk *head;
    size_t total; /* bytes handed out */
};

/* Zeroed, 16-byte aligned memory, or NULL (allocation failure). */
void *rules_arena_alloc(struct rules_arena *a, size_t size);
char *rules_arena_strndup(struct rules_arena *a, const char *s, size_t len);
void rules_arena_free(struct rules_arena *a);

/* ---- field table ---- */

enum rules_type {
    RULES_T_STR,
    RULES_T_NUM,
    RULES_T_BOOL,
    RULES_T_TLSVER,
    RULES_T_IP,
    RULES_T_TIME,
    RULES_T_LIST,
};

enum rules_store {
    RULES_S_STR,  /* const char * */
    RULES_S_NUM,  /* struct rules_num */
    RULES_S_BOOL, /* rules_bool */
    RULES_S_ADDR, /* struct rules_addr */
    RULES_S_LIST, /* struct rules_strlist */
    RULES_S_GEO,  /* struct rules_geo, custom key */
};

#define RULES_K_FLOW (1u << RULES_EVENT_FLOW)
#define RULES_K_CERT (1u << RULES_EVENT_CERTIFICATE)
#define RULES_K_ANY  (RULES_K_FLOW | RULES_K_CERT)

struct rules_field {
    const char *name;
    uint8_t type;  /* enum rules_type */
    uint8_t store; /* enum rules_store */
    uint8_t kinds; /* RULES_K_* where the field is meaningful */
    size_t off;    /* offset of the storage in struct rules_event */
    const char *desc;
};

/* Field for name; for geo.src.KEY / geo.dst.KEY with a custom KEY, the
 * custom pseudo-field and *key = "KEY" (pointing into name). NULL when
 * unknown. */
const struct rules_field *rules_field_find(const char *name, size_t len, const char **key,
                                           size_t *keylen);
/* Nearest known field name (Levenshtein) for a suggestion, or NULL. */
const char *rules_field_suggest(const char *name, size_t len);
const char *rules_type_name(enum rules_type t);
/* Levenshtein distance of two short strings (capped at 64 bytes each). */
size_t rules_levenshtein(const char *a, size_t alen, const char *b, size_t blen);

/* Raw accessors: pointer to the field's storage in ev. */
static inline const void *rules_field_ptr(const struct rules_field *f, const struct rules_event *ev)
{
    return (const char *)ev + f->off;
}
/* Custom geo value for key, or NULL. */
const char *rules_geo_custom(const struct rules_geo *g, const char *key);

/* Write ev's value of field f (key for geo custom) as text into buf;
 * "<NA>" when absent. Returns the length needed (snprintf-like). */
size_t rules_field_format(const struct rules_field *f, const char *key,
                          const struct rules_event *ev, char *buf, size_t len);

/* TLS version name ("TLS 1.2") of v, or NULL when not a known version. */
const char *rules_tlsver_name(int64_t v);
/* Parse "TLS 1.2", "TLSv1.2", "TLS1.2", "SSL 3.0", or a number. */
bool rules_tlsver_parse(const char *s, size_t len, int64_t *out);
/* Parse a decimal or 0x-hex integer, the whole of s. */
bool rules_num_parse(const char *s, size_t len, int64_t *out);
/* Parse an ISO 8601 UTC date "YYYY-MM-DD[THH:MM:SS[Z]]" or epoch seconds. */
bool rules_time_parse(const char *s, size_t len, int64_t *out);

/* ---- values and compiled conditions ---- */

struct rules_cidr {
    uint8_t family; /* RULES_AF_INET or RULES_AF_INET6 */
    uint8_t bits;   /* prefix length */
    uint8_t b[16];
};

struct rules_val {
    union {
        int64_t n;
        bool b;
        struct rules_cidr ip;
        struct {
            const char *s;
            size_t len;
        } str;
    } u;
};

/* Parse an address or CIDR. */
bool rules_cidr_parse(const char *s, size_t len, struct rules_cidr *out);
bool rules_cidr_match(const struct rules_cidr *c, const struct rules_addr *a);

enum rules_node_kind {
    RULES_N_AND,    /* every one of kids */
    RULES_N_OR,     /* any of kids */
    RULES_N_NOT,    /* not kids[0] */
    RULES_N_CMP,    /* field op value */
    RULES_N_SET,    /* field in (values) */
    RULES_N_EXISTS, /* field exists */
};

enum rules_op {
    RULES_OP_EQ,
    RULES_OP_NE,
    RULES_OP_LT,
    RULES_OP_LE,
    RULES_OP_GT,
    RULES_OP_GE,
    RULES_OP_CONTAINS,
    RULES_OP_STARTSWITH,
    RULES_OP_ENDSWITH,
    RULES_OP_GLOB,
    RULES_OP_IN,
    RULES_OP_EXISTS,
};

struct rules_node {
    uint8_t kind; /* enum rules_node_kind */
    uint8_t op;   /* enum rules_op */
    const struct rules_field *field;
    const char *key;          /* geo custom key */
    struct rules_node **kids; /* AND, OR, NOT */
    size_t nkids;
    struct rules_val v;    /* RULES_N_CMP */
    struct rules_val *set; /* RULES_N_SET */
    size_t nset;
};

bool rules_node_eval(const struct rules_node *n, const struct rules_event *ev);

/* Glob match without allocation: * ? [set] [!set] and \ escape. */
bool rules_glob(const char *pat, size_t plen, const char *s);

/* ---- output templates ---- */

struct rules_tpl_seg {
    const char *lit; /* literal text (not NUL-terminated), or NULL */
    size_t litlen;
    const struct rules_field *field; /* or NULL */
    const char *key;
};
struct rules_tpl {
    struct rules_tpl_seg *seg;
    size_t nseg;
};

/* ---- source positions ---- */

struct rules_loc {
    const char *file;
    uint32_t line, col; /* 1-based */
};

/* A text made of fragments (a condition and the parts appended to it),
 * each mapped back to its place in a file. */
#define RULES_SRC_FRAGS 16
struct rules_frag {
    size_t off;           /* start in text */
    struct rules_loc loc; /* where the fragment's first character is */
    bool exact;           /* columns follow the text one-to-one */
};
struct rules_src {
    char *text;
    size_t len;
    size_t nfrag;
    struct rules_frag frag[RULES_SRC_FRAGS];
};

/* ---- compile context (shared by loader and expression compiler) ---- */

struct rules_macro_def {
    const char *name;
    struct rules_src src;
    struct rules_loc loc;
    int state; /* 0 unchecked, 1 in progress, 2 good, 3 bad */
};

struct rules_list_def {
    const char *name;
    struct rules_loc loc;
    char **items; /* expanded */
    size_t n;
};

struct rules_cc {
    struct rules_errors *errs;
    size_t nerr; /* errors counted, kept or not */
    struct rules_arena *arena;
    struct rules_macro_def **macros;
    size_t nmacros;
    struct rules_list_def **lists;
    size_t nlists;
    /* macro compile stack, for cycle messages */
    const char *stack[32];
    size_t nstack;
    size_t expansions; /* macro references inlined so far */
    size_t values;     /* list items converted into conditions so far */
};

/* Bounds against rule files that expand exponentially (a macro using
 * another twice, at every level; a list naming another list twice). */
#define RULES_MAX_EXPANSIONS 100000
#define RULES_MAX_LIST_ITEMS 100000
#define RULES_MAX_VALUES     1000000

void rules_cc_error(struct rules_cc *cc, const struct rules_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rules_errors_add(struct rules_errors *e, size_t *nerr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Location of byte off of src, with a note when inexact ("" otherwise). */
struct rules_loc rules_src_loc(const struct rules_src *src, size_t off, const char **note);

struct rules_macro_def *rules_cc_macro(struct rules_cc *cc, const char *name, size_t len);
struct rules_list_def *rules_cc_list(struct rules_cc *cc, const char *name, size_t len);

/* Compile src for event kinds (RULES_K_* mask; 0 = any: macros alone).
 * Returns the tree or NULL after reporting errors. */
struct rules_node *rules_expr_compile(struct rules_cc *cc, const struct rules_src *src,
                                      unsigned kinds);
/* Check every macro once (cycles, unknown names, syntax). */
void rules_expr_check_macros(struct rules_cc *cc);

/* Exceptions as read from YAML: rows of cells, one cell per field, each
 * cell one or more alternative values. */
struct rules_exc_cell {
    char **alts;
    size_t nalts;
    struct rules_loc loc;
};
struct rules_exc_def {
    char *name;
    struct rules_loc loc;
    char **fields;
    struct rules_loc *floc;
    size_t nfields;
    struct rules_exc_cell *cells; /* nrows * nfields, row-major */
    size_t nrows;
};

/* Compile exceptions into one tree matching any row, NULL when there are
 * none; *ok false after reporting errors. */
struct rules_node *rules_exc_compile(struct rules_cc *cc, struct rules_exc_def *const *defs,
                                     size_t n, unsigned kinds, bool *ok);

/* Convert literal text to a value of field f for op (EQ-like or IN).
 * Returns NULL on success, else a static reason. */
const char *rules_value_convert(struct rules_arena *a, const struct rules_field *f,
                                enum rules_op op, const char *s, size_t len, struct rules_val *out);

/* Compile an output template at loc (exact columns when exact). */
bool rules_tpl_compile(struct rules_cc *cc, const char *text, const struct rules_loc *loc,
                       bool exact, unsigned kinds, struct rules_tpl *out);
size_t rules_tpl_format(const struct rules_tpl *t, const struct rules_event *ev, char *buf,
                        size_t len);

/* ---- compiled set ---- */

struct rules_rule {
    const char *name;
    const char *desc;
    uint8_t severity;
    uint8_t event;
    bool enabled;
    size_t index;
    const char **tags;
    size_t ntags;
    struct rules_node *cond;
    struct rules_node *exc; /* matches an exception row, or NULL */
    struct rules_tpl tpl;
};

struct rules_set {
    atomic_uint refs;
    struct rules_arena arena;
    struct rules_rule *rules;
    size_t n;
    size_t nenabled;
    const struct rules_rule **by_kind[RULES_EVENT_KINDS];
    size_t nby_kind[RULES_EVENT_KINDS];
};

#endif
