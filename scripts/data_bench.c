/* data_bench: speed figures of the data layer on one core.
 *   bin/data_bench FILE.csv [label]   (the file is read into memory first)
 * Prints split_file MB/s (warm file), summary MB/s and dataset_from_shard
 * MB/s (numeric CSV into feature_node arrays). Generate a file with e.g.
 *   awk 'BEGIN{srand(1); for(j=0;j<100;j++) printf "f%d,",j; print "label";
 *        for(i=0;i<200000;i++){for(j=0;j<100;j++) printf "%.6f,",rand()*10-5;
 *        print int(rand()*2)}}' > /tmp/bench.csv */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/dataset.h"
#include "common/schema.h"
#include "common/split.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    char err[1024];
    if (argc < 2) {
        fprintf(stderr, "usage: data_bench FILE.csv [label]\n");
        return 2;
    }
    split_t sp;
    double best = 1e9;
    for (int i = 0; i < 3; i++) {
        double t0 = now();
        if (split_file(argv[1], DATA_CSV, 20000, 0, &sp, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            return 3;
        }
        double t = now() - t0;
        if (t < best)
            best = t;
        if (i < 2)
            split_free(&sp);
    }
    double mb = (double)sp.bytes / 1e6;
    printf("file %.1f MB, %llu rows, %zu shards\n", mb, (unsigned long long)sp.rows, sp.nshards);
    printf("split_file: %.3f s, %.0f MB/s\n", best, mb / best);
    FILE *f = fopen(argv[1], "rb");
    char *buf = malloc(sp.bytes + 1);
    if (!f || !buf || fread(buf, 1, sp.bytes, f) != sp.bytes) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 1;
    }
    fclose(f);
    datasrc_t src = {.format = DATA_CSV, .file = argv[1], .header = sp.header,
                     .header_len = sp.header_len, .label = argc > 2 ? argv[2] : "label"};
    uint64_t off = sp.shards[0].offset, len = sp.bytes - off;
    double t0 = now();
    summary_t *sm = summary_from_shard(&src, buf + off, len, 0, sp.shards[0].first_line, err,
                                       sizeof err);
    double ts = now() - t0;
    if (!sm) {
        fprintf(stderr, "%s\n", err);
        return 3;
    }
    printf("summary_from_shard: %.3f s, %.0f MB/s\n", ts, (double)len / 1e6 / ts);
    schema_t *s = schema_fit(sm, &src, "standard", err, sizeof err);
    if (!s) {
        fprintf(stderr, "%s\n", err);
        return 3;
    }
    /* The second run reuses heap pages the first one faulted in, which
     * separates parsing from the kernel's page zeroing. */
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, -1);
    for (int run = 0; run < 2; run++) {
        dataset_t *d;
        t0 = now();
        if (dataset_from_shard(s, &src, buf + off, len, 0, sp.shards[0].first_line, 1.0, &d,
                               err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            return 3;
        }
        double td = now() - t0;
        printf("dataset_from_shard (%s memory): %.3f s, %.0f MB/s (%zu rows, n=%d)\n",
               run ? "warm" : "fresh", td, (double)len / 1e6 / td, d->rows, d->n);
        dataset_destroy(&d);
    }
    schema_destroy(&s);
    summary_destroy(&sm);
    split_free(&sp);
    free(buf);
    return 0;
}
