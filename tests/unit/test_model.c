/* test_model — a traffic model fitted from made-up flows of known parameters gives them back:
 * fixed values as one narrow component, the means of drawn ones, the arrival gap, one class
 * per server port. */
#include "testutil.h"

#include <math.h>

#include "flow/model.h"
#include "flow/synthetic.h"

static double num(json_t *o, const char *a, const char *b)
{
    return json_number_value(json_object_get(json_object_get(o, a), b));
}

/* the bytes of every server SEND of a set (at most max of them) */
static size_t response_sizes(const struct flow_set *set, double *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < set->n; i++)
        for (size_t k = 0; k < set->flows[i].side[1].n; k++)
            if (set->flows[i].side[1].ev[k].type == FLOW_SEND && n < max)
                out[n++] = (double)set->flows[i].side[1].ev[k].bytes;
    return n;
}

static void test_fit_synthetic(void **state)
{
    char err[256];
    struct flow_synthetic_options o = { .flows = 400, .rate = 50, .port = 443, .seed = 3 };
    flow_dist_parse("2", &o.rounds, err, sizeof err);
    flow_dist_parse("300", &o.request, err, sizeof err);
    flow_dist_parse("uniform:1000:3000", &o.response, err, sizeof err);
    flow_dist_parse("0.01", &o.think, err, sizeof err);
    addr_parse("10.0.0.1", &o.client);
    addr_parse("10.0.1.1", &o.server);
    struct flow_set set;
    assert_int_equal(flow_synthetic(&o, &set, err, sizeof err), 0);
    json_t *m = flow_model_fit(&set, MODEL_BY_PORT, MODEL_FIT_MIXTURE, err, sizeof err);
    assert_non_null(m);
    assert_int_equal(json_integer_value(json_object_get(m, "version")), MODEL_VERSION);
    json_t *c = json_object_get(json_object_get(m, "classes"), "port 443");
    assert_non_null(c);
    assert_int_equal(json_integer_value(json_object_get(c, "flows")), 400);
    /* fixed values: one component at the value */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "client_bytes"), "k")), 1);
    assert_true(fabs(num(c, "client_bytes", "model_mean") - 300) < 1);
    assert_true(fabs(num(c, "rounds", "model_mean") - 2) < 0.01);
    assert_true(fabs(num(c, "arrival_gap", "model_mean") - 0.02) < 0.001);
    /* even gaps, summed in floating point, are one value, not components of its noise */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "arrival_gap"), "k")), 1);
    assert_true(fabs(num(c, "think", "model_mean") - 0.01) < 0.001);
    /* drawn values: their mean, from the model as from the data */
    assert_true(fabs(num(c, "server_bytes", "data_mean") - 2000) < 60);
    assert_true(fabs(num(c, "server_bytes", "model_mean") - num(c, "server_bytes", "data_mean")) < 30);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "server_bytes"), "n")), 800);
    /* one class for all flows */
    json_t *one = flow_model_fit(&set, MODEL_ONE, MODEL_FIT_MIXTURE, err, sizeof err);
    assert_non_null(json_object_get(json_object_get(one, "classes"), "all"));
    json_decref(one);
    json_decref(m);
    flow_set_free(&set);
    /* too few flows: the distributions say so instead of a fit */
    o.flows = 3;
    assert_int_equal(flow_synthetic(&o, &set, err, sizeof err), 0);
    m = flow_model_fit(&set, MODEL_BY_ADDRESS, MODEL_FIT_MIXTURE, err, sizeof err);
    c = json_object_get(json_object_get(m, "classes"), "10.0.1.1");
    assert_non_null(c);
    assert_non_null(json_object_get(json_object_get(c, "arrival_gap"), "fitted"));
    json_decref(m);
    flow_set_free(&set);
}

/* fit, read back, generate: the generated flows look like the fitted ones (KS < 0.1 for the
 * response sizes and the requests' count), in the model's class proportions, at its rate */
