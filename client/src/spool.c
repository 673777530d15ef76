/* The on-disk spool: requests the server could not take yet, kept in
 * append-only segment files of checksummed records, fsync'd per append, and
 * replayed in order (oldest segment first). Each process appends to its own
 * segment, held under flock(); a segment whose owner died is adopted by the
 * next process (or `exptrack sync`). Acknowledgements are appended as ack
 * records; a fully acknowledged segment is deleted. No network I/O here.
 *
 * Record: u32 magic "ETSP" | u32 payload length | u32 CRC-32 of payload | payload.
 * Payload 'R': "R\n<path>\n<idempotency key>\n<points>\n<body>";
 * payload 'A': "A" + u64 offset of the acknowledged 'R' record (little endian). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define SPOOL_MAGIC 0x50535445u /* "ETSP" little endian */
#define SPOOL_MAX_RECORD (64u << 20)
#define SPOOL_SUFFIX ".etspool"

struct segment {
    char *path;
    int fd;            /* open and flock()ed by us */
    uint64_t *pending; /* offsets of unacked 'R' records, in order */
    size_t head, n, cap;
    uint64_t size; /* end of the last valid record (appends go here) */
};

struct et_spool {
    char *dir;
    int own;
    struct segment *segs; /* adopted orphans in name order, then ours last */
    size_t nsegs;
    struct segment *mine; /* NULL until the first append */
    size_t corrupt;
    int peeked; /* index into segs of the last peek, -1 none */
};

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t et__spool_crc32(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t c = 0xFFFFFFFFu;

    pthread_once(&crc_once, crc_init);
    for (size_t i = 0; i < len; i++)
        c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

void et__spool_rec_cleanup(struct spool_rec *r)
{
    free(r->path);
    free(r->body);
    memset(r, 0, sizeof *r);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int pending_push(struct segment *g, uint64_t off)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        uint64_t *p = realloc(g->pending, cap * sizeof *p);
        if (p == NULL)
            return ET_ENOMEM;
        g->pending = p;
        g->cap = cap;
    }
    g->pending[g->n++] = off;
    return ET_OK;
}

static void segment_free(struct segment *g, int unlink_it)
{
    if (g == NULL)
        return;
    if (unlink_it)
        unlink(g->path);
    if (g->fd >= 0)
        close(g->fd); /* releases the flock */
    free(g->path);
    free(g->pending);
    free(g);
}

/* Reads the record at off. 1 = valid (payload malloc'd into *out, *len),
 * 0 = end or torn tail, ET_ECORRUPT = bad checksum (*next set), other < 0 = I/O. */
static int read_record(int fd, uint64_t off, uint64_t fsize, char **out, uint32_t *len,
                       uint64_t *next)
{
    unsigned char h[12];

    if (off + 12 > fsize)
        return 0;
    if (pread(fd, h, 12, (off_t)off) != 12)
        return ET_EIO;
    uint32_t n = get32(h + 4);
    if (get32(h) != SPOOL_MAGIC || n == 0 || n > SPOOL_MAX_RECORD)
        return 0; /* garbage past the last good record: treat as a torn tail */
    if (off + 12 + n > fsize)
        return 0;
    char *p = malloc((size_t)n + 1);
    if (p == NULL)
        return ET_ENOMEM;
    if (pread(fd, p, n, (off_t)(off + 12)) != (ssize_t)n) {
        free(p);
        return ET_EIO;
    }
    p[n] = '\0';
    *next = off + 12 + n;
    if (et__spool_crc32(p, n) != get32(h + 8)) {
        free(p);
        return ET_ECORRUPT;
    }
    *out = p;
    *len = n;
    return 1;
}

