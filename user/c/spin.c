/*
 * spin [SECONDS]: burns the CPU in ring 3, never making a system call
 * while it spins, for SECONDS (by the clock) or for ever. For Ctrl-C on a
 * program that does not call the kernel, and for programs on several CPUs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long seconds = argc > 1 ? atol(argv[1]) : -1;
    printf("spin: %s\n", seconds < 0 ? "for ever" : argv[1]);
    fflush(stdout);
    double end = now() + seconds;
    for (;;) {
        /* A billion-odd iterations between clock reads: no system call. */
        for (volatile unsigned long i = 0; i < 50000000UL; i++) {
        }
        if (seconds >= 0 && now() >= end)
            return 0;
    }
}
