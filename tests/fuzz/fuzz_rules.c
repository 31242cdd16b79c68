/* libFuzzer target over the rules loader: YAML parsing, item checks,
 * condition and template compilation, and one evaluation of whatever set
 * loads.
 *
 * Build (clang):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *       tests/fuzz/fuzz_rules.c rules/fields.c rules/rules_[a-z]*.c -lyaml -o fuzz_rules
 *   ./fuzz_rules -dict=tests/fuzz/rules.dict CORPUS_DIR rules/ tests/unit/data/rules/
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool count(const struct rules_rule *r, const struct rules_event *ev, void *ctx)
{
    char buf[256];
    rules_rule_format(r, ev, buf, sizeof(buf));
    (*(size_t *)ctx)++;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const risks[] = {"X"};
    struct rules_errors e = {0};
    struct rules_set *s = rules_load_string("fuzz.yaml", (const char *)data, size, &e);
    struct rules_event ev;
    size_t hits = 0;

    rules_errors_free(&e);
    if (!s)
        return 0;
    memset(&ev, 0, sizeof(ev));
    ev.flow.app = "grpc";
    ev.flow.encrypted = RULES_BOOL(false);
    ev.flow.src_ip.family = RULES_AF_INET;
    ev.tls.version = RULES_NUM(0x0303);
    ev.ndpi.risks.v = risks;
    ev.ndpi.risks.n = 1;
    ev.geo.src.n_custom = 1;
    ev.geo.src.custom[0].key = "zone";
    ev.geo.src.custom[0].value = "a";
    rules_set_eval(s, &ev, count, &hits);
    ev.kind = RULES_EVENT_CERTIFICATE;
    ev.cert.days_left = RULES_NUM(-1);
    rules_set_eval(s, &ev, count, &hits);
    rules_set_release(s);
    return 0;
}
