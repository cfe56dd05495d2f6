/* schema_bench: the cluster's schema pass on one core, shard by shard, with
 * the CPU time of each part, so that a change to the pass can be measured
 * without the noise of a shared machine's wall clock.
 *   bin/schema_bench FILE.csv LABEL [TEXTCOL|- [SCHEMA.json]]
 * The file is cut as `master train` cuts it for 2 slots (cluster.shard_rows
 * 20000, cluster.shard_mb 32, balanced) and read into memory. Then, as the
 * workers do: each shard's summary (summary_from_shard) and its encoding;
 * as the master does: each decoded, merged in shard order, and the schema
 * fitted with the defaults of config.json (TEXTCOL in data.text, min_df 2,
 * 262144 terms), and written as JSON (the master sends it). Prints user + system CPU seconds of
 * each part and MB a CPU second; with SCHEMA.json, writes the schema there (to check that a change
 * leaves it byte for byte the same). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/schema.h"
#include "common/split.h"
#include "common/summary.h"

/* This process's user + system CPU seconds so far. */
static double cpu_now(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

int main(int argc, char **argv) {
    char err[1024];
    if (argc < 3) {
        fprintf(stderr, "usage: schema_bench FILE.csv LABEL [TEXTCOL|- [SCHEMA.json]]\n");
        return 2;
    }
    const char *path = argv[1];
    split_t sp;
    if (split_file(path, DATA_CSV, 20000, (size_t)32 << 20, &sp, err, sizeof err) != 0 ||
        split_balance(&sp, path, DATA_CSV, 2, (size_t)32 << 20, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 3;
    }
    FILE *f = fopen(path, "rb");
    char *buf = malloc(sp.bytes + 1);
    if (!f || !buf || fread(buf, 1, sp.bytes, f) != sp.bytes) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    fclose(f);
    char text[512] = "";
    datasrc_t src = {.format = DATA_CSV,
                     .file = path,
                     .header = sp.header,
                     .header_len = sp.header_len,
                     .label = argv[2]};
    if (argc > 3 && strcmp(argv[3], "-") != 0) {
        snprintf(text, sizeof text, "%s\n", argv[3]);
        src.text = text;
        src.count_terms = 1;
        src.ngram = 1;
    }
    size_t ns = sp.nshards;
    char **enc = calloc(ns, sizeof *enc);
    size_t *enclen = calloc(ns, sizeof *enclen);
    if (!enc || !enclen) return 1;
    double t_sum = 0, t_enc = 0, t_dec = 0, t_merge = 0, t_fit = 0, c0, c1;
    size_t wire = 0;
    for (size_t i = 0; i < ns; i++) {
        const shard_range_t *r = &sp.shards[i];
        c0 = cpu_now();
        summary_t *s = summary_from_shard(&src, buf + r->offset, r->length, r->first_row,
                                          r->first_line, err, sizeof err);
        c1 = cpu_now();
        t_sum += c1 - c0;
        if (!s) {
            fprintf(stderr, "%s\n", err);
            return 3;
        }
        if (summary_encode(s, &enc[i], &enclen[i]) != 0) return 1;
        t_enc += cpu_now() - c1;
        wire += enclen[i];
        summary_destroy(&s);
    }
    summary_t *all = NULL;
    for (size_t i = 0; i < ns; i++) {
        c0 = cpu_now();
        summary_t *s = summary_decode(enc[i], enclen[i], err, sizeof err);
        c1 = cpu_now();
        t_dec += c1 - c0;
        if (!s) {
            fprintf(stderr, "%s\n", err);
            return 3;
        }
        free(enc[i]);
        if (!all) {
            all = s;
            continue;
        }
        if (summary_merge(all, s) != 0) return 1;
        summary_destroy(&s);
        t_merge += cpu_now() - c1;
    }
    schema_textopts_t to = SCHEMA_TEXTOPTS_DEFAULT;
    c0 = cpu_now();
    schema_t *schema = schema_fit_text(all, &src, "none", &to, err, sizeof err);
    t_fit = cpu_now() - c0;
    if (!schema) {
        fprintf(stderr, "%s\n", err);
        return 3;
    }
    c0 = cpu_now();
    char *json = schema_to_json(schema); /* the master sends it to the workers */
    double t_json = cpu_now() - c0;
    if (!json) return 1;
    double mb = (double)sp.bytes / 1048576.0;
    printf("file %.1f MB, %llu rows, %zu shards, summaries %.1f MB\n", mb,
           (unsigned long long)sp.rows, ns, (double)wire / 1048576.0);
    printf("workers: summary %.3f s + encode %.3f s = %.3f s CPU, %.1f MB a CPU second\n", t_sum,
           t_enc, t_sum + t_enc, mb / (t_sum + t_enc));
    printf("master: decode %.3f s + merge %.3f s + fit %.3f s + JSON %.3f s = %.3f s CPU\n", t_dec,
           t_merge, t_fit, t_json, t_dec + t_merge + t_fit + t_json);
    if (argc > 4) {
        FILE *o = fopen(argv[4], "w");
        if (!o || fputs(json, o) < 0 || fclose(o) != 0) {
            fprintf(stderr, "cannot write %s\n", argv[4]);
            return 1;
        }
    }
    free(json);
    schema_destroy(&schema);
    summary_destroy(&all);
    free(enc);
    free(enclen);
    split_free(&sp);
    free(buf);
    return 0;
}
