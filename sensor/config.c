/* The configuration file: see config.h. */
#include "sensor/config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct cfg_loader {
    const char *path;
    yaml_document_t *doc;
    const struct option *longopts;
    int cmd_argc;
    char **cmd_argv;
    struct cfg_args *out;
    char *err;
    size_t errlen;
};

static int cfg_fail(struct cfg_loader *ld, const yaml_node_t *n, const char *msg, const char *what)
{
    snprintf(ld->err, ld->errlen, "%s:%zu:%zu: %s%s%s", ld->path, n->start_mark.line + 1,
             n->start_mark.column + 1, msg, what ? " " : "", what ? what : "");
    return -1;
}

const char *cfg_find_path(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], "--config=", 9) == 0)
            return argv[i] + 9;
    }
    return NULL;
}

/* Whether the command line gives option name (as --name or --name=...). */
static bool cfg_on_command_line(const struct cfg_loader *ld, const char *name)
{
    size_t n = strlen(name);
    for (int i = 1; i < ld->cmd_argc; i++) {
        const char *a = ld->cmd_argv[i];
        if (a[0] == '-' && a[1] == '-' && strncmp(a + 2, name, n) == 0 &&
            (a[2 + n] == '\0' || a[2 + n] == '='))
            return true;
    }
    return false;
}

static int cfg_push(struct cfg_loader *ld, const yaml_node_t *n, const char *s)
{
    if (ld->out->argc >= CFG_MAX_ARGS)
        return cfg_fail(ld, n, "too many options", NULL);
    char *copy = strdup(s);
    if (copy == NULL)
        return cfg_fail(ld, n, "out of memory", NULL);
    ld->out->argv[ld->out->argc++] = copy;
    return 0;
}

static int cfg_value(struct cfg_loader *ld, const struct option *opt, const yaml_node_t *v)
{
    char flag[80];
    snprintf(flag, sizeof(flag), "--%s", opt->name);
    if (v->type != YAML_SCALAR_NODE)
        return cfg_fail(ld, v, "expected a value for", opt->name);
    const char *s = (const char *)v->data.scalar.value;
    if (opt->has_arg == no_argument) {
        if (strcmp(s, "true") == 0)
            return cfg_push(ld, v, flag);
        if (strcmp(s, "false") == 0)
            return 0;
        return cfg_fail(ld, v, "expected true or false for", opt->name);
    }
    if (cfg_push(ld, v, flag) != 0)
        return -1;
    return cfg_push(ld, v, s);
}

static int cfg_pair(struct cfg_loader *ld, const yaml_node_t *k, const yaml_node_t *v)
{
    if (k->type != YAML_SCALAR_NODE)
        return cfg_fail(ld, k, "expected an option name", NULL);
    const char *name = (const char *)k->data.scalar.value;
    const struct option *opt = ld->longopts;
    while (opt->name != NULL && strcmp(opt->name, name) != 0)
        opt++;
    if (opt->name == NULL || strcmp(name, "config") == 0)
        return cfg_fail(ld, k, "unknown option", name);
    if (cfg_on_command_line(ld, name))
        return 0;
    if (v->type != YAML_SEQUENCE_NODE)
        return cfg_value(ld, opt, v);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++)
        if (cfg_value(ld, opt, yaml_document_get_node(ld->doc, *it)) != 0)
            return -1;
    return 0;
}

static int cfg_walk(struct cfg_loader *ld)
{
    const yaml_node_t *root = yaml_document_get_root_node(ld->doc);
    if (root == NULL)
        return 0; /* an empty file sets nothing */
    if (root->type != YAML_MAPPING_NODE)
        return cfg_fail(ld, root, "expected a mapping of option names to values", NULL);
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++)
        if (cfg_pair(ld, yaml_document_get_node(ld->doc, p->key),
                     yaml_document_get_node(ld->doc, p->value)) != 0)
            return -1;
    return 0;
}

int cfg_load(const char *path, const struct option *longopts, int cmd_argc, char **cmd_argv,
             struct cfg_args *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->argv[out->argc++] = strdup(cmd_argv[0]);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    int rc = -1;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "%s: out of memory", path);
        fclose(f);
        return -1;
    }
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1, parser.problem ? parser.problem : "bad YAML");
    } else {
        struct cfg_loader ld = {path, &doc, longopts, cmd_argc, cmd_argv, out, err, errlen};
        rc = cfg_walk(&ld);
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

void cfg_args_free(struct cfg_args *a)
{
    for (int i = 0; i < a->argc; i++)
        free(a->argv[i]);
    a->argc = 0;
}
