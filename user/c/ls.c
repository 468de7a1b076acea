/*
 * ls [DIR...]: the names in each directory (default "."), sorted, one a
 * line, "." and ".." left out, directories with a trailing '/'. With more
 * than one DIR, each listing starts with a "DIR:" line. An error prints
 * "ls: DIR: <strerror>" on stderr; the exit status is then 1.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct entry {
    char *name;
    int is_dir;
};

static int by_name(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return strcmp(x->name, y->name);
}

/* Whether DIR/NAME is a directory, for file systems without d_type. */
static int stat_is_dir(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);
    struct stat st;
    int result = 0;

    if (!path)
        return 0;
    snprintf(path, len, "%s/%s", dir, name);
    if (stat(path, &st) == 0)
        result = S_ISDIR(st.st_mode);
    free(path);
    return result;
}

static int list(const char *dir)
{
    DIR *d = opendir(dir);
    struct entry *entries = NULL;
    size_t count = 0, capacity = 0;
    struct dirent *de;

    if (!d) {
        fprintf(stderr, "ls: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (!de)
            break;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (count == capacity) {
            size_t grown = capacity ? capacity * 2 : 16;
            struct entry *more = realloc(entries, grown * sizeof *more);
            if (!more) {
                fprintf(stderr, "ls: %s: %s\n", dir, strerror(ENOMEM));
                goto fail;
            }
            entries = more;
            capacity = grown;
        }
        entries[count].name = strdup(de->d_name);
        if (!entries[count].name) {
            fprintf(stderr, "ls: %s: %s\n", dir, strerror(ENOMEM));
            goto fail;
        }
        if (de->d_type == DT_UNKNOWN)
            entries[count].is_dir = stat_is_dir(dir, de->d_name);
        else
            entries[count].is_dir = de->d_type == DT_DIR;
        count++;
    }
    if (errno) {
        fprintf(stderr, "ls: %s: %s\n", dir, strerror(errno));
        goto fail;
    }
    closedir(d);
    qsort(entries, count, sizeof *entries, by_name);
    for (size_t i = 0; i < count; i++) {
        printf("%s%s\n", entries[i].name, entries[i].is_dir ? "/" : "");
        free(entries[i].name);
    }
    free(entries);
    return 0;

fail:
    for (size_t i = 0; i < count; i++)
        free(entries[i].name);
    free(entries);
    closedir(d);
    return 1;
}

int main(int argc, char **argv)
{
    int status = 0;

    if (argc < 2)
        return list(".");
    for (int i = 1; i < argc; i++) {
        if (argc > 2)
            printf("%s%s:\n", i > 1 ? "\n" : "", argv[i]);
        status |= list(argv[i]);
    }
    return status;
}
