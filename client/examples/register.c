/* Example: register a run's saved model in the Model Registry, point an
 * alias at it, resolve the alias and download that version's files.
 *
 *   exptrack_register URL RUN_ID MODEL_NAME ARTIFACT_PATH ALIAS DIR
 *
 * Prints "name version run_id source" of the resolved version and the number
 * of files downloaded; exits 1 on any error. */
#include <stdio.h>
#include <stdlib.h>

#include <exptrack.h>

static int fail(const char *what, int rc)
{
    fprintf(stderr, "exptrack_register: %s: %s: %s\n", what, et_strerror(rc), et_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    et_client *c = NULL;
    et_model_version *reg = NULL, *got = NULL;
    size_t nfiles = 0;
    char ref[512];
    int rc, status = 1;

    if (argc != 7) {
        fprintf(stderr, "usage: %s URL RUN_ID MODEL_NAME ARTIFACT_PATH ALIAS DIR\n", argv[0]);
        return 2;
    }
    if ((rc = et_client_new(argv[1], &c)) != ET_OK)
        return fail("client", rc);
    if ((rc = et_model_register(c, argv[3], argv[2], argv[4], &reg)) != ET_OK) {
        fail("register", rc);
        goto out;
    }
    if ((rc = et_model_alias_set(c, argv[3], argv[5], reg->version)) != ET_OK) {
        fail("alias", rc);
        goto out;
    }
    snprintf(ref, sizeof ref, "models:/%s@%s", argv[3], argv[5]);
    if ((rc = et_model_version_resolve(c, ref, &got)) != ET_OK) {
        fail("resolve", rc);
        goto out;
    }
    printf("%s %s %s %s\n", got->name, got->version, got->run_id, got->source);
    if ((rc = et_model_version_download(c, ref, argv[6], &nfiles)) != ET_OK) {
        fail("download", rc);
        goto out;
    }
    printf("%zu\n", nfiles);
    status = 0;
out:
    et_model_version_free(reg);
    et_model_version_free(got);
    et_client_free(c);
    return status;
}
