#include "master/outputs.h"

#include "common/fdio.h"
#include "common/log.h"
#include "master/master.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define FIFO_POLL_MS 200

enum { K_MISSING = 0, K_FILE, K_STREAM, K_STDOUT, K_NONE };

typedef struct entry {
    char *what, *path;
    char *final;  /* output: the path to replace (symbolic link resolved) */
    char *canon;  /* absolute path with the folder resolved, for names not there yet */
    char *staged; /* OUTPUTS_STAGE: where the job writes */
    bool output, have_id;
    unsigned flags;
    int kind;
    int fd;      /* stream: open descriptor */
    bool own_fd; /* false for stdout */
    dev_t dev;
    ino_t ino;
    mode_t mode;
} entry_t;

struct outputs {
    entry_t *e;
    int n, cap;
};

outputs_t *outputs_new(void) {
    return calloc(1, sizeof(outputs_t));
}

static int add(outputs_t *o, const char *what, const char *path, bool output, unsigned flags) {
    if (o->n == o->cap) {
        int cap = o->cap ? 2 * o->cap : 8;
        entry_t *ne = realloc(o->e, (size_t)cap * sizeof *ne);
        if (!ne) return -1;
        o->e = ne;
        o->cap = cap;
    }
    entry_t *e = &o->e[o->n];
    memset(e, 0, sizeof *e);
    e->fd = -1;
    e->output = output;
    e->flags = flags;
    e->kind = path ? K_MISSING : K_NONE;
    e->what = strdup(what);
    e->path = strdup(path ? path : "");
    if (!e->what || !e->path) {
        free(e->what);
        free(e->path);
        return -1;
    }
    return o->n++;
}

int outputs_input(outputs_t *o, const char *what, const char *path) {
    if (!path || !*path) return 0;
    return add(o, what, path, false, 0) < 0 ? -1 : 0;
}

int outputs_output(outputs_t *o, const char *what, const char *path, unsigned flags) {
    /* Outputs and inputs share one array; an output's index counts outputs only. */
    if (add(o, what, path, true, flags) < 0) return -1;
    int idx = 0;
    for (int i = 0; i < o->n - 1; i++)
        idx += o->e[i].output;
    return idx;
}

static entry_t *out_at(const outputs_t *o, int i) {
    for (int k = 0; k < o->n; k++)
        if (o->e[k].output && i-- == 0) return &o->e[k];
    return NULL;
}

/* PATH's folder resolved (realpath) and its last name appended: the same
 * string for two spellings of one place, even when the file is not there. */
