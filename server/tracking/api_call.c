/* A handler's store call, through the group commit or at once. */
#include "api_call.h"

#include "core/wake.h"
#include "group_commit.h"

/* The group commit's completion callback: resumes the paused request. */
static void wake_call(void *arg)
{
    struct wake *w = arg;
    wake_up(w);
    wake_unref(w);
}

static void finish_call(void *state, struct reply *r)
{
    struct api_call *c = state;
    group_commit_call_done(c->gw);
    c->answer(c, r);
}

void api_call_run(const struct request *req, struct api_call *c, struct reply *r)
{
    struct wake *w = req->ops == NULL ? NULL : request_wake(req);
    c->gw = w != NULL ? group_commit_submit_call(&c->call, wake_call, w) : NULL;
    if (c->gw == NULL) {
        if (w != NULL)
            wake_unref(w);
        store_call_run(&c->call);
        c->answer(c, r);
        return;
    }
    reply_defer(r, finish_call, c);
}
