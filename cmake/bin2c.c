/*
 * bin2c.c - build-time generator (a host program, not part of oncue): embeds the console
 * bundle web/dist/ in the binary.
 *
 * Usage: bin2c OUT.c ROOT FILE...  where each FILE is a path relative to ROOT. Writes OUT.c
 * defining web_assets[] (src/web/web.h): per file its path ("/" + FILE), Content-Type from
 * the extension, its bytes, their gzip form (zlib level 9, no name, no time, like gzip -9n;
 * kept only when it saves at least 5%, and only when built with zlib), and a strong ETag per
 * form (FNV-1a 64 of the bytes). The output depends only on the inputs, so builds are
 * reproducible. CMake reruns it when a file under web/dist/ changes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef OC_BIN2C_GZIP
#include <zlib.h>
#endif

struct blob {
    unsigned char *p;
    size_t n;
};

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".woff2", "font/woff2"},
    {".woff", "font/woff"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".txt", "text/plain; charset=utf-8"},
    {NULL, NULL},
};

static void die(const char *what, const char *arg)
{
    fprintf(stderr, "bin2c: %s: %s\n", what, arg);
    exit(1);
}

static const char *type_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (int i = 0; dot && types[i].ext; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* Reads a whole file. */
static struct blob slurp(const char *path)
{
    struct blob b = {NULL, 0};
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open", path);
    size_t cap = 0;
    for (;;) {
        if (b.n == cap) {
            cap = cap ? cap * 2 : 65536;
            b.p = realloc(b.p, cap);
            if (!b.p)
                die("out of memory reading", path);
        }
        size_t got = fread(b.p + b.n, 1, cap - b.n, f);
        b.n += got;
        if (got == 0)
            break;
    }
    if (ferror(f))
        die("cannot read", path);
    fclose(f);
    return b;
}

/* The gzip form of in, or an empty blob without zlib. */
static struct blob gzip(const struct blob *in)
{
    struct blob out = {NULL, 0};
#ifdef OC_BIN2C_GZIP
    z_stream z;
    memset(&z, 0, sizeof(z));
    /* windowBits 15 + 16: a gzip wrapper whose header has no name and mtime 0 */
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        die("zlib", "deflateInit2 failed");
    size_t cap = deflateBound(&z, (uLong)in->n) + 32;
    out.p = malloc(cap);
    if (!out.p)
        die("out of memory", "gzip");
    z.next_in = in->p;
    z.avail_in = (uInt)in->n;
    z.next_out = out.p;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        die("zlib", "deflate did not finish");
    out.n = cap - z.avail_out;
    deflateEnd(&z);
#else
    (void)in;
#endif
    return out;
}

static uint64_t fnv1a(const struct blob *b)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < b->n; i++) {
        h ^= b->p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Writes one byte array named name (with a NUL past the end, so it is never empty). */
static void put_array(FILE *o, const char *name, const struct blob *b)
{
    fprintf(o, "static const unsigned char %s[] = {", name);
    for (size_t i = 0; i < b->n; i++)
        fprintf(o, "%s%u,", i % 20 == 0 ? "\n    " : "", b->p[i]);
    fprintf(o, "\n    0};\n");
}

/* 1 when a relative path is safe to embed as a URL path and a C string. */
static int path_ok(const char *p)
{
    return p[0] && p[0] != '/' && !strstr(p, "..") &&
           strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/") ==
               strlen(p);
}

/* Writes the arrays and ETags of file k (relative path rel under root); returns its sizes. */
static void put_file(FILE *o, const char *root, const char *rel, int k, size_t *n, size_t *gz_n)
{
    char path[4096], name[32];
    if (!path_ok(rel))
        die("unsupported file name (use A-Z a-z 0-9 . _ - /)", rel);
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    struct blob b = slurp(path), z = gzip(&b);
    snprintf(name, sizeof(name), "f%d", k);
    put_array(o, name, &b);
    fprintf(o, "static const char f%d_etag[] = \"\\\"%016llx\\\"\";\n", k,
            (unsigned long long)fnv1a(&b));
    if (z.n && z.n * 100 <= b.n * 95) {
        snprintf(name, sizeof(name), "f%d_gz", k);
        put_array(o, name, &z);
        fprintf(o, "static const char f%d_gz_etag[] = \"\\\"%016llx-gz\\\"\";\n", k,
                (unsigned long long)fnv1a(&z));
    } else {
        z.n = 0;
    }
    *n = b.n;
    *gz_n = z.n;
    free(b.p);
    free(z.p);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bin2c OUT.c ROOT FILE...\n");
        return 2;
    }
    int nfiles = argc - 3;
    size_t *n = calloc((size_t)nfiles + 1, sizeof(size_t)),
           *gz_n = calloc((size_t)nfiles + 1, sizeof(size_t));
    FILE *o = fopen(argv[1], "w");
    if (!o || !n || !gz_n)
        die("cannot write", argv[1]);
    fprintf(o, "/* Generated by cmake/bin2c.c from web/dist/; do not edit. */\n"
               "#include \"web/web.h\"\n\n#include <stddef.h>\n\n");
    for (int k = 0; k < nfiles; k++)
        put_file(o, argv[2], argv[k + 3], k, &n[k], &gz_n[k]);
    fprintf(o, "\nconst struct web_asset web_assets[] = {\n");
    for (int k = 0; k < nfiles; k++) {
        const char *rel = argv[k + 3];
        fprintf(o, "    {\"/%s\", \"%s\", f%d, %zu, ", rel, type_of(rel), k, n[k]);
        if (gz_n[k])
            fprintf(o, "f%d_gz, %zu, f%d_etag, f%d_gz_etag},\n", k, gz_n[k], k, k);
        else
            fprintf(o, "NULL, 0, f%d_etag, NULL},\n", k);
    }
    fprintf(o, "    {0},\n};\n");
    if (fclose(o) != 0)
        die("cannot write", argv[1]);
    free(n);
    free(gz_n);
    return 0;
}
