/* The configuration file (--config FILE): a YAML mapping whose keys are the
 * long options of the command line without their dashes, e.g.
 *
 *     inventory: /etc/vtls/inventory.yaml
 *     rules: [/etc/vtls/rules.d, /etc/vtls/site.yaml]
 *     metrics-listen: ":9854"
 *     no-ndpi: true
 *
 * A list gives a repeatable option several times; an option without a value
 * takes true or false. An option given on the command line replaces the
 * file's value (for repeatable options, the whole list). */
#ifndef VTLS_CONFIG_H
#define VTLS_CONFIG_H

#include <getopt.h>
#include <stddef.h>

#define CFG_MAX_ARGS 256

struct cfg_args {
    int argc;
    char *argv[CFG_MAX_ARGS + 1]; /* argv[0] is the program name; owned */
};

/* Read path into options (as if given before the command line's), leaving
 * out those that cmd_argv sets. Returns 0, or -1 with "FILE:LINE:COLUMN:
 * message" in err (errlen bytes) for unreadable files, bad YAML, unknown
 * keys and bad values. */
int cfg_load(const char *path, const struct option *longopts, int cmd_argc, char **cmd_argv,
             struct cfg_args *out, char *err, size_t errlen);

void cfg_args_free(struct cfg_args *a);

/* The value of --config in argv (either "--config FILE" or "--config=FILE"),
 * or NULL. */
const char *cfg_find_path(int argc, char **argv);

#endif
