/*
 * sleep SECONDS: sleeps (nanosleep), then exits 0. For the tests that look
 * at a program's address space from outside while it waits, and for
 * Ctrl-C while a program sleeps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: sleep SECONDS\n");
        return 2;
    }
    struct timespec t = { .tv_sec = atol(argv[1]), .tv_nsec = 0 };
    printf("sleep: %ld s\n", (long)t.tv_sec);
    fflush(stdout);
    if (nanosleep(&t, NULL) != 0) {
        perror("sleep");
        return 1;
    }
    return 0;
}
