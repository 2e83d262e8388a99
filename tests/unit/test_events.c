/* events: each line a whole JSON object with its time and event and the fields given; nothing
 * written (and the fields freed) without a file. */
#include "testutil.h"

#include <jansson.h>

#include "events.h"

static void test_lines(void **state)
{
    char *dir = tu_tmpdir(), path[300], err[256];
    snprintf(path, sizeof path, "%s/events.jsonl", dir);
    assert_false(events_on());
    events_emit("ignored", json_pack("{s:i}", "n", 1)); /* no file: nothing, no leak (valgrind) */
    assert_int_equal(events_open(path, err, sizeof err), 0);
    assert_true(events_on());
    events_emit("session_connected", json_pack("{s:s,s:b}", "router", "10.0.0.1", "reconnect", 0));
    events_emit("done", NULL);
    FILE *f = fopen(path, "r"); /* flushed line by line: readable before the file is closed */
    assert_non_null(f);
    char line[1024];
    json_error_t je;
    assert_non_null(fgets(line, sizeof line, f));
    json_t *o = json_loads(line, 0, &je);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "event")), "session_connected");
    assert_string_equal(json_string_value(json_object_get(o, "router")), "10.0.0.1");
    assert_true(json_is_false(json_object_get(o, "reconnect")));
    const char *t = json_string_value(json_object_get(o, "time"));
    assert_non_null(t); /* 2026-12-02T16:30:00.123456Z */
    assert_int_equal(strlen(t), 27);
    assert_int_equal(t[10], 'T');
    assert_int_equal(t[26], 'Z');
    json_decref(o);
    assert_non_null(fgets(line, sizeof line, f));
    o = json_loads(line, 0, &je);
    assert_string_equal(json_string_value(json_object_get(o, "event")), "done");
    assert_int_equal(json_object_size(o), 2);
    json_decref(o);
    assert_null(fgets(line, sizeof line, f));
    fclose(f);
    events_close();
    assert_false(events_on());
    assert_int_equal(events_open("/nonexistent/dir/e.jsonl", err, sizeof err), -1);
    assert_non_null(strstr(err, "--events /nonexistent/dir/e.jsonl"));
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
