/* The names of MLflow's reserved tags (mlflow.*) that the server reads or
 * writes itself, spelled once for api, store and search code alike. Only
 * names: what each tag means to the server is said where it is used. */
#ifndef ET_SERVER_CORE_MLFLOW_TAGS_H
#define ET_SERVER_CORE_MLFLOW_TAGS_H

/* The run's name: runs/create mirrors run_name into it, and setting it
 * renames the run. */
#define MLFLOW_TAG_RUN_NAME "mlflow.runName"

/* The user who created the run: runs/create takes user_id from it. */
#define MLFLOW_TAG_USER "mlflow.user"

/* A dataset input's context ("training", "eval"): a dataset input tag that
 * search filters as datasets.context. */
#define MLFLOW_TAG_DATA_CONTEXT "mlflow.data.context"

/* Marks a registered model as a prompt ("true"): prompts are kept out of the
 * model listings and searches, as MLflow 3 does. */
#define MLFLOW_TAG_IS_PROMPT "mlflow.prompt.is_prompt"

#endif
