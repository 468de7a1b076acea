/*
 * same: one static binary, the same output under Linux and kestrel. Uses
 * stdio, malloc, a directory listing, stat and clock_gettime; prints
 * nothing that depends on the machine:
 *   same: /data
 *   NAME SIZE            one line a file of /data, sorted by name
 *   same: /data/greeting.txt
 *   <the file's text>
 *   malloc: ok
 *   clock: ok
 *   same: done
 * Failures print "same: ..." lines instead; the exit status is then 1.
 * As PID 1 (Linux's /init) it powers off at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list(const char *dir)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t count = 0, capacity = 0;
    struct dirent *de;
    int status = 0;

    printf("same: %s\n", dir);
    if (!d) {
        printf("same: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (count == capacity) {
            capacity = capacity ? 2 * capacity : 8;
            names = realloc(names, capacity * sizeof *names);
            if (!names) {
                printf("same: out of memory\n");
                closedir(d);
                return 1;
            }
        }
        names[count++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, count, sizeof *names, by_name);
    for (size_t i = 0; i < count; i++) {
        char path[512];
        struct stat st;

        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0) {
            printf("%s %lld\n", names[i], (long long)st.st_size);
        } else {
            printf("same: %s: %s\n", path, strerror(errno));
            status = 1;
        }
        free(names[i]);
    }
    free(names);
    return status;
}

static int show(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];

    printf("same: %s\n", path);
    if (!f) {
        printf("same: %s: %s\n", path, strerror(errno));
        return 1;
    }
    while (fgets(line, sizeof line, f))
        fputs(line, stdout);
    fclose(f);
    return 0;
}

/* Blocks from tiny to mmap-sized, filled, one grown, all checked, freed. */
static int check_malloc(void)
{
    static const size_t sizes[] = { 1, 24, 100, 4000, 70000, 300000 };
    enum { N = sizeof sizes / sizeof *sizes };
    unsigned char *blocks[N];
    int ok = 1;

    for (size_t i = 0; i < N; i++) {
        blocks[i] = malloc(sizes[i]);
        if (!blocks[i]) {
            printf("same: malloc(%zu) failed\n", sizes[i]);
            return 1;
        }
        memset(blocks[i], (int)(0x40 + i), sizes[i]);
    }
    {   /* grow the 100-byte block: the old bytes must survive */
        unsigned char *grown = realloc(blocks[2], 10000);
        if (!grown) {
            printf("same: realloc failed\n");
            return 1;
        }
        memset(grown + 100, 0x7f, 10000 - 100);
        blocks[2] = grown;
    }
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < sizes[i]; j++)
            if (blocks[i][j] != (unsigned char)(0x40 + i))
                ok = 0;
    }
    for (size_t j = 100; j < 10000; j++)
        if (blocks[2][j] != 0x7f)
            ok = 0;
    for (size_t i = 0; i < N; i++)
        free(blocks[i]);
    printf("malloc: %s\n", ok ? "ok" : "corrupted");
    return !ok;
}

static int check_clock(void)
{
    struct timespec before, after;
    volatile unsigned long spin = 0;

    if (clock_gettime(CLOCK_MONOTONIC, &before)) {
        printf("clock: %s\n", strerror(errno));
        return 1;
    }
    for (unsigned long i = 0; i < 1000000; i++)
        spin += i;
    if (clock_gettime(CLOCK_MONOTONIC, &after)) {
        printf("clock: %s\n", strerror(errno));
        return 1;
    }
    if (after.tv_sec > before.tv_sec
        || (after.tv_sec == before.tv_sec && after.tv_nsec >= before.tv_nsec)) {
        printf("clock: ok\n");
        return 0;
    }
    printf("clock: went backwards\n");
    return 1;
}

int main(void)
{
    int status = 0;

    status |= list("/data");
    status |= show("/data/greeting.txt");
    status |= check_malloc();
    status |= check_clock();
    printf("same: done\n");
    fflush(stdout);
    if (getpid() == 1)
        reboot(RB_POWER_OFF);
    return status;
}
