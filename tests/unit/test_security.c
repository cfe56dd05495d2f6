/* security: key files, and CURVE + ZAP with real ZeroMQ sockets on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "common/security.h"

static char dir[128];

static void path_of(char *out, size_t n, const char *file) {
    snprintf(out, n, "%s/%s", dir, file);
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = calloc(1, 4096);
    assert_non_null(buf);
    size_t got = fread(buf, 1, 4095, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void keygen(const char *name) {
    char base[256], err[256] = "";
    path_of(base, sizeof base, name);
    int rc = security_keygen(base, err, sizeof err);
    if (rc != 0) fail_msg("keygen %s: %s", name, err);
}

static int group_setup(void **state) {
    (void)state;
    log_init("test", LOG_ERROR);
    umask(022);
    snprintf(dir, sizeof dir, "/tmp/nc-security-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_keygen_files(void **state) {
    (void)state;
    char key[256], pub[256], base[256], err[256] = "";
    keygen("alpha");
    path_of(key, sizeof key, "alpha.key");
    path_of(pub, sizeof pub, "alpha.pub");
    path_of(base, sizeof base, "alpha");

    struct stat st;
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(pub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);

    char *p = read_text(pub);
    assert_int_equal(strlen(p), SECURITY_Z85_LEN + 1);
    assert_int_equal(p[SECURITY_Z85_LEN], '\n');
    char *k = read_text(key);
    char line[128];
    snprintf(line, sizeof line, "\npublic: %.40s\nsecret: ", p);
    assert_non_null(strstr(k, line));
    char *s = strstr(k, "secret: ") + 8;
    char secret[SECURITY_Z85_BUF], derived[SECURITY_Z85_BUF];
    memcpy(secret, s, SECURITY_Z85_LEN);
    secret[SECURITY_Z85_LEN] = '\0';
    assert_int_equal(zmq_curve_public(derived, secret), 0);
    assert_memory_equal(derived, p, SECURITY_Z85_LEN);

    char lp[SECURITY_Z85_BUF], ls[SECURITY_Z85_BUF];
    assert_int_equal(security_load_keypair(key, lp, ls, err, sizeof err), 0);
    assert_memory_equal(lp, p, SECURITY_Z85_LEN);
    assert_string_equal(ls, secret);
    assert_int_equal(security_load_public(pub, lp, err, sizeof err), 0);
    assert_memory_equal(lp, p, SECURITY_Z85_LEN);
    assert_int_equal(security_load_public(key, lp, err, sizeof err), 0); /* public: line */
    assert_memory_equal(lp, p, SECURITY_Z85_LEN);

    /* refuse to overwrite, and leave the old pair untouched */
    err[0] = '\0';
    assert_int_equal(security_keygen(base, err, sizeof err), -1);
    assert_non_null(strstr(err, "exists"));
    char *p2 = read_text(pub);
    assert_string_equal(p, p2);
    /* only the .pub left over still blocks, and nothing is written */
    unlink(key);
    assert_int_equal(security_keygen(base, err, sizeof err), -1);
    assert_int_equal(access(key, F_OK), -1);
    free(p);
    free(p2);
    free(k);
}

static void test_bad_key_files(void **state) {
    (void)state;
    char path[256], err[256], a[SECURITY_Z85_BUF], b[SECURITY_Z85_BUF];
    keygen("beta");
    path_of(path, sizeof path, "beta.key");
    chmod(path, 0644);
    assert_int_equal(security_load_keypair(path, a, b, err, sizeof err), -1);
    assert_non_null(strstr(err, "chmod 600"));

    path_of(path, sizeof path, "mixed.key");
    char text[512];
    char p1[SECURITY_Z85_BUF], s1[SECURITY_Z85_BUF], p2[SECURITY_Z85_BUF], s2[SECURITY_Z85_BUF];
    zmq_curve_keypair(p1, s1);
    zmq_curve_keypair(p2, s2);
    snprintf(text, sizeof text, "public: %s\nsecret: %s\n", p1, s2);
    write_text(path, text);
    chmod(path, 0600);
    assert_int_equal(security_load_keypair(path, a, b, err, sizeof err), -1);
    assert_non_null(strstr(err, "does not belong"));

    write_text(path, "public: short\nsecret: short\n");
    assert_int_equal(security_load_keypair(path, a, b, err, sizeof err), -1);
    assert_non_null(strstr(err, ":1:"));

    path_of(path, sizeof path, "nope.key");
    assert_int_equal(security_load_keypair(path, a, b, err, sizeof err), -1);
    assert_int_equal(security_load_keypair("", a, b, err, sizeof err), -1);
}

