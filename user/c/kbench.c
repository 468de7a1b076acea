/*
 * kbench: system call costs in TSC cycles, the same static binary under
 * Linux (as /init, PID 1) and under kestrel. Each figure is measured in
 * ROUNDS rounds after one warm-up round; one line a round:
 *   bench: getpid cycles=N    per call (raw getpid, GETPID_CALLS a round)
 *   bench: write1 cycles=N    per write(1, ".", 1) (WRITE_CALLS a round;
 *                             the dots, then a newline, precede the line)
 *   bench: mmap64k cycles=N   per mmap of 64 KiB anonymous private memory
 *                             and its munmap (MMAP_PAIRS a round)
 *   bench: done
 *   bench: pingpong cycles=N  per sched_yield while two processes take
 *                             turns on one CPU (as PID 1, under Linux: it
 *                             forks the partner; each prints its line)
 *   bench: spawn cycles=N     per posix_spawn of /true and its waitpid (as
 *                             PID 1 only: kestrel programs cannot start
 *                             programs; kestrel's figure is the shell's
 *                             `time /bin/true`, timed in the kernel)
 * `kbench yield N`: N sched_yield calls, then "bench: yield cycles=N" (per
 * call) and "bench: done".
 * `kbench pingpong N START_MS`: waits until CLOCK_MONOTONIC reaches
 * START_MS, then N sched_yield calls, and "bench: pingpong cycles=N": run
 * twice in the background on one CPU with the same START_MS, the two take
 * turns (kestrel has no fork: the shell starts both).
 * As PID 1 it powers off with reboot(RB_POWER_OFF) at the end; where that
 * fails (kestrel: no reboot) it exits 0 like elsewhere.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 5
#define GETPID_CALLS 20000
#define WRITE_CALLS 200
#define MMAP_PAIRS 2000
#define MMAP_SIZE (64 * 1024)
#define PINGPONG_YIELDS 20000
#define SPAWNS 20

extern char **environ;

static inline uint64_t cycles(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
    return (uint64_t)hi << 32 | lo;
}

static inline long raw3(long n, long a, long b, long c)
{
    long result;
    __asm__ volatile("syscall" : "=a"(result) : "a"(n), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return result;
}

static inline long raw6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long result;
    __asm__ volatile("syscall" : "=a"(result)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return result;
}

static uint64_t bench_getpid(void)
{
    uint64_t start = cycles();
    for (int i = 0; i < GETPID_CALLS; i++)
        raw3(39, 0, 0, 0);
    return (cycles() - start) / GETPID_CALLS;
}

static uint64_t bench_write1(void)
{
    uint64_t start, elapsed;

    fflush(stdout);
    start = cycles();
    for (int i = 0; i < WRITE_CALLS; i++)
        raw3(1, 1, (long)".", 1);
    elapsed = cycles() - start;
    raw3(1, 1, (long)"\n", 1);
    return elapsed / WRITE_CALLS;
}

static uint64_t bench_mmap64k(void)
{
    uint64_t start = cycles();
    for (int i = 0; i < MMAP_PAIRS; i++) {
        long p = raw6(9, 0, MMAP_SIZE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p < 0 && p >= -4095) {
            printf("bench: mmap failed: %ld\n", p);
            return 0;
        }
        raw3(11, p, MMAP_SIZE, 0);
    }
    return (cycles() - start) / MMAP_PAIRS;
}

/* Milliseconds on CLOCK_MONOTONIC. */
static uint64_t monotonic_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Sleeps until CLOCK_MONOTONIC reaches start_ms, then n sched_yield calls;
 * prints the cycles per call. */
static void pingpong(unsigned long long n, uint64_t start_ms)
{
    uint64_t now = monotonic_ms(), start;
    if (start_ms > now) {
        struct timespec wait = { (start_ms - now) / 1000, (start_ms - now) % 1000 * 1000000 };
        nanosleep(&wait, NULL);
    }
    start = cycles();
    for (unsigned long long i = 0; i < n; i++)
        raw3(24, 0, 0, 0);
    printf("bench: pingpong cycles=%llu\n", (unsigned long long)((cycles() - start) / n));
    fflush(stdout);
}

/* Under Linux as PID 1: a partner process, both yielding from the same
 * moment; the parent waits for it. */
static void pingpong_pair(void)
{
    uint64_t start_ms = monotonic_ms() + 200;
    pid_t child = fork();
    if (child < 0) {
        printf("bench: fork failed\n");
        return;
    }
    pingpong(PINGPONG_YIELDS, start_ms);
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
}

/* Under Linux as PID 1: posix_spawn of /true and its waitpid, per pair. */
static uint64_t bench_spawn(void)
{
    char *argv[] = { "/true", NULL };
    uint64_t start = cycles();
    for (int i = 0; i < SPAWNS; i++) {
        pid_t pid;
        int status;
        if (posix_spawn(&pid, "/true", NULL, NULL, argv, environ) != 0) {
            printf("bench: posix_spawn failed\n");
            return 0;
        }
        waitpid(pid, &status, 0);
    }
    return (cycles() - start) / SPAWNS;
}

static void run(const char *name, uint64_t (*bench)(void))
{
    bench(); /* warm-up */
    for (int round = 0; round < ROUNDS; round++) {
        uint64_t per_call = bench();
        printf("bench: %s cycles=%llu\n", name, (unsigned long long)per_call);
        fflush(stdout);
    }
}

static int finish(void)
{
    printf("bench: done\n");
    fflush(stdout);
    if (getpid() == 1)
        reboot(RB_POWER_OFF);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "yield")) {
        char *end;
        unsigned long long n = strtoull(argv[2], &end, 0);
        uint64_t start;

        if (*end || !n) {
            fprintf(stderr, "usage: kbench [yield N]\n");
            return 2;
        }
        start = cycles();
        for (unsigned long long i = 0; i < n; i++)
            raw3(24, 0, 0, 0);
        printf("bench: yield cycles=%llu\n",
               (unsigned long long)((cycles() - start) / n));
        return finish();
    }
    if (argc == 4 && !strcmp(argv[1], "pingpong")) {
        unsigned long long n = strtoull(argv[2], NULL, 0);
        unsigned long long start_ms = strtoull(argv[3], NULL, 0);
        if (!n) {
            fprintf(stderr, "usage: kbench pingpong N START_MS\n");
            return 2;
        }
        pingpong(n, start_ms);
        return 0;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: kbench [yield N | pingpong N START_MS]\n");
        return 2;
    }
    run("getpid", bench_getpid);
    run("write1", bench_write1);
    run("mmap64k", bench_mmap64k);
    if (getpid() == 1) {
        for (int round = 0; round <= ROUNDS; round++)
            pingpong_pair();
        run("spawn", bench_spawn);
    }
    return finish();
}
