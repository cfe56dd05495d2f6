/* datafiles: the data files under the files root. See datafiles.h. */
#include "dashboard/datafiles.h"

#include "common/csvread.h"
#include "common/errbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_MAX (256 * 1024) /* bytes read for a CSV header */

typedef struct walk {
    json_object *arr;
    size_t max;
    bool truncated, oom;
    dev_t skip_dev;
    ino_t skip_ino;
    bool has_skip;
} walk_t;

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcasecmp(s + n - k, suffix) == 0;
}

/* "csv", "libsvm" or NULL, as data.format "auto" reads the name. */
static const char *format_of(const char *name) {
    if (ends_with(name, ".csv")) return "csv";
    if (ends_with(name, ".svm") || ends_with(name, ".libsvm") || ends_with(name, ".svmlight"))
        return "libsvm";
    return NULL;
}

static bool name_in(const char *name, const char *const *list) {
    for (; *list; list++)
        if (strcasecmp(name, *list) == 0) return true;
    return false;
}

const char *datafiles_suggest_label(char *const *names, size_t n) {
    static const char *const exact[] = {"label",        "labels",  "class",    "target", "y",
                                        "target_class", "outcome", "category", NULL};
    for (size_t i = 0; i < n; i++)
        if (name_in(names[i], exact)) return names[i];
    return NULL;
}

const char *datafiles_suggest_id(char *const *names, size_t n) {
    static const char *const exact[] = {"id", "row_id", "rowid", "row", "index", "idx", NULL};
    for (size_t i = 0; i < n; i++)
        if (name_in(names[i], exact)) return names[i];
    for (size_t i = 0; i < n; i++)
        if (ends_with(names[i], "_id")) return names[i];
    return NULL;
}

/* The first record of a CSV file (fd), without a BOM: its bytes up to the
 * first line end outside quotes. Fills entry's columns and suggestions, or
 * its error. */
static void add_header(json_object *entry, int fd, const char *path) {
    char *buf = malloc(HEADER_MAX), err[256]; /* err: csvread's, not sent (see below) */
    char **names = NULL;
    size_t n = 0, len = 0;
    json_object *cols = NULL;
    if (!buf) goto fail;
    /* read 4 KiB at a time until the first line end outside quotes: a list
     * of many big files reads their headers, not HEADER_MAX of each */
    size_t off = 0, end = 0;
    bool quoted = false, found = false;
    while (!found && len < HEADER_MAX) {
        size_t want = HEADER_MAX - len < 4096 ? HEADER_MAX - len : 4096;
        ssize_t r = read(fd, buf + len, want);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        len += (size_t)r;
        if (end == 0 && len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) off = end = 3;
        for (; end < len && !found; end++) {
            if (buf[end] == '"') quoted = !quoted;
            found = !quoted && buf[end] == '\n';
        }
    }
    if (found) end--;                           /* at the line end */
    if (!found && len == HEADER_MAX) goto fail; /* a header longer than HEADER_MAX */
    if (csvread_header(path, buf + off, end - off, &names, &n, err, sizeof err) < 0) goto fail;
    cols = json_object_new_array_ext((int)(n < DATAFILES_MAX_COLUMNS ? n : DATAFILES_MAX_COLUMNS));
    for (size_t i = 0; cols && i < n && i < DATAFILES_MAX_COLUMNS; i++)
        json_object_array_add(cols, json_object_new_string(names[i]));
    const char *label = datafiles_suggest_label(names, n), *id = datafiles_suggest_id(names, n);
    json_object_object_add(entry, "columns", cols);
    json_object_object_add(entry, "columns_total", json_object_new_int64((int64_t)n));
    json_object_object_add(entry, "label_suggest", label ? json_object_new_string(label) : NULL);
    json_object_object_add(entry, "id_suggest", id ? json_object_new_string(id) : NULL);
    json_object_object_add(entry, "error", NULL);
    csvread_names_free(names, n);
    free(buf);
    return;
fail:
    /* one fixed reason: csvread's would quote the file's bytes */
    json_object_object_add(entry, "columns", NULL);
    json_object_object_add(entry, "columns_total", NULL);
    json_object_object_add(entry, "label_suggest", NULL);
    json_object_object_add(entry, "id_suggest", NULL);
    json_object_object_add(entry, "error", json_object_new_string("cannot read the CSV header"));
    free(buf);
}

/* One regular file dfd/name at rel. */
static void add_file(walk_t *w, int dfd, const char *name, const char *rel, const char *format) {
    if (json_object_array_length(w->arr) >= w->max) {
        w->truncated = true;
        return;
    }
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0) return;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return;
    }
    json_object *e = json_object_new_object();
    if (!e) {
        w->oom = true;
        close(fd);
        return;
    }
    json_object_object_add(e, "path", json_object_new_string(rel));
    json_object_object_add(e, "format", json_object_new_string(format));
    json_object_object_add(e, "size", json_object_new_int64((int64_t)st.st_size));
    if (strcmp(format, "csv") == 0) {
        add_header(e, fd, rel);
    } else {
        json_object_object_add(e, "columns", NULL);
        json_object_object_add(e, "columns_total", NULL);
        json_object_object_add(e, "label_suggest", NULL);
        json_object_object_add(e, "id_suggest", NULL);
        json_object_object_add(e, "error", NULL);
    }
    close(fd);
    json_object_array_add(w->arr, e);
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The folder dfd (taken: closed here) at rel ("" for the root). */
static void walk_dir(walk_t *w, int dfd, const char *rel, int depth) {
    DIR *d = fdopendir(dfd);
    char **names = NULL;
    size_t n = 0, cap = 0;
    if (!d) {
        close(dfd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL && !w->oom) {
        if (de->d_name[0] == '.') continue; /* ., .., hidden and staged files */
        if (n == cap) {
            size_t c = cap ? cap * 2 : 64;
            char **p = realloc(names, c * sizeof *p);
            if (!p) {
                w->oom = true;
                break;
            }
            names = p;
            cap = c;
        }
        if (!(names[n] = strdup(de->d_name))) {
            w->oom = true;
            break;
        }
        n++;
    }
    if (n) qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n && !w->oom && !w->truncated; i++) {
        char sub[4096];
        struct stat st;
        if (snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", names[i]) >=
            (int)sizeof sub)
            continue;
        if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth >= DATAFILES_DEPTH) continue;
            if (w->has_skip && st.st_dev == w->skip_dev && st.st_ino == w->skip_ino) continue;
            int sfd = openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sfd >= 0) walk_dir(w, sfd, sub, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            const char *format = format_of(names[i]);
            if (format) add_file(w, dirfd(d), names[i], sub, format);
        } /* links, devices, FIFOs, sockets: not data files a job may read */
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
}

json_object *datafiles_list(const char *root, const char *skip, size_t max, bool *truncated,
                            char *err, size_t errlen) {
    walk_t w = {.max = max};
    struct stat st;
    if (skip && stat(skip, &st) == 0) {
        w.has_skip = true;
        w.skip_dev = st.st_dev;
        w.skip_ino = st.st_ino;
    }
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        errbuf_set(err, errlen, "cannot open the files root: %s", strerror(errno));
        return NULL;
    }
    if (!(w.arr = json_object_new_array())) {
        close(fd);
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    walk_dir(&w, fd, "", 0);
    if (w.oom) {
        json_object_put(w.arr);
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    if (truncated) *truncated = w.truncated;
    return w.arr;
}
