#include "common/security.h"

#include "common/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "common/log.h"

#define KEYFILE_MAX 4096        /* a key file is two lines and a comment */
#define AUTH_FILE_MAX (8 << 20) /* authorized_keys: ~190,000 keys */
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_MAX_FRAMES 16

/* ---- key text ---------------------------------------------------------- */

static bool z85_key_ok(const char *z85) {
    uint8_t bin[32];
    if (strlen(z85) != SECURITY_Z85_LEN) return false;
    return zmq_z85_decode(bin, z85) != NULL;
}

/* Trims spaces and a trailing CR in place; returns the start. */
static char *trim(char *s) {
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* Reads a whole small file (NUL-terminated, caller frees). */
static char *slurp(const char *path, size_t max, struct stat *st, char *err, size_t errlen) {
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        goto out;
    }
    if ((size_t)st->st_size > max) {
        snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
        goto out;
    }
    buf = malloc((size_t)st->st_size + 1);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    size_t got = 0;
    while (got < (size_t)st->st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st->st_size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    if (strlen(buf) != got) {
        snprintf(err, errlen, "%s: contains a NUL byte", path);
        free(buf);
        buf = NULL;
    }
out:
    close(fd);
    return buf;
}

int security_keygen(const char *name, char *err, size_t errlen) {
    char pub[SECURITY_Z85_BUF], sec[SECURITY_Z85_BUF], keypath[CONFIG_PATH], pubpath[CONFIG_PATH];
    char text[256];
    int rc = -1, kfd = -1, pfd = -1;
    bool created_key = false;
    if (!name || !*name) {
        snprintf(err, errlen, "keygen: give a NAME for NAME.key and NAME.pub");
        return -1;
    }
    if (snprintf(keypath, sizeof keypath, "%s.key", name) >= (int)sizeof keypath ||
        snprintf(pubpath, sizeof pubpath, "%s.pub", name) >= (int)sizeof pubpath) {
        snprintf(err, errlen, "keygen: name too long");
        return -1;
    }
    if (zmq_curve_keypair(pub, sec) != 0) {
        snprintf(err, errlen, "keygen: libzmq cannot make CURVE keys: %s", zmq_strerror(errno));
        return -1;
    }
    /* Both exist-checks come before any write so a refusal leaves nothing
     * half-done; O_EXCL still guards against a race. */
    if (access(keypath, F_OK) == 0 || access(pubpath, F_OK) == 0) {
        snprintf(err, errlen, "keygen: %s or %s already exists; not overwriting (remove it first)",
                 keypath, pubpath);
        goto out;
    }
    kfd = open(keypath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (kfd < 0) {
        snprintf(err, errlen, "keygen: %s: %s", keypath, strerror(errno));
        goto out;
    }
    created_key = true;
    snprintf(text, sizeof text,
             "# NetCompute CurveZMQ key pair (bin/master keygen). Keep this file secret.\n"
             "public: %s\nsecret: %s\n",
             pub, sec);
    if (fchmod(kfd, 0600) != 0 || fd_write_all(kfd, text, strlen(text)) != 0 || fsync(kfd) != 0) {
        snprintf(err, errlen, "keygen: writing %s: %s", keypath, strerror(errno));
        goto out;
    }
    pfd = open(pubpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (pfd < 0) {
        snprintf(err, errlen, "keygen: %s: %s", pubpath, strerror(errno));
        goto out;
    }
    snprintf(text, sizeof text, "%s\n", pub);
    if (fd_write_all(pfd, text, strlen(text)) != 0 || fsync(pfd) != 0) {
        snprintf(err, errlen, "keygen: writing %s: %s", pubpath, strerror(errno));
        unlink(pubpath);
        goto out;
    }
    rc = 0;
out:
    if (kfd >= 0) close(kfd);
    if (pfd >= 0) close(pfd);
    if (rc != 0 && created_key) unlink(keypath);
    explicit_bzero(sec, sizeof sec);
    explicit_bzero(text, sizeof text);
    return rc;
}

int security_load_keypair(const char *path, char public_z85[SECURITY_Z85_BUF],
                          char secret_z85[SECURITY_Z85_BUF], char *err, size_t errlen) {
    struct stat st;
    int rc = -1;
    if (!path || !*path) {
        snprintf(err, errlen, "security.secret_key_file is empty: make one with bin/master keygen");
        return -1;
    }
    char *buf = slurp(path, KEYFILE_MAX, &st, err, errlen);
    if (!buf) return -1;
    if (st.st_mode & 077) {
        snprintf(err, errlen, "%s: secret key readable by others; run chmod 600 %s", path, path);
        goto out;
    }
    bool have_pub = false, have_sec = false;
    int lineno = 0;
    for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *t = trim(line);
        if (*t == '\0' || *t == '#') continue;
        char *dst = NULL;
        if (strncmp(t, "public:", 7) == 0) {
            dst = public_z85;
            have_pub = true;
        } else if (strncmp(t, "secret:", 7) == 0) {
            dst = secret_z85;
            have_sec = true;
        } else {
            snprintf(err, errlen, "%s:%d: expected 'public: KEY' or 'secret: KEY'", path, lineno);
            goto out;
        }
        char *k = trim(t + 7);
        if (!z85_key_ok(k)) {
            snprintf(err, errlen, "%s:%d: not a 40-character Z85 key", path, lineno);
            goto out;
        }
        memcpy(dst, k, SECURITY_Z85_BUF);
    }
    if (!have_pub || !have_sec) {
        snprintf(err, errlen, "%s: needs both a 'public:' and a 'secret:' line", path);
        goto out;
    }
    char derived[SECURITY_Z85_BUF];
    if (zmq_curve_public(derived, secret_z85) != 0 || strcmp(derived, public_z85) != 0) {
        snprintf(err, errlen, "%s: the public key does not belong to the secret key", path);
        goto out;
    }
    rc = 0;
out:
    explicit_bzero(buf, strlen(buf));
    free(buf);
    if (rc != 0) explicit_bzero(secret_z85, SECURITY_Z85_BUF);
    return rc;
}

int security_load_public(const char *path, char public_z85[SECURITY_Z85_BUF], char *err,
                         size_t errlen) {
    struct stat st;
    int rc = -1, lineno = 0;
    if (!path || !*path) {
        snprintf(err, errlen, "security.master_public_key is empty: copy the master's .pub here");
        return -1;
    }
    char *buf = slurp(path, KEYFILE_MAX, &st, err, errlen);
    if (!buf) return -1;
    for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *t = trim(line);
        if (*t == '\0' || *t == '#' || strncmp(t, "secret:", 7) == 0) continue;
        if (strncmp(t, "public:", 7) == 0) t = trim(t + 7);
        if (!z85_key_ok(t)) {
            snprintf(err, errlen, "%s:%d: not a 40-character Z85 public key", path, lineno);
            goto out;
        }
        memcpy(public_z85, t, SECURITY_Z85_BUF);
        rc = 0;
        goto out;
    }
    snprintf(err, errlen, "%s: no public key in the file", path);
out:
    explicit_bzero(buf, strlen(buf));
    free(buf);
    return rc;
}

/* ---- socket setup ------------------------------------------------------ */

static int setopt(void *sock, int opt, const void *val, size_t len, const char *what, char *err,
                  size_t errlen) {
    if (zmq_setsockopt(sock, opt, val, len) != 0) {
        snprintf(err, errlen, "setting %s: %s", what, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

int security_server_setup(void *sock, const config_t *cfg, char *err, size_t errlen) {
    if (!cfg->security.curve) return 0;
    char pub[SECURITY_Z85_BUF], sec[SECURITY_Z85_BUF];
    int one = 1, rc = -1;
    if (security_load_keypair(cfg->security.secret_key_file, pub, sec, err, errlen) != 0) return -1;
    if (setopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one, "ZMQ_CURVE_SERVER", err, errlen) ||
        setopt(sock, ZMQ_CURVE_SECRETKEY, sec, SECURITY_Z85_BUF, "ZMQ_CURVE_SECRETKEY", err,
               errlen) ||
        setopt(sock, ZMQ_ZAP_DOMAIN, SECURITY_ZAP_DOMAIN, strlen(SECURITY_ZAP_DOMAIN),
               "ZMQ_ZAP_DOMAIN", err, errlen))
        goto out;
    rc = 0;
out:
    explicit_bzero(sec, sizeof sec);
    return rc;
}

int security_client_setup(void *sock, const config_t *cfg, char *err, size_t errlen) {
    if (!cfg->security.curve) return 0;
    char server[SECURITY_Z85_BUF];
    if (security_load_public(cfg->security.master_public_key, server, err, errlen) != 0) return -1;
    return security_client_setup_key(sock, cfg, server, err, errlen);
}

int security_client_setup_key(void *sock, const config_t *cfg, const char *server_z85, char *err,
                              size_t errlen) {
    if (!cfg->security.curve) return 0;
    char server[SECURITY_Z85_BUF], pub[SECURITY_Z85_BUF], sec[SECURITY_Z85_BUF];
    uint8_t raw[32];
    int rc = -1;
    if (strlen(server_z85) != SECURITY_Z85_LEN || !zmq_z85_decode(raw, server_z85)) {
        snprintf(err, errlen, "the server key is not a Z85 key");
        return -1;
    }
    snprintf(server, sizeof server, "%s", server_z85);
    if (security_load_keypair(cfg->security.secret_key_file, pub, sec, err, errlen) != 0) return -1;
    if (setopt(sock, ZMQ_CURVE_SERVERKEY, server, SECURITY_Z85_BUF, "ZMQ_CURVE_SERVERKEY", err,
               errlen) ||
        setopt(sock, ZMQ_CURVE_PUBLICKEY, pub, SECURITY_Z85_BUF, "ZMQ_CURVE_PUBLICKEY", err,
               errlen) ||
        setopt(sock, ZMQ_CURVE_SECRETKEY, sec, SECURITY_Z85_BUF, "ZMQ_CURVE_SECRETKEY", err,
               errlen))
        goto out;
    rc = 0;
out:
    explicit_bzero(sec, sizeof sec);
    return rc;
}

bool security_is_loopback(const char *ip) {
    struct in_addr a4;
    struct in6_addr a6;
    if (strcmp(ip, "localhost") == 0 || strcmp(ip, "lo") == 0) return true;
    if (inet_pton(AF_INET, ip, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    char host[64];
    size_t n = strlen(ip);
    if (n >= 2 && n < sizeof host && ip[0] == '[' && ip[n - 1] == ']') { /* ZeroMQ's [::1] */
        memcpy(host, ip + 1, n - 2);
        host[n - 2] = 0;
        ip = host;
    }
    return inet_pton(AF_INET6, ip, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

void security_warn_plaintext(const config_t *cfg) {
    if (cfg->security.curve) return;
    if (security_is_loopback(cfg->master.ip)) {
        log_debug("traffic to and from workers is not encrypted; %s is loopback: only this "
                  "machine's processes can join",
                  cfg->master.ip);
        return;
    }
    log_warn("traffic to and from workers is not encrypted and any host that reaches %s can join; "
             "for a shared network set security.curve true (keys: bin/master keygen NAME)",
             cfg->master.ip);
}

/* ---- authorized keys --------------------------------------------------- */

typedef struct keyset {
    uint8_t (*keys)[32];
    size_t n;
} keyset_t;

static int keyset_cmp(const void *a, const void *b) {
    return memcmp(a, b, 32);
}

/* Parses an authorized_keys file into a sorted set. */
static int keyset_load(const char *path, keyset_t *out, struct stat *st, char *err, size_t errlen) {
    int rc = -1, lineno = 0;
    size_t cap = 0;
    keyset_t ks = {0};
    char *buf = slurp(path, AUTH_FILE_MAX, st, err, errlen);
    if (!buf) return -1;
    /* strtok_r would hide line numbers of blank lines; walk by hand. */
    for (char *line = buf; line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        lineno++;
        char *t = trim(line);
        line = nl ? nl + 1 : NULL;
        if (*t == '\0' || *t == '#') continue;
        if (!z85_key_ok(t)) {
            snprintf(err, errlen, "%s:%d: not a 40-character Z85 public key", path, lineno);
            goto out;
        }
        if (ks.n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            void *nk = realloc(ks.keys, ncap * 32);
            if (!nk) {
                snprintf(err, errlen, "%s: out of memory", path);
                goto out;
            }
            ks.keys = nk;
            cap = ncap;
        }
        zmq_z85_decode(ks.keys[ks.n++], t);
    }
    if (ks.n > 0) qsort(ks.keys, ks.n, 32, keyset_cmp);
    *out = ks;
    ks.keys = NULL;
    rc = 0;
out:
    free(ks.keys);
    free(buf);
    return rc;
}

static bool keyset_has(const keyset_t *ks, const uint8_t key[32]) {
    return ks->n > 0 && bsearch(key, ks->keys, ks->n, 32, keyset_cmp) != NULL;
}

/* ---- ZAP handler ------------------------------------------------------- */

struct zap {
    void *rep;     /* inproc://zeromq.zap.01, used only by the thread */
    void *ctl_in;  /* thread side of the stop pipe */
    void *ctl_out; /* owner side */
    pthread_t thread;
    bool running;
    char path[CONFIG_PATH];
    keyset_t keys;
    struct stat st; /* of the file the set came from, to notice edits */
    atomic_uint_fast64_t refused;
    atomic_uint_fast64_t admitted;
};

static void zap_maybe_reload(zap_t *z) {
    struct stat now;
    if (stat(z->path, &now) != 0) {
        log_every(SECURITY_LOG_SLOT, LOG_WARN, "%s: %s; keeping the %zu keys already loaded",
                  z->path, strerror(errno), z->keys.n);
        return;
    }
    if (now.st_mtim.tv_sec == z->st.st_mtim.tv_sec &&
        now.st_mtim.tv_nsec == z->st.st_mtim.tv_nsec && now.st_size == z->st.st_size &&
        now.st_ino == z->st.st_ino)
        return;
    keyset_t ks;
    struct stat st;
    char err[256];
    if (keyset_load(z->path, &ks, &st, err, sizeof err) != 0) {
        log_every(SECURITY_LOG_SLOT, LOG_WARN, "%s; keeping the %zu keys already loaded", err,
                  z->keys.n);
        z->st = now; /* do not re-parse a broken file on every connection */
        return;
    }
    free(z->keys.keys);
    z->keys = ks;
    z->st = st;
    log_info("reloaded %s: %zu authorized worker keys", z->path, ks.n);
}

static int send_frame(void *sock, const void *data, size_t len, bool more) {
    return zmq_send(sock, data, len, more ? ZMQ_SNDMORE : 0) < 0 ? -1 : 0;
}

/* One request: frames version, request id, domain, address, routing id,
 * mechanism, credentials... (RFC 27). Only libzmq itself talks to this
 * socket, but the frames are still bounded and checked. */
static void zap_handle(zap_t *z) {
    zmq_msg_t f[ZAP_MAX_FRAMES];
    int n = 0;
    bool more = true;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, z->rep, 0) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        if (n < ZAP_MAX_FRAMES)
            f[n++] = m;
        else
            zmq_msg_close(&m);
    }
    const char *status = "400", *text = "not authorized";
    char user[SECURITY_Z85_BUF] = "", addr[64] = "?", key[SECURITY_Z85_BUF] = "?";
    bool version_ok =
        n >= 6 && zmq_msg_size(&f[0]) == 3 && memcmp(zmq_msg_data(&f[0]), "1.0", 3) == 0;
    if (n >= 4) {
        size_t al = zmq_msg_size(&f[3]);
        if (al >= sizeof addr) al = sizeof addr - 1;
        memcpy(addr, zmq_msg_data(&f[3]), al);
        addr[al] = '\0';
        for (size_t i = 0; i < al; i++)
            if (addr[i] < 0x20 || addr[i] > 0x7e) addr[i] = '?';
    }
    bool curve =
        version_ok && zmq_msg_size(&f[5]) == 5 && memcmp(zmq_msg_data(&f[5]), "CURVE", 5) == 0;
    if (!version_ok) {
        status = "500";
        text = "malformed ZAP request";
    } else if (!curve || n < 7 || zmq_msg_size(&f[6]) != 32) {
        text = "CURVE required";
    } else {
        const uint8_t *pk = zmq_msg_data(&f[6]);
        zmq_z85_encode(key, pk, 32);
        zap_maybe_reload(z);
        if (keyset_has(&z->keys, pk)) {
            status = "200";
            text = "OK";
            memcpy(user, key, sizeof user);
        }
    }
    if (status[0] == '2') {
        atomic_fetch_add(&z->admitted, 1);
        log_debug("admitted worker key %s from %s", key, addr);
    } else {
        atomic_fetch_add(&z->refused, 1);
        log_every(SECURITY_LOG_SLOT, LOG_WARN,
                  "refused connection from %s with key %s: not in %s (%s)", addr, key, z->path,
                  text);
    }
    const void *reqid = n >= 2 ? zmq_msg_data(&f[1]) : "";
    size_t reqlen = n >= 2 ? zmq_msg_size(&f[1]) : 0;
    if (send_frame(z->rep, "1.0", 3, true) || send_frame(z->rep, reqid, reqlen, true) ||
        send_frame(z->rep, status, 3, true) || send_frame(z->rep, text, strlen(text), true) ||
        send_frame(z->rep, user, strlen(user), true) || send_frame(z->rep, "", 0, false))
        log_every(SECURITY_LOG_SLOT, LOG_WARN, "ZAP reply failed: %s", zmq_strerror(errno));
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

static void *zap_main(void *arg) {
    zap_t *z = arg;
    for (;;) {
        zmq_pollitem_t items[2] = {{z->rep, 0, ZMQ_POLLIN, 0}, {z->ctl_in, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break; /* ETERM: the context is going away */
        }
        if (items[1].revents & ZMQ_POLLIN) break;
        if (items[0].revents & ZMQ_POLLIN) zap_handle(z);
    }
    zmq_close(z->rep);
    zmq_close(z->ctl_in);
    z->rep = z->ctl_in = NULL;
    return NULL;
}

static void *linger0_socket(void *ctx, int type) {
    void *s = zmq_socket(ctx, type);
    int zero = 0;
    if (s) zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    return s;
}

zap_t *security_zap_start(void *zmq_ctx, const config_t *cfg, char *err, size_t errlen) {
    if (!cfg->security.curve) {
        snprintf(err, errlen, "ZAP handler: security.curve is off");
        return NULL;
    }
    if (!cfg->security.authorized_keys[0]) {
        snprintf(err, errlen,
                 "security.authorized_keys is empty: list the workers' .pub keys in a file");
        return NULL;
    }
    zap_t *z = calloc(1, sizeof *z);
    if (!z) {
        snprintf(err, errlen, "ZAP handler: out of memory");
        return NULL;
    }
    snprintf(z->path, sizeof z->path, "%s", cfg->security.authorized_keys);
    atomic_init(&z->refused, 0);
    atomic_init(&z->admitted, 0);
    if (keyset_load(z->path, &z->keys, &z->st, err, errlen) != 0) goto fail;
    if (z->keys.n == 0) log_warn("%s lists no keys: every worker will be refused", z->path);
    char ctl[64];
    snprintf(ctl, sizeof ctl, "inproc://netcompute-zap-ctl-%p", (void *)z);
    z->rep = linger0_socket(zmq_ctx, ZMQ_REP);
    z->ctl_in = linger0_socket(zmq_ctx, ZMQ_PAIR);
    z->ctl_out = linger0_socket(zmq_ctx, ZMQ_PAIR);
    if (!z->rep || !z->ctl_in || !z->ctl_out) {
        snprintf(err, errlen, "ZAP handler: socket: %s", zmq_strerror(errno));
        goto fail;
    }
    /* Bound here, not in the thread, so the endpoint exists when we return
     * and the caller's server sockets can never handshake without it. */
    if (zmq_bind(z->rep, ZAP_ENDPOINT) != 0) {
        snprintf(err, errlen, "ZAP handler: bind %s: %s (is another handler running?)",
                 ZAP_ENDPOINT, zmq_strerror(errno));
        goto fail;
    }
    if (zmq_bind(z->ctl_out, ctl) != 0 || zmq_connect(z->ctl_in, ctl) != 0) {
        snprintf(err, errlen, "ZAP handler: control pipe: %s", zmq_strerror(errno));
        goto fail;
    }
    if (pthread_create(&z->thread, NULL, zap_main, z) != 0) {
        snprintf(err, errlen, "ZAP handler: cannot start thread");
        goto fail;
    }
    z->running = true;
    log_info("CURVE on: admitting %zu worker keys from %s", z->keys.n, z->path);
    return z;
fail:
    if (z->rep) zmq_close(z->rep);
    if (z->ctl_in) zmq_close(z->ctl_in);
    if (z->ctl_out) zmq_close(z->ctl_out);
    free(z->keys.keys);
    free(z);
    return NULL;
}

uint64_t security_zap_refused(const zap_t *z) {
    return atomic_load(&((zap_t *)z)->refused);
}

uint64_t security_zap_admitted(const zap_t *z) {
    return atomic_load(&((zap_t *)z)->admitted);
}

void security_zap_stop(zap_t **zp) {
    if (!zp || !*zp) return;
    zap_t *z = *zp;
    if (z->running) {
        zmq_send(z->ctl_out, "", 0, ZMQ_DONTWAIT); /* the thread may be gone (ETERM) */
        pthread_join(z->thread, NULL);
    }
    zmq_close(z->ctl_out);
    free(z->keys.keys);
    free(z);
    *zp = NULL;
}