static void test_generate(void **state)
{
    char err[256];
    struct flow_synthetic_options o = { .flows = 1500, .rate = 100, .port = 443, .seed = 5 };
    flow_dist_parse("uniform:1:4", &o.rounds, err, sizeof err);
    flow_dist_parse("exp:400", &o.request, err, sizeof err);
    flow_dist_parse("uniform:1000:30000", &o.response, err, sizeof err);
    flow_dist_parse("0.005", &o.think, err, sizeof err);
    addr_parse("10.0.0.1", &o.client);
    addr_parse("10.0.1.1", &o.server);
    struct flow_set src, gen;
    assert_int_equal(flow_synthetic(&o, &src, err, sizeof err), 0);
    json_t *j = flow_model_fit(&src, MODEL_BY_PORT, MODEL_FIT_MIXTURE, err, sizeof err);
    char *text = json_dumps(j, 0);
    json_decref(j);
    j = json_loads(text, 0, NULL); /* through its text, as a file would */
    free(text);
    static struct flow_model m;
    if (flow_model_read(j, &m, err, sizeof err) < 0)
        fail_msg("read: %s", err);
    json_decref(j);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.classes[0].port, 443);
    struct model_generate_options g = { .flows = 1500, .scale = 1, .port = 9, .seed = 11 };
    g.client = o.client;
    g.server = o.server;
    assert_int_equal(flow_model_generate(&m, &g, &gen, err, sizeof err), 0);
    assert_int_equal(gen.n, 1500);
    assert_int_equal(gen.flows[0].side[1].port, 443);
    static double a[20000], b[20000];
    size_t na = response_sizes(&src, a, sizeof a / sizeof *a), nb = response_sizes(&gen, b, sizeof b / sizeof *b);
    double ks = flow_ks(a, na, b, nb);
    if (!(ks < 0.1))
        fail_msg("response sizes: KS %.3f", ks);
    assert_true(fabs((double)nb / (double)na - 1) < 0.1);          /* rounds: as many SENDs */
    double span = gen.flows[gen.n - 1].stime;                    /* 1500 flows at 100/s */
    assert_true(fabs(span - 15) < 1.5);
    flow_set_free(&gen);
    g.scale = 2; /* twice the rate: half the time */
    assert_int_equal(flow_model_generate(&m, &g, &gen, err, sizeof err), 0);
    assert_true(fabs(gen.flows[gen.n - 1].stime - 7.5) < 1);
    flow_set_free(&gen);
    /* a duration instead of a count: the flows the class's arrivals start in it (100/s, x2) */
    g.flows = 0;
    g.duration = 10;
    assert_int_equal(flow_model_generate(&m, &g, &gen, err, sizeof err), 0);
    assert_true(gen.n > 1800 && gen.n < 2200);
    assert_true(gen.flows[gen.n - 1].stime < 10 && gen.flows[gen.n - 1].stime > 9.9);
    flow_set_free(&gen);
    /* a second class seen too seldom to fit its arrivals: at its share of the fitted rate */
    static struct flow_model two;
    two = m;
    two.n = 2;
    two.classes[0].flows = 0.75;
    two.classes[1] = m.classes[0];
    two.classes[1].flows = 0.25;
    two.classes[1].port = 8443;
    two.classes[1].d[MODEL_ARRIVAL_GAP].fitted = false;
    assert_int_equal(flow_model_generate(&two, &g, &gen, err, sizeof err), 0);
    size_t seldom = 0;
    for (size_t i = 0; i < gen.n; i++)
        seldom += gen.flows[i].side[1].port == 8443;
    assert_true(fabs((double)seldom / (double)(gen.n - seldom) - 1.0 / 3) < 0.05);
    flow_set_free(&gen);
    g.duration = 0;
    g.flows = 1500;
    flow_set_free(&src);
    /* KS of two identical samples is 0, of disjoint ones 1 */
    double x[3] = { 1, 2, 3 }, y[3] = { 1, 2, 3 }, z[2] = { 10, 11 };
    assert_true(flow_ks(x, 3, y, 3) == 0);
    assert_true(flow_ks(x, 3, z, 2) == 1);
}

