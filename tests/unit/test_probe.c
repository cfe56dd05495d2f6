/* Tests for worker/probe: how the worker describes a peer on the task port
 * that is not a master, from the bytes it sent; and one real probe of a
 * loopback listener that answers like an HTTP server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "worker/probe.h"

static void expect(const char *bytes, size_t n, int closed, const char *want) {
    char out[256];
    probe_describe((const unsigned char *)bytes, n, closed, out, sizeof out);
    if (!strstr(out, want)) fail_msg("got: %s\nwant: %s", out, want);
}

static void test_describe(void **state) {
    (void)state;
    const char http[] = "HTTP/1.1 404 Not Found\r\nServer: x\r\n\r\n";
    expect(http, sizeof http - 1, 1, "an HTTP server (\"HTTP/1.1 404 Not Found\")");
    const char zmtp[] = "\xff\0\0\0\0\0\0\0\x01\x7f\x03";
    expect(zmtp, sizeof zmtp - 1, 0, "a ZeroMQ peer that refused our handshake");
    expect("SSH-2.0-OpenSSH_9.2\r\n", 21, 0, "not ZeroMQ (it sent \"SSH-2.0-OpenSSH_9.2\")");
    expect("\x01\x02"
           "ab\x7f",
           5, 0, "it sent \"..ab.\"");
    expect("", 0, 1, "closes the connection without a word");
    expect("", 0, 0, "accepts connections and says nothing");
    char longline[300];
    memset(longline, 'a', sizeof longline);
    char out[256];
    probe_describe((const unsigned char *)longline, sizeof longline, 0, out, sizeof out);
    assert_true(strlen(out) < 120); /* the peer's text is cut short */
}

/* A listener that answers any request with an HTTP status line. */
static void *http_once(void *arg) {
    int ls = *(int *)arg;
    int c = accept(ls, NULL, NULL);
    if (c >= 0) {
        char buf[256];
        ssize_t r = recv(c, buf, sizeof buf, 0); /* the probe's HEAD request */
        (void)r;
        static const char reply[] = "HTTP/1.0 405 Method Not Allowed\r\n\r\n";
        ssize_t w = send(c, reply, sizeof reply - 1, 0);
        (void)w;
        close(c);
    }
    return NULL;
}

static void test_probe_loopback(void **state) {
    (void)state;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(ls, 1), 0);
    assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &al), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, http_once, &ls), 0);
    char out[256];
    assert_int_equal(probe_peer("127.0.0.1", ntohs(a.sin_port), out, sizeof out), 0);
    pthread_join(th, NULL);
    close(ls);
    assert_non_null(strstr(out, "an HTTP server (\"HTTP/1.0 405 Method Not Allowed\")"));
    /* the port is closed now: nothing to connect to */
    assert_int_equal(probe_peer("127.0.0.1", ntohs(a.sin_port), out, sizeof out), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_probe_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
