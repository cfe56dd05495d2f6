/* datafiles: the data files a job may name over HTTP (GET /api/files).
 *
 * Lists the CSV and libsvm files under the files root (dashboard.files, a
 * real absolute path): regular files only, found without following a
 * symbolic link (a link is skipped, so nothing outside the root is ever
 * opened), hidden names (".x", the staged ".NAME.new" of an output) and the
 * runs folder skipped, at most DATAFILES_DEPTH folders deep. The format
 * comes from the name as data.format "auto" reads it: .csv is CSV; .svm,
 * .libsvm, .svmlight (any case) are libsvm.
 *
 * Each entry: {path (relative to the root, as POST /api/jobs takes it),
 * format "csv"|"libsvm", size (bytes), columns (CSV: the header's names,
 * at most DATAFILES_MAX_COLUMNS; libsvm: null), columns_total (the header's
 * count; null for libsvm), label_suggest, id_suggest (a column name or
 * null), error (null, or why the header could not be read)}.
 */
#ifndef NC_DATAFILES_H
#define NC_DATAFILES_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define DATAFILES_MAX 1000         /* entries listed */
#define DATAFILES_MAX_COLUMNS 1000 /* names listed per CSV header */
#define DATAFILES_DEPTH 8

/* The data files under root, sorted by path, at most max of them (*truncated
 * says whether more were found). skip: a real absolute path (the runs folder)
 * not to descend into, or NULL. Returns a JSON array (caller puts), NULL with
 * err when root cannot be opened or memory runs out. */
json_object *datafiles_list(const char *root, const char *skip, size_t max, bool *truncated,
                            char *err, size_t errlen);

/* The column a name list suggests as the label ("label", "class", "target",
 * "y", ... in any case) or as the id ("id", "row_id", "*_id", ...); NULL when
 * none. Pure; borrowed from names. */
const char *datafiles_suggest_label(char *const *names, size_t n);
const char *datafiles_suggest_id(char *const *names, size_t n);

#endif
