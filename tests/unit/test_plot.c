/* test_plot — flow-replay's --plot: a results file becomes the data files the pictures are
 * drawn from (samples by flow end, CDFs), and gnuplot draws SVG and PNG from them. */
#include "testutil.h"

#include <sys/stat.h>

#include "flow/plot.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plot_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
