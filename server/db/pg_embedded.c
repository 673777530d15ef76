/* The self-managed PostgreSQL cluster behind exptrackd when no --database-url
 * is given: finds the server binaries, creates the cluster with initdb, cleans
 * up after a crash, runs the postmaster as a child on a Unix socket only and
 * stops it. It does not apply migrations or hold connections for the server. */
#include "pg_embedded.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/evp.h>

#include "core/log.h"
#include "common/xalloc.h"

#define PG_PORT 5432
#define PG_DBNAME "exptrack"
#define SOCKET_NAME ".s.PGSQL.5432"
/* sun_path is 108 bytes including the NUL; stay one byte clear of it. */
#define SOCKET_PATH_MAX 106
#define FALLBACK_ROOT "/var/lib/exptrack"
#define READY_TIMEOUT_MS (60 * 1000)
#define RECOVERY_TIMEOUT_MS (15 * 60 * 1000)
#define FAST_STOP_TIMEOUT_MS (60 * 1000)
#define QUIT_STOP_TIMEOUT_MS (10 * 1000)

/* Whom the cluster belongs to and how a child becomes that user. */
struct pg_user {
    char *name;
    uid_t uid;
    gid_t gid;
    gid_t *groups; /* supplementary groups, computed before fork */
    int ngroups;
    bool drop; /* true when we are root and must switch to uid/gid */
};

/* Every path the embedded cluster uses, all absolute. */
struct pg_layout {
    char *data_dir; /* realpath of --data-dir */
    char *base;     /* where pg/, pg.initdb/, pg.log and run/ live */
    char *cluster;  /* base/pg */
    char *initdb_tmp;
    char *log_path;
    char *sock_dir;
    char *bin_dir;
};

/* The postmaster we started; pg_embedded_stop acts on it. */
static pid_t g_postmaster = -1;
static int g_lock_fd = -1;

/* --- small utilities ---------------------------------------------------- */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static bool is_root(void)
{
    return geteuid() == 0;
}

/* Creates path and its missing parents with mode; existing directories are
 * left alone. Returns 0 or -1 (logged). */
static int mkdir_p(const char *path, mode_t mode)
{
    char *p = xstrdup(path);
    int rc = -1;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        *s = '\0';
        if (mkdir(p, mode) == -1 && errno != EEXIST) {
            log_error("could not create directory \"%s\": %s", p, strerror(errno));
            goto out;
        }
        *s = saved;
        if (saved == '\0')
            break;
    }
    struct stat st;
    if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode)) {
        log_error("\"%s\" is not a directory", path);
        goto out;
    }
    rc = 0;
out:
    free(p);
    return rc;
}

/* Reads a whole small file into a NUL-terminated heap string, or NULL with
 * errno set. */
static char *read_small_file(const char *path)
{
    char buf[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return NULL;
    ssize_t n;
    do {
        n = read(fd, buf, sizeof buf - 1);
    } while (n == -1 && errno == EINTR);
    int saved = errno;
    close(fd);
    if (n < 0) {
        errno = saved;
        return NULL;
    }
    buf[n] = '\0';
    return xstrdup(buf);
}

/* First 16 hex digits of SHA-256(s): short, stable names for per-cluster dirs. */
static int hash_prefix(const char *s, char out[17])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL) != 1 || len < 8) {
        log_error("sha-256 failed");
        return -1;
    }
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* Appends key=value to a libpq conninfo, quoting value when it needs it. */
static char *conninfo_add(char *ci, const char *key, const char *value)
{
    bool plain = *value != '\0' && strpbrk(value, " \t\n\r\f\v'\\") == NULL;
    size_t need = strlen(ci) + strlen(key) + 2 * strlen(value) + 5;
    char *out = xmalloc(need);
    size_t o = (size_t)snprintf(out, need, "%s%s%s=", ci, *ci ? " " : "", key);
    if (!plain)
        out[o++] = '\'';
    for (const char *v = value; *v; v++) {
        if (!plain && (*v == '\'' || *v == '\\'))
            out[o++] = '\\';
        out[o++] = *v;
    }
    if (!plain)
        out[o++] = '\'';
    out[o] = '\0';
    free(ci);
    return out;
}

static char *conninfo_build(const struct pg_layout *lay, const struct pg_user *u, const char *db)
{
    char port[16];
    snprintf(port, sizeof port, "%d", PG_PORT);
    char *ci = xstrdup("");
    ci = conninfo_add(ci, "host", lay->sock_dir);
    ci = conninfo_add(ci, "port", port);
    ci = conninfo_add(ci, "dbname", db);
    ci = conninfo_add(ci, "user", u->name);
    return ci;
}

