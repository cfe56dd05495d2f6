#include "common/config.h"
#include "common/jsonx.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { F_STR, F_INT, F_PORT, F_DOUBLE, F_BOOL, F_LIST } field_type_t;

typedef struct {
    const char *section;
    const char *key;
    field_type_t type;
    size_t offset;
    size_t size;
} field_t;

#define FIELD(sec, k, t)                                                                           \
    { #sec, #k, t, offsetof(config_t, sec.k), sizeof(((config_t *)0)->sec.k) }

static const field_t fields[] = {
    FIELD(master, ip, F_STR),
    FIELD(master, task_port, F_PORT),
    FIELD(master, result_port, F_PORT),
    FIELD(master, heartbeat_port, F_PORT),
    FIELD(dashboard, host, F_STR),
    FIELD(dashboard, port, F_PORT),
    FIELD(dashboard, token, F_STR),
    FIELD(dashboard, files, F_STR),
    FIELD(data, train, F_STR),
    FIELD(data, test, F_STR),
    FIELD(data, label, F_STR),
    FIELD(data, id, F_STR),
    FIELD(data, scale, F_STR),
    FIELD(data, format, F_STR),
    FIELD(data, text, F_LIST),
    FIELD(data, ngram, F_INT),
    FIELD(data, min_df, F_INT),
    FIELD(data, max_features, F_INT),
    FIELD(data, hash_bits, F_INT),
    FIELD(data, tfidf, F_BOOL),
    FIELD(model, file, F_STR),
    FIELD(model, solver, F_STR),
    FIELD(model, C, F_DOUBLE),
    FIELD(model, eps, F_DOUBLE),
    FIELD(model, bias, F_DOUBLE),
    FIELD(model, strategy, F_STR),
    FIELD(model, parallel, F_STR),
    FIELD(model, rounds, F_INT),
    FIELD(output, train, F_STR),
    FIELD(output, test, F_STR),
    FIELD(cluster, heartbeat_ms, F_INT),
    FIELD(cluster, liveness, F_INT),
    FIELD(cluster, shard_rows, F_INT),
    FIELD(cluster, shard_mb, F_INT),
    FIELD(cluster, max_workers, F_INT),
    FIELD(cluster, max_msg_mb, F_INT),
    FIELD(cluster, task_timeout_s, F_INT),
    FIELD(cluster, reduce, F_STR),
    FIELD(cluster, reduce_wait_ms, F_INT),
    FIELD(history, db, F_STR),
    FIELD(history, retention_days, F_INT),
    FIELD(runs, dir, F_STR),
    FIELD(runs, keep, F_INT),
    FIELD(runs, max_age_days, F_INT),
    FIELD(security, curve, F_BOOL),
    FIELD(security, secret_key_file, F_STR),
    FIELD(security, master_public_key, F_STR),
    FIELD(security, authorized_keys, F_STR),
    FIELD(worker, when, F_STR),
    FIELD(worker, idle_minutes, F_INT),
    FIELD(worker, max_load, F_DOUBLE),
    FIELD(worker, max_cpu, F_INT),
    FIELD(worker, slots, F_INT),
    FIELD(worker, name, F_STR),
    FIELD(worker, tree_port, F_INT),
};
#define NFIELDS (sizeof fields / sizeof fields[0])

static void set_str(char *dst, size_t size, const char *src) {
    snprintf(dst, size, "%s", src);
}

void config_defaults(config_t *c) {
    memset(c, 0, sizeof *c);
    set_str(c->master.ip, sizeof c->master.ip, "127.0.0.1");
    c->master.task_port = 5555;
    c->master.result_port = 5556;
    c->master.heartbeat_port = 5557;
    set_str(c->dashboard.host, sizeof c->dashboard.host, "127.0.0.1");
    c->dashboard.port = 5051;
    set_str(c->dashboard.files, sizeof c->dashboard.files, "Data");
    set_str(c->data.train, sizeof c->data.train, "Data/train.csv");
    set_str(c->data.test, sizeof c->data.test, "Data/test.csv");
    set_str(c->data.label, sizeof c->data.label, "label");
    set_str(c->data.id, sizeof c->data.id, "id");
    set_str(c->data.scale, sizeof c->data.scale, "standard");
    set_str(c->data.format, sizeof c->data.format, "auto");
    c->data.ngram = 1;
    c->data.min_df = 2;
    c->data.max_features = 262144;
    c->data.tfidf = true;
    set_str(c->model.file, sizeof c->model.file, "Data/model.txt");
    set_str(c->model.solver, sizeof c->model.solver, "L2R_LR");
    c->model.C = 1.0;
    c->model.eps = 0.01;
    c->model.bias = 1;
    set_str(c->model.strategy, sizeof c->model.strategy, "exact");
    set_str(c->model.parallel, sizeof c->model.parallel, "auto");
    c->model.rounds = 1;
    set_str(c->output.train, sizeof c->output.train, "Data/submission_train.csv");
    set_str(c->output.test, sizeof c->output.test, "Data/submission_test.csv");
    c->cluster.heartbeat_ms = 1000;
    c->cluster.liveness = 3;
    c->cluster.shard_rows = 20000;
    c->cluster.shard_mb = 32;
    c->cluster.max_workers = 1024;
    c->cluster.max_msg_mb = 512;
    c->cluster.task_timeout_s = 3600;
    set_str(c->cluster.reduce, sizeof c->cluster.reduce, "star");
    c->cluster.reduce_wait_ms = 2000;
    set_str(c->history.db, sizeof c->history.db, "Data/netcompute.db");
    c->history.retention_days = 7;
    set_str(c->runs.dir, sizeof c->runs.dir, "Data/runs");
    set_str(c->worker.when, sizeof c->worker.when, "always");
    c->worker.idle_minutes = 10;
    c->worker.tree_port = -1; /* the tree port is opt-in: a port nobody uses is not opened */
    c->worker.max_load = 0.3;
}

static const field_t *find_field(const char *section, const char *key) {
    for (size_t i = 0; i < NFIELDS; i++)
        if (strcmp(fields[i].section, section) == 0 && strcmp(fields[i].key, key) == 0)
            return &fields[i];
    return NULL;
}

static bool known_section(const char *section) {
    for (size_t i = 0; i < NFIELDS; i++)
        if (strcmp(fields[i].section, section) == 0) return true;
    return false;
}

static int parse_long(const char *s, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end) return -1;
    *out = v;
    return 0;
}

