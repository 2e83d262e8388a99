/* testconfig.h — parsing a config from a string in unit tests: parse() keeps the error in
 * err, expect_error() fails unless parsing fails with a message containing needle. */
#ifndef TELREP_TESTCONFIG_H
#define TELREP_TESTCONFIG_H

#include "testutil.h"

#include "config.h"

static char err[2048];

static struct config *parse(const char *yaml)
{
    err[0] = '\0';
    return config_parse("t.yml", yaml, strlen(yaml), false, err, sizeof err);
}

static void expect_error(const char *yaml, const char *needle)
{
    struct config *c = parse(yaml);
    if (c) {
        config_free(c);
        fail_msg("expected an error containing \"%s\"", needle);
    }
    if (!strstr(err, needle))
        fail_msg("error \"%s\" lacks \"%s\"", err, needle);
}

#endif