/* Scans a segment: collects unacked 'R' offsets, counts corrupt records. */
static int segment_scan(struct segment *g, size_t *corrupt)
{
    struct stat st;
    uint64_t off = 0, acked_upto = 0, next = 0;
    int have_ack = 0;

    if (fstat(g->fd, &st) != 0)
        return ET_EIO;
    for (;;) {
        char *p = NULL;
        uint32_t n = 0;
        int rc = read_record(g->fd, off, (uint64_t)st.st_size, &p, &n, &next);
        if (rc == 0)
            break;
        if (rc == ET_ECORRUPT) {
            (*corrupt)++;
            off = next;
            continue;
        }
        if (rc < 0)
            return rc;
        if (p[0] == 'A' && n == 9) {
            uint64_t a = 0;
            for (int i = 0; i < 8; i++)
                a |= (uint64_t)(unsigned char)p[1 + i] << (8 * i);
            acked_upto = a;
            have_ack = 1;
        } else if (p[0] == 'R' && pending_push(g, off) != ET_OK) {
            free(p);
            return ET_ENOMEM;
        }
        free(p);
        off = next;
    }
    g->size = off;
    while (have_ack && g->head < g->n && g->pending[g->head] <= acked_upto)
        g->head++;
    return ET_OK;
}

static int path_join(const char *dir, const char *name, char **out)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    *out = malloc(n);
    if (*out == NULL)
        return ET_ENOMEM;
    snprintf(*out, n, "%s/%s", dir, name);
    return ET_OK;
}

static int add_segment(struct et_spool *s, struct segment *g)
{
    struct segment *arr = realloc(s->segs, (s->nsegs + 1) * sizeof *arr);
    if (arr == NULL)
        return ET_ENOMEM;
    s->segs = arr;
    s->segs[s->nsegs++] = *g;
    free(g);
    return ET_OK;
}

static int already_have(const struct et_spool *s, const char *path)
{
    for (size_t i = 0; i < s->nsegs; i++)
        if (strcmp(s->segs[i].path, path) == 0)
            return 1;
    return s->mine != NULL && strcmp(s->mine->path, path) == 0;
}