int config_add_text(config_t *c, const char *name, char *err, size_t errlen) {
    size_t have = strlen(c->data.text), n = strlen(name);
    if (n == 0 || strchr(name, '\n')) {
        snprintf(err, errlen, "data.text: a column name may not be empty or hold a newline");
        return -1;
    }
    if (have + n + 1 >= sizeof c->data.text) {
        snprintf(err, errlen, "data.text: the names are longer than %zu bytes in all",
                 sizeof c->data.text - 1);
        return -1;
    }
    memcpy(c->data.text + have, name, n);
    c->data.text[have + n] = '\n';
    c->data.text[have + n + 1] = 0;
    c->data.text_set = true;
    return 0;
}

/* data.text from a JSON array of strings (replaces the list). */
static int store_list_json(config_t *c, json_object *v, char *err, size_t errlen) {
    c->data.text[0] = 0;
    c->data.text_set = true;
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (!json_object_is_type(e, json_type_string) ||
            strlen(json_object_get_string(e)) != (size_t)json_object_get_string_len(e)) {
            snprintf(err, errlen, "data.text: element %zu is not a string of a column name", i + 1);
            return -1;
        }
        if (config_add_text(c, json_object_get_string(e), err, errlen) < 0) return -1;
    }
    return 0;
}

/* data.text from --set: "[]", a JSON array, "[a, b]" or one bare name. */
static int store_list_text(config_t *c, const char *text, char *err, size_t errlen) {
    size_t n = strlen(text);
    if (text[0] != '[') {
        c->data.text[0] = 0;
        return config_add_text(c, text, err, errlen);
    }
    json_object *v = json_tokener_parse(text);
    if (v && json_object_is_type(v, json_type_array)) {
        int rc = store_list_json(c, v, err, errlen);
        json_object_put(v);
        return rc;
    }
    json_object_put(v);
    if (n < 2 || text[n - 1] != ']') {
        snprintf(err, errlen, "data.text: '%s' is not a list such as [a,b]", text);
        return -1;
    }
    c->data.text[0] = 0;
    c->data.text_set = true;
    const char *p = text + 1, *end = text + n - 1;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        while (p < stop && *p == ' ')
            p++;
        const char *q = stop;
        while (q > p && q[-1] == ' ')
            q--;
        char name[CONFIG_STR];
        if (q == p && !comma && c->data.text[0] == 0) break; /* "[ ]" */
        if ((size_t)(q - p) >= sizeof name) {
            snprintf(err, errlen, "data.text: a column name is longer than %zu bytes",
                     sizeof name - 1);
            return -1;
        }
        memcpy(name, p, (size_t)(q - p));
        name[q - p] = 0;
        if (config_add_text(c, name, err, errlen) < 0) return -1;
        p = comma ? comma + 1 : end;
    }
    return 0;
}