/* Logs the last lines of the PostgreSQL log so a failed start explains itself. */
static void log_tail(const char *path)
{
    char buf[2048];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return;
    off_t end = lseek(fd, 0, SEEK_END);
    off_t start = end > (off_t)sizeof buf - 1 ? end - (off_t)sizeof buf + 1 : 0;
    ssize_t n = pread(fd, buf, sizeof buf - 1, start);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    char *line = buf;
    if (start > 0 && strchr(line, '\n') != NULL)
        line = strchr(line, '\n') + 1; /* skip the partial first line */
    log_error("last lines of %s:", path);
    while (*line) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        if (*line)
            log_error("  %s", line);
        if (nl == NULL)
            break;
        line = nl + 1;
    }
}

/* --- users and child processes ------------------------------------------ */

static void user_cleanup(struct pg_user *u)
{
    free(u->name);
    free(u->groups);
    memset(u, 0, sizeof *u);
}

static int user_from_passwd(struct pg_user *u, const struct passwd *pw, bool drop)
{
    u->name = xstrdup(pw->pw_name);
    u->uid = pw->pw_uid;
    u->gid = pw->pw_gid;
    u->drop = drop;
    u->groups = NULL;
    u->ngroups = 0;
    if (!drop)
        return 0;
    /* getgrouplist reads /etc/group: do it here, not in the forked child. */
    int n = 16;
    for (int tries = 0; tries < 8; tries++) {
        free(u->groups);
        u->groups = xmalloc((size_t)n * sizeof(gid_t));
        int got = n;
        if (getgrouplist(pw->pw_name, pw->pw_gid, u->groups, &got) != -1) {
            u->ngroups = got;
            return 0;
        }
        n = got > n ? got : n * 2;
    }
    log_error("could not read the supplementary groups of user \"%s\"", pw->pw_name);
    return -1;
}

/* Picks the OS user that runs initdb and postgres: ourselves when not root;
 * as root the owner of an existing cluster, else "postgres", else "nobody". */
static int user_pick(struct pg_user *u, const char *cluster)
{
    struct passwd *pw;
    struct stat st;
    if (!is_root()) {
        pw = getpwuid(geteuid());
        if (pw == NULL) {
            log_error("could not look up the current user (uid %u)", (unsigned)geteuid());
            return -1;
        }
        return user_from_passwd(u, pw, false);
    }
    if (stat(cluster, &st) == 0 && st.st_uid != 0) {
        pw = getpwuid(st.st_uid);
        if (pw != NULL)
            return user_from_passwd(u, pw, true);
        log_warn("cluster %s is owned by unknown uid %u", cluster, (unsigned)st.st_uid);
    }
    pw = getpwnam("postgres");
    if (pw == NULL)
        pw = getpwnam("nobody");
    if (pw == NULL || pw->pw_uid == 0) {
        log_error("running as root and found neither a \"postgres\" nor a \"nobody\" user "
                  "to run PostgreSQL as");
        return -1;
    }
    return user_from_passwd(u, pw, true);
}

/* In a forked child: become u for good. Async-signal-safe calls only. */
static int child_drop_privileges(const struct pg_user *u)
{
    if (!u->drop)
        return 0;
    if (setgroups((size_t)u->ngroups, u->groups) == -1 || setgid(u->gid) == -1 ||
        setuid(u->uid) == -1)
        return -1;
    if (setuid(0) != -1) /* must be irreversible */
        return -1;
    return 0;
}

enum child_step { STEP_STDIO = 1, STEP_PRIVS, STEP_PDEATH, STEP_EXEC };

struct spawn_opts {
    const struct pg_user *user;
    const char *log_path;    /* stdout and stderr are appended here */
    int parent_death_signal; /* sent to the child when we die; 0 for none */
};

/* Child side of spawn(): never returns. Reports a failure as {step, errno}
 * on err_fd, which close-on-exec closes when execv succeeds. */
