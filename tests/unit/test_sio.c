/* Unit tests for dashboard/sio: Engine.IO / Socket.IO packet codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "dashboard/sio.h"

static int decode(const char *s, sio_packet_t *p) {
    char err[128] = "";
    return sio_decode(s, strlen(s), p, err, sizeof(err));
}

static void test_engine_packets(void **state) {
    (void)state;
    sio_packet_t p;
    assert_int_equal(decode("3", &p), 0);
    assert_int_equal(p.eio, SIO_EIO_PONG);
    assert_int_equal(p.type, -1);
    assert_int_equal(p.text_len, 0);
    sio_packet_clear(&p);
    assert_int_equal(decode("2probe", &p), 0);
    assert_int_equal(p.eio, SIO_EIO_PING);
    assert_int_equal(p.text_len, 5);
    assert_memory_equal(p.text, "probe", 5);
    sio_packet_clear(&p);
    assert_int_equal(decode("1", &p), 0);
    assert_int_equal(p.eio, SIO_EIO_CLOSE);
    sio_packet_clear(&p);
}

static void test_connect(void **state) {
    (void)state;
    sio_packet_t p;
    assert_int_equal(decode("40", &p), 0);
    assert_int_equal(p.eio, SIO_EIO_MESSAGE);
    assert_int_equal(p.type, SIO_CONNECT);
    assert_string_equal(p.nsp, "/");
    assert_null(p.data);
    sio_packet_clear(&p);

    assert_int_equal(decode("40/admin,{\"token\":\"x\"}", &p), 0);
    assert_string_equal(p.nsp, "/admin");
    assert_non_null(p.data);
    json_object *t = NULL;
    assert_true(json_object_object_get_ex(p.data, "token", &t));
    assert_string_equal(json_object_get_string(t), "x");
    sio_packet_clear(&p);

    assert_int_equal(decode("41", &p), 0);
    assert_int_equal(p.type, SIO_DISCONNECT);
    sio_packet_clear(&p);
}

static void test_event_with_ack(void **state) {
    (void)state;
    sio_packet_t p;
    assert_int_equal(decode("42/chat,17[\"hello\",{\"a\":[1,2]},3]", &p), 0);
    assert_int_equal(p.type, SIO_EVENT);
    assert_string_equal(p.nsp, "/chat");
    assert_int_equal(p.ack_id, 17);
    assert_string_equal(p.event, "hello");
    assert_int_equal(json_object_array_length(p.data), 3);
    sio_packet_clear(&p);

    assert_int_equal(decode("4312[\"ok\"]", &p), 0);
    assert_int_equal(p.type, SIO_ACK);
    assert_int_equal(p.ack_id, 12);
    assert_null(p.event);
    sio_packet_clear(&p);
}

static void test_malformed(void **state) {
    (void)state;
    const char *bad[] = {
        "",                                              /* empty */
        "9",                                             /* unknown engine type */
        "x42[]",                                         /* not a digit */
        "4",                                             /* message without socket.io type */
        "47",                                            /* unknown socket.io type */
        "42",                                            /* event without payload */
        "42{\"a\":1}",                                   /* event payload not an array */
        "42[1,2]",                                       /* event name not a string */
        "42[]",                                          /* event without a name */
        "42[\"a\"",                                      /* truncated JSON */
        "42[\"a\"]xyz",                                  /* trailing garbage */
        "40[1]",                                         /* connect payload not an object */
        "41{}",                                          /* disconnect with payload */
        "451-[\"a\",{\"_placeholder\":true,\"num\":0}]", /* binary */
        "421234567890[\"a\"]",                           /* ack id too long */
        "40null",                                        /* null payload */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sio_packet_t p;
        char err[128] = "";
        int rc = sio_decode(bad[i], strlen(bad[i]), &p, err, sizeof(err));
        if (rc != -1) fail_msg("accepted malformed packet '%s'", bad[i]);
        assert_true(err[0] != '\0');
        assert_null(p.data);
    }
}

