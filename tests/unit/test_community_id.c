/* Community ID v1 against the values published in the community-id-spec
 * baseline (baseline_deflt.json, baseline_seed1.json). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "output/community_id.h"

struct cid_case {
    int family;
    const char *saddr, *daddr;
    uint16_t sport, dport;
    uint8_t proto;
    uint16_t seed;
    const char *want;
};

static const struct cid_case cid_cases[] = {
    {4, "128.232.110.120", "66.35.250.204", 34855, 80, 6, 0, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {4, "66.35.250.204", "128.232.110.120", 80, 34855, 6, 0, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {4, "192.168.1.52", "8.8.8.8", 54585, 53, 17, 0, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {4, "8.8.8.8", "192.168.1.52", 53, 54585, 17, 0, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, 6, 0,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, 6, 0,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {4, "192.168.170.8", "192.168.170.56", 7, 7, 132, 0, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {4, "192.168.170.56", "192.168.170.8", 7, 7, 132, 0, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {4, "128.232.110.120", "66.35.250.204", 34855, 80, 6, 1, "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {4, "8.8.8.8", "192.168.1.52", 53, 54585, 17, 1, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
    {6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, 6, 1,
     "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
};

static struct dec_addr cid_addr(int family, const char *s)
{
    struct dec_addr a;
    memset(&a, 0, sizeof(a));
    cr_assert_eq(inet_pton(family == 6 ? AF_INET6 : AF_INET, s, a.b), 1, "bad test address %s", s);
    return a;
}

Test(community_id, spec_baseline)
{
    for (size_t i = 0; i < sizeof(cid_cases) / sizeof(cid_cases[0]); i++) {
        const struct cid_case *c = &cid_cases[i];
        struct dec_addr s = cid_addr(c->family, c->saddr), d = cid_addr(c->family, c->daddr);
        char out[CID_LEN];
        cid_v1(c->seed, c->family, &s, c->sport, &d, c->dport, c->proto, out);
        cr_expect_str_eq(out, c->want, "case %zu (%s:%u -> %s:%u seed %u)", i, c->saddr, c->sport,
                         c->daddr, c->dport, c->seed);
    }
}
