/* Interned strings: sharing, reference counts, growth. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sensor/intern.h"

Test(intern, shares_and_frees_with_the_last_reference)
{
    struct istr_table *t = istr_table_new();
    cr_assert_not_null(t);
    const char *a = istr_cstr(t, "vttablet-1.demo.test");
    char buf[] = "vttablet-1.demo.test";
    const char *b = istr_get(t, buf, strlen(buf));
    cr_expect_eq(a, b, "one copy for equal strings");
    cr_expect_str_eq(a, "vttablet-1.demo.test");
    cr_expect_eq(istr_count(t), 1);
    cr_expect_null(istr_cstr(t, ""));
    cr_expect_null(istr_cstr(t, NULL));

    const char *part = istr_get(t, buf, 8);
    cr_expect_str_eq(part, "vttablet");
    cr_expect_eq(istr_count(t), 2);

    istr_put(t, a);
    cr_expect_eq(istr_count(t), 2, "still referenced once");
    istr_put(t, b);
    istr_put(t, part);
    cr_expect_eq(istr_count(t), 0);
    istr_put(t, NULL);
    istr_table_free(t);
}

Test(intern, grows_past_the_initial_buckets)
{
    struct istr_table *t = istr_table_new();
    const char *p[3000];
    char buf[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(buf, sizeof(buf), "name-%d", i);
        p[i] = istr_cstr(t, buf);
        cr_assert_not_null(p[i]);
    }
    cr_expect_eq(istr_count(t), 3000);
    for (int i = 0; i < 3000; i++) {
        snprintf(buf, sizeof(buf), "name-%d", i);
        cr_expect_eq(istr_cstr(t, buf), p[i]);
        istr_put(t, p[i]);
        istr_put(t, p[i]);
    }
    cr_expect_eq(istr_count(t), 0);
    istr_table_free(t);
}
