/* data_bench: speed figures of the data layer on one core.
 *   bin/data_bench FILE.csv [label [TEXTCOL]]   (the file is read into memory first)
 * With TEXTCOL, that column is free text (data.text): the summary counts its
 * terms' document frequencies and the rows carry its tf-idf features.
 * Prints split_file MB/s (warm file), summary MB/s and dataset_from_shard
 * MB/s (numeric CSV into feature_node arrays). Generate a file with e.g.
 *   awk 'BEGIN{srand(1); for(j=0;j<100;j++) printf "f%d,",j; print "label";
 *        for(i=0;i<200000;i++){for(j=0;j<100;j++) printf "%.6f,",rand()*10-5;
 *        print int(rand()*2)}}' > /tmp/bench.csv */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "common/dataset.h"
#include "common/schema.h"
#include "common/split.h"

/* This process's user and system CPU seconds so far. */
static void cpu_times(double *user, double *sys) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6;
    *sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    char err[1024];
    if (argc < 2) {
        fprintf(stderr, "usage: data_bench FILE.csv [label [TEXTCOL]]\n");
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
        if (t < best) best = t;
        if (i < 2) split_free(&sp);
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
    datasrc_t src = {.format = DATA_CSV,
                     .file = argv[1],
                     .header = sp.header,
                     .header_len = sp.header_len,
                     .label = argc > 2 ? argv[2] : "label"};
    char text[512] = "";
    if (argc > 3) {
        snprintf(text, sizeof text, "%s\n", argv[3]);
        src.text = text;
        src.count_terms = 1;
        src.ngram = 1;
    }
    uint64_t off = sp.shards[0].offset, len = sp.bytes - off;
    double t0 = now();
    summary_t *sm =
        summary_from_shard(&src, buf + off, len, 0, sp.shards[0].first_line, err, sizeof err);
    double ts = now() - t0;
    if (!sm) {
        fprintf(stderr, "%s\n", err);
        return 3;
    }
    printf("summary_from_shard: %.3f s, %.0f MB/s\n", ts, (double)len / 1e6 / ts);
    schema_t *s = schema_fit_text(sm, &src, "standard", NULL, err, sizeof err);
    if (!s) {
        fprintf(stderr, "%s\n", err);
        return 3;
    }
    /* Run 1 writes its nodes into pages the process never had; runs 2 and 3
     * may get back the pages run 1 gave up, or not: on a virtual machine
     * whose host backs guest memory lazily and takes back what the guest
     * frees, the first touch of a page can cost more than parsing the bytes
     * that fill it, and how many pages are fresh varies from run to run. So
     * the parser's own work is timed apart, as user CPU time (the kernel's
     * page filling is system time), and touching that much fresh memory with
     * no parsing at all is timed beside. */
    double first = 0, again = 1e9, user = 1e9, first_sys = 0;
    size_t node_bytes = 0;
    for (int run = 0; run < 3; run++) {
        dataset_t *d;
        double u0, s0, u1, s1;
        cpu_times(&u0, &s0);
        t0 = now();
        if (dataset_from_shard(s, &src, buf + off, len, 0, sp.shards[0].first_line, 1.0, &d, err,
                               sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            return 3;
        }
        double td = now() - t0;
        cpu_times(&u1, &s1);
        if (u1 - u0 < user) user = u1 - u0;
        if (run == 0) {
            first = td;
            first_sys = s1 - s0;
            for (size_t i = 0; i < d->rows; i++) {
                const struct feature_node *x = d->x[i];
                while (x->index != -1)
                    x++;
                node_bytes += (size_t)(x - d->x[i] + 1) * sizeof *x;
            }
            printf("rows %zu, n=%d, %.0f MB of feature nodes\n", d->rows, d->n,
                   (double)node_bytes / 1e6);
        } else if (td < again) {
            again = td;
        }
        dataset_destroy(&d);
    }
    printf("dataset_from_shard (user CPU, best of 3): %.3f s, %.0f MB/s\n", user,
           (double)len / 1e6 / user);
    printf("dataset_from_shard (first run): %.3f s, %.0f MB/s (%.3f s of it system time)\n", first,
           (double)len / 1e6 / first, first_sys);
    printf("dataset_from_shard (runs 2-3, best): %.3f s, %.0f MB/s\n", again,
           (double)len / 1e6 / again);
    /* Touched after the parse runs, so that none of them can reuse its pages;
     * it may get pages they gave back, which makes this a low estimate of
     * what first touches cost. */
    size_t pg = 4096, map_len = (node_bytes + pg - 1) / pg * pg;
    char *m = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED) {
        t0 = now();
        for (size_t i = 0; i < map_len; i += pg)
            m[i] = 1;
        double tt = now() - t0;
        printf("fresh memory: touching %.0f MB of new 4 KB pages: %.3f s, %.2f us a page\n",
               (double)map_len / 1e6, tt, tt / (double)(map_len / pg) * 1e6);
        munmap(m, map_len);
    }
    schema_destroy(&s);
    summary_destroy(&sm);
    split_free(&sp);
    free(buf);
    return 0;
}