/* Tries to adopt one orphan segment file: lock, scan, keep if pending. */
static int adopt(struct et_spool *s, const char *name)
{
    struct segment *g = calloc(1, sizeof *g);
    int rc = ET_ENOMEM;

    if (g == NULL)
        return ET_ENOMEM;
    g->fd = -1;
    if ((rc = path_join(s->dir, name, &g->path)) != ET_OK || already_have(s, g->path))
        goto drop;
    g->fd = open(g->path, O_RDWR | O_CLOEXEC);
    if (g->fd < 0 || flock(g->fd, LOCK_EX | LOCK_NB) != 0) {
        rc = ET_OK; /* gone, or a live process owns it */
        goto drop;
    }
    if ((rc = segment_scan(g, &s->corrupt)) != ET_OK)
        goto drop;
    if (g->head == g->n) {
        segment_free(g, 1);
        return ET_OK;
    }
    return add_segment(s, g);
drop:
    segment_free(g, 0);
    return rc;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adopts every orphan segment in the directory, oldest name first. */
static int scan_orphans(struct et_spool *s)
{
    DIR *d = opendir(s->dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = ET_OK;
    struct dirent *e;

    if (d == NULL)
        return ET_EIO;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name), sl = strlen(SPOOL_SUFFIX);
        if (len <= sl || strcmp(e->d_name + len - sl, SPOOL_SUFFIX) != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(names, cap * sizeof *p);
            if (p == NULL) {
                rc = ET_ENOMEM;
                break;
            }
            names = p;
        }
        if ((names[n] = et__util_strdup(e->d_name)) == NULL) {
            rc = ET_ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == ET_OK && n > 0)
        qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n; i++) {
        if (rc == ET_OK)
            rc = adopt(s, names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof tmp)
        return ET_EINVAL;
    memcpy(tmp, dir, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return ET_EIO;
        *p = '/';
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return ET_EIO;
    return ET_OK;
}

int et__spool_open(const char *dir, int own, struct et_spool **out)
{
    struct et_spool *s = calloc(1, sizeof *s);
    int rc;

    if (s == NULL)
        return ET_ENOMEM;
    s->own = own;
    s->peeked = -1;
    if ((s->dir = et__util_strdup(dir)) == NULL) {
        free(s);
        return ET_ENOMEM;
    }
    if ((rc = mkdir_p(dir)) != ET_OK || (rc = scan_orphans(s)) != ET_OK) {
        et__spool_close(s);
        return rc;
    }
    *out = s;
    return ET_OK;
}

void et__spool_close(struct et_spool *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nsegs; i++) {
        struct segment *g = &s->segs[i];
        if (g->fd >= 0)
            close(g->fd);
        free(g->path);
        free(g->pending);
    }
    free(s->segs);
    if (s->mine != NULL)
        segment_free(s->mine, s->mine->head == s->mine->n);
    free(s->dir);
    free(s);
}

/* Creates our segment: a temporary name, flock, then the final name, so no
 * other process can adopt it between creation and locking. */
static int create_mine(struct et_spool *s)
{
    char name[128], tmpname[140];
    struct timespec ts;
    struct segment *g = calloc(1, sizeof *g);
    char *tmp = NULL;
    int rc = ET_ENOMEM;

    if (g == NULL)
        return ET_ENOMEM;
    g->fd = -1;
    clock_gettime(CLOCK_REALTIME, &ts);
    char rnd[33];
    et__util_random_hex32(rnd);
    snprintf(name, sizeof name, "%014lld%09ld-%d-%.8s" SPOOL_SUFFIX, (long long)ts.tv_sec,
             ts.tv_nsec, (int)getpid(), rnd);
    snprintf(tmpname, sizeof tmpname, ".%s.tmp", name);
    if (path_join(s->dir, name, &g->path) != ET_OK || path_join(s->dir, tmpname, &tmp) != ET_OK)
        goto fail;
    rc = ET_EIO;
    g->fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (g->fd < 0 || flock(g->fd, LOCK_EX) != 0 || rename(tmp, g->path) != 0)
        goto fail;
    int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(tmp);
    s->mine = g;
    return ET_OK;
fail:
    if (tmp != NULL)
        unlink(tmp);
    free(tmp);
    segment_free(g, 0);
    return rc;
}

/* Appends one framed record at g->size; fsyncs when durable. */
static int write_record(struct segment *g, const char *payload, size_t n, int durable)
{
    unsigned char h[12];
    put32(h, SPOOL_MAGIC);
    put32(h + 4, (uint32_t)n);
    put32(h + 8, et__spool_crc32(payload, n));
    struct iovec_like {
        const void *p;
        size_t n;
    } parts[2] = {{h, 12}, {payload, n}};
    uint64_t off = g->size;

    for (int i = 0; i < 2; i++) {
        size_t done = 0;
        while (done < parts[i].n) {
            ssize_t w =
                pwrite(g->fd, (const char *)parts[i].p + done, parts[i].n - done, (off_t)off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                (void)ftruncate(g->fd, (off_t)g->size);
                return ET_EIO;
            }
            done += (size_t)w;
            off += (uint64_t)w;
        }
    }
    if (durable && fdatasync(g->fd) != 0) {
        (void)ftruncate(g->fd, (off_t)g->size);
        return ET_EIO;
    }
    g->size = off;
    return ET_OK;
}

int et__spool_append(struct et_spool *s, const struct spool_rec *r)
{
    struct et_dbuf b;
    int rc;

    if (!s->own)
        return ET_EINVAL;
    if (s->mine == NULL && (rc = create_mine(s)) != ET_OK)
        return rc;
    et__dbuf_init(&b);
    rc = et__dbuf_addf(&b, "R\n%s\n%s\n%u\n", r->path, r->key, (unsigned)r->npoints);
    if (rc == ET_OK)
        rc = et__dbuf_add(&b, r->body, r->body_len);
    uint64_t off = s->mine->size;
    if (rc == ET_OK)
        rc = write_record(s->mine, b.data, b.len, 1);
    if (rc == ET_OK)
        rc = pending_push(s->mine, off);
    et__dbuf_cleanup(&b);
    return rc;
}

/* Splits an 'R' payload into *r (fresh copies). */
static int parse_request(const char *p, uint32_t n, struct spool_rec *r)
{
    const char *end = p + n, *f[4]; /* path, key, points, body */
    if (n < 2 || p[0] != 'R' || p[1] != '\n')
        return ET_ECORRUPT;
    f[0] = p + 2;
    for (int i = 1; i < 4; i++) {
        const char *nl = memchr(f[i - 1], '\n', (size_t)(end - f[i - 1]));
        if (nl == NULL)
            return ET_ECORRUPT;
        f[i] = nl + 1;
    }
    size_t plen = (size_t)(f[1] - f[0] - 1), klen = (size_t)(f[2] - f[1] - 1);
    if (klen > 32)
        return ET_ECORRUPT;
    memset(r, 0, sizeof *r);
    memcpy(r->key, f[1], klen);
    r->key[klen] = '\0';
    r->npoints = (uint32_t)strtoul(f[2], NULL, 10);
    const char *body = f[3];
    r->path = malloc(plen + 1);
    r->body_len = (size_t)(end - body);
    r->body = malloc(r->body_len + 1);
    if (r->path == NULL || r->body == NULL) {
        et__spool_rec_cleanup(r);
        return ET_ENOMEM;
    }
    memcpy(r->path, f[0], plen);
    r->path[plen] = '\0';
    memcpy(r->body, body, r->body_len);
    r->body[r->body_len] = '\0';
    return ET_OK;
}

/* The segment to read next: adopted ones first, then ours. */
static struct segment *front(struct et_spool *s, int *index)
{
    for (size_t i = 0; i < s->nsegs; i++) {
        if (s->segs[i].head < s->segs[i].n) {
            *index = (int)i;
            return &s->segs[i];
        }
    }
    *index = -2;
    if (s->mine != NULL && s->mine->head < s->mine->n)
        return s->mine;
    return NULL;
}

int et__spool_peek(struct et_spool *s, struct spool_rec *r)
{
    for (;;) {
        int idx;
        struct segment *g = front(s, &idx);
        char *p = NULL;
        uint32_t n = 0;
        uint64_t next = 0;

        if (g == NULL)
            return 0;
        int rc = read_record(g->fd, g->pending[g->head], g->size, &p, &n, &next);
        if (rc == 1) {
            rc = parse_request(p, n, r);
            free(p);
            if (rc == ET_OK) {
                s->peeked = idx;
                return 1;
            }
        }
        if (rc == ET_ENOMEM || rc == ET_EIO)
            return rc;
        s->corrupt++; /* changed on disk since the scan: skip it */
        g->head++;
    }
}

int et__spool_ack(struct et_spool *s)
{
    struct segment *g = s->peeked == -2 ? s->mine : &s->segs[s->peeked];
    unsigned char a[9];

    if (s->peeked == -1 || g == NULL || g->head >= g->n)
        return ET_EINVAL;
    uint64_t off = g->pending[g->head++];
    a[0] = 'A';
    for (int i = 0; i < 8; i++)
        a[1 + i] = (unsigned char)(off >> (8 * i));
    s->peeked = -1;
    if (g->head == g->n) {
        /* Fully delivered: the whole file goes (we hold its lock). */
        if (g == s->mine) {
            segment_free(s->mine, 1);
            s->mine = NULL;
        } else {
            unlink(g->path);
            close(g->fd);
            g->fd = -1;
        }
        return ET_OK;
    }
    /* Not fsync'd: a lost ack only causes a resend, which the server dedups. */
    return write_record(g, (const char *)a, sizeof a, 0);
}

size_t et__spool_pending(struct et_spool *s, int rescan)
{
    size_t n = 0;

    if (rescan)
        (void)scan_orphans(s);
    for (size_t i = 0; i < s->nsegs; i++)
        n += s->segs[i].n - s->segs[i].head;
    if (s->mine != NULL)
        n += s->mine->n - s->mine->head;
    return n;
}

size_t et__spool_corrupt_count(struct et_spool *s)
{
    return s->corrupt;
}
