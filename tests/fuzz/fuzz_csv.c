/* libFuzzer target: summary_from_shard, schema_fit and dataset_from_shard on
 * arbitrary shard bytes under a fixed header. Any input must give a clean
 * result or a clean error, never a crash, leak or undefined behaviour; and
 * csvread_parse() must give libcsv's own records (tests/oracle/csvread_ref.h). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/dataset.h"
#include "common/schema.h"
#include "tests/oracle/csvread_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char header[] = "id,x,\"t,q\",label,y";
    datasrc_t src = {.format = DATA_CSV,
                     .file = "fuzz.csv",
                     .header = header,
                     .header_len = sizeof header - 1,
                     .label = "label",
                     .id = "id"};
    char err[512];
    char why[600];
    if (csvref_compare((const char *)data, size, why, sizeof why) != 0) {
        fprintf(stderr, "csvread differs from libcsv: %s\n", why);
        abort();
    }
    summary_t *sm = summary_from_shard(&src, (const char *)data, size, 0, 2, err, sizeof err);
    if (!sm) return 0;
    char *wire = NULL;
    size_t wl = 0;
    if (summary_encode(sm, &wire, &wl) == 0) {
        summary_t *back = summary_decode(wire, wl, err, sizeof err);
        if (!back) abort(); /* our own encoding must decode */
        summary_destroy(&back);
        free(wire);
    }
    schema_t *s = schema_fit(sm, &src, "standard", err, sizeof err);
    if (s) {
        dataset_t *d = NULL;
        if (dataset_from_shard(s, &src, (const char *)data, size, 0, 2, 1.0, &d, err, sizeof err) !=
            0)
            abort(); /* rows that summarised must also parse */
        for (size_t i = 0; i < d->rows; i++) {
            int prev = 0;
            for (const struct feature_node *n = d->x[i]; n->index != -1; n++) {
                if (n->index <= prev || n->index > d->n) abort();
                prev = n->index;
            }
        }
        dataset_destroy(&d);
        schema_destroy(&s);
    }
    summary_destroy(&sm);
    return 0;
}
