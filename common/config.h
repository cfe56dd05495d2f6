/* config: cluster settings from config.json, defaults and --set overrides.
 *
 * config_defaults() fills every field with the contract's defaults; then
 * config_load() reads a JSON file over them and config_set() applies one
 * "section.key=value" override. Unknown sections or keys and values of the
 * wrong type are errors that name the key. A value is read the same way from
 * the file and from --set: a JSON string, whole number or boolean is taken as
 * its text ("solver": 2 is --set model.solver=2; ports and every other number
 * may be JSON numbers or strings of digits, as the original tool wrote them;
 * a boolean may be true/false or 1/0). The file must hold exactly one JSON
 * object: text after it is an error naming its line and column.
 * data.text is a list of column names: a JSON array of strings in the file;
 * with --set, "[]", a JSON array ('["a","b"]'), "[a,b]" (names trimmed of
 * spaces), or one bare name.
 *
 * Every function that can fail returns 0 on success or -1 and writes a one-line
 * reason to err (errlen bytes, always NUL-terminated).
 */
#ifndef NC_CONFIG_H
#define NC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_STR 256
#define CONFIG_PATH 1024
#define CONFIG_TEXT 4096 /* data.text: all names, one '\n' after each */

typedef struct config {
    struct {
        char ip[CONFIG_STR];
        int task_port;
        int result_port;
        int heartbeat_port;
    } master;
    struct {
        char host[CONFIG_STR];
        int port;
        char token[CONFIG_STR];
        char files[CONFIG_PATH]; /* the folder jobs submitted over HTTP may read and write */
    } dashboard;
    struct {
        char train[CONFIG_PATH];
        char test[CONFIG_PATH];
        char label[CONFIG_STR];
        char id[CONFIG_STR];
        char scale[CONFIG_STR];  /* standard | minmax | none */
        char format[CONFIG_STR]; /* auto | csv | libsvm */
        /* Free-text columns (bag of words): names, each ended by '\n'.
         * text_set: data.text was given (even empty), which turns the
         * detection of text columns off. */
        char text[CONFIG_TEXT];
        bool text_set;
        int ngram;        /* 1: words, 2: words and adjacent pairs */
        int min_df;       /* a term in fewer training rows is dropped */
        int max_features; /* terms kept per column, by document frequency */
        int hash_bits;    /* > 0: hashing trick into 2^bits features, no vocabulary */
        bool tfidf;       /* tf-idf (sublinear tf, L2 rows); false: raw counts */
    } data;
    struct {
        char file[CONFIG_PATH];
        char solver[CONFIG_STR]; /* liblinear solver name or number */
        double C;
        double eps;
        double bias;
        char strategy[CONFIG_STR]; /* exact | average */
        char parallel[CONFIG_STR]; /* exact: auto | rows | classes */
        int rounds;                /* average strategy: parameter-mixing rounds */
    } model;
    struct {
        char train[CONFIG_PATH];
        char test[CONFIG_PATH];
    } output;
    struct {
        int heartbeat_ms;
        int liveness;
        int shard_rows;
        int shard_mb; /* also caps a shard's bytes: bounds what the master holds in flight */
        int max_workers;
        int max_msg_mb;          /* ZMQ_MAXMSGSIZE on every socket a peer writes to */
        int task_timeout_s;      /* a lease older than this is retried elsewhere */
        char reduce[CONFIG_STR]; /* TRON sums: star (the master adds) | tree (workers add) */
        int reduce_wait_ms;      /* tree: how long a node waits for a child, per level */
    } cluster;
    struct {
        char db[CONFIG_PATH];
        int retention_days;
    } history;
    struct {
        char dir[CONFIG_PATH]; /* one folder per run: DIR/ID/ */
        int keep;              /* runs kept, newest first; 0 = all */
        int max_age_days;      /* runs older than this are removed; 0 = forever */
    } runs;
    struct {
        bool curve;
        char secret_key_file[CONFIG_PATH];
        char master_public_key[CONFIG_PATH];
        char authorized_keys[CONFIG_PATH];
    } security;
    struct {
        char when[CONFIG_STR]; /* always | idle */
        int idle_minutes;
        double max_load;
        int max_cpu; /* percent of one core per slot, 0 = no cap */
        int slots;   /* 0 = number of cores */
        char name[CONFIG_STR];
        int tree_port; /* port of the reduction tree's socket; 0 = any free one, -1 = none */
    } worker;
} config_t;

void config_defaults(config_t *cfg);

/* Reads a JSON file over cfg. A missing file is an error unless missing_ok. */
int config_load(config_t *cfg, const char *path, bool missing_ok, char *err, size_t errlen);

/* Applies "section.key=value" (value parsed by the field's type). */
int config_set(config_t *cfg, const char *assignment, char *err, size_t errlen);

/* Appends one column name to data.text (--text COL) and sets text_set. A
 * name may not be empty or hold '\n'. */
int config_add_text(config_t *cfg, const char *name, char *err, size_t errlen);

/* Checks cross-field rules: port ranges, four different ports (task, result,
 * heartbeat, dashboard), master.ip and dashboard.host well formed (an IP
 * literal, "*", a host or interface name), enumerations, numeric ranges. */
int config_validate(const config_t *cfg, char *err, size_t errlen);

/* Writes the effective configuration as JSON (caller frees). */
char *config_to_json(const config_t *cfg);

#endif