/* the empirical fit: a distribution no mixture has (a spike beside a heavy tail) comes back as
 * it went in: the quantiles are the data's, generated values have KS < 0.05 against the source,
 * the model's mean is the data's, the CDF climbs from 0 to 1 through the quantiles */
static void test_empirical(void **state)
{
    char err[256];
    struct flow_synthetic_options o = { .flows = 3000, .rate = 100, .port = 443, .seed = 7 };
    flow_dist_parse("uniform:1:3", &o.rounds, err, sizeof err);
    flow_dist_parse("exp:400", &o.request, err, sizeof err);
    flow_dist_parse("uniform:1000:30000", &o.response, err, sizeof err);
    flow_dist_parse("0.005", &o.think, err, sizeof err);
    addr_parse("10.0.0.1", &o.client);
    addr_parse("10.0.1.1", &o.server);
    struct flow_set src, gen;
    assert_int_equal(flow_synthetic(&o, &src, err, sizeof err), 0);
    for (size_t i = 0; i < src.n; i += 3) /* a third of the responses exactly 1460 bytes: a spike */
        for (size_t k = 0; k < src.flows[i].side[1].n; k++)
            if (src.flows[i].side[1].ev[k].type == FLOW_SEND)
                src.flows[i].side[1].ev[k].bytes = 1460;
    json_t *j = flow_model_fit(&src, MODEL_BY_PORT, MODEL_FIT_EMPIRICAL, err, sizeof err);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "fit")), "empirical");
    json_t *sb = json_object_get(json_object_get(json_object_get(j, "classes"), "port 443"), "server_bytes");
    assert_int_equal(json_array_size(json_object_get(sb, "quantiles")), MODEL_QUANTILES);
    assert_null(json_object_get(sb, "components"));
    assert_true(fabs(num(json_object_get(json_object_get(j, "classes"), "port 443"), "server_bytes", "model_mean") /
                     json_number_value(json_object_get(sb, "data_mean")) - 1) < 0.01);
    static struct flow_model m;
    if (flow_model_read(j, &m, err, sizeof err) < 0)
        fail_msg("read: %s", err);
    json_decref(j);
    const struct model_dist *d = &m.classes[0].d[MODEL_SERVER_BYTES];
    assert_true(d->fitted && d->empirical);
    assert_true(d->q[0] >= 1000 && d->q[MODEL_QUANTILES - 1] <= 30000);
    assert_true(model_dist_cdf(d, 999) == 0 && model_dist_cdf(d, 30001) == 1);
    double cdf_below = model_dist_cdf(d, 1459.9), cdf_at = model_dist_cdf(d, 1460);
    assert_true(cdf_at - cdf_below > 0.3); /* the spike: a third of the mass at one value */
    struct model_generate_options g = { .flows = 3000, .scale = 1, .port = 9, .seed = 13 };
    g.client = o.client;
    g.server = o.server;
    assert_int_equal(flow_model_generate(&m, &g, &gen, err, sizeof err), 0);
    static double a[20000], b[20000];
    size_t na = response_sizes(&src, a, sizeof a / sizeof *a), nb = response_sizes(&gen, b, sizeof b / sizeof *b);
    double ks = flow_ks(a, na, b, nb);
    if (!(ks < 0.05))
        fail_msg("empirical response sizes: KS %.3f", ks);
    size_t spike = 0;
    for (size_t i = 0; i < nb; i++)
        spike += b[i] == 1460;
    assert_true((double)spike / (double)nb > 0.25); /* drawn at the spike itself, not smeared around it */
    flow_set_free(&gen);
    flow_set_free(&src);
}

