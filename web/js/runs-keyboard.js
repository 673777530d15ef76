// The runs table's keyboard: j/k move a cursor between rows, Enter opens
// the run, x toggles its selection, c opens the comparison of the selection.
import { href } from './util.js';

/**
 * j/k move the cursor between rows (cursor.row, an index: the grid draws it
 * on rows it draws again), Enter opens the run, x toggles its selection.
 */
export function keyboardRows(grid, runs, cursor, ctx) {
    const onKey = (ev) => {
        if (/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName)) return;
        const cur = cursor.row;
        if (ev.key === 'j' || ev.key === 'k') {
            const next = Math.max(0, Math.min(runs.length - 1, cur + (ev.key === 'j' ? 1 : -1)));
            grid.row(cur)?.classList.remove('cursor');
            cursor.row = next;
            grid.reveal(next).classList.add('cursor');
        } else if (ev.key === 'Enter' && cur >= 0) {
            location.hash = href(`/run/${runs[cur].info.run_id}`);
        } else if (ev.key === 'x' && cur >= 0) {
            grid.reveal(cur).querySelector('input[type=checkbox]').click();
        } else if (ev.key === 'c') {
            document.querySelector('.compare-link')?.click();
        }
    };
    document.addEventListener('keydown', onKey);
    ctx.onCleanup(() => document.removeEventListener('keydown', onKey));
}
