/* test_plot — flow-replay's --plot: a results file becomes the data files the pictures are
 * drawn from (samples by flow end, CDFs), and gnuplot draws SVG and PNG from them; flow-extract's
 * --plot: CDFs of the flows and the model's fits over their histograms. */
#include "testutil.h"

#include <sys/stat.h>

#include "flow/plot.h"
#include "flow/synthetic.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_plot_files(void **state)
{
    char *dir = tu_tmpdir(), results[256], out[256], path[320];
    snprintf(results, sizeof results, "%s/results.jsonl", dir);
    snprintf(out, sizeof out, "%s/plots", dir);
    const char *lines =
        "{\"type\":\"tcp_info\",\"t\":0.1,\"fid\":1,\"end\":\"client\",\"tcp_info\":{\"rtt_us\":2000,\"cwnd\":10,\"delivery_rate\":1250000}}\n"
        "{\"type\":\"tcp_info\",\"t\":0.2,\"fid\":1,\"end\":\"client\",\"tcp_info\":{\"rtt_us\":3000,\"cwnd\":20,\"delivery_rate\":2500000}}\n"
        "{\"type\":\"tcp_info\",\"t\":0.2,\"fid\":2,\"end\":\"server\",\"tcp_info\":null}\n"
        "{\"type\":\"flow\",\"fid\":1,\"state\":\"done\",\"duration\":0.5,\"lateness_ms\":0.1,"
        "\"client_end\":{\"sent\":100},\"server_end\":{\"sent\":900}}\n"
        "{\"type\":\"flow\",\"fid\":2,\"state\":\"reset\",\"duration\":0.1,\"lateness_ms\":0.3,"
        "\"client_end\":{\"sent\":10},\"server_end\":{\"sent\":0}}\n"
        "not json at all\n";
    tu_write(results, lines, strlen(lines));
    char err[512] = "";
    if (flow_plot(results, out, err, sizeof err) < 0)
        fail_msg("flow_plot: %s", err);
    snprintf(path, sizeof path, "%s/samples.dat", out);
    const char *s = slurp(path);
    assert_non_null(strstr(s, "\"flow 1 client\"\n0.100000 10 2.000 10.000\n0.200000 20 3.000 20.000\n"));
    snprintf(path, sizeof path, "%s/fct.cdf", out);
    s = slurp(path);
    assert_non_null(strstr(s, "\n0.5 1.000000\n"));   /* only the flow done */
    assert_null(strstr(s, "0.1 "));
    snprintf(path, sizeof path, "%s/bytes.cdf", out);
    s = slurp(path);
    assert_non_null(strstr(s, "\n10 0.500000\n1000 1.000000\n"));
    const char *pics[] = { "cwnd.svg", "rtt.png", "fct.svg", "lateness.png" };
    for (size_t i = 0; i < sizeof pics / sizeof *pics; i++) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", out, pics[i]);
        assert_int_equal(stat(path, &st), 0);
        assert_true(st.st_size > 1000);
    }
    /* a results file that is not there: an error that names it */
    assert_int_equal(flow_plot("/nonexistent/results.jsonl", out, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/results.jsonl"));
    tu_rmdir(dir);
}

/* flow-extract's --plot: the flows' CDFs, and per class a histogram and the model's density
 * for each fitted distribution (two gnuplot indices each), drawn as SVG and PNG */
static void test_plot_extract(void **state)
{
    char *dir = tu_tmpdir(), out[256], path[320], err[512] = "";
    snprintf(out, sizeof out, "%s/plots", dir);
    struct flow_synthetic_options o = { .flows = 200, .rate = 100, .port = 443, .seed = 3 };
    flow_dist_parse("uniform:1:3", &o.rounds, err, sizeof err);
    flow_dist_parse("exp:400", &o.request, err, sizeof err);
    flow_dist_parse("uniform:1000:3000", &o.response, err, sizeof err);
    flow_dist_parse("0.01", &o.think, err, sizeof err);
    addr_parse("10.0.0.1", &o.client);
    addr_parse("10.0.1.1", &o.server);
    struct flow_set set;
    assert_int_equal(flow_synthetic(&o, &set, err, sizeof err), 0);
    for (size_t i = 0; i < 1; i++) /* a class of one flow: too few values to fit, no picture */
        set.flows[i].side[1].port = 8080;
    json_t *m = flow_model_fit(&set, MODEL_BY_PORT, MODEL_FIT_MIXTURE, err, sizeof err);
    assert_non_null(m);
    struct values rtts = { 0 };
    values_push(&rtts, 2.5);
    values_push(&rtts, 1.5);
    if (flow_plot_extract(&set, m, MODEL_BY_PORT, &rtts, out, err, sizeof err) < 0)
        fail_msg("flow_plot_extract: %s", err);
    snprintf(path, sizeof path, "%s/rtt.cdf", out);
    assert_non_null(strstr(slurp(path), "\n1.5 0.500000\n2.5 1.000000\n"));
    snprintf(path, sizeof path, "%s/sizes.cdf", out);
    const char *s = slurp(path);
    size_t rows = 0;
    for (const char *p = s; (p = strchr(p, '\n')); p++)
        rows++;
    assert_int_equal(rows, 1 + 200); /* the comment, a row per flow */
    snprintf(path, sizeof path, "%s/fit-port-443.dat", out);
    s = slurp(path);
    assert_non_null(strstr(s, "# histogram: x, density\n"));
    size_t hist = 0, model = 0;
    for (const char *p = s; (p = strstr(p, "# histogram")); p++)
        hist++;
    for (const char *p = s; (p = strstr(p, "# model")); p++)
        model++;
    assert_int_equal(hist, 9); /* every distribution of the class has values to draw */
    assert_int_equal(model, 9);
    snprintf(path, sizeof path, "%s/plot.gp", out);
    s = slurp(path);
    assert_non_null(strstr(s, "set output 'fit-port-443'.ext"));
    assert_null(strstr(s, "fit-port-8080")); /* nothing fitted there: no picture of it */
    const char *pics[] = { "sizes.svg", "durations.png", "rtt.svg", "fit-port-443.svg", "fit-port-443.png" };
    for (size_t i = 0; i < sizeof pics / sizeof *pics; i++) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", out, pics[i]);
        if (stat(path, &st) != 0 || st.st_size < 2000)
            fail_msg("%s: missing or too small", pics[i]);
    }
    values_free(&rtts);
    json_decref(m);
    flow_set_free(&set);
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plot_files),
        cmocka_unit_test(test_plot_extract),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