/* ---- CURVE with real sockets ------------------------------------------ */

static void cfg_for(config_t *c, const char *self, const char *auth) {
    config_defaults(c);
    c->security.curve = true;
    path_of(c->security.secret_key_file, sizeof c->security.secret_key_file, self);
    strcat(c->security.secret_key_file, ".key");
    path_of(c->security.master_public_key, sizeof c->security.master_public_key, "master.pub");
    if (auth) path_of(c->security.authorized_keys, sizeof c->security.authorized_keys, auth);
}

static void *dealer(void *ctx, const config_t *c, const char *endpoint) {
    void *d = zmq_socket(ctx, ZMQ_DEALER);
    assert_non_null(d);
    int zero = 0;
    zmq_setsockopt(d, ZMQ_LINGER, &zero, sizeof zero);
    char err[256] = "";
    if (c && security_client_setup(d, c, err, sizeof err) != 0) fail_msg("client setup: %s", err);
    assert_int_equal(zmq_connect(d, endpoint), 0);
    return d;
}

/* Waits up to ms for one [identity][body] message on the ROUTER; returns the
 * body length or -1 on timeout. user gets the ZAP user id. */
static int router_recv(void *r, int ms, char *body, size_t bodylen, char *user, size_t userlen) {
    zmq_pollitem_t it = {r, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, ms) <= 0) return -1;
    zmq_msg_t id, m;
    zmq_msg_init(&id);
    zmq_msg_init(&m);
    assert_true(zmq_msg_recv(&id, r, 0) >= 0);
    assert_true(zmq_msg_more(&id));
    int n = zmq_msg_recv(&m, r, 0);
    assert_true(n >= 0 && (size_t)n < bodylen);
    memcpy(body, zmq_msg_data(&m), (size_t)n);
    body[n] = '\0';
    const char *u = zmq_msg_gets(&m, "User-Id");
    snprintf(user, userlen, "%s", u ? u : "");
    /* answer the sender through its identity */
    zmq_msg_send(&id, r, ZMQ_SNDMORE);
    zmq_send(r, "ack", 3, 0);
    zmq_msg_close(&m);
    return n;
}

