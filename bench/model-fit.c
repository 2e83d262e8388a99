/* model-fit EVENTS MODEL.json — bench 11's fitter: an events file read and its traffic model
 * fitted (what flow-extract --model does after writing the events), timed apart from any
 * capture's reading. Prints "read S fit S flows N" on stderr. */
#include <stdio.h>
#include <time.h>

#include "flow/model.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: model-fit EVENTS MODEL.json\n");
        return 2;
    }
    char err[512];
    struct flow_set set;
    double t0 = now();
    if (flow_events_load(argv[1], &set, err, sizeof err) < 0) {
        fprintf(stderr, "model-fit: %s\n", err);
        return 1;
    }
    double t1 = now();
    json_t *m = flow_model_fit(&set, MODEL_BY_PORT, MODEL_FIT_MIXTURE, err, sizeof err);
    double t2 = now();
    if (!m || json_dump_file(m, argv[2], JSON_INDENT(2)) < 0) {
        fprintf(stderr, "model-fit: %s\n", m ? "cannot write the model" : err);
        return 1;
    }
    fprintf(stderr, "read %.3f fit %.3f flows %zu\n", t1 - t0, t2 - t1, set.n);
    json_decref(m);
    flow_set_free(&set);
    return 0;
}