/* Stores text into field f; the text comes from --set or from a JSON string. */
static int store_text(config_t *c, const field_t *f, const char *text, char *err, size_t errlen) {
    char *p = (char *)c + f->offset;
    long lv;
    switch (f->type) {
    case F_STR:
        if (strlen(text) >= f->size) {
            snprintf(err, errlen, "%s.%s: value is longer than %zu characters", f->section, f->key,
                     f->size - 1);
            return -1;
        }
        set_str(p, f->size, text);
        return 0;
    case F_INT:
    case F_PORT:
        if (parse_long(text, &lv) < 0) {
            snprintf(err, errlen, "%s.%s: '%s' is not a whole number", f->section, f->key, text);
            return -1;
        }
        if (lv < INT_MIN || lv > INT_MAX) {
            snprintf(err, errlen, "%s.%s: %s is out of range", f->section, f->key, text);
            return -1;
        }
        *(int *)p = (int)lv;
        return 0;
    case F_DOUBLE: {
        char *end;
        errno = 0;
        double d = strtod(text, &end);
        if (errno || end == text || *end || !isfinite(d)) {
            snprintf(err, errlen, "%s.%s: '%s' is not a number", f->section, f->key, text);
            return -1;
        }
        *(double *)p = d;
        return 0;
    }
    case F_LIST:
        return store_list_text(c, text, err, errlen);
    case F_BOOL:
        if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0)
            *(bool *)p = true;
        else if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0)
            *(bool *)p = false;
        else {
            snprintf(err, errlen, "%s.%s: '%s' is not true or false", f->section, f->key, text);
            return -1;
        }
        return 0;
    }
    return -1;
}

/* The text of a JSON scalar as --set would give it: a string as it is, an
 * integer in decimal, true/false. NULL for other types (a double's text is
 * json-c's rendering, not what the file said, so doubles go their own way). */
static const char *json_scalar_text(json_object *v, char *buf, size_t len) {
    switch (json_object_get_type(v)) {
    case json_type_string:
        return json_object_get_string(v);
    case json_type_int:
        snprintf(buf, len, "%lld", (long long)json_object_get_int64(v));
        return buf;
    case json_type_boolean:
        return json_object_get_boolean(v) ? "true" : "false";
    default:
        return NULL;
    }
}

/* A JSON value and the same value given with --set are read alike: a field
 * takes its value from a string, a whole number or a boolean by the text
 * rules of store_text ("solver": 2 and --set model.solver=2, "curve": 1 and
 * --set security.curve=1, "shard_rows": "500"); a number field also takes a
 * JSON fraction. Objects, arrays and null are refused. */
