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
    json_t *m = flow_model_fit(&set, MODEL_BY_PORT, err, sizeof err);
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
    json_t *one = flow_model_fit(&set, MODEL_ONE, err, sizeof err);
    assert_non_null(json_object_get(json_object_get(one, "classes"), "all"));
    json_decref(one);
    json_decref(m);
    flow_set_free(&set);
    /* too few flows: the distributions say so instead of a fit */
    o.flows = 3;
    assert_int_equal(flow_synthetic(&o, &set, err, sizeof err), 0);
    m = flow_model_fit(&set, MODEL_BY_ADDRESS, err, sizeof err);
    c = json_object_get(json_object_get(m, "classes"), "10.0.1.1");
    assert_non_null(c);
    assert_non_null(json_object_get(json_object_get(c, "arrival_gap"), "fitted"));
    json_decref(m);
    flow_set_free(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_synthetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
