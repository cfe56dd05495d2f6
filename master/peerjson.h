/* peerjson: reading the JSON frames workers send (READY and HEARTBEAT).
 *
 * Everything here is untrusted input from the network: a frame is accepted
 * only when it is one JSON object of at most PROTO_MAX_JSON bytes, parsed
 * exactly; fields are read by type, numbers are clamped to their range and
 * must be finite, strings are cut to the caller's buffer and reduced to
 * printable ASCII, so that a hostile peer cannot bloat or break the dashboard,
 * the history database or the logs.
 */
#ifndef NC_PEERJSON_H
#define NC_PEERJSON_H

#include <json-c/json.h>
#include <stddef.h>

/* The object in data[0..len), or NULL. Caller owns it (json_object_put). */
json_object *peerjson_parse(const void *data, size_t len);

/* Copies the string field key, cleaned, into out; leaves out as it was when
 * the field is missing or not a string. */
void peerjson_str(json_object *o, const char *key, char *out, size_t outlen);

/* The integer field key clamped to [lo, hi], or dflt when missing or not an integer. */
int peerjson_int(json_object *o, const char *key, int lo, int hi, int dflt);

/* A new JSON double with the number field key clamped to [lo, hi], or NULL
 * (JSON null) when missing, not a number, or not finite. */
json_object *peerjson_number(json_object *o, const char *key, double lo, double hi);

/* Adds a heartbeat's checked fields to out (the worker_stats event): cpu, mem,
 * load, battery, ac, state, reason, current_task, rows_per_s. */
void peerjson_heartbeat(json_object *hb, json_object *out);

#endif
