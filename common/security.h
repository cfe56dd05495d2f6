/* security: CurveZMQ keys, socket setup and the ZAP handler that admits workers.
 *
 * Key files (written by security_keygen, read by everything else):
 *   NAME.key  mode 0600, text:
 *               # NetCompute CurveZMQ key pair ...   (comment lines start with #)
 *               public: <40 Z85 characters>
 *               secret: <40 Z85 characters>
 *   NAME.pub  the Z85 public key on one line (safe to copy to other machines).
 * A .key file readable by group or others is refused, as ssh refuses such keys.
 *
 * Roles: the master binds, so its three sockets are CURVE servers
 * (security_server_setup); workers connect and are CURVE clients
 * (security_client_setup). With security.curve false both setups do nothing
 * and the master calls security_warn_plaintext() once at start-up.
 *
 * Admission: security_zap_start() runs a ZAP handler (RFC 27) in its own thread
 * on inproc://zeromq.zap.01 of the given context. It must be started before
 * any server socket binds: libzmq admits everybody when no handler is bound.
 * It admits CURVE clients whose public key is listed in
 * security.authorized_keys (one Z85 key a line, '#' comments, blank lines),
 * with the Z85 key as ZMQ user id (zmq_msg_gets(msg, "User-Id")), and refuses
 * all others with status 400, logging the peer address and key (rate-limited
 * on log slot SECURITY_LOG_SLOT). The file is re-read when it changes, so a
 * new worker can be admitted without restarting the master; a file that became
 * unreadable or malformed keeps the previous list and logs why.
 *
 * Every function that can fail returns 0 (or a pointer) on success and -1 (or
 * NULL) on failure with a one-line reason in err (errlen bytes).
 */
#ifndef NC_SECURITY_H
#define NC_SECURITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

#define SECURITY_Z85_LEN 40                     /* a 32-byte key in Z85 */
#define SECURITY_Z85_BUF (SECURITY_Z85_LEN + 1) /* with the NUL */
#define SECURITY_LOG_SLOT 15                    /* log_every() slot for refusals */
#define SECURITY_ZAP_DOMAIN "netcompute"

/* Writes NAME.key (0600) and NAME.pub (0644 less umask) with a fresh key pair.
 * Refuses when either file exists (nothing is written then). */
int security_keygen(const char *name, char *err, size_t errlen);

/* Reads a .key file into public and secret (Z85, NUL-terminated) and checks
 * that the public key belongs to the secret one. */
int security_load_keypair(const char *path, char public_z85[SECURITY_Z85_BUF],
                          char secret_z85[SECURITY_Z85_BUF], char *err, size_t errlen);

/* Reads a public key: a .pub file (first non-comment line) or the "public:"
 * line of a .key file. */
int security_load_public(const char *path, char public_z85[SECURITY_Z85_BUF], char *err,
                         size_t errlen);

/* Makes sock a CURVE server with security.secret_key_file and sets the ZAP
 * domain. Call before zmq_bind(). No-op returning 0 when security.curve is off. */
int security_server_setup(void *sock, const config_t *cfg, char *err, size_t errlen);

/* Makes sock a CURVE client: server key from security.master_public_key, own
 * key pair from security.secret_key_file. Call before zmq_connect(). No-op
 * returning 0 when security.curve is off. */
int security_client_setup(void *sock, const config_t *cfg, char *err, size_t errlen);

/* The same with the server's public key given (Z85, 40 characters): a
 * worker connecting to another worker's tree port (worker/reduce.h). */
int security_client_setup_key(void *sock, const config_t *cfg, const char *server_z85, char *err,
                              size_t errlen);

typedef struct zap zap_t;

/* Loads security.authorized_keys, binds the ZAP endpoint in zmq_ctx and starts
 * the handler thread. Fails when curve is off, the file is missing or holds a
 * line that is not a Z85 key (err names file and line), or the endpoint is
 * taken. Caller owns the result and must security_zap_stop() it before
 * zmq_ctx_term(). */
zap_t *security_zap_start(void *zmq_ctx, const config_t *cfg, char *err, size_t errlen);

/* Connection attempts refused / admitted so far (thread-safe). */
uint64_t security_zap_refused(const zap_t *z);
uint64_t security_zap_admitted(const zap_t *z);

/* Stops the thread, closes its sockets, frees *z and sets it to NULL; NULL-safe. */
void security_zap_stop(zap_t **z);

/* Logs a warning that master-worker traffic is plaintext and unauthenticated
 * when security.curve is off and master.ip is reachable from other machines;
 * on a loopback address (only this machine's processes can join, as in the
 * demo) it is a debug line. Does nothing with CURVE on. The master calls it
 * once at start-up: once per process. */
void security_warn_plaintext(const config_t *cfg);

/* Whether ip (master.ip: an address, a host or interface name, or "*") can
 * only be reached from this machine: 127.0.0.0/8, ::1, "localhost", "lo". */
bool security_is_loopback(const char *ip);

#endif