static int store_json(config_t *c, const field_t *f, json_object *v, char *err, size_t errlen) {
    enum json_type t = json_object_get_type(v);
    char num[32];
    if (f->type == F_LIST) {
        if (t == json_type_array) return store_list_json(c, v, err, errlen);
        snprintf(err, errlen, "%s.%s: expected a list of column names, got %s", f->section, f->key,
                 json_type_to_name(t));
        return -1;
    }
    if (f->type == F_DOUBLE && t == json_type_double) {
        double d = json_object_get_double(v);
        if (!isfinite(d)) {
            snprintf(err, errlen, "%s.%s: '%s' is not a number", f->section, f->key,
                     json_object_to_json_string(v));
            return -1;
        }
        *(double *)((char *)c + f->offset) = d;
        return 0;
    }
    const char *text = json_scalar_text(v, num, sizeof num);
    if (t == json_type_string && strlen(text) != (size_t)json_object_get_string_len(v)) {
        snprintf(err, errlen, "%s.%s: the string holds a NUL character", f->section, f->key);
        return -1;
    }
    if (text && !(t == json_type_boolean && f->type != F_BOOL))
        return store_text(c, f, text, err, errlen);
    static const char *want[] = {"a string", "a whole number", "a port number",
                                 "a number", "true or false",  "a list"};
    snprintf(err, errlen, "%s.%s: expected %s, got %s", f->section, f->key, want[f->type],
             t == json_type_double ? "a fraction" : json_type_to_name(t));
    return -1;
}

#define CONFIG_MAX_BYTES (1 << 20)