static void test_curve_admission(void **state) {
    (void)state;
    char err[256] = "", path[256], body[64], user[64], text[512];
    keygen("master");
    keygen("w1");
    keygen("w2");
    char w1pub[SECURITY_Z85_BUF], w2pub[SECURITY_Z85_BUF];
    path_of(path, sizeof path, "w1.pub");
    assert_int_equal(security_load_public(path, w1pub, err, sizeof err), 0);
    path_of(path, sizeof path, "w2.pub");
    assert_int_equal(security_load_public(path, w2pub, err, sizeof err), 0);
    path_of(path, sizeof path, "authorized_keys");
    snprintf(text, sizeof text, "# lab workers\n\n  %s  \n# w2 not yet\n", w1pub);
    write_text(path, text);

    config_t mc, c1, c2;
    cfg_for(&mc, "master", "authorized_keys");
    cfg_for(&c1, "w1", NULL);
    cfg_for(&c2, "w2", NULL);

    void *ctx = zmq_ctx_new();
    assert_non_null(ctx);
    zap_t *zap = security_zap_start(ctx, &mc, err, sizeof err);
    if (!zap) fail_msg("zap: %s", err);
    /* a second handler on the same context cannot take the endpoint */
    zap_t *zap2 = security_zap_start(ctx, &mc, err, sizeof err);
    assert_null(zap2);

    void *r = zmq_socket(ctx, ZMQ_ROUTER);
    int zero = 0;
    zmq_setsockopt(r, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(security_server_setup(r, &mc, err, sizeof err), 0);
    assert_int_equal(zmq_bind(r, "tcp://127.0.0.1:*"), 0);
    char ep[128];
    size_t eplen = sizeof ep;
    zmq_getsockopt(r, ZMQ_LAST_ENDPOINT, ep, &eplen);

    /* authorized: message arrives with the key as user id, answer comes back */
    void *d1 = dealer(ctx, &c1, ep);
    zmq_send(d1, "hello", 5, 0);
    assert_int_equal(router_recv(r, 3000, body, sizeof body, user, sizeof user), 5);
    assert_string_equal(body, "hello");
    assert_string_equal(user, w1pub);
    zmq_pollitem_t it = {d1, 0, ZMQ_POLLIN, 0};
    assert_int_equal(zmq_poll(&it, 1, 3000), 1);
    assert_int_equal(zmq_recv(d1, body, sizeof body, 0), 3);
    assert_int_equal(security_zap_admitted(zap), 1);

    /* unknown key: nothing arrives, the refusal is counted */
    void *d2 = dealer(ctx, &c2, ep);
    zmq_send(d2, "intruder", 8, ZMQ_DONTWAIT);
    assert_int_equal(router_recv(r, 400, body, sizeof body, user, sizeof user), -1);
    int64_t until = clock_now_ms() + 3000;
    while (security_zap_refused(zap) == 0 && clock_now_ms() < until)
        usleep(10000);
    assert_true(security_zap_refused(zap) >= 1);

    /* plaintext client: the handshake fails before ZAP; nothing arrives */
    void *d3 = dealer(ctx, NULL, ep);
    zmq_send(d3, "plain", 5, ZMQ_DONTWAIT);
    assert_int_equal(router_recv(r, 400, body, sizeof body, user, sizeof user), -1);

    /* the server still serves the authorized worker */
    zmq_send(d1, "again", 5, 0);
    assert_int_equal(router_recv(r, 3000, body, sizeof body, user, sizeof user), 5);
    assert_string_equal(body, "again");

    /* editing authorized_keys admits w2 without a restart */
    snprintf(text, sizeof text, "%s\n%s\n", w1pub, w2pub);
    write_text(path, text);
    zmq_close(d2);
    d2 = dealer(ctx, &c2, ep);
    zmq_send(d2, "welcome", 7, ZMQ_DONTWAIT);
    assert_int_equal(router_recv(r, 3000, body, sizeof body, user, sizeof user), 7);
    assert_string_equal(user, w2pub);

    zmq_close(d1);
    zmq_close(d2);
    zmq_close(d3);
    zmq_close(r);
    security_zap_stop(&zap);
    assert_null(zap);
    security_zap_stop(&zap);
    zmq_ctx_term(ctx);
}

static void test_zap_config_errors(void **state) {
    (void)state;
    char err[256] = "", path[256];
    config_t mc;
    void *ctx = zmq_ctx_new();
    assert_non_null(ctx);

    cfg_for(&mc, "master", NULL);
    assert_null(security_zap_start(ctx, &mc, err, sizeof err));
    assert_non_null(strstr(err, "authorized_keys"));

    cfg_for(&mc, "master", "missing_keys");
    assert_null(security_zap_start(ctx, &mc, err, sizeof err));
    assert_non_null(strstr(err, "missing_keys"));

    path_of(path, sizeof path, "bad_keys");
    write_text(path, "# ok\n\nnot-a-key\n");
    cfg_for(&mc, "master", "bad_keys");
    assert_null(security_zap_start(ctx, &mc, err, sizeof err));
    assert_non_null(strstr(err, "bad_keys:3:"));

    mc.security.curve = false;
    assert_null(security_zap_start(ctx, &mc, err, sizeof err));
    /* curve off: setups are no-ops even with no key files */
    void *s = zmq_socket(ctx, ZMQ_ROUTER);
    mc.security.secret_key_file[0] = '\0';
    assert_int_equal(security_server_setup(s, &mc, err, sizeof err), 0);
    assert_int_equal(security_client_setup(s, &mc, err, sizeof err), 0);
    int mech = -1;
    size_t ml = sizeof mech;
    zmq_getsockopt(s, ZMQ_MECHANISM, &mech, &ml);
    assert_int_equal(mech, ZMQ_NULL);
    security_warn_plaintext(&mc);
    /* curve on with a missing key file: setup fails and says which file */
    cfg_for(&mc, "nobody", NULL);
    assert_int_equal(security_server_setup(s, &mc, err, sizeof err), -1);
    assert_non_null(strstr(err, "nobody.key"));
    zmq_close(s);
    zmq_ctx_term(ctx);
}

/* The plaintext warning is for addresses other machines reach. */
static void test_loopback(void **state) {
    (void)state;
    const char *loop[] = {"127.0.0.1", "127.3.2.1", "::1", "[::1]", "localhost", "lo"};
    const char *open_[] = {"*", "0.0.0.0", "10.0.0.5", "192.168.1.2", "::", "eth0", "128.0.0.1"};
    for (size_t i = 0; i < sizeof loop / sizeof loop[0]; i++)
        assert_true(security_is_loopback(loop[i]));
    for (size_t i = 0; i < sizeof open_ / sizeof open_[0]; i++)
        assert_false(security_is_loopback(open_[i]));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loopback),          cmocka_unit_test(test_keygen_files),
        cmocka_unit_test(test_bad_key_files),     cmocka_unit_test(test_curve_admission),
        cmocka_unit_test(test_zap_config_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