static void spawn_child(const struct spawn_opts *o, char *const argv[], int err_fd, pid_t parent)
{
    int report[2] = {STEP_STDIO, 0};
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (int sig = 1; sig < NSIG; sig++)
        (void)sigaction(sig, &dfl, NULL); /* fails harmlessly for KILL, STOP */
    sigset_t none;
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    (void)setsid(); /* a terminal's ^C reaches exptrackd, which stops us in order */
    umask(077);

    int null_fd = open("/dev/null", O_RDONLY);
    int log_fd = open(o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_NOCTTY, 0600);
    if (null_fd == -1 || log_fd == -1 || dup2(null_fd, 0) == -1 || dup2(log_fd, 1) == -1 ||
        dup2(log_fd, 2) == -1)
        goto fail;
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == -1) {
        for (int fd = 3; fd < 4096; fd++)
            (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    report[0] = STEP_PRIVS;
    if (child_drop_privileges(o->user) == -1)
        goto fail;
    report[0] = STEP_PDEATH;
    /* Set after setuid, which clears it; covers a kill -9 of exptrackd. */
    if (o->parent_death_signal != 0) {
        if (prctl(PR_SET_PDEATHSIG, o->parent_death_signal) == -1)
            goto fail;
        if (getppid() != parent) {
            errno = ESRCH;
            goto fail;
        }
    }
    report[0] = STEP_EXEC;
    execv(argv[0], argv);
fail:
    report[1] = errno;
    (void)!write(err_fd, report, sizeof report);
    _exit(127);
}

/* Runs argv[0] (an absolute path) as o->user in a new session. On success
 * stores the child's pid and returns 0; returns -1 (logged) if it could not
 * be started. */
static int spawn(const struct spawn_opts *o, char *const argv[], pid_t *pid_out)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) == -1) {
        log_error("pipe: %s", strerror(errno));
        return -1;
    }
    sigset_t all, old;
    sigfillset(&all);
    (void)pthread_sigmask(SIG_SETMASK, &all, &old); /* no handler may run in the child */
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        spawn_child(o, argv, pipefd[1], parent);
    int fork_errno = errno;
    (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(pipefd[1]);
    if (pid == -1) {
        close(pipefd[0]);
        log_error("fork: %s", strerror(fork_errno));
        return -1;
    }
    int report[2];
    ssize_t n;
    do {
        n = read(pipefd[0], report, sizeof report);
    } while (n == -1 && errno == EINTR);
    close(pipefd[0]);
    if (n == (ssize_t)sizeof report) {
        const char *w = report[0] == STEP_STDIO    ? "redirect output to"
                        : report[0] == STEP_PRIVS  ? "switch user for"
                        : report[0] == STEP_PDEATH ? "set the parent-death signal for"
                                                   : "execute";
        log_error("could not %s %s (log %s): %s", w, argv[0], o->log_path, strerror(report[1]));
        while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
            ;
        return -1;
    }
    *pid_out = pid;
    return 0;
}

/* Reads the state letter from /proc/<pid>/stat; '\0' if unreadable. */
static char proc_state(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *s = read_small_file(path);
    if (s == NULL)
        return '\0';
    char *rp = strrchr(s, ')'); /* comm may contain spaces and parens */
    char c = rp != NULL && rp[1] == ' ' ? rp[2] : '\0';
    free(s);
    return c;
}

/* Whether pid has exited. A child of ours is reaped (its status stored in
 * *status when not NULL); anything else counts as gone once it no longer
 * exists or is a zombie nobody reaps (PID 1 in a container may not). */
static bool pid_gone(pid_t pid, bool is_child, int *status)
{
    if (is_child) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            if (status != NULL)
                *status = st;
            return true;
        }
        if (r == 0)
            return false;
        /* ECHILD: reaped elsewhere (SIGCHLD ignored); fall through. */
    }
    if (kill(pid, 0) == -1 && errno == ESRCH)
        return true;
    return proc_state(pid) == 'Z';
}

static bool wait_gone(pid_t pid, bool is_child, long long timeout_ms, int *status)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        if (pid_gone(pid, is_child, status))
            return true;
        if (now_ms() >= deadline)
            return false;
        sleep_ms(50);
    }
}

/* Runs argv to completion. Returns 0 if it exited with status 0, else -1
 * (logged, with the tail of the log). */
