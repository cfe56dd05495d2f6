/* libFuzzer target: the two decoders of untrusted schema data, schema JSON
 * and the summary wire format, and the applier on what they accept (free-text
 * columns too: the seeds hold a schema and summaries with terms). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/dataset.h"
#include "common/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[512];
    schema_t *s = schema_from_json((const char *)data, size, err, sizeof err);
    if (s) {
        char *j = schema_to_json(s);
        if (j) {
            /* what we accept and print, we accept again */
            schema_t *t = schema_from_json(j, strlen(j), err, sizeof err);
            if (!t) abort();
            schema_destroy(&t);
            free(j);
        }
        if (schema_format(s) == DATA_CSV) {
            static const char header[] = "x,label,t,id";
            datasrc_t src = {.format = DATA_CSV,
                             .file = "f",
                             .header = header,
                             .header_len = sizeof header - 1,
                             .label = "label",
                             .id = "id"};
            static const char rows[] =
                "1.5,a,red,1\n,b,,2\nNA,zz,blue,3\n4,a,\"the red car, the Blue car\",4\n";
            dataset_t *d = NULL;
            if (dataset_from_shard(s, &src, rows, sizeof rows - 1, 0, 2, 1.0, &d, err,
                                   sizeof err) == 0)
                dataset_destroy(&d);
        }
        schema_destroy(&s);
    }
    summary_t *sm = summary_decode(data, size, err, sizeof err);
    if (sm) {
        summary_t *copy = summary_decode(data, size, err, sizeof err);
        if (!copy || summary_merge(sm, copy) != 0) abort();
        summary_destroy(&copy);
        summary_destroy(&sm);
    }
    return 0;
}