static char *canon_path(const char *path) {
    char dir[PATH_MAX], real[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (!realpath(dir, real)) return strdup(path);
    size_t n = strlen(real) + strlen(base) + 2;
    char *c = malloc(n);
    if (c) snprintf(c, n, "%s%s%s", real, strcmp(real, "/") == 0 ? "" : "/", base);
    return c;
}

static char *side_path(const char *path, const char *suffix);

/* The files an output writes beside its target before the commit: a staged
 * output's DIR/.NAME.new; the ordered writer's .part, .spool and .journal
 * for a regular output that is not staged (test predictions). */
static const char *const stage_sides[] = {".new", NULL};
static const char *const writer_sides[] = {".part", ".spool", ".journal", NULL};

/* Refuses a job whose other file (an input, or another output) is one of the
 * side files output a will create with O_TRUNC, rename or unlink: naming
 * ".model.txt.new" as --data would otherwise be destroyed, and --out
 * ".m.new" beside --model m would be renamed into the model. Returns -1 with
 * err, -2 out of memory, 0. */
static int check_sides(outputs_t *o, const entry_t *a, char *err, size_t errlen) {
    if (!a->output || (a->kind != K_FILE && a->kind != K_MISSING) || !a->final) return 0;
    const char *const *sides = (a->flags & OUTPUTS_STAGE) ? stage_sides : writer_sides;
    for (int s = 0; sides[s]; s++) {
        char *side = side_path(a->final, sides[s]);
        char *canon = side ? canon_path(side) : NULL;
        struct stat st;
        bool exists = side && stat(side, &st) == 0;
        int rc = canon ? 0 : -2;
        for (int j = 0; rc == 0 && j < o->n; j++) {
            const entry_t *b = &o->e[j];
            if (b == a || b->kind == K_NONE || (!b->output && !b->have_id)) continue;
            bool same = (b->canon && strcmp(b->canon, canon) == 0) ||
                        (exists && b->have_id && b->dev == st.st_dev && b->ino == st.st_ino);
            if (!same) continue;
            snprintf(err, errlen,
                     "%s %s is where %s %s is written before it is committed: name another file",
                     b->what, b->path, a->what, a->path);
            rc = -1;
        }
        free(canon);
        free(side);
        if (rc) return rc;
    }
    return 0;
}

/* Fills kind, identity and the resolved paths of one entry. */
static int look(entry_t *e, char *err, size_t errlen) {
    struct stat ls, st;
    if (e->kind == K_NONE) return 0;
    free(e->final); /* a second check looks afresh */
    free(e->canon);
    e->final = e->canon = NULL;
    e->have_id = false;
    if (e->output && strcmp(e->path, "-") == 0) {
        if (e->flags & OUTPUTS_NO_STDOUT) {
            snprintf(err, errlen, "%s -: this output cannot go to standard output (give a file)",
                     e->what);
            return -1;
        }
        e->kind = K_STDOUT;
        if (fstat(STDOUT_FILENO, &st) == 0) {
            e->have_id = true;
            e->dev = st.st_dev;
            e->ino = st.st_ino;
            e->mode = st.st_mode;
        }
        return (e->final = strdup("-")) && (e->canon = strdup("-")) ? 0 : -2;
    }
    if (!(e->canon = canon_path(e->path))) return -2;
    if (lstat(e->path, &ls) != 0) {
        e->kind = K_MISSING;
        return (e->final = strdup(e->path)) ? 0 : -2;
    }
    if (stat(e->path, &st) != 0) {
        if (e->output) {
            snprintf(err, errlen, "%s %s: a symbolic link to a missing file", e->what, e->path);
            return -1;
        }
        e->kind = K_MISSING;
        return 0;
    }
    e->have_id = true;
    e->dev = st.st_dev;
    e->ino = st.st_ino;
    e->mode = st.st_mode;
    if (!e->output) return 0;
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s %s: is a directory", e->what, e->path);
        return -1;
    }
    if (S_ISREG(st.st_mode)) {
        e->kind = K_FILE;
        if (S_ISLNK(ls.st_mode)) {
            char real[PATH_MAX];
            if (!realpath(e->path, real)) {
                snprintf(err, errlen, "%s %s: cannot resolve the link: %s", e->what, e->path,
                         strerror(errno));
                return -1;
            }
            e->final = strdup(real);
        } else {
            e->final = strdup(e->path);
        }
        return e->final ? 0 : -2;
    }
    e->kind = K_STREAM;
    return (e->final = strdup(e->path)) ? 0 : -2;
}

int outputs_check(outputs_t *o, char *err, size_t errlen) {
    for (int i = 0; i < o->n; i++) {
        int rc = look(&o->e[i], err, errlen);
        if (rc == -2) snprintf(err, errlen, "out of memory");
        if (rc < 0) return -1;
    }
    for (int i = 0; i < o->n; i++)
        for (int j = i + 1; j < o->n; j++) {
            const entry_t *a = &o->e[i], *b = &o->e[j];
            /* An input that is not there cannot be destroyed. */
            if ((!a->output && !b->output) || a->kind == K_NONE || b->kind == K_NONE ||
                (!a->output && !a->have_id) || (!b->output && !b->have_id))
                continue;
            bool same = a->have_id && b->have_id
                            ? a->dev == b->dev && a->ino == b->ino
                            : a->canon && b->canon && strcmp(a->canon, b->canon) == 0;
            if (!same) continue;
            /* Two outputs into one device or FIFO clobber nothing. */
            if (a->output && b->output && a->have_id && !S_ISREG(a->mode)) continue;
            snprintf(err, errlen, "%s %s and %s %s are the same file: %s", a->what, a->path,
                     b->what, b->path,
                     a->output && b->output ? "one output would overwrite the other"
                                            : "writing the output would destroy the input");
            return -1;
        }
    for (int i = 0; i < o->n; i++) {
        int rc = check_sides(o, &o->e[i], err, errlen);
        if (rc == -2) snprintf(err, errlen, "out of memory");
        if (rc < 0) return -1;
    }
    return 0;
}

