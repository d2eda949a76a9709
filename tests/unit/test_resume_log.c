/*
 * test_resume_log.c - resume's own log on disk (src/resume/commit.c, logfmt.c): the record
 * bytes read back, a torn tail cut off at start-up, damage in the middle refusing to start
 * with the file and offset, compaction into a snapshot, and the one-time import of the rows
 * an older version stored in SQLite.
 */
#include "resume/resume_int.h"
#include "core/err.h"
#include "store/store.h"
#include "t.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOW 1764000000000LL

static struct resume_write wr(const char *profile, const char *title, const char *dev, int64_t seq,
                              int64_t pos)
{
    struct resume_write w;
    memset(&w, 0, sizeof w);
    snprintf(w.profile, sizeof w.profile, "%s", profile);
    snprintf(w.title, sizeof w.title, "%s", title);
    snprintf(w.r.device, sizeof w.r.device, "%s", dev);
    snprintf(w.r.session, sizeof w.r.session, "s-%s", dev);
    w.r.seq = seq;
    w.r.ts = NOW + seq;
    w.r.t = NOW + seq - 5; /* t <= ts, since <= t: both deltas are stored */
    w.r.since = NOW - 1000;
    w.r.position_ms = pos;
    w.r.duration_ms = 3600000;
    w.r.state = RESUME_PAUSED;
    return w;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int open_log(struct resume_log *l, const char *dir, struct resume_table *t, char *err,
                    size_t n)
{
    resume_table_init(t);
    return resume_log_open(l, dir, 1, 0, NULL, t, err, n);
}

/* open_log as resume.shared opens it: reports merged, not set. */
static int open_log_merge(struct resume_log *l, const char *dir, struct resume_table *t, int merge)
{
    char err[1400];
    resume_table_init(t);
    return resume_log_open(l, dir, 1, merge, NULL, t, err, sizeof err);
}

/* Commits one write (its own batch): 0 or the error. */
static int commit_one(struct resume_log *l, const struct resume_write *w)
{
    uint64_t b;
    resume_log_lock(l);
    resume_log_push(l, 0, w, &b);
    resume_log_unlock(l);
    return resume_log_wait(l, b);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* The bytes of path up to its last byte that is not zero: its records without the zeros a
 * commit writes ahead of them. */
static off_t records_size(const char *path)
{
    off_t n = file_size(path);
    int fd = open(path, O_RDONLY);
    unsigned char c = 0;
    while (fd >= 0 && n > 0 && pread(fd, &c, 1, n - 1) == 1 && c == 0)
        n--;
    if (fd >= 0)
        close(fd);
    return n;
}

/* Writes n commits of title "tI" at position 1000 + I to a new log in dir, and closes it. */
static void write_commits(const char *dir, int n)
{
    char err[1400], title[16];
    struct resume_log l;
    struct resume_table t;
    T_EQ_INT(open_log(&l, dir, &t, err, sizeof err), 0);
    for (int i = 0; i < n; i++) {
        snprintf(title, sizeof title, "t%d", i);
        struct resume_write w = wr("p", title, "tv", i, 1000 + i);
        T_EQ_INT(commit_one(&l, &w), 0);
    }
    resume_log_close(&l);
    resume_table_free(&t);
}

static int scan_count(void *arg, int kind, uint64_t a, uint64_t c, const struct resume_op *op)
{
    (void)kind, (void)a, (void)c, (void)op;
    (*(int *)arg)++;
    return 0;
}

/* Encoded changes read back field for field; every cut of a record is a torn tail. */
static void test_records_round_trip(void)
{
    struct resume_bytes b = {0};
    struct resume_write w = wr("prof-1", "title:2", "phone_3", 42, 61000);
    struct resume_write d = wr("prof-1", "title:2", "tv", 0, 0);
    struct resume_scan sc;
    int seen = 0;
    resume_rec_open(&b, RESUME_REC_CHANGES);
    resume_rec_change(&b, 0, &w);
    resume_rec_change(&b, 1, &d);
    resume_rec_close(&b);
    resume_rec_seal(b.p, b.len);
    T_EQ_INT(resume_log_scan(b.p, b.len, scan_count, &seen, &sc), 0);
    T_EQ_INT(seen, 2);
    T_EQ_INT(sc.used, b.len);
    T_EQ_INT(sc.changes, 2);
    T_EQ_INT(sc.records, 1);
    /* header 20; the put: flags 1, ids 7 + 8 + 8, session 10, varints 3 + 4 + 1 + 6 + 1 + 2;
     * the delete: flags 1, ids 7 + 8 + 3 */
    T_EQ_INT(b.len, 20 + 51 + 19);
    for (size_t cut = 1; cut < b.len; cut++) {
        T_EQ_INT(resume_log_scan(b.p, cut, NULL, NULL, &sc), 0);
        T_EQ_INT(sc.used, 0);
        T_EQ_INT(sc.torn, 1);
    }
    b.p[b.len - 1] ^= 0x40; /* the last record damaged: torn, not refused */
    T_EQ_INT(resume_log_scan(b.p, b.len, NULL, NULL, &sc), 0);
    T_EQ_INT(sc.used, 0);
    T_EQ_INT(sc.torn, 1);
    T_EQ_STR(sc.why, "a checksum mismatch");
    /* the same followed by zeros (the space written ahead of the records): still torn; with
     * a byte that is not zero after it: damage in the middle */
    size_t len = b.len;
    resume_rec_open(&b, RESUME_REC_CHANGES);
    for (int i = 0; i < 40; i++)
        resume_rec_change(&b, 1, &d);
    memset(b.p + len, 0, b.len - len);
    T_EQ_INT(resume_log_scan(b.p, b.len, NULL, NULL, &sc), 0);
    T_EQ_INT(sc.used, 0);
    T_EQ_INT(sc.torn, 1);
    b.p[b.len - 1] = 1;
    T_EQ_INT(resume_log_scan(b.p, b.len, NULL, NULL, &sc), 0);
    T_EQ_INT(sc.used, 0);
    T_EQ_INT(sc.torn, 0);
    T_EQ_STR(sc.why, "a checksum mismatch");
    resume_bytes_free(&b);
}

/* Reloaded: every field of the report as written (t and since kept). */
static void test_reload_fields(void)
{
    char dir[64] = "/tmp/oncue-rlog-XXXXXX", err[1400];
    struct resume_log l;
    struct resume_table t;
    T_TRUE(mkdtemp(dir) != NULL);
    write_commits(dir, 3);
    T_EQ_INT(open_log(&l, dir, &t, err, sizeof err), 0);
    T_EQ_INT(t.npoints, 3);
    const struct resume_point *p = resume_table_get(&t, "p", "t2");
    T_TRUE(p && p->n == 1);
    if (p) {
        T_EQ_STR(p->r[0].device, "tv");
        T_EQ_STR(p->r[0].session, "s-tv");
        T_EQ_INT(p->r[0].position_ms, 1002);
        T_EQ_INT(p->r[0].duration_ms, 3600000);
        T_EQ_INT(p->r[0].seq, 2);
        T_EQ_INT(p->r[0].ts, NOW + 2);
        T_EQ_INT(p->r[0].t, NOW - 3);
        T_EQ_INT(p->r[0].since, NOW - 1000);
        T_EQ_INT(p->r[0].state, RESUME_PAUSED);
    }
    resume_log_close(&l);
    resume_table_free(&t);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* A crash mid-write: the last record cut short (or zeros the file system extended the file
 * with) is cut off at start-up; everything before it loads, and later writes follow it. */
static void test_torn_tail_is_cut(void)
{
    char dir[64] = "/tmp/oncue-rlog-XXXXXX", err[1400], seg[128];
    struct resume_log l;
    struct resume_table t;
    T_TRUE(mkdtemp(dir) != NULL);
    write_commits(dir, 5);
    snprintf(seg, sizeof seg, "%s/resume/000000000001.log", dir);
    off_t whole = records_size(seg);
    T_TRUE(whole > 0);
    T_EQ_INT(truncate(seg, whole - 7), 0); /* the 5th record cut short */
    T_EQ_INT(open_log(&l, dir, &t, err, sizeof err), 0);
    T_EQ_INT(t.npoints, 4);
    T_TRUE(resume_table_get(&t, "p", "t4") == NULL);
    T_TRUE(file_size(seg) < whole - 7); /* cut at the 4th record's end */
    struct resume_write w = wr("p", "t9", "tv", 9, 9000);
    T_EQ_INT(commit_one(&l, &w), 0);
    resume_log_close(&l);
    resume_table_free(&t);
    int fd = open(seg, O_WRONLY | O_APPEND);
    char zeros[100] = {0};
    T_EQ_INT(write(fd, zeros, sizeof zeros), (long)sizeof zeros);
    close(fd);
    T_EQ_INT(open_log(&l, dir, &t, err, sizeof err), 0);
    T_EQ_INT(t.npoints, 5);
    T_TRUE(resume_table_get(&t, "p", "t9") != NULL);
    resume_log_close(&l);
    resume_table_free(&t);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Copies the files of src/resume to dst/resume as they are now (a kill -9 keeps what the
 * process wrote; the page cache outlives it). */
static void copy_log(const char *src, const char *dst)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "cp -r '%s/resume' '%s/'", src, dst);
    T_EQ_INT(system(cmd), 0);
}

/* Replay after kill -9: the files as the open log left them load every committed write; a
 * record cut short after them (a kill mid-write) and zeros are cut off. */
static void test_replay_after_kill(void)
{
    char dir[64] = "/tmp/oncue-rlog-XXXXXX", dir2[64] = "/tmp/oncue-rlog-XXXXXX", err[1400];
    char seg[128], title[16];
    struct resume_log l, l2;
    struct resume_table t, t2;
    T_TRUE(mkdtemp(dir) != NULL);
    T_TRUE(mkdtemp(dir2) != NULL);
    T_EQ_INT(open_log(&l, dir, &t, err, sizeof err), 0);
    for (int i = 0; i < 50; i++) {
        snprintf(title, sizeof title, "t%d", i);
        struct resume_write w = wr("p", title, "tv", i, 2000 + i);
        T_EQ_INT(commit_one(&l, &w), 0);
    }
    copy_log(dir, dir2);
    snprintf(seg, sizeof seg, "%s/resume/000000000001.log", dir2);
    off_t whole = records_size(seg);
    T_TRUE(file_size(seg) > whole); /* the zeros written ahead */
    int fd = open(seg, O_WRONLY);   /* half of a record's header, then zeros, where the next */
    T_TRUE(fd >= 0);                /* commit writes (over the zeros written ahead) */
    static const char junk[4096] = {'O', 'R', 'L', '1', 1, 0, 0, 0, 9};
    T_EQ_INT(pwrite(fd, junk, sizeof junk, whole), (long)sizeof junk);
    close(fd);
    T_EQ_INT(open_log(&l2, dir2, &t2, err, sizeof err), 0);
    T_EQ_INT(t2.npoints, 50);
    const struct resume_point *p = resume_table_get(&t2, "p", "t49");
    T_TRUE(p && p->n == 1 && p->r[0].position_ms == 2049);
    T_EQ_INT(file_size(seg), whole); /* cut at the last record */
    resume_log_close(&l2);
    resume_table_free(&t2);
    resume_log_close(&l);
    resume_table_free(&t);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    nftw(dir2, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* A small commit past the segment's size writes 1 MiB of zeros after its records, so the
 * commits after it leave the size (and the inode) alone; a large one only extends the file.
 * A restart cuts the zeros off and every record loads. */
static void test_zeros_ahead(void)
{
    char dir[64] = "/tmp/oncue-rlog-XXXXXX", err[1400], seg[128], title[16];
    struct resume_log l;
    struct resume_table t;
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(open_log(&l, dir, &t, err, sizeof err), 0);
    snprintf(seg, sizeof seg, "%s/resume/000000000001.log", dir);
    struct resume_write w = wr("p", "t0", "tv", 1, 1000);
    T_EQ_INT(commit_one(&l, &w), 0);
    off_t one = records_size(seg);
    T_TRUE(one > 0);
    T_EQ_INT(file_size(seg), one + (1 << 20));
    w = wr("p", "t1", "tv", 2, 1001);
    T_EQ_INT(commit_one(&l, &w), 0);
    T_EQ_INT(records_size(seg), 2 * one); /* the same size of record */
    T_EQ_INT(file_size(seg), one + (1 << 20));
    /* 60,000 changes in one commit (over 64 KiB): past the zeros, none written ahead */
    uint64_t b = 0;
    resume_log_lock(&l);
    for (int i = 0; i < 60000; i++) {
        snprintf(title, sizeof title, "u%d", i);
        w = wr("p", title, "tv", 3, 1002);
        resume_log_push(&l, 0, &w, &b);
    }
    resume_log_unlock(&l);
    T_EQ_INT(resume_log_wait(&l, b), 0);
    off_t big = records_size(seg);
    T_TRUE(big > one + (1 << 20));
    T_EQ_INT(file_size(seg), big);
    w = wr("p", "t2", "tv", 4, 1003);
    T_EQ_INT(commit_one(&l, &w), 0);
    T_EQ_INT(file_size(seg), big + one + (1 << 20));
    resume_log_close(&l);
    resume_table_free(&t);
    T_EQ_INT(open_log(&l, dir, &t, err, sizeof err), 0);
    T_EQ_INT(t.npoints, 60003);
    T_EQ_INT(file_size(seg), big + one); /* the zeros cut off */
    const struct resume_point *p = resume_table_get(&t, "p", "t2");
    T_TRUE(p && p->n == 1 && p->r[0].position_ms == 1003);
    w = wr("p", "t3", "tv", 5, 1004);
    T_EQ_INT(commit_one(&l, &w), 0);
    T_EQ_INT(records_size(seg), big + 2 * one);
    resume_log_close(&l);
    resume_table_free(&t);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* A damaged record with whole records after it: the server refuses to start, naming the
 * file and the offset (acknowledged writes follow it). */
static void test_bad_crc_in_the_middle_refuses(void)
{
    char dir[64] = "/tmp/oncue-rlog-XXXXXX", err[1400], seg[128], want[200];
    struct resume_log l;
    struct resume_table t;
    T_TRUE(mkdtemp(dir) != NULL);
    write_commits(dir, 3);
    snprintf(seg, sizeof seg, "%s/resume/000000000001.log", dir);
    off_t whole = file_size(seg), rec = records_size(seg) / 3; /* three of the same size */
    int fd = open(seg, O_RDWR);
    char c;
    T_EQ_INT(pread(fd, &c, 1, rec + 30), 1);
    c ^= 1;
    T_EQ_INT(pwrite(fd, &c, 1, rec + 30), 1); /* a byte of the 2nd record's payload */
    close(fd);
    T_EQ_INT(open_log(&l, dir, &t, err, sizeof err), OC_EIO);
    snprintf(want, sizeof want, "%s: offset %lld: a checksum mismatch", seg, (long long)rec);
    T_CONTAINS(err, want);
    T_CONTAINS(err, "truncate -s");
    T_EQ_INT(file_size(seg), whole); /* nothing cut */
    resume_table_free(&t);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* The compactor's view of a table, for the test: the table is written by the test only. */
static void snap_of(void *arg, struct resume_bytes *b)
{
    resume_table_encode(arg, b);
}

/* Compaction: a snapshot of the table replaces the segments before the new one; later
 * writes go to the new segment; a reload gives the same table and the shared cursor the
 * snapshot was written with. A damaged snapshot refuses. */
static void test_compaction(void)
{
    char dir[64] = "/tmp/oncue-rlog-XXXXXX", err[1400], path[128], title[16];
    struct resume_log l;
    struct resume_table t, mine;
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(open_log(&l, dir, &t, err, sizeof err), 0);
    T_EQ_INT(l.cursor0, 0); /* the first snapshot: no shared row folded */
    resume_table_free(&t);
    resume_table_init(&mine);
    l.cursor0 = 4242; /* as if every shared row up to 4242 were folded (resume.shared) */
    l.snap = snap_of;
    l.snap_arg = &mine;
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 100; i++) {
            snprintf(title, sizeof title, "t%d", i);
            struct resume_op op = {0, wr("p", title, "tv", round * 100 + i, round * 10 + i)};
            T_EQ_INT(commit_one(&l, &op.w), 0);
            resume_table_apply(&mine, &op);
        }
    T_EQ_INT(resume_log_compact(&l), 0);
    T_EQ_INT(atomic_load(&l.compactions), 1);
    snprintf(path, sizeof path, "%s/resume/000000000001.log", dir);
    T_EQ_INT(file_size(path), -1); /* dropped */
    snprintf(path, sizeof path, "%s/resume/000000000002.log", dir);
    T_EQ_INT(file_size(path), 0);
    struct resume_op del = {1, wr("p", "t5", "tv", 0, 0)};
    uint64_t b;
    resume_log_lock(&l);
    resume_log_push(&l, 1, &del.w, &b);
    resume_log_unlock(&l);
    T_EQ_INT(resume_log_wait(&l, b), 0);
    struct resume_write w = wr("p", "t7", "tv", 900, 777);
    T_EQ_INT(commit_one(&l, &w), 0);
    resume_log_close(&l);
    T_EQ_INT(open_log(&l, dir, &t, err, sizeof err), 0);
    T_EQ_INT(l.cursor0, 4242); /* kept in the snapshot's head record */
    T_EQ_INT(t.npoints, 100);
    const struct resume_point *p = resume_table_get(&t, "p", "t5");
    T_TRUE(p && p->n == 0);
    p = resume_table_get(&t, "p", "t7");
    T_TRUE(p && p->n == 1 && p->r[0].position_ms == 777);
    p = resume_table_get(&t, "p", "t99");
    T_TRUE(p && p->n == 1 && p->r[0].position_ms == 119 && p->r[0].seq == 299);
    resume_log_close(&l);
    resume_table_free(&t);
    /* the snapshot is written whole or not at all: a damaged one refuses */
    snprintf(path, sizeof path, "%s/resume/snapshot", dir);
    T_EQ_INT(truncate(path, file_size(path) - 1), 0);
    T_EQ_INT(open_log(&l, dir, &t, err, sizeof err), OC_EIO);
    T_CONTAINS(err, path);
    resume_table_free(&t);
    resume_table_free(&mine);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* resume.shared: a node queues an older report of a device, another replica's newer one is
 * folded, a compaction starts (the cursor past that row) and the older one is logged in the
 * new segment. Replay that sets reports would end with the older (and the row is not read
 * again: it is below the cursor); the merge keeps the newer. */
static void test_shared_replay_keeps_the_greater(void)
{
    char dir[64] = "/tmp/oncue-rlog-XXXXXX";
    struct resume_log l;
    struct resume_table t, mine;
    uint64_t b;
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(open_log_merge(&l, dir, &t, 1), 0);
    resume_table_free(&t);
    resume_table_init(&mine);
    l.snap = snap_of;
    l.snap_arg = &mine;
    struct resume_op own = {0, wr("p", "t", "tv", 5, 100)};
    struct resume_op other = {0, wr("p", "t", "tv", 6, 200)};
    resume_log_lock(&l);
    resume_log_push(&l, 0, &own.w, &b); /* queued, not yet written */
    resume_log_unlock(&l);
    resume_table_apply(&mine, &own);
    T_EQ_INT(resume_table_merge(&mine, &other, 100, 100), RESUME_APPLIED); /* folded */
    l.cursor0 = 7; /* the other's row is below it */
    T_EQ_INT(resume_log_compact(&l), 0);
    T_EQ_INT(resume_log_wait(&l, b), 0); /* written to the new segment */
    resume_log_close(&l);
    for (int merge = 1; merge >= 0; merge--) {
        T_EQ_INT(open_log_merge(&l, dir, &t, merge), 0);
        T_EQ_INT(l.cursor0, 7);
        const struct resume_point *p = resume_table_get(&t, "p", "t");
        T_TRUE(p && p->n == 1);
        T_EQ_INT(p->r[0].seq, merge ? 6 : 5); /* set: the older report, for ever */
        resume_log_close(&l);
        resume_table_free(&t);
    }
    resume_table_free(&mine);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static int load_into(void *arg, int kind, uint64_t a, uint64_t c, const struct resume_op *op)
{
    (void)a, (void)c;
    return kind == RESUME_REC_CHANGES ? resume_table_apply(arg, op) : 0;
}

/* The compactor encodes a few thousand reports per hold of the lock; writes between the
 * chunks, a doubling of the hash buckets among them, lose no point present throughout. */
static void test_chunked_encoding_misses_nothing(void)
{
    struct resume_table t, back;
    struct resume_bytes b = {0};
    struct resume_scan sc;
    char title[16];
    resume_table_init(&t);
    resume_table_init(&back);
    for (int i = 0; i < 1000; i++) {
        snprintf(title, sizeof title, "a%d", i);
        struct resume_op op = {0, wr("p", title, "tv", i, i)};
        resume_table_apply(&t, &op);
    }
    size_t npb = t.npb, next = 0;
    for (int round = 0; next < t.npb; round++) {
        next = resume_table_encode_from(&t, &b, next, 10);
        if (round == 3) /* 2,000 new points: the buckets double (and again) */
            for (int i = 0; i < 2000; i++) {
                snprintf(title, sizeof title, "n%d", i);
                struct resume_op op = {0, wr("q", title, "tv", i, i)};
                resume_table_apply(&t, &op);
            }
    }
    T_TRUE(t.npb > npb);
    resume_rec_seal(b.p, b.len);
    T_EQ_INT(resume_log_scan(b.p, b.len, load_into, &back, &sc), 0);
    T_EQ_INT(sc.used, b.len);
    for (int i = 0; i < 1000; i++) {
        snprintf(title, sizeof title, "a%d", i);
        const struct resume_point *p = resume_table_get(&back, "p", title);
        T_TRUE(p && p->n == 1 && p->r[0].position_ms == i);
    }
    resume_bytes_free(&b);
    resume_table_free(&t);
    resume_table_free(&back);
}

/* The first start of the log imports the rows an older version stored in SQLite, once. */
static void test_import_from_store_once(void)
{
    char dir[64] = "/tmp/oncue-rlog-XXXXXX", err[1400];
    struct store *s = NULL;
    struct resume_log l;
    struct resume_table t;
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(store_open(dir, STORE_SYNC_NORMAL, &s, err, sizeof err), 0);
    T_EQ_INT(store_exec(s, "INSERT INTO resume_reports(profile, title, device, session,"
                           " position_ms, duration_ms, seq, ts_ms, t_ms, since_ms, state) VALUES"
                           " ('p', 'old', 'tv', 's1', 4000, 7200000, 3, 1764000000000,"
                           " 1764000000000, 1763999990000, 0),"
                           " ('p', 'old', 'phone', 's2', 5000, 7200000, 9, 1764000000100,"
                           " 1764000000100, 1764000000100, 1)"),
             0);
    resume_table_init(&t);
    T_EQ_INT(resume_log_open(&l, dir, 0, 0, s, &t, err, sizeof err), 0);
    const struct resume_point *p = resume_table_get(&t, "p", "old");
    T_TRUE(p && p->n == 2);
    resume_log_close(&l);
    resume_table_free(&t);
    /* the store is no longer read: a row added there now is not loaded */
    T_EQ_INT(store_exec(s, "INSERT INTO resume_reports(profile, title, device, session,"
                           " position_ms, duration_ms, seq, ts_ms, t_ms, since_ms, state) VALUES"
                           " ('p', 'late', 'tv', 's1', 1, 7200000, 1, 1764000000000,"
                           " 1764000000000, 1764000000000, 0)"),
             0);
    resume_table_init(&t);
    T_EQ_INT(resume_log_open(&l, dir, 0, 0, s, &t, err, sizeof err), 0);
    T_EQ_INT(t.npoints, 1);
    p = resume_table_get(&t, "p", "old");
    T_TRUE(p && p->n == 2);
    for (int k = 0; p && k < p->n; k++) {
        int tv = strcmp(p->r[k].device, "tv") == 0;
        T_EQ_INT(p->r[k].position_ms, tv ? 4000 : 5000);
        T_EQ_INT(p->r[k].since, tv ? 1763999990000LL : 1764000000100LL);
        T_EQ_INT(p->r[k].state, tv ? RESUME_PAUSED : RESUME_PLAYING);
    }
    resume_log_close(&l);
    resume_table_free(&t);
    store_close(s);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static const struct t_case cases[] = {
    T_CASE(test_records_round_trip),
    T_CASE(test_reload_fields),
    T_CASE(test_torn_tail_is_cut),
    T_CASE(test_replay_after_kill),
    T_CASE(test_zeros_ahead),
    T_CASE(test_bad_crc_in_the_middle_refuses),
    T_CASE(test_compaction),
    T_CASE(test_shared_replay_keeps_the_greater),
    T_CASE(test_chunked_encoding_misses_nothing),
    T_CASE(test_import_from_store_once),
    {0},
};

T_MAIN(cases)