/* the values a model is fitted on, per class in order of appearance: what --plot draws */
static void test_data(void **state)
{
    char err[256];
    struct flow_synthetic_options o = { .flows = 10, .rate = 10, .port = 80, .seed = 1 };
    flow_dist_parse("2", &o.rounds, err, sizeof err);
    flow_dist_parse("100", &o.request, err, sizeof err);
    flow_dist_parse("1000", &o.response, err, sizeof err);
    flow_dist_parse("0", &o.think, err, sizeof err);
    addr_parse("10.0.0.1", &o.client);
    addr_parse("10.0.1.1", &o.server);
    struct flow_set set;
    assert_int_equal(flow_synthetic(&o, &set, err, sizeof err), 0);
    for (size_t i = 5; i < 10; i++)
        set.flows[i].side[1].port = 8080;
    struct model_data *d;
    size_t n;
    assert_int_equal(flow_model_data(&set, MODEL_BY_PORT, &d, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(d[0].name, "port 80");
    assert_string_equal(d[1].name, "port 8080");
    assert_int_equal(d[1].flows, 5);
    assert_int_equal(d[1].d[MODEL_ARRIVAL_GAP].n, 4);  /* between its 5 flows */
    assert_int_equal(d[1].d[MODEL_CLIENT_BYTES].n, 10); /* 2 rounds each */
    assert_true(d[1].d[MODEL_FLOW_BYTES].v[0] == 2200);
    assert_string_equal(model_dist_names[MODEL_FLOW_BYTES], "flow_bytes");
    flow_model_data_free(d, n);
    flow_set_free(&set);
}

/* a model that says something impossible is refused, naming where */
static void test_read_errors(void **state)
{
    char err[256];
    static struct flow_model m;
    const char *bad[][2] = {
        { "{\"version\": 2, \"classes\": {}}", "version 1" },
        { "{\"version\": 1, \"classes\": {}}", "no class" },
        { "{\"version\": 1, \"classes\": {\"port 80\": {\"flows\": 0}}}", "flows: a count" },
        { "{\"version\": 1, \"classes\": {\"port 80\": {\"flows\": 3, \"rounds\": {\"components\": "
          "[{\"weight\": 1, \"mean\": 2, \"sd\": -1}]}}}}", "rounds: component 1" },
        { "{\"version\": 1, \"classes\": {\"port 80\": {\"flows\": 3, \"think\": {\"components\": "
          "[{\"weight\": 0.5, \"mean\": 2, \"sd\": 1}]}}}}", "weights add up to 0.5" },
        { "{\"version\": 1, \"classes\": {\"port 80\": {\"flows\": 3, \"think\": {\"log_scale\": true, "
          "\"components\": [{\"weight\": 1, \"mean\": 900, \"sd\": 1}]}}}}", "out of range for a log scale" },
        { "{\"version\": 1, \"classes\": {\"port 80\": {\"flows\": 3, \"rounds\": {\"quantiles\": [1, 3, 2]}}}}",
          "rounds: quantile 3" },
        { "{\"version\": 1, \"classes\": {\"port 80\": {\"flows\": 3, \"rounds\": {\"quantiles\": [1]}}}}",
          "quantiles: 2 to 101" },
        { "{\"version\": 1, \"classes\": {\"port 80\": {\"flows\": 3, \"rounds\": {\"quantiles\": [1, \"x\"]}}}}",
          "quantile 2: a finite number" },
        { "{\"version\": 1, \"classes\": {\"port 80\": {\"flows\": 3, \"rounds\": {\"quantiles\": 5}}}}",
          "quantiles: 2 to" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *j = json_loads(bad[i][0], 0, NULL);
        assert_non_null(j);
        assert_int_equal(flow_model_read(j, &m, err, sizeof err), -1);
        if (!strstr(err, bad[i][1]))
            fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, bad[i][1]);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_synthetic),
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_read_errors),
        cmocka_unit_test(test_empirical),
        cmocka_unit_test(test_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
