/* dataset: one shard's rows in liblinear form, as the worker holds them.
 *
 * Produced by the data layer (CSV through a fitted schema, or libsvm as it is)
 * and consumed by the linear-model math (linfun) and by liblinear's own train()
 * and predict(). Rows are liblinear sparse rows: x[i] is an array of
 * struct feature_node with ascending 1-based indices, ended by index -1. When
 * bias >= 0 the last node before the end is {n, bias}, exactly as liblinear's
 * train tool appends it, so n counts the bias feature.
 *
 * y[i] is the row's label as an index into the schema's label list
 * (0..nr_class-1, in liblinear's order: first appearance, with +1 before -1 for
 * a +1/-1 problem), or -1 when the row has no label (prediction input).
 * ids[i] is the id column's text for the row, or NULL for the whole array
 * when the file has no id column (then the id is first_row + i + 1).
 */
#ifndef NC_DATASET_H
#define NC_DATASET_H

#include <linear.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dataset {
    size_t rows;
    int n;       /* feature count, including the bias feature when bias >= 0 */
    double bias; /* value of the bias feature, or -1 for none */
    struct feature_node **x;
    int *y;
    char **ids;
    uint64_t first_row; /* 0-based number of x[0] among the file's data rows */
    void *storage;      /* owned by the module that built the dataset */
} dataset_t;

struct schema;
struct datasrc;

/* Parses one shard (whole rows, no header; first row = data row first_row on
 * file line first_line) through a fitted schema into liblinear rows.
 *   CSV: columns are matched to the schema by name (the file may order them
 *   differently or hold extra columns; a missing feature column is an error);
 *   the label and id columns are optional. libsvm: rows as liblinear reads
 *   them, features past the schema's n_features dropped (liblinear's predict
 *   ignores them too).
 * bias >= 0 appends {n_features + 1, bias} to every row and sets n to
 * n_features + 1. y[i] = label index, or -1 without a label column or for a
 * label training never saw. On success *out is the caller's (dataset_destroy);
 * on failure err holds "FILE:LINE[:COL]: what". */
int dataset_from_shard(const struct schema *s, const struct datasrc *src, const char *bytes,
                       size_t len, uint64_t first_row, uint64_t first_line, double bias,
                       dataset_t **out, char *err, size_t errlen);

/* Frees a dataset built by any builder in common/ and sets *d to NULL.
 * Builders malloc x, y and ids and put every row's memory behind storage as
 * a dataset_store (see dataset.c), so one function frees them all. */
void dataset_destroy(dataset_t **d);

#endif
