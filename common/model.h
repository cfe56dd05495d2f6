/* model: liblinear 2.30 model files, and combining shard models.
 *
 * Weights use liblinear's layout: w[j*nr_w + k] for feature j (0-based, the
 * bias feature last at j = nr_feature when bias >= 0) and class k, with
 * nr_w = 1 for a two-class model (class labels[0] is the positive side) and
 * nr_w = nr_class otherwise. model_write() writes exactly what liblinear's
 * save_model() writes ("%.17g ", C locale assumed: NetCompute never calls
 * setlocale(LC_NUMERIC)), so liblinear-predict and load_model() read it.
 *
 * model_load() wraps liblinear's load_model(), which calls setlocale(): call it
 * from one thread at a time.
 */
#ifndef NC_MODEL_H
#define NC_MODEL_H

#include <linear.h>
#include <stddef.h>

/* Name of a liblinear solver ("L2R_LR"), or NULL for an unknown number. */
const char *model_solver_name(int solver);

/* Solver number for a name ("L2R_LR") or a decimal number ("0"); -1 if unknown. */
int model_solver_parse(const char *s);

/* nr_w for a solver and class count (1 for two classes, except MCSVM_CS). */
int model_nr_w(int solver, int nr_class);

/* Writes a liblinear model file atomically (path.tmp.PID, fsync, rename).
 * labels has nr_class entries; w has (nr_feature + (bias >= 0)) * nr_w
 * entries. 0, or -1 with a reason in err. */
int model_write(const char *path, int solver, int nr_class, const int *labels, int nr_feature,
                double bias, const double *w, char *err, size_t errlen);

/* Builds an in-memory liblinear model from weights (copied) for predict().
 * Free it with liblinear's free_and_destroy_model(). NULL with a reason. */
struct model *model_build(int solver, int nr_class, const int *labels, int nr_feature, double bias,
                          const double *w, char *err, size_t errlen);

/* Reads a model file with liblinear's load_model(). NULL with a reason. Free
 * with free_and_destroy_model(). */
struct model *model_load(const char *path, char *err, size_t errlen);

/* The average strategy's combiner. models[0..count-1] were trained by
 * liblinear's train() on shards with rows[s] rows each; labels[0..nr_class-1]
 * is the global label order and nr_feature/bias the global feature space.
 * Writes the row-weighted average into w_out ((nr_feature + (bias >= 0)) *
 * nr_w doubles, global layout).
 *
 * Classes are matched by label, not by position (each shard orders labels by
 * first appearance). A two-class shard model gives w for its labels[0] and -w
 * for its labels[1]; in a two-class global model a shard whose first label is
 * the global second one is sign-flipped. A shard contributes to class k only
 * if it has that label; each class averages over the shards that have it. A
 * shard with fewer features than the global space contributes zeros for the
 * missing ones; its bias weight goes to the global bias position. Fails (-1)
 * when the shards' bias differs from the global one, a shard has a label not
 * in labels, or some class is in no shard. */
int model_average(const struct model *const *models, const double *rows, int count,
                  const int *labels, int nr_class, int nr_feature, double bias, double *w_out,
                  char *err, size_t errlen);

#endif
