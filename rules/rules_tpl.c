/* Output templates: "text %field text %{field} 100%%", compiled once into
 * literal and field segments, formatted into a caller buffer.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_int.h"

#define TPL_MAX_SEGS 128

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.';
}

static void tpl_error(struct rules_cc *cc, const struct rules_loc *loc, bool exact, size_t off,
                      const char *msg, const char *name, size_t nlen)
{
    struct rules_loc at = *loc;
    if (exact)
        at.col += (uint32_t)off;
    rules_cc_error(cc, &at, "output: %s '%.*s'%s", msg, (int)(nlen > 80 ? 80 : nlen), name,
                   exact ? "" : " (at the start of the multi-line text)");
}

/* Parse the field reference at text[i] (just after '%'); sets *end past it. */
static bool tpl_field(struct rules_cc *cc, const char *text, size_t i, const struct rules_loc *loc,
                      bool exact, unsigned kinds, struct rules_tpl_seg *seg, size_t *end)
{
    size_t s = i, e;
    bool brace = text[i] == '{';

    if (brace) {
        s = i + 1;
        const char *close = strchr(text + s, '}');
        if (!close) {
            tpl_error(cc, loc, exact, i - 1, "unclosed", "%{", 2);
            return false;
        }
        e = (size_t)(close - text);
        *end = e + 1;
    } else {
        e = s;
        while (name_char(text[e]))
            e++;
        while (e > s && text[e - 1] == '.') /* sentence punctuation */
            e--;
        *end = e;
    }
    if (e == s) {
        tpl_error(cc, loc, exact, i - 1, "expected a field name after '%' (write %% for a percent)",
                  "%", 1);
        return false;
    }

    const char *key;
    size_t klen;
    const struct rules_field *f = rules_field_find(text + s, e - s, &key, &klen);
    if (!f) {
        tpl_error(cc, loc, exact, i - 1, "unknown field", text + s, e - s);
        return false;
    }
    if (kinds && !(f->kinds & kinds)) {
        tpl_error(cc, loc, exact, i - 1, "field not available in flow events:", text + s, e - s);
        return false;
    }
    seg->field = f;
    seg->key = key ? rules_arena_strndup(cc->arena, key, klen) : NULL;
    return true;
}

bool rules_tpl_compile(struct rules_cc *cc, const char *text, const struct rules_loc *loc,
                       bool exact, unsigned kinds, struct rules_tpl *out)
{
    struct rules_tpl_seg segs[TPL_MAX_SEGS];
    size_t n = 0, i = 0, lit = 0;
    bool ok = true;
    char *buf = rules_arena_strndup(cc->arena, text, strlen(text)); /* literal text, %% folded */
    size_t blen = 0;

    if (!buf)
        return false;
    memset(segs, 0, sizeof(segs));
    while (text[i] && n < TPL_MAX_SEGS - 3) {
        if (text[i] != '%') {
            buf[blen++] = text[i++];
            continue;
        }
        if (text[i + 1] == '%') {
            buf[blen++] = '%';
            i += 2;
            continue;
        }
        if (blen > lit) {
            segs[n].lit = buf + lit;
            segs[n++].litlen = blen - lit;
            lit = blen;
        }
        size_t end = i + 1;
        if (tpl_field(cc, text, i + 1, loc, exact, kinds, &segs[n], &end))
            n++;
        else
            ok = false;
        i = end > i ? end : i + 1;
    }
    if (text[i]) {
        rules_cc_error(cc, loc, "output: more than %d parts", TPL_MAX_SEGS);
        return false;
    }
    if (blen > lit) {
        segs[n].lit = buf + lit;
        segs[n++].litlen = blen - lit;
    }
    out->seg = rules_arena_alloc(cc->arena, (n ? n : 1) * sizeof(*segs));
    if (!out->seg)
        return false;
    memcpy(out->seg, segs, n * sizeof(*segs));
    out->nseg = n;
    return ok;
}

size_t rules_tpl_format(const struct rules_tpl *t, const struct rules_event *ev, char *buf,
                        size_t len)
{
    size_t at = 0;

    if (len > 0)
        buf[0] = '\0';
    for (size_t i = 0; i < t->nseg; i++) {
        const struct rules_tpl_seg *s = &t->seg[i];
        if (s->lit) {
            if (at < len) {
                size_t k = s->litlen < len - 1 - at ? s->litlen : len - 1 - at;
                memcpy(buf + at, s->lit, k);
                buf[at + k] = '\0';
            }
            at += s->litlen;
        } else if (at < len) {
            at += rules_field_format(s->field, s->key, ev, buf + at, len - at);
        } else {
            at += rules_field_format(s->field, s->key, ev, NULL, 0);
        }
    }
    return at;
}
