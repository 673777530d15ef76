/* The mlflow.modelVersions tag of a logged model (mlflow-models-api.md 2.7
 * step 11, quirk 27): a JSON list of {"name", "version"} objects naming the
 * registered model versions made from the model. MLflow's client appends an
 * entry the server already wrote, with the version as a string where the
 * server wrote a number; this keeps one entry per (name, version). */
#ifndef ET_SERVER_LOGGED_MODELS_MODEL_VERSIONS_H
#define ET_SERVER_LOGGED_MODELS_MODEL_VERSIONS_H

/* The tag's key. */
#define LM_TAG_MODEL_VERSIONS "mlflow.modelVersions"

/* Normalizes a value of the tag: every {"name", "version"} entry gets its
 * version as a JSON string ("1", from 1 or "1"), and entries after the first
 * with the same (name, version) are dropped; other entries stay as they
 * are, in order. Returns a new string (free()), or NULL when value is not a
 * JSON list (the caller then stores it unchanged). */
char *lm_model_versions_normalize(const char *value);

#endif
