/* libFuzzer target: libsvm shards through summary, schema and dataset, and
 * the in-place reader against liblinear's strtok reading of the same bytes
 * (tests/oracle/svmread_ref.h): same rows, same values bit for bit, same
 * errors. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/dataset.h"
#include "common/schema.h"
#include "tests/oracle/svmread_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    datasrc_t src = {.format = DATA_LIBSVM, .file = "fuzz.svm"};
    char err[512];
    char why[1200];
    if (svmref_compare((const char *)data, size, why, sizeof why) != 0) {
        fprintf(stderr, "svmread differs from liblinear's reading: %s\n", why);
        abort();
    }
    summary_t *sm = summary_from_shard(&src, (const char *)data, size, 0, 1, err, sizeof err);
    if (!sm) return 0;
    schema_t *s = schema_fit(sm, &src, NULL, err, sizeof err);
    if (s) {
        dataset_t *d = NULL;
        if (dataset_from_shard(s, &src, (const char *)data, size, 0, 1, 1.0, &d, err, sizeof err) !=
            0)
            abort();
        for (size_t i = 0; i < d->rows; i++)
            if (d->y[i] < 0) /* every training label is known */
                abort();
        dataset_destroy(&d);
        schema_destroy(&s);
    }
    summary_destroy(&sm);
    return 0;
}
