/* sio: Engine.IO v4 / Socket.IO v5 packet codec (what socket.io-client 4.x speaks).
 *
 * Pure functions, no I/O: the dashboard's websocket server decodes each text
 * frame a browser sends with sio_decode() and builds what it sends with the
 * sio_encode_*() helpers. Over websocket one frame carries one Engine.IO
 * packet: a digit (0 open, 1 close, 2 ping, 3 pong, 4 message, 5 upgrade,
 * 6 noop) then data. A message (4) carries a Socket.IO packet:
 *
 *     <type>[<attachments>-][/<namespace>,][<ack id>][JSON payload]
 *
 * with types 0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR,
 * 5 BINARY_EVENT, 6 BINARY_ACK. So "40" connects the default namespace and
 * 42["name",{...}] is an event. Binary packets are refused (the dashboard
 * never uses them).
 *
 * Input is untrusted: every length is checked, the JSON is parsed with a
 * bounded depth and a payload that is not the right JSON type for its
 * packet type is an error.
 */
#ifndef NC_SIO_H
#define NC_SIO_H

#include <json-c/json.h>
#include <stddef.h>

#define SIO_MAX_PACKET (1024 * 1024) /* longest frame accepted by sio_decode */
#define SIO_NSP_MAX 128              /* longest namespace, NUL included */

enum {
    SIO_EIO_OPEN = 0,
    SIO_EIO_CLOSE = 1,
    SIO_EIO_PING = 2,
    SIO_EIO_PONG = 3,
    SIO_EIO_MESSAGE = 4,
    SIO_EIO_UPGRADE = 5,
    SIO_EIO_NOOP = 6
};

enum {
    SIO_CONNECT = 0,
    SIO_DISCONNECT = 1,
    SIO_EVENT = 2,
    SIO_ACK = 3,
    SIO_CONNECT_ERROR = 4,
    SIO_BINARY_EVENT = 5,
    SIO_BINARY_ACK = 6
};

typedef struct sio_packet {
    int eio;               /* Engine.IO type, SIO_EIO_* */
    int type;              /* Socket.IO type (SIO_*) when eio is MESSAGE, else -1 */
    char nsp[SIO_NSP_MAX]; /* namespace, "/" when absent */
    long ack_id;           /* -1 when absent */
    const char *text;      /* ping/pong/open/message-less data: borrowed from the input */
    size_t text_len;
    json_object *data; /* owned: CONNECT/CONNECT_ERROR object (or NULL), EVENT/ACK array */
    const char *event; /* EVENT: the name, borrowed from data; else NULL */
} sio_packet_t;

/* Decodes one Engine.IO packet of len bytes (need not be NUL-terminated).
 * Whatever p held before is overwritten, not freed: clear it first if reused.
 * On success p owns data until sio_packet_clear(). Returns 0, or -1 with the
 * reason in err (p is then clear). */
int sio_decode(const char *buf, size_t len, sio_packet_t *p, char *err, size_t errlen);

/* Frees what sio_decode() put in p; safe on a cleared packet. */
void sio_packet_clear(sio_packet_t *p);

/* Engine.IO open packet: 0{"sid":...,"upgrades":[],"pingInterval":...,
 * "pingTimeout":...,"maxPayload":...}. Caller frees; NULL when out of memory. */
char *sio_encode_open(const char *sid, int ping_interval_ms, int ping_timeout_ms, long max_payload);

/* Answer to a namespace connect: 40{"sid":"..."} for "/", else 40/nsp,{...}. */
char *sio_encode_connect(const char *nsp, const char *sid);

/* 44{"message":"..."}: refuses a namespace connect. */
char *sio_encode_connect_error(const char *nsp, const char *message);

/* 42["name",data] on the default namespace; data may be NULL (no argument).
 * data is borrowed. Caller frees; NULL when out of memory. */
char *sio_encode_event(const char *name, json_object *data);

/* Same, with data already serialised as JSON text (trusted, our own). */
char *sio_encode_event_raw(const char *name, const char *json, size_t json_len);

#endif