static int run_wait(const struct spawn_opts *o, char *const argv[])
{
    pid_t pid;
    int st = 0;
    if (spawn(o, argv, &pid) == -1)
        return -1;
    while (waitpid(pid, &st, 0) == -1) {
        if (errno == EINTR)
            continue;
        if (errno == ECHILD) /* reaped elsewhere: we cannot know, assume success */
            return 0;
        log_error("waitpid: %s", strerror(errno));
        return -1;
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    if (WIFEXITED(st))
        log_error("%s exited with status %d", argv[0], WEXITSTATUS(st));
    else
        log_error("%s was killed by signal %d", argv[0], WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    log_tail(o->log_path);
    return -1;
}

/* Whether user u may search (traverse) dir, tested for real in a child that
 * has become u. Returns 1 yes, 0 no, -1 could not tell (logged). */
static int user_can_traverse(const struct pg_user *u, const char *dir)
{
    if (!u->drop)
        return 1;
    pid_t pid = fork();
    if (pid == -1) {
        log_error("fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        if (child_drop_privileges(u) == -1)
            _exit(2);
        _exit(access(dir, X_OK) == 0 ? 0 : 1);
    }
    int st;
    while (waitpid(pid, &st, 0) == -1) {
        if (errno != EINTR) {
            log_error("waitpid: %s", strerror(errno));
            return -1;
        }
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) <= 1)
        return WEXITSTATUS(st) == 0;
    log_error("could not switch to user \"%s\" to check access to %s", u->name, dir);
    return -1;
}

/* --- finding the binaries ----------------------------------------------- */

static bool has_server_binaries(const char *dir)
{
    static const char *const names[] = {"initdb", "postgres", "pg_ctl"};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int n = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (n < 0 || (size_t)n >= sizeof path || access(path, X_OK) == -1)
            return false;
    }
    return true;
}

/* The highest /usr/lib/postgresql/<v>/bin with a full server, preferring
 * <want> (the existing cluster's major version) when installed. */
static char *find_debian_bin_dir(const char *want)
{
    DIR *d = opendir("/usr/lib/postgresql");
    if (d == NULL)
        return NULL;
    char *best = NULL, *best_ver = NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *dir = xasprintf("/usr/lib/postgresql/%s/bin", e->d_name);
        bool pick = has_server_binaries(dir) &&
                    (best == NULL || (want != NULL && strcmp(e->d_name, want) == 0) ||
                     ((want == NULL || strcmp(best_ver, want) != 0) &&
                      strverscmp(e->d_name, best_ver) > 0));
        if (pick) {
            free(best);
            free(best_ver);
            best = dir;
            best_ver = xstrdup(e->d_name);
        } else {
            free(dir);
        }
    }
    closedir(d);
    free(best_ver);
    return best;
}

static char *find_path_bin_dir(void)
{
    const char *path = getenv("PATH");
    if (path == NULL)
        return NULL;
    for (const char *p = path;;) {
        const char *end = strchr(p, ':');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        char *dir = len > 0 ? xstrndup(p, len) : xstrdup(".");
        char *real = has_server_binaries(dir) ? realpath(dir, NULL) : NULL;
        free(dir);
        if (real != NULL)
            return real;
        if (end == NULL)
            return NULL;
        p = end + 1;
    }
}

/* Finds the bin dir for the cluster. Refuses a Debian install whose major
 * version differs from an existing cluster's, since postgres would too. */
static int find_bin_dir(struct pg_layout *lay)
{
    char *pg_version_path = xasprintf("%s/PG_VERSION", lay->cluster);
    char *want = read_small_file(pg_version_path);
    int rc = -1;
    free(pg_version_path);
    if (want != NULL)
        want[strcspn(want, "\r\n")] = '\0';

    lay->bin_dir = find_debian_bin_dir(want);
    if (lay->bin_dir == NULL)
        lay->bin_dir = find_path_bin_dir();
    if (lay->bin_dir == NULL) {
        log_error("PostgreSQL server binaries not found; install Debian's postgresql package");
        goto out;
    }
    if (want != NULL && strncmp(lay->bin_dir, "/usr/lib/postgresql/", 20) == 0) {
        size_t vlen = strcspn(lay->bin_dir + 20, "/");
        if (vlen != strlen(want) || strncmp(lay->bin_dir + 20, want, vlen) != 0) {
            log_error("cluster %s was created by PostgreSQL %s, which is not installed "
                      "(found %s); install postgresql-%s or upgrade the cluster with "
                      "pg_upgrade",
                      lay->cluster, want, lay->bin_dir, want);
            goto out;
        }
    }
    rc = 0;
out:
    free(want);
    return rc;
}

/* --- where things live ---------------------------------------------------- */

static void layout_cleanup(struct pg_layout *lay)
{
    free(lay->data_dir);
    free(lay->base);
    free(lay->cluster);
    free(lay->initdb_tmp);
    free(lay->log_path);
    free(lay->sock_dir);
    free(lay->bin_dir);
    memset(lay, 0, sizeof *lay);
}

/* Picks the cluster's home when <data_dir>/pg does not exist yet: the data
 * dir itself, or, if u cannot reach it (a parent like /root is 0700), a
 * root-owned traversable dir under /var/lib/exptrack linked from the data dir. */
