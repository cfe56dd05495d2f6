/* jobsum: the job summary's one builder. See jobsum.h. */
#include "dashboard/jobsum.h"

#include "common/events.h"

#include <stdbool.h>
#include <string.h>

/* A top-level field's starting value: the id, "queued", 0 for a count that is
 * never null, {} for outputs, else null. */
static json_object *start_value(const event_field_t *f, int64_t id) {
    if (strcmp(f->name, "id") == 0) return json_object_new_int64(id);
    if (strcmp(f->name, "state") == 0) return json_object_new_string("queued");
    if (f->flags & EVF_NULL) return NULL;
    if (f->type == EVF_INT) return json_object_new_int(0);
    if (f->type == EVF_OBJECT) return json_object_new_object();
    return NULL;
}

json_object *jobsum_new(int64_t id) {
    json_object *o = json_object_new_object();
    for (const event_field_t *f = EVENTS_JOB_SUMMARY; o && f->name; f++) {
        if (strchr(f->name, '.') && strncmp(f->name, "outputs.", 8) != 0)
            continue; /* progress.*: there once the object is */
        json_object *v = start_value(f, id);
        bool needed = !(f->flags & EVF_NULL) && !strchr(f->name, '.');
        if ((needed && !v) || jobsum_set(o, f->name, v) != 0) {
            json_object_put(o);
            return NULL;
        }
    }
    return o;
}

static bool is_field(const char *name) {
    for (const event_field_t *f = EVENTS_JOB_SUMMARY; f->name; f++)
        if (strcmp(f->name, name) == 0) return true;
    return false;
}

int jobsum_set(json_object *sum, const char *field, json_object *v) {
    const char *dot = strchr(field, '.');
    json_object *parent = sum;
    char key[64];
    if (!is_field(field) || strlen(field) >= sizeof key) {
        json_object_put(v);
        return -1;
    }
    if (dot) {
        memcpy(key, field, (size_t)(dot - field));
        key[dot - field] = '\0';
        if (!json_object_object_get_ex(sum, key, &parent) ||
            !json_object_is_type(parent, json_type_object)) {
            json_object_put(v);
            return -1;
        }
        field = dot + 1;
    }
    return json_object_object_add(parent, field, v) == 0 ? 0 : -1;
}

void jobsum_set_outputs(json_object *sum, json_object *outputs) {
    for (const event_field_t *f = EVENTS_JOB_SUMMARY; f->name; f++) {
        json_object *v = NULL, *c = NULL;
        if (strncmp(f->name, "outputs.", 8) != 0) continue;
        if (json_object_object_get_ex(outputs, f->name + 8, &v) && v &&
            json_object_deep_copy(v, &c, NULL) != 0)
            c = NULL;
        jobsum_set(sum, f->name, c);
    }
}

json_object *jobsum_event(json_object *sum) {
    json_object *o = json_object_new_object();
    json_object *id = NULL;
    if (!o) return NULL;
    jobsum_derive(sum);
    json_object_object_foreach(sum, key, val) {
        json_object_object_add(o, key, json_object_get(val));
    }
    json_object_object_get_ex(sum, "id", &id);
    json_object_object_add(o, "job_id", json_object_get(id));
    return o;
}

void jobsum_derive(json_object *sum) {
    json_object *mode = NULL, *acc = NULL, *dur = NULL;
    json_object_object_get_ex(sum, "mode", &mode);
    json_object_object_get_ex(sum, "accuracy", &acc);
    json_object_object_get_ex(sum, "duration_s", &dur);
    const char *m =
        mode && json_object_is_type(mode, json_type_string) ? json_object_get_string(mode) : "";
    bool num = acc && (json_object_is_type(acc, json_type_double) ||
                       json_object_is_type(acc, json_type_int));
    double a = num ? json_object_get_double(acc) : 0;
    jobsum_set(sum, "train_accuracy",
               num && (strcmp(m, "train") == 0 || strcmp(m, "search") == 0)
                   ? json_object_new_double(a)
                   : NULL); /* a search's final model's */
    jobsum_set(sum, "test_accuracy",
               num && strcmp(m, "test") == 0 ? json_object_new_double(a) : NULL);
    bool dnum = dur && (json_object_is_type(dur, json_type_double) ||
                        json_object_is_type(dur, json_type_int));
    double ms = dnum ? json_object_get_double(dur) * 1000.0 + 0.5 : 0;
    jobsum_set(sum, "duration_ms", dnum && ms >= 0 ? json_object_new_int64((int64_t)ms) : NULL);
}