int outputs_for_job(const config_t *cfg, const char *config_path, cli_cmd_t cmd, outputs_t **out,
                    char *err, size_t errlen) {
    char schema[CONFIG_PATH + 16];
    outputs_t *o = outputs_new();
    *out = NULL;
    snprintf(schema, sizeof schema, "%s.schema.json", cfg->model.file);
    bool train = cmd == CMD_TRAIN;
    /* A model sent to a device or a FIFO has no folder to keep a schema
     * beside it (/dev/null.schema.json is nobody's file): none is written. */
    struct stat st;
    bool model_streams =
        stat(cfg->model.file, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
    /* Outputs in commit-point-first order: train's model is 0, schema 1,
     * submission 2; test's predictions 0. */
    bool nomem = !o;
    if (!nomem && train)
        nomem =
            outputs_output(o, "--model", cfg->model.file, OUTPUTS_STAGE | OUTPUTS_NO_STDOUT) < 0 ||
            outputs_output(o, "the model's schema", model_streams ? NULL : schema,
                           OUTPUTS_STAGE | OUTPUTS_NO_STDOUT) < 0 ||
            outputs_output(o, "--out", cfg->output.train, OUTPUTS_STAGE) < 0;
    else if (!nomem)
        nomem = outputs_output(o, "--out", cfg->output.test, 0) < 0 ||
                outputs_input(o, "--model", cfg->model.file) < 0 ||
                outputs_input(o, "the model's schema", schema) < 0;
    if (!nomem)
        nomem = outputs_input(o, "--data", train ? cfg->data.train : cfg->data.test) < 0 ||
                outputs_input(o, "the config file", config_path) < 0 ||
                outputs_input(o, "the history database", cfg->history.db) < 0;
    if (nomem) {
        snprintf(err, errlen, "out of memory");
        outputs_destroy(&o);
        return EXIT_JOB_FAILED;
    }
    if (outputs_check(o, err, errlen) < 0) {
        outputs_destroy(&o);
        return EXIT_USAGE;
    }
    *out = o;
    return EXIT_OK;
}

static char *side_path(const char *path, const char *suffix) {
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t n = strlen(path) + strlen(suffix) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%.*s.%s%s", (int)dirlen, path, path + dirlen, suffix);
    return p;
}

static int open_socket(const char *path) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        fd = -1;
    }
    return fd;
}

/* Opens a FIFO for writing without blocking the loop: until a reader comes,
 * O_NONBLOCK fails with ENXIO and the scheduler runs for a while. */
static int open_fifo(entry_t *e, sched_t *s, char *err, size_t errlen) {
    bool said = false;
    for (;;) {
        int fd = open(e->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0) {
            int fl = fcntl(fd, F_GETFL);
            if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
                snprintf(err, errlen, "%s: %s", e->path, strerror(errno));
                close(fd);
                return -1;
            }
            if (said) log_info("%s: a reader is there; writing", e->path);
            return fd;
        }
        if (errno == EINTR) continue;
        if (errno != ENXIO) {
            snprintf(err, errlen, "%s: cannot open: %s", e->path, strerror(errno));
            return -1;
        }
        if (!s) {
            snprintf(err, errlen, "%s: a FIFO with no reader", e->path);
            return -1;
        }
        if (!said) {
            log_info("waiting for a reader on FIFO %s (Ctrl-C to stop)", e->path);
            said = true;
        }
        if (sched_poll(s, FIFO_POLL_MS) == -2) {
            snprintf(err, errlen, "%s: stopped while waiting for a reader on the FIFO", e->path);
            return -1;
        }
    }
}

