// Lazy starting of work per element: fn(el) runs once, when el comes near
// the viewport (charts are drawn as they scroll into view).

let observer = null;
const pending = new WeakMap();
let queued = []; // lazy() calls of the current task, settled together
const MARGIN = 300; // px around the viewport that count as "near"

/**
 * Calls fn(el) once, when el comes near the viewport. Elements already near
 * it when the current task ends start at once (one layout for all of them,
 * not one per element, and no wait for the observer's first callback);
 * the rest wait for an IntersectionObserver.
 */
export function lazy(el, fn) {
    if (!('IntersectionObserver' in window)) { fn(el); return; }
    pending.set(el, fn);
    if (queued.length === 0) queueMicrotask(settleQueued);
    queued.push(el);
}

function settleQueued() {
    const els = queued;
    queued = [];
    const h = window.innerHeight;
    // read every rect first (one layout), then start the visible ones
    const near = els.map((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.bottom >= -MARGIN && r.top <= h + MARGIN;
    });
    if (!observer) {
        observer = new IntersectionObserver((entries) => {
            for (const e of entries) {
                if (!e.isIntersecting) continue;
                observer.unobserve(e.target);
                start(e.target);
            }
        }, { rootMargin: `${MARGIN}px 0px` });
    }
    els.forEach((el, i) => (near[i] ? start(el) : observer.observe(el)));
}

function start(el) {
    const f = pending.get(el);
    pending.delete(el);
    if (f) f(el);
}
