/* sio: Engine.IO v4 / Socket.IO v5 packet codec. See sio.h. */
#include "common/errbuf.h"
#include "dashboard/sio.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* deep enough for any event we send, shallow enough to bound the stack */
#define SIO_JSON_DEPTH 32

static void reset(sio_packet_t *p) {
    memset(p, 0, sizeof(*p));
    p->eio = -1;
    p->type = -1;
    p->ack_id = -1;
    strcpy(p->nsp, "/");
}

void sio_packet_clear(sio_packet_t *p) {
    if (!p) return;
    if (p->data) json_object_put(p->data);
    reset(p);
}

/* Parses exactly len bytes as one JSON value; trailing bytes are an error so
 * that "42[..]garbage" is refused rather than half-read. */
static json_object *parse_json(const char *s, size_t len, char *err, size_t errlen) {
    json_tokener *tok = json_tokener_new_ex(SIO_JSON_DEPTH);
    json_object *o = NULL;
    if (!tok) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    o = json_tokener_parse_ex(tok, s, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    if (jerr != json_tokener_success) {
        errbuf_set(err, errlen, "bad JSON payload: %s",
                   jerr == json_tokener_continue ? "truncated" : json_tokener_error_desc(jerr));
        if (o) json_object_put(o);
        o = NULL;
    } else if ((size_t)json_tokener_get_parse_end(tok) != len) {
        errbuf_set(err, errlen, "trailing bytes after JSON payload");
        json_object_put(o);
        o = NULL;
    } else if (!o) {
        errbuf_set(err, errlen, "JSON payload is null");
    }
    json_tokener_free(tok);
    return o;
}

/* After the type digit: an optional "/namespace," and an optional ack id.
 * *ip is where they start and ends where the payload starts. */
static int decode_nsp_ack(const char *buf, size_t len, size_t *ip, sio_packet_t *p, char *err,
                          size_t errlen) {
    size_t i = *ip;
    if (i < len && buf[i] == '/') {
        size_t start = i;
        while (i < len && buf[i] != ',')
            i++;
        size_t n = i - start;
        if (n >= SIO_NSP_MAX)
            return errbuf_set(err, errlen, "namespace longer than %d bytes", SIO_NSP_MAX - 1);
        memcpy(p->nsp, buf + start, n);
        p->nsp[n] = '\0';
        if (memchr(p->nsp, '\0', n)) return errbuf_set(err, errlen, "NUL byte in namespace");
        if (i < len) i++; /* the comma */
    }
    if (i < len && buf[i] >= '0' && buf[i] <= '9') {
        long id = 0;
        int digits = 0;
        while (i < len && buf[i] >= '0' && buf[i] <= '9') {
            if (++digits > 9) return errbuf_set(err, errlen, "ack id too long");
            id = id * 10 + (buf[i] - '0');
            i++;
        }
        p->ack_id = id;
    }
    *ip = i;
    return 0;
}

/* The JSON payload (p->text) must be the right type for the packet type. */
static int decode_payload(sio_packet_t *p, char *err, size_t errlen) {
    switch (p->type) {
    case SIO_CONNECT:
    case SIO_CONNECT_ERROR:
        if (p->text_len == 0) return 0;
        p->data = parse_json(p->text, p->text_len, err, errlen);
        if (!p->data || !json_object_is_type(p->data, json_type_object))
            return p->data ? errbuf_set(err, errlen, "connect payload must be a JSON object") : -1;
        return 0;
    case SIO_DISCONNECT:
        if (p->text_len != 0) return errbuf_set(err, errlen, "disconnect packet with a payload");
        return 0;
    case SIO_EVENT:
    case SIO_ACK:
        if (p->text_len == 0)
            return errbuf_set(err, errlen, "%s packet without a payload",
                              p->type == SIO_EVENT ? "event" : "ack");
        p->data = parse_json(p->text, p->text_len, err, errlen);
        if (!p->data || !json_object_is_type(p->data, json_type_array))
            return p->data ? errbuf_set(err, errlen, "event payload must be a JSON array") : -1;
        if (p->type == SIO_EVENT) {
            json_object *name = json_object_array_get_idx(p->data, 0);
            if (!name || !json_object_is_type(name, json_type_string))
                return errbuf_set(err, errlen, "event without a name");
            p->event = json_object_get_string(name);
        }
        return 0;
    default:
        return errbuf_set(err, errlen, "unknown Socket.IO packet type");
    }
}

int sio_decode(const char *buf, size_t len, sio_packet_t *p, char *err, size_t errlen) {
    size_t i = 1;
    reset(p);
    if (!buf || len == 0) return errbuf_set(err, errlen, "empty packet");
    if (len > SIO_MAX_PACKET)
        return errbuf_set(err, errlen, "packet of %zu bytes exceeds %d", len, SIO_MAX_PACKET);
    if (buf[0] < '0' || buf[0] > '6')
        return errbuf_set(err, errlen, "unknown Engine.IO packet type '%c'",
                          (buf[0] >= 32 && buf[0] < 127) ? buf[0] : '?');
    p->eio = buf[0] - '0';
    if (p->eio != SIO_EIO_MESSAGE) {
        /* ping/pong may carry a probe string; keep it for an echo */
        p->text = buf + i;
        p->text_len = len - i;
        return 0;
    }
    int rc = 0;
    if (i >= len)
        rc = errbuf_set(err, errlen, "message packet without a Socket.IO type");
    else if (buf[i] < '0' || buf[i] > '6')
        rc = errbuf_set(err, errlen, "unknown Socket.IO packet type");
    else if ((p->type = buf[i++] - '0') == SIO_BINARY_EVENT || p->type == SIO_BINARY_ACK)
        rc = errbuf_set(err, errlen, "binary Socket.IO packets are not supported");
    else if ((rc = decode_nsp_ack(buf, len, &i, p, err, errlen)) == 0) {
        p->text = buf + i;
        p->text_len = len - i;
        rc = decode_payload(p, err, errlen);
    }
    if (rc != 0) sio_packet_clear(p);
    return rc;
}

/* JSON-quotes s with json-c so names and messages are escaped the same way
 * as every other string we send. */
static char *quote(const char *s) {
    json_object *o = json_object_new_string(s ? s : "");
    char *r = NULL;
    if (!o) return NULL;
    r = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return r;
}

char *sio_encode_open(const char *sid, int ping_interval_ms, int ping_timeout_ms,
                      long max_payload) {
    char *q = quote(sid);
    char *r = NULL;
    if (!q) return NULL;
    if (asprintf(&r,
                 "0{\"sid\":%s,\"upgrades\":[],\"pingInterval\":%d,\"pingTimeout\":%d,"
                 "\"maxPayload\":%ld}",
                 q, ping_interval_ms, ping_timeout_ms, max_payload) < 0)
        r = NULL;
    free(q);
    return r;
}

/* "40" plus ",/nsp," prefix rules: the default namespace is written as nothing. */
static char *encode_nsp_object(char type, const char *nsp, const char *key, const char *value) {
    char *q = quote(value);
    char *r = NULL;
    int n;
    if (!q) return NULL;
    if (!nsp || strcmp(nsp, "/") == 0)
        n = asprintf(&r, "4%c{\"%s\":%s}", type, key, q);
    else
        n = asprintf(&r, "4%c%s,{\"%s\":%s}", type, nsp, key, q);
    if (n < 0) r = NULL;
    free(q);
    return r;
}

char *sio_encode_connect(const char *nsp, const char *sid) {
    return encode_nsp_object('0', nsp, "sid", sid);
}

char *sio_encode_connect_error(const char *nsp, const char *message) {
    return encode_nsp_object('4', nsp, "message", message);
}

char *sio_encode_event_raw(const char *name, const char *json, size_t json_len) {
    char *q = quote(name);
    char *r = NULL;
    if (!q) return NULL;
    size_t qn = strlen(q);
    size_t n = 3 + qn + (json ? 1 + json_len : 0) + 2;
    r = malloc(n);
    if (r) {
        size_t o = 0;
        memcpy(r + o, "42[", 3);
        o += 3;
        memcpy(r + o, q, qn);
        o += qn;
        if (json) {
            r[o++] = ',';
            memcpy(r + o, json, json_len);
            o += json_len;
        }
        r[o++] = ']';
        r[o] = '\0';
    }
    free(q);
    return r;
}

char *sio_encode_event(const char *name, json_object *data) {
    if (!data) return sio_encode_event_raw(name, NULL, 0);
    size_t len = 0;
    const char *s = json_object_to_json_string_length(data, JSON_C_TO_STRING_PLAIN, &len);
    if (!s) return NULL;
    return sio_encode_event_raw(name, s, len);
}