static int open_stream(entry_t *e, sched_t *s, char *err, size_t errlen) {
    if (e->kind == K_STDOUT) {
        fflush(stdout);
        e->fd = STDOUT_FILENO;
        return 0;
    }
    if (S_ISFIFO(e->mode)) {
        e->fd = open_fifo(e, s, err, errlen);
    } else if (S_ISSOCK(e->mode)) {
        if ((e->fd = open_socket(e->path)) < 0)
            snprintf(err, errlen, "%s: cannot connect to the socket: %s", e->path, strerror(errno));
    } else if ((e->fd = open(e->path, O_WRONLY | O_NOCTTY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", e->path, strerror(errno));
    }
    e->own_fd = e->fd >= 0;
    return e->fd >= 0 ? 0 : -1;
}

static int create_staged(entry_t *e, char *err, size_t errlen) {
    int fd;
    if (e->kind == K_STREAM || e->kind == K_STDOUT) {
        const char *dir = getenv("TMPDIR");
        size_t n = (dir && *dir ? strlen(dir) : 4) + 32;
        if (!(e->staged = malloc(n))) goto nomem;
        snprintf(e->staged, n, "%s/nc-output.XXXXXX", dir && *dir ? dir : "/tmp");
        fd = mkostemp(e->staged, O_CLOEXEC);
    } else {
        if (!(e->staged = side_path(e->final, ".new"))) goto nomem;
        /* a fresh file, never through a link someone left under that name */
        if (unlink(e->staged) != 0 && errno != ENOENT) {
            snprintf(err, errlen, "%s: cannot replace: %s", e->staged, strerror(errno));
            free(e->staged);
            e->staged = NULL;
            return -1;
        }
        fd = open(e->staged, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    }
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", e->staged, strerror(errno));
        free(e->staged);
        e->staged = NULL;
        return -1;
    }
    close(fd);
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

int outputs_open(outputs_t *o, sched_t *s, char *err, size_t errlen) {
    for (int i = 0; i < o->n; i++) {
        entry_t *e = &o->e[i];
        if (!e->output || e->kind == K_NONE) continue;
        if ((e->kind == K_STREAM || e->kind == K_STDOUT) && open_stream(e, s, err, errlen) < 0)
            return -1;
        if ((e->flags & OUTPUTS_STAGE) && create_staged(e, err, errlen) < 0) return -1;
    }
    return 0;
}

bool outputs_is_stream(const outputs_t *o, int i) {
    const entry_t *e = out_at(o, i);
    return e && (e->kind == K_STREAM || e->kind == K_STDOUT);
}

int outputs_fd(const outputs_t *o, int i) {
    const entry_t *e = out_at(o, i);
    return e ? e->fd : -1;
}

const char *outputs_path(const outputs_t *o, int i) {
    const entry_t *e = out_at(o, i);
    return e ? (e->final ? e->final : e->path) : NULL;
}

const char *outputs_stage_path(const outputs_t *o, int i) {
    const entry_t *e = out_at(o, i);
    return e ? e->staged : NULL;
}

bool outputs_skipped(const outputs_t *o, int i) {
    const entry_t *e = out_at(o, i);
    return !e || e->kind == K_NONE;
}

bool outputs_uses_stdout(const outputs_t *o) {
    for (int i = 0; o && i < o->n; i++)
        if (o->e[i].output && o->e[i].kind == K_STDOUT) return true;
    return false;
}

static int copy_into_stream(entry_t *e, char *err, size_t errlen) {
    char buf[65536];
    int in = open(e->staged, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        snprintf(err, errlen, "%s: cannot read back: %s", e->staged, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            snprintf(err, errlen, "%s: cannot read back: %s", e->staged, strerror(errno));
            rc = -1;
            break;
        }
        if (n == 0) break;
        if (fd_write_all(e->fd, buf, (size_t)n) < 0) {
            snprintf(err, errlen, "%s: cannot write: %s", e->path, strerror(errno));
            rc = -1;
            break;
        }
    }
    close(in);
    return rc;
}

static void sync_dir(const char *path) {
    char *dir = strdup(path);
    if (!dir) return;
    char *slash = strrchr(dir, '/');
    if (slash) slash[slash == dir ? 1 : 0] = 0;
    int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

int outputs_commit(outputs_t *o, char *err, size_t errlen) {
    for (int i = 0; i < o->n; i++) {
        entry_t *e = &o->e[i];
        if (e->output && e->staged && e->fd >= 0 && copy_into_stream(e, err, errlen) < 0) return -1;
    }
    for (int i = o->n - 1; i >= 0; i--) {
        entry_t *e = &o->e[i];
        if (!e->output || !e->staged || e->fd >= 0) continue;
        if (rename(e->staged, e->final) != 0) {
            snprintf(err, errlen, "%s: cannot rename to %s: %s", e->staged, e->final,
                     strerror(errno));
            return -1;
        }
        free(e->staged);
        e->staged = NULL;
        sync_dir(e->final);
    }
    return 0;
}

void outputs_destroy(outputs_t **op) {
    outputs_t *o = op ? *op : NULL;
    if (!o) return;
    for (int i = 0; i < o->n; i++) {
        entry_t *e = &o->e[i];
        if (e->own_fd && e->fd >= 0) close(e->fd);
        /* A stream's staging file goes whether or not it was copied. */
        if (e->staged) unlink(e->staged);
        free(e->what);
        free(e->path);
        free(e->final);
        free(e->canon);
        free(e->staged);
    }
    free(o->e);
    free(o);
    *op = NULL;
}