static int layout_new_base(struct pg_layout *lay, const struct pg_user *u, const char *link)
{
    int ok = user_can_traverse(u, lay->data_dir);
    if (ok < 0)
        return -1;
    if (ok == 1) {
        lay->base = xstrdup(lay->data_dir);
        return 0;
    }
    char hash[17];
    if (hash_prefix(lay->data_dir, hash) == -1)
        return -1;
    lay->base = xasprintf(FALLBACK_ROOT "/%s", hash);
    if (mkdir_p(lay->base, 0755) == -1 || chmod(FALLBACK_ROOT, 0755) == -1 ||
        chmod(lay->base, 0755) == -1) {
        log_error("could not prepare %s: %s", lay->base, strerror(errno));
        return -1;
    }
    char *target = xasprintf("%s/pg", lay->base);
    int rc = symlink(target, link);
    if (rc == -1)
        log_error("could not create symlink %s -> %s: %s", link, target, strerror(errno));
    else
        log_warn("user \"%s\" cannot reach %s (a parent directory is not searchable), so the "
                 "cluster lives in %s; %s links to it",
                 u->name, lay->data_dir, target, link);
    free(target);
    return rc;
}

/* Resolves every path and the user. <data_dir>/pg is either the cluster or a
 * symlink to it (made by layout_new_base on an earlier start). */
static int layout_resolve(struct pg_layout *lay, struct pg_user *u, const char *data_dir)
{
    char *link = NULL;
    int rc = -1;
    if (mkdir_p(data_dir, is_root() ? 0711 : 0700) == -1)
        goto out;
    lay->data_dir = realpath(data_dir, NULL);
    if (lay->data_dir == NULL) {
        log_error("could not resolve data dir \"%s\": %s", data_dir, strerror(errno));
        goto out;
    }
    link = xasprintf("%s/pg", lay->data_dir);
    struct stat st;
    if (lstat(link, &st) == 0 && S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0 || target[0] != '/') {
            log_error("%s must be a symlink to an absolute path", link);
            goto out;
        }
        target[n] = '\0';
        lay->base = xstrdup(dirname(target));
        if (mkdir_p(lay->base, 0755) == -1)
            goto out;
    } else if (lstat(link, &st) == -1 && errno != ENOENT) {
        log_error("could not stat %s: %s", link, strerror(errno));
        goto out;
    }
    char *probe = lay->base != NULL ? xasprintf("%s/pg", lay->base) : xstrdup(link);
    int picked = user_pick(u, probe);
    free(probe);
    if (picked == -1)
        goto out;
    if (lay->base == NULL && lstat(link, &st) == 0) {
        lay->base = xstrdup(lay->data_dir); /* an existing cluster right here */
        if (user_can_traverse(u, lay->data_dir) != 1) {
            log_error("user \"%s\" cannot reach cluster %s: make its parent directories "
                      "searchable (chmod o+x) or move the data dir",
                      u->name, link);
            goto out;
        }
    } else if (lay->base == NULL && layout_new_base(lay, u, link) == -1) {
        goto out;
    }
    lay->cluster = xasprintf("%s/pg", lay->base);
    lay->initdb_tmp = xasprintf("%s/pg.initdb", lay->base);
    lay->log_path = xasprintf("%s/pg.log", lay->base);
    rc = 0;
out:
    free(link);
    return rc;
}

/* Makes a socket dir that only u can enter (root still can). An existing one
 * must be a real directory owned by u (or by root, then handed to u). */
static int sock_dir_prepare(const char *dir, const struct pg_user *u)
{
    struct stat st;
    if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
        log_error("could not create socket dir %s: %s", dir, strerror(errno));
        return -1;
    }
    if (lstat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
        log_error("socket dir %s is not a directory", dir);
        return -1;
    }
    if (st.st_uid != u->uid && !(is_root() && st.st_uid == 0)) {
        log_error("socket dir %s belongs to uid %u, not to \"%s\"; remove it", dir,
                  (unsigned)st.st_uid, u->name);
        return -1;
    }
    if ((u->drop && chown(dir, u->uid, u->gid) == -1) || chmod(dir, 0700) == -1) {
        log_error("could not hand socket dir %s to \"%s\": %s", dir, u->name, strerror(errno));
        return -1;
    }
    return 0;
}

/* The socket lives in <base>/run unless that path is too long for sun_path
 * or has characters unix_socket_directories cannot take; then in
 * /tmp/exptrack-<hash of the cluster path>. */
