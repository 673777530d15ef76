// What the A/B scripts (history_ab.mjs, history_chart_ab.mjs,
// search_page_ab.mjs, browser_web_ab.mjs) share: a
// keep-alive GET that answers the body or fails on anything but 200, and
// the CPU time of a server's process and of PostgreSQL's backends.
import fs from 'node:fs';
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true });

/** GET base + path on a keep-alive connection: the body, or a rejection naming the status. */
export function get(base, path) {
    return new Promise((resolve, reject) => {
        const u = new URL(base + path);
        http.get({ host: u.hostname, port: u.port, path: u.pathname + u.search, agent }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks)}`))));
            res.on('error', reject);
        }).on('error', reject);
    });
}

/** CPU ms (utime + stime) of a pid; 0 when it is gone. */
export function cpuOf(pid) {
    try {
        const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        return (Number(f[11]) + Number(f[12])) * 10;
    } catch {
        return 0;
    }
}

/** CPU ms of the postmaster's children (the backends); 0 without a postmaster pid. */
export function pgCpu(postmaster) {
    if (!postmaster) return 0;
    const kids = fs.readFileSync(`/proc/${postmaster}/task/${postmaster}/children`, 'utf8').split(/\s+/).filter(Boolean);
    return kids.reduce((t, p) => t + cpuOf(p), 0);
}

/**
 * CPU ms of the whole cluster: the postmaster, its live children, and the
 * children it has reaped (cutime + cstime: backends that ended during the
 * timed calls, which pgCpu misses).
 */
export function clusterCpu(postmaster) {
    return cpuOf(postmaster) + pgCpu(postmaster) + reapedCpu(postmaster);
}

/** CPU ms of the children pid has reaped (cutime + cstime), 0 when it is gone. */
function reapedCpu(pid) {
    try {
        const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        return (Number(f[13]) + Number(f[14])) * 10;
    } catch {
        return 0;
    }
}

/** The pids of pid's children (all its threads'), [] when it is gone. */
export function childrenOf(pid) {
    try {
        return fs.readdirSync(`/proc/${pid}/task`).flatMap((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(/\s+/).filter(Boolean));
    } catch {
        return [];
    }
}

/**
 * CPU ms of a process tree: pid, its live descendants, and the children
 * each of them has reaped (cutime + cstime), e.g. chromium's browser process
 * with its renderer, GPU and utility processes, those of closed contexts too.
 */
export function treeCpu(pid) {
    return childrenOf(pid).reduce((t, c) => t + treeCpu(c), cpuOf(pid) + reapedCpu(pid));
}

/** Closes the keep-alive connections, so that the script can exit. */
export function closeConnections() {
    agent.destroy();
}