static void test_long_namespace_and_depth(void **state) {
    (void)state;
    char buf[512];
    memset(buf, 0, sizeof(buf));
    strcpy(buf, "40/");
    memset(buf + 3, 'n', 300);
    sio_packet_t p;
    assert_int_equal(decode(buf, &p), -1);

    /* 1000 nested arrays must be refused by the depth bound, not recurse */
    char *deep = malloc(3 + 2000 + 1);
    assert_non_null(deep);
    strcpy(deep, "42");
    for (int i = 0; i < 1000; i++)
        deep[2 + i] = '[';
    for (int i = 0; i < 1000; i++)
        deep[1002 + i] = ']';
    deep[2002] = '\0';
    assert_int_equal(decode(deep, &p), -1);
    free(deep);
}

static void test_not_nul_terminated(void **state) {
    (void)state;
    /* the length bounds the read: "42[\"a\"]" followed by bytes that must be ignored */
    const char buf[] = "42[\"a\"]GARBAGE";
    sio_packet_t p;
    char err[64];
    assert_int_equal(sio_decode(buf, 7, &p, err, sizeof(err)), 0);
    assert_string_equal(p.event, "a");
    sio_packet_clear(&p);
}

static void test_encode_open(void **state) {
    (void)state;
    char *s = sio_encode_open("abc\"d", 25000, 20000, 1000000);
    assert_non_null(s);
    assert_int_equal(s[0], '0');
    json_object *o = json_tokener_parse(s + 1);
    assert_non_null(o);
    json_object *v;
    assert_true(json_object_object_get_ex(o, "sid", &v));
    assert_string_equal(json_object_get_string(v), "abc\"d");
    assert_true(json_object_object_get_ex(o, "pingInterval", &v));
    assert_int_equal(json_object_get_int(v), 25000);
    assert_true(json_object_object_get_ex(o, "pingTimeout", &v));
    assert_int_equal(json_object_get_int(v), 20000);
    assert_true(json_object_object_get_ex(o, "upgrades", &v));
    assert_int_equal(json_object_array_length(v), 0);
    json_object_put(o);
    free(s);
}

static void test_encode_connect(void **state) {
    (void)state;
    char *s = sio_encode_connect("/", "S1");
    assert_string_equal(s, "40{\"sid\":\"S1\"}");
    free(s);
    s = sio_encode_connect("/x", "S1");
    assert_string_equal(s, "40/x,{\"sid\":\"S1\"}");
    free(s);
    s = sio_encode_connect_error("/x", "no such namespace");
    assert_string_equal(s, "44/x,{\"message\":\"no such namespace\"}");
    free(s);
}

static void test_event_round_trip(void **state) {
    (void)state;
    json_object *data = json_object_new_object();
    json_object_object_add(data, "cpu", json_object_new_double(12.5));
    json_object_object_add(data, "name", json_object_new_string("w\"1\n"));
    char *s = sio_encode_event("worker_stats", data);
    assert_non_null(s);
    assert_memory_equal(s, "42[\"worker_stats\",{", 19);

    sio_packet_t p;
    assert_int_equal(decode(s, &p), 0);
    assert_string_equal(p.event, "worker_stats");
    json_object *back = json_object_array_get_idx(p.data, 1);
    assert_true(json_object_equal(back, data));
    sio_packet_clear(&p);
    free(s);
    json_object_put(data);

    s = sio_encode_event("tick", NULL);
    assert_string_equal(s, "42[\"tick\"]");
    free(s);
    s = sio_encode_event_raw("a\"b", "{}", 2);
    assert_string_equal(s, "42[\"a\\\"b\",{}]");
    assert_int_equal(decode(s, &p), 0);
    assert_string_equal(p.event, "a\"b");
    sio_packet_clear(&p);
    free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_packets),
        cmocka_unit_test(test_connect),
        cmocka_unit_test(test_event_with_ack),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_long_namespace_and_depth),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_encode_open),
        cmocka_unit_test(test_encode_connect),
        cmocka_unit_test(test_event_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