static int sock_dir_resolve(struct pg_layout *lay, const struct pg_user *u)
{
    char *dir = xasprintf("%s/run", lay->base);
    if (strlen(dir) + 1 + strlen(SOCKET_NAME) > SOCKET_PATH_MAX ||
        strpbrk(dir, ",\" \t\n\\") != NULL) {
        char hash[17];
        if (hash_prefix(lay->cluster, hash) == -1) {
            free(dir);
            return -1;
        }
        char *shorter = xasprintf("/tmp/exptrack-%s", hash);
        log_info("socket path under %s would be too long (or unusable) for a Unix socket; "
                 "using %s",
                 dir, shorter);
        free(dir);
        dir = shorter;
    }
    lay->sock_dir = dir;
    return sock_dir_prepare(dir, u);
}

/* --- the data dir lock and crash recovery ------------------------------- */

/* One exptrackd per data dir: a flock on <data_dir>/exptrack.lock, held for
 * the life of the process and released by the kernel when it dies however it
 * dies. Holding it makes any postmaster of this cluster an orphan of ours. */
static int data_dir_lock(const struct pg_layout *lay)
{
    char *path = xasprintf("%s/exptrack.lock", lay->data_dir);
    int rc = -1;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd == -1) {
        log_error("could not open %s: %s", path, strerror(errno));
        goto out;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
        if (errno == EWOULDBLOCK)
            log_error("data dir %s is in use by another exptrackd (%s is locked)", lay->data_dir,
                      path);
        else
            log_error("could not lock %s: %s", path, strerror(errno));
        close(fd);
        goto out;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)n, 0) != n)
        log_warn("could not write pid to %s: %s", path, strerror(errno));
    g_lock_fd = fd;
    rc = 0;
out:
    free(path);
    return rc;
}

/* Whether pid is a postgres whose working directory is this cluster (the
 * postmaster chdirs into its data directory). */
static bool is_our_postmaster(pid_t pid, const char *cluster_real)
{
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/%d/cwd", (int)pid);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return false;
    target[n] = '\0';
    if (strcmp(target, cluster_real) != 0)
        return false;
    snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
    n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return false;
    target[n] = '\0';
    const char *slash = strrchr(target, '/');
    return strncmp(slash != NULL ? slash + 1 : target, "postgres", 8) == 0;
}

/* Stops pid the way pg_ctl would: fast, then immediate, then SIGKILL. */
static int stop_pid(pid_t pid, bool is_child, int *status)
{
    if (kill(pid, SIGINT) == -1 && errno != ESRCH)
        log_warn("could not signal postmaster %d: %s", (int)pid, strerror(errno));
    if (wait_gone(pid, is_child, FAST_STOP_TIMEOUT_MS, status))
        return 0;
    log_warn("postmaster %d ignored fast shutdown; sending SIGQUIT", (int)pid);
    (void)kill(pid, SIGQUIT);
    if (wait_gone(pid, is_child, QUIT_STOP_TIMEOUT_MS, status))
        return 0;
    log_warn("postmaster %d ignored SIGQUIT; sending SIGKILL", (int)pid);
    (void)kill(pid, SIGKILL);
    if (wait_gone(pid, is_child, QUIT_STOP_TIMEOUT_MS, status)) {
        sleep_ms(1000); /* let orphaned backends notice and release shared memory */
        return 0;
    }
    log_error("could not stop postmaster %d", (int)pid);
    return -1;
}

static void unlink_quiet(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    if (unlink(path) == 0)
        log_info("removed stale %s", path);
    else if (errno != ENOENT)
        log_warn("could not remove %s: %s", path, strerror(errno));
    free(path);
}

/* Cleans up after a crashed exptrackd: stops a postmaster of this cluster
 * still running, removes a postmaster.pid whose pid is dead or belongs to
 * some other process, and removes stale socket lock files. Needs the data
 * dir lock, so nothing here can belong to a live exptrackd. */
static int recover(const struct pg_layout *lay)
{
    char *pidfile = xasprintf("%s/postmaster.pid", lay->cluster);
    char *text = read_small_file(pidfile);
    char *cluster_real = NULL;
    int rc = -1;
    if (text == NULL) {
        if (errno != ENOENT) {
            log_error("could not read %s: %s", pidfile, strerror(errno));
            goto out;
        }
        goto clean_socket;
    }
    char *end;
    errno = 0;
    long pid = strtol(text, &end, 10);
    bool valid = errno == 0 && end != text && pid > 0 && pid <= INT_MAX;
    cluster_real = realpath(lay->cluster, NULL);
    if (valid && cluster_real != NULL && is_our_postmaster((pid_t)pid, cluster_real) &&
        proc_state((pid_t)pid) != 'Z') {
        log_warn("postmaster %ld of %s is still running from a previous exptrackd; "
                 "stopping it",
                 pid, lay->cluster);
        if (stop_pid((pid_t)pid, false, NULL) == -1)
            goto out;
    } else {
        bool alive = valid && !pid_gone((pid_t)pid, false, NULL);
        log_info("removing stale %s: pid %ld %s", pidfile, valid ? pid : -1L,
                 alive ? "belongs to an unrelated process" : "is not running");
    }
    if (unlink(pidfile) == -1 && errno != ENOENT) {
        log_error("could not remove %s: %s", pidfile, strerror(errno));
        goto out;
    }
clean_socket:
    unlink_quiet(lay->sock_dir, SOCKET_NAME ".lock");
    unlink_quiet(lay->sock_dir, SOCKET_NAME);
    rc = 0;
out:
    free(cluster_real);
    free(text);
    free(pidfile);
    return rc;
}

