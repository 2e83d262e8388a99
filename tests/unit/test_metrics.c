/* metrics: the exposition text of an engine's counters: a family's HELP and TYPE before its
 * samples, a series per router, protocol and collector (UDP fan-out: each collector's own
 * counts), none for another shard's routers, every sample line name{labels} value. */
#include "testutil.h"

#include <arpa/inet.h>
#include <regex.h>

#include "config.h"
#include "engine.h"
#include "metrics.h"
#include "version.h"

static void collector_at(struct collector *c, const char *ip, uint16_t port)
{
    struct sockaddr_in *in = (struct sockaddr_in *)&c->addr[0];
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    inet_pton(AF_INET, ip, &in->sin_addr);
    c->has[0] = true;
    c->len[0] = sizeof *in;
}

static void test_render(void **state)
{
    const char *yml = "pcap: a.pcap\nnetwork:\n  map:\n    - {src_ip: 10.0.0.1, repro_ip: 127.0.1.1, clones: 3}\n"
                      "ipfix:\n  collector: [{ip: 127.0.0.1, port: 2100}, {ip: 127.0.0.2, port: 2101}]\n";
    char err[512];
    struct config *c = config_parse("t.yml", yml, strlen(yml), false, err, sizeof err);
    assert_non_null(c);
    struct engine *e = calloc(1, sizeof *e);
    struct collector col[2] = { 0 };
    collector_at(&col[0], "127.0.0.1", 2100);
    collector_at(&col[1], "127.0.0.2", 2101);
    e->cfg = c;
    e->collectors[PROTO_IPFIX] = col;
    e->n_collectors[PROTO_IPFIX] = 2;
    assert_int_equal(router_table_init(&e->routers, c), 0);
    for (size_t i = 0; i < 3; i++)
        assert_non_null(e->routers.routers[i].to[PROTO_IPFIX] = calloc(2, sizeof(struct collector_stats)));
    e->routers.routers[0].to[PROTO_IPFIX][1] = (struct collector_stats){ .packets = 7, .bytes = 700, .refused = 2 };
    e->routers.routers[2].elsewhere = true; /* another shard's */
    e->stats.read = 42;
    e->stats.shard_index = 1;
    e->stats.shard_count = 2;
    size_t len;
    char *text = metrics_render(e, true, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    assert_non_null(strstr(text, "telrep_messages_total{router=\"10.0.0.1\",repro_ip=\"127.0.1.1\","
                                 "protocol=\"ipfix\",collector=\"127.0.0.2:2101\"} 7\n"));
    assert_non_null(strstr(text, "telrep_refused_total{router=\"10.0.0.1\",repro_ip=\"127.0.1.1\","
                                 "protocol=\"ipfix\",collector=\"127.0.0.2:2101\"} 2\n"));
    assert_non_null(strstr(text, "repro_ip=\"127.0.1.2\",protocol=\"ipfix\",collector=\"127.0.0.1:2100\"} 0\n"));
    assert_null(strstr(text, "127.0.1.3")); /* the other shard's clone */
    assert_non_null(strstr(text, "telrep_info{version=\"" TELREP_VERSION "\",shard=\"1/2\"} 1\n"));
    assert_non_null(strstr(text, "telrep_done 1\n"));
    assert_non_null(strstr(text, "telrep_packets_read_total 42\n"));
    /* the grammar of every line; a family announced before its samples, once */
    regex_t sample, comment;
    assert_int_equal(regcomp(&sample, "^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\",?)*\\})? "
                                      "[-+]?[0-9.e+-]+$", REG_EXTENDED | REG_NOSUB), 0);
    assert_int_equal(regcomp(&comment, "^# (HELP [a-z_]+ .+|TYPE [a-z_]+ (counter|gauge|summary))$",
                             REG_EXTENDED | REG_NOSUB), 0);
    size_t samples = 0, types = 0;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        bool ok = l[0] == '#' ? regexec(&comment, l, 0, NULL, 0) == 0 : regexec(&sample, l, 0, NULL, 0) == 0;
        if (!ok)
            fail_msg("not an exposition line: %s", l);
        samples += l[0] != '#';
        types += strncmp(l, "# TYPE ", 7) == 0;
    }
    assert_int_equal(types, 10);
    assert_int_equal(samples, 3 + 6 + 4 * 2 * 2 + 4); /* info, done, read; skipped; 4 families x 2 routers x 2; lag */
    regfree(&sample);
    regfree(&comment);
    free(text);
    router_table_free(&e->routers);
    free(e);
    config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
