/* A toy training loop on libexptrack: logs params, 10,000 steps of three
 * metrics (never blocking the loop), and a final artifact, then ends the run.
 *
 *   usage: exptrack_train [URL] [EXPERIMENT]    (URL default: $EXPTRACK_URL)
 *
 * Prints the run id on stdout. Exit status 0 when the run ended cleanly. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <exptrack.h>

static int fail(const char *what, int rc)
{
    fprintf(stderr, "train: %s: %s (%s)\n", what, et_strerror(rc), et_last_error());
    return 1;
}

/* Writes a small "model" file for the artifact upload; 0 on success. */
static int write_model(const char *path, double w, double b)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "# toy linear model\nw = %.17g\nb = %.17g\n", w, b);
    return fclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *url = argc > 1 ? argv[1] : NULL;
    const char *experiment = argc > 2 ? argv[2] : "train-example";
    et_client *c = NULL;
    et_run *run = NULL;
    char model[64];
    int rc;

    if ((rc = et_client_new(url, &c)) != ET_OK)
        return fail("client", rc);
    if ((rc = et_run_start(c, experiment, "toy-linear", &run)) != ET_OK) {
        et_client_free(c);
        return fail("run start", rc);
    }
    printf("%s\n", et_run_id(run));
    fflush(stdout);

    const double lr = 0.01;
    const char *keys[] = {"lr", "steps", "model"}, *values[] = {"0.01", "10000", "linear"};
    if ((rc = et_log_params(run, keys, values, 3)) != ET_OK)
        goto fail;
    (void)et_set_tag(run, "example", "train.c");

    /* Fit y = 3x + 1 by SGD on a fixed pseudo-random stream. */
    double w = 0, b = 0;
    unsigned seed = 42;
    for (int64_t step = 0; step < 10000; step++) {
        seed = seed * 1103515245u + 12345u;
        double x = (double)(seed >> 16 & 0x7fff) / 32768.0;
        double err = (w * x + b) - (3 * x + 1);
        w -= lr * err * x;
        b -= lr * err;
        if ((rc = et_log_metric(run, "loss", err * err, step)) != ET_OK ||
            (rc = et_log_metric(run, "w", w, step)) != ET_OK ||
            (rc = et_log_metric(run, "b", b, step)) != ET_OK)
            goto fail;
    }

    snprintf(model, sizeof model, "/tmp/exptrack-train-%d.txt", (int)getpid());
    if (write_model(model, w, b) == 0) {
        rc = et_artifact_upload(c, et_run_id(run), model, "model/model.txt");
        if (rc != ET_OK)
            fprintf(stderr, "train: artifact upload: %s (%s)\n", et_strerror(rc), et_last_error());
        unlink(model);
    }
    rc = et_run_end(run, ET_RUN_FINISHED);
    et_client_free(c);
    return rc == ET_OK ? 0 : fail("run end", rc);
fail:
    fail("logging", rc);
    et_run_end(run, ET_RUN_FAILED);
    et_client_free(c);
    return 1;
}
