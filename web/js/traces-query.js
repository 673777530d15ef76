// The search the Traces tab sends for its URL, built in one place: app.js
// starts it with the page (before traces.js is fetched), traces.js sends
// it again for its live poll.

/** Rows per page the Traces tab offers (traces/search takes at most 500). */
export const TRACE_PAGE_SIZES = [25, 100, 500];

/** The traces/search body for experiment exp and the route's params (filter, order, size, tok). */
export function tracesRequest(exp, params) {
    const size = TRACE_PAGE_SIZES.includes(Number(params.get('size'))) ? Number(params.get('size')) : 100;
    const req = { locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } }], max_results: size };
    if (params.get('filter')) req.filter = params.get('filter');
    if (params.get('order')) req.order_by = [params.get('order')];
    if (params.get('tok')) req.page_token = params.get('tok');
    return req;
}