/* Reads the whole file (configs are small) into a NUL-terminated buffer. */
static char *read_small_file(FILE *fp, const char *path, size_t *len, char *err, size_t errlen) {
    char *buf = malloc(CONFIG_MAX_BYTES + 1);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    size_t n = fread(buf, 1, CONFIG_MAX_BYTES + 1, fp);
    if (ferror(fp)) {
        snprintf(err, errlen, "%s: cannot read config file: %s", path, strerror(errno));
        free(buf);
        return NULL;
    }
    if (n > CONFIG_MAX_BYTES) {
        snprintf(err, errlen, "%s: config file is larger than %d bytes", path, CONFIG_MAX_BYTES);
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

int config_load(config_t *c, const char *path, bool missing_ok, char *err, size_t errlen) {
    int rc = -1;
    json_object *root = NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (errno == ENOENT && missing_ok) return 0;
        snprintf(err, errlen, "%s: cannot open config file: %s", path, strerror(errno));
        return -1;
    }
    text = read_small_file(fp, path, &len, err, errlen);
    if (!text) goto out;
    char why[512];
    root =
        jsonx_parse_object(text, len, &(jsonx_limits_t){.trailing_space = true}, why, sizeof why);
    if (!root) {
        snprintf(err, errlen, "%s:%s%s", path, isdigit((unsigned char)why[0]) ? "" : " ", why);
        goto out;
    }
    json_object_object_foreach(root, section, sv) {
        if (!known_section(section)) {
            snprintf(err, errlen, "%s: unknown section '%s'", path, section);
            goto out;
        }
        if (!json_object_is_type(sv, json_type_object)) {
            snprintf(err, errlen, "%s: section '%s' must be an object", path, section);
            goto out;
        }
        json_object_object_foreach(sv, key, kv) {
            const field_t *f = find_field(section, key);
            char why[512];
            if (!f) {
                snprintf(err, errlen, "%s: unknown key '%s.%s'", path, section, key);
                goto out;
            }
            if (store_json(c, f, kv, why, sizeof why) < 0) {
                snprintf(err, errlen, "%s: %s", path, why);
                goto out;
            }
        }
    }
    rc = 0;
out:
    json_object_put(root);
    free(text);
    fclose(fp);
    return rc;
}

int config_set(config_t *c, const char *assignment, char *err, size_t errlen) {
    const char *dot = strchr(assignment, '.');
    const char *eq = strchr(assignment, '=');
    char section[64], key[64];
    if (!dot || !eq || dot > eq || dot == assignment || eq == dot + 1) {
        snprintf(err, errlen, "--set '%s': expected section.key=value", assignment);
        return -1;
    }
    size_t sl = (size_t)(dot - assignment), kl = (size_t)(eq - dot - 1);
    if (sl >= sizeof section || kl >= sizeof key) {
        snprintf(err, errlen, "--set '%s': unknown key", assignment);
        return -1;
    }
    memcpy(section, assignment, sl);
    section[sl] = 0;
    memcpy(key, dot + 1, kl);
    key[kl] = 0;
    const field_t *f = find_field(section, key);
    if (!f) {
        snprintf(err, errlen, "--set: unknown key '%s.%s'", section, key);
        return -1;
    }
    char why[256];
    if (store_text(c, f, eq + 1, why, sizeof why) < 0) {
        snprintf(err, errlen, "--set: %s", why);
        return -1;
    }
    return 0;
}

static bool one_of(const char *v, const char *const *allowed) {
    for (; *allowed; allowed++)
        if (strcmp(v, *allowed) == 0) return true;
    return false;
}

/* An address to bind or connect to, as ZeroMQ and getaddrinfo take it: "*",
 * an IPv4 or IPv6 literal (IPv6 optionally in brackets), or a host or
 * interface name. Dotted digits that are no IPv4 address are refused rather
 * than looked up as a name. */
static bool valid_host(const char *h, bool empty_ok) {
    unsigned char a[sizeof(struct in6_addr)];
    size_t n = strlen(h);
    if (n == 0) return empty_ok;
    if (strcmp(h, "*") == 0 || inet_pton(AF_INET, h, a) == 1 || inet_pton(AF_INET6, h, a) == 1)
        return true;
    if (h[0] == '[' && h[n - 1] == ']' && n - 2 < INET6_ADDRSTRLEN) {
        char inner[INET6_ADDRSTRLEN];
        memcpy(inner, h + 1, n - 2);
        inner[n - 2] = 0;
        return inet_pton(AF_INET6, inner, a) == 1;
    }
    if (n > 253 || strspn(h, "0123456789.") == n) return false;
    size_t label = 0;
    for (const char *c = h; *c; c++) {
        bool alnum =
            (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9');
        if (*c == '-' && (label == 0 || c[1] == '.' || c[1] == 0))
            return false; /* a label neither starts nor ends with a hyphen */
        if (*c == '.') {
            if (label == 0) return false;
            label = 0;
        } else if (alnum || *c == '-' || *c == '_') {
            if (++label > 63) return false;
        } else {
            return false;
        }
    }
    return label > 0;
}

/* Ports in range, and four different ones: each service binds its own. */
static int check_ports(const config_t *c, char *err, size_t errlen) {
    const int ports[] = {c->master.task_port, c->master.result_port, c->master.heartbeat_port,
                         c->dashboard.port};
    const char *names[] = {"master.task_port", "master.result_port", "master.heartbeat_port",
                           "dashboard.port"};
    for (int i = 0; i < 4; i++)
        if (ports[i] < 1 || ports[i] > 65535) {
            snprintf(err, errlen, "%s: %d is not a port (1-65535)", names[i], ports[i]);
            return -1;
        }
    for (int i = 0; i < 4; i++)
        for (int k = i + 1; k < 4; k++)
            if (ports[i] == ports[k]) {
                snprintf(err, errlen, "%s and %s are both %d: each needs a port of its own",
                         names[i], names[k], ports[i]);
                return -1;
            }
    return 0;
}

static int check_hosts(const config_t *c, char *err, size_t errlen) {
    if (!valid_host(c->master.ip, false)) {
        snprintf(err, errlen,
                 "master.ip: '%s' is not an IP address, a host name or an interface name",
                 c->master.ip);
        return -1;
    }
    if (!valid_host(c->dashboard.host, true)) {
        snprintf(err, errlen, "dashboard.host: '%s' is not an IP address or a host name",
                 c->dashboard.host);
        return -1;
    }
    return 0;
}

/* The keys that name one of a few words. */
static int check_words(const config_t *c, char *err, size_t errlen) {
    static const char *const scales[] = {"standard", "minmax", "none", NULL};
    static const char *const formats[] = {"auto", "csv", "libsvm", NULL};
    static const char *const strategies[] = {"exact", "average", NULL};
    static const char *const parallels[] = {"auto", "rows", "classes", NULL};
    static const char *const whens[] = {"always", "idle", NULL};
    static const char *const reduces[] = {"star", "tree", NULL};
    const struct {
        const char *name, *value, *const *allowed, *list;
    } w[] = {
        {"data.scale", c->data.scale, scales, "standard, minmax or none"},
        {"data.format", c->data.format, formats, "auto, csv or libsvm"},
        {"model.strategy", c->model.strategy, strategies, "exact or average"},
        {"model.parallel", c->model.parallel, parallels, "auto, rows or classes"},
        {"worker.when", c->worker.when, whens, "always or idle"},
        {"cluster.reduce", c->cluster.reduce, reduces, "star or tree"},
    };
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        if (!one_of(w[i].value, w[i].allowed)) {
            snprintf(err, errlen, "%s: '%s' is not %s", w[i].name, w[i].value, w[i].list);
            return -1;
        }
    return 0;
}

static int check_numbers(const config_t *c, char *err, size_t errlen) {
    if (!(c->model.C > 0)) {
        snprintf(err, errlen, "model.C: must be positive, got %g", c->model.C);
        return -1;
    }
    if (!(c->model.eps > 0)) {
        snprintf(err, errlen, "model.eps: must be positive, got %g", c->model.eps);
        return -1;
    }
    const struct {
        const char *name;
        int v, lo, hi;
    } ranges[] = {
        {"cluster.heartbeat_ms", c->cluster.heartbeat_ms, 10, 600000},
        {"cluster.liveness", c->cluster.liveness, 1, 1000},
        {"cluster.shard_rows", c->cluster.shard_rows, 1, 100000000},
        {"cluster.shard_mb", c->cluster.shard_mb, 1, 4096},
        {"cluster.max_workers", c->cluster.max_workers, 1, 100000},
        {"cluster.max_msg_mb", c->cluster.max_msg_mb, 1, 4096},
        {"cluster.task_timeout_s", c->cluster.task_timeout_s, 1, 604800},
        {"cluster.reduce_wait_ms", c->cluster.reduce_wait_ms, 10, 600000},
        {"worker.tree_port", c->worker.tree_port, -1, 65535},
        {"history.retention_days", c->history.retention_days, 0, 36500},
        {"runs.keep", c->runs.keep, 0, 100000000},
        {"runs.max_age_days", c->runs.max_age_days, 0, 36500},
        {"model.rounds", c->model.rounds, 1, 1000},
        {"worker.idle_minutes", c->worker.idle_minutes, 0, 100000},
        {"worker.max_cpu", c->worker.max_cpu, 0, 100},
        {"worker.slots", c->worker.slots, 0, 1024},
        {"data.ngram", c->data.ngram, 1, 2},
        {"data.min_df", c->data.min_df, 1, 1000000000},
        {"data.max_features", c->data.max_features, 1, 16777216},
        {"data.hash_bits", c->data.hash_bits, 0, 24},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (ranges[i].v < ranges[i].lo || ranges[i].v > ranges[i].hi) {
            snprintf(err, errlen, "%s: %d is out of range (%d-%d)", ranges[i].name, ranges[i].v,
                     ranges[i].lo, ranges[i].hi);
            return -1;
        }
    return 0;
}

int config_validate(const config_t *c, char *err, size_t errlen) {
    if (check_ports(c, err, errlen) < 0 || check_hosts(c, err, errlen) < 0 ||
        check_words(c, err, errlen) < 0 || check_numbers(c, err, errlen) < 0)
        return -1;
    return 0;
}

char *config_to_json(const config_t *c) {
    json_object *root = json_object_new_object();
    for (size_t i = 0; i < NFIELDS; i++) {
        const field_t *f = &fields[i];
        json_object *sec = NULL;
        if (!json_object_object_get_ex(root, f->section, &sec)) {
            sec = json_object_new_object();
            json_object_object_add(root, f->section, sec);
        }
        const char *p = (const char *)c + f->offset;
        json_object *v = NULL;
        switch (f->type) {
        case F_STR:
            v = json_object_new_string(p);
            break;
        case F_INT:
        case F_PORT:
            v = json_object_new_int(*(const int *)p);
            break;
        case F_DOUBLE:
            v = json_object_new_double(*(const double *)p);
            break;
        case F_BOOL:
            v = json_object_new_boolean(*(const bool *)p);
            break;
        case F_LIST:
            if (!c->data.text_set) break; /* null: not given, columns are detected */
            v = json_object_new_array();
            for (const char *n = p; *n;) {
                const char *nl = strchr(n, '\n');
                json_object_array_add(v, json_object_new_string_len(n, (int)(nl - n)));
                n = nl + 1;
            }
            break;
        }
        json_object_object_add(sec, f->key, v);
    }
    char *out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY));
    json_object_put(root);
    return out;
}