/* --- creating, starting, connecting ------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int rc = type == FTW_DP ? rmdir(path) : unlink(path);
    if (rc == -1)
        log_error("could not remove %s: %s", path, strerror(errno));
    return rc;
}

/* Creates the cluster if it does not exist. initdb runs into pg.initdb, which
 * is renamed to pg only once complete, so a crash mid-initdb leaves nothing
 * that looks like a cluster (the leftover is removed on the next start). */
static int cluster_create(const struct pg_layout *lay, const struct pg_user *u)
{
    struct stat st;
    if (stat(lay->cluster, &st) == 0)
        return 0;
    if (errno != ENOENT) {
        log_error("could not stat %s: %s", lay->cluster, strerror(errno));
        return -1;
    }
    if (lstat(lay->initdb_tmp, &st) == 0) {
        log_warn("removing %s left by an interrupted initdb", lay->initdb_tmp);
        if (nftw(lay->initdb_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
            return -1;
    }
    if (mkdir(lay->initdb_tmp, 0700) == -1 ||
        (u->drop && chown(lay->initdb_tmp, u->uid, u->gid) == -1)) {
        log_error("could not create %s: %s", lay->initdb_tmp, strerror(errno));
        return -1;
    }
    locale_t c_utf8 = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
    const char *loc = c_utf8 != (locale_t)0 ? "--locale=C.UTF-8" : "--locale=C";
    if (c_utf8 != (locale_t)0)
        freelocale(c_utf8);
    char *prog = xasprintf("%s/initdb", lay->bin_dir);
    char *pgdata = xasprintf("--pgdata=%s", lay->initdb_tmp);
    char *user = xasprintf("--username=%s", u->name);
    char *argv[] = {prog, pgdata, user, "--auth=trust", "--encoding=UTF8", (char *)loc, NULL};
    /* SIGKILL: an orphaned initdb must not race the next start's cleanup. */
    struct spawn_opts o = {.user = u, .log_path = lay->log_path, .parent_death_signal = SIGKILL};
    log_info("creating PostgreSQL cluster %s with %s as user \"%s\" (log %s)", lay->cluster, prog,
             u->name, lay->log_path);
    int rc = run_wait(&o, argv);
    if (rc == 0 && rename(lay->initdb_tmp, lay->cluster) == -1) {
        log_error("could not rename %s to %s: %s", lay->initdb_tmp, lay->cluster, strerror(errno));
        rc = -1;
    }
    free(prog);
    free(pgdata);
    free(user);
    return rc;
}

static int postmaster_spawn(const struct pg_layout *lay, const struct pg_user *u)
{
    char *prog = xasprintf("%s/postgres", lay->bin_dir);
    char *sockdirs = xasprintf("unix_socket_directories=%s", lay->sock_dir);
    char *port = xasprintf("%d", PG_PORT);
    /* Socket only; fsync on: an acknowledged write survives a power cut. */
    char *argv[] = {prog,
                    "-D",
                    lay->cluster,
                    "-p",
                    port,
                    "-c",
                    "listen_addresses=",
                    "-c",
                    sockdirs,
                    "-c",
                    "unix_socket_permissions=0700",
                    "-c",
                    "max_connections=200",
                    "-c",
                    "shared_buffers=128MB",
                    "-c",
                    "fsync=on",
                    "-c",
                    "synchronous_commit=on",
                    "-c",
                    "full_page_writes=on",
                    NULL};
    /* SIGINT is a fast shutdown: a kill -9 of exptrackd still stops postgres cleanly. */
    struct spawn_opts o = {.user = u, .log_path = lay->log_path, .parent_death_signal = SIGINT};
    log_info("starting PostgreSQL %s as user \"%s\": cluster %s, socket dir %s, log %s", prog,
             u->name, lay->cluster, lay->sock_dir, lay->log_path);
    pid_t pid;
    int rc = spawn(&o, argv, &pid);
    if (rc == 0)
        g_postmaster = pid;
    free(prog);
    free(sockdirs);
    free(port);
    return rc;
}

/* Waits until the postmaster accepts connections: READY_TIMEOUT_MS, or up to
 * RECOVERY_TIMEOUT_MS while it answers "starting up" (crash recovery). */
static int wait_ready(const struct pg_layout *lay, const char *ci)
{
    long long start = now_ms(), last_note = start;
    for (;;) {
        int st = 0;
        if (pid_gone(g_postmaster, true, &st)) {
            g_postmaster = -1;
            log_error("postgres exited during start-up (%s %d)",
                      WIFSIGNALED(st) ? "signal" : "status",
                      WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
            log_tail(lay->log_path);
            return -1;
        }
        PGPing ping = PQping(ci);
        if (ping == PQPING_OK)
            return 0;
        long long t = now_ms();
        long long limit = ping == PQPING_REJECT ? RECOVERY_TIMEOUT_MS : READY_TIMEOUT_MS;
        if (t - start >= limit) {
            log_error("postgres did not accept connections within %lld s", (t - start) / 1000);
            log_tail(lay->log_path);
            return -1;
        }
        if (t - last_note >= 10000) {
            log_info("waiting for postgres to accept connections (%s)",
                     ping == PQPING_REJECT ? "starting up or recovering" : "no response yet");
            last_note = t;
        }
        sleep_ms(100);
    }
}

/* CREATE DATABASE exptrack unless it exists. */
static int database_ensure(const char *ci)
{
    int rc = -1;
    PGresult *res = NULL;
    PGconn *conn = PQconnectdb(ci);
    if (PQstatus(conn) != CONNECTION_OK) {
        log_error("could not connect to embedded postgres: %s", PQerrorMessage(conn));
        goto out;
    }
    res = PQexec(conn, "SELECT 1 FROM pg_database WHERE datname = '" PG_DBNAME "'");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        log_error("could not look up database " PG_DBNAME ": %s", PQerrorMessage(conn));
        goto out;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        res = PQexec(conn, "CREATE DATABASE " PG_DBNAME);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (PQresultStatus(res) != PGRES_COMMAND_OK &&
            (state == NULL || strcmp(state, "42P04") != 0)) {
            log_error("could not create database " PG_DBNAME ": %s", PQerrorMessage(conn));
            goto out;
        }
        log_info("created database " PG_DBNAME);
    }
    rc = 0;
out:
    PQclear(res);
    PQfinish(conn);
    return rc;
}

/* --- public --------------------------------------------------------------- */

int pg_embedded_start(const char *data_dir, char **conninfo)
{
    struct pg_layout lay = {0};
    struct pg_user user = {0};
    char *ci_admin = NULL;
    int rc = -1;
    *conninfo = NULL;
    if (g_postmaster > 0) {
        log_error("embedded postgres is already running (pid %d)", (int)g_postmaster);
        return -1;
    }
    if (layout_resolve(&lay, &user, data_dir) == -1 || data_dir_lock(&lay) == -1 ||
        sock_dir_resolve(&lay, &user) == -1 || find_bin_dir(&lay) == -1)
        goto out;
    if (user.drop)
        log_info("running as root: PostgreSQL runs as user \"%s\" (uid %u)", user.name,
                 (unsigned)user.uid);
    if (cluster_create(&lay, &user) == -1 || recover(&lay) == -1 ||
        postmaster_spawn(&lay, &user) == -1)
        goto out;
    ci_admin = conninfo_build(&lay, &user, "postgres");
    if (wait_ready(&lay, ci_admin) == -1 || database_ensure(ci_admin) == -1)
        goto out;
    *conninfo = conninfo_build(&lay, &user, PG_DBNAME);
    log_info("embedded PostgreSQL ready (pid %d): %s", (int)g_postmaster, *conninfo);
    rc = 0;
out:
    if (rc == -1)
        pg_embedded_stop();
    free(ci_admin);
    layout_cleanup(&lay);
    user_cleanup(&user);
    return rc;
}

void pg_embedded_stop(void)
{
    if (g_postmaster > 0) {
        int st = 0;
        pid_t pid = g_postmaster;
        g_postmaster = -1;
        log_info("stopping embedded PostgreSQL (pid %d)", (int)pid);
        if (stop_pid(pid, true, &st) == 0)
            log_info("embedded PostgreSQL stopped");
    }
    if (g_lock_fd != -1) {
        close(g_lock_fd);
        g_lock_fd = -1;
    }
}
