/*
 * Linux's side of kestrel's thread benchmark (issue 23): the same figures
 * kestrel's benchmark build prints, measured on Linux in the same QEMU, for
 * scale. tests/linux_bench.py builds this with `musl-gcc -static -O2` and
 * boots it as /init (PID 1) of an initramfs; it also runs as an ordinary
 * program on the host (then it does not power off).
 *
 *   yield-switch  two threads hand a turn to each other, each calling
 *                 sched_yield() after its step: TSC cycles per hand-over
 *                 (per sched_yield that switches to the other thread);
 *   spawn-join    pthread_create() of a thread that returns at once, then
 *                 pthread_join(): TSC cycles per pair.
 *
 * Not like for like with kestrel's kernel threads: every figure here
 * includes a system call (and musl's mmap/munmap of a thread stack for
 * spawn-join).
 *
 * Output, one line per round (the warm-up rounds are marked so):
 *   bench: linux yield-switch cycles=N switches=S yields=Y
 *   bench: linux spawn-join cycles=N pairs=P
 *   bench: linux done
 * `yields` counts every sched_yield call; on one CPU it equals `switches`
 * when each call handed over, which the line lets the reader check.
 *
 * Nothing is mounted and nothing is pinned. The initramfs holds
 * /dev/console, which the kernel opens as PID 1's stdin/stdout/stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

enum {
    ROUNDS = 7,             /* measured rounds of each figure */
    HANDOVERS = 5000,       /* switches per yield-switch round */
    PAIRS = 100,            /* create + join pairs per spawn-join round */
};

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    /* lfence: the read is not moved before earlier instructions finish. */
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

static void fail(const char *what, int error)
{
    printf("bench: linux error %s: %s\n", what, strerror(error));
    fflush(stdout);
}

/* --- yield-switch ------------------------------------------------------- */

struct pingpong {
    unsigned turn;          /* whose step: thread (turn % 2); ends at limit */
    unsigned limit;         /* 2 x hand-overs */
    unsigned ready;         /* threads started */
    unsigned long yields[2];
    uint64_t start, end;
};

struct player {
    struct pingpong *game;
    unsigned me;
};

static void *play(void *arg)
{
    struct player *player = arg;
    struct pingpong *game = player->game;
    unsigned me = player->me;
    unsigned long yields = 0;

    /* Both threads exist before the clock starts. */
    __atomic_add_fetch(&game->ready, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&game->ready, __ATOMIC_ACQUIRE) < 2)
        sched_yield();

    for (;;) {
        unsigned turn = __atomic_load_n(&game->turn, __ATOMIC_ACQUIRE);
        if (turn >= game->limit)
            break;
        if (turn % 2 != me) {
            sched_yield();
            yields++;
            continue;
        }
        if (turn == 0)
            game->start = rdtsc();
        __atomic_store_n(&game->turn, turn + 1, __ATOMIC_RELEASE);
        /* The hand-over: the other thread's step comes next. */
        sched_yield();
        yields++;
    }
    /* Thread 0 sees the end first after the last hand-over (to it). */
    if (me == 0)
        game->end = rdtsc();
    game->yields[me] = yields;
    return NULL;
}

/* Returns cycles per switch (0 on failure); *yields gets every call made. */
static uint64_t yield_switch(unsigned handovers, unsigned long *yields)
{
    struct pingpong game = {.turn = 0, .limit = 2 * handovers};
    struct player players[2] = {{&game, 0}, {&game, 1}};
    pthread_t threads[2];
    int error;

    for (int i = 0; i < 2; i++) {
        error = pthread_create(&threads[i], NULL, play, &players[i]);
        if (error) {
            fail("pthread_create (yield-switch)", error);
            if (i == 1) {
                /* Let thread 0 finish on its own: no partner is coming. */
                __atomic_store_n(&game.turn, game.limit, __ATOMIC_RELEASE);
                __atomic_store_n(&game.ready, 2, __ATOMIC_RELEASE);
                pthread_join(threads[0], NULL);
            }
            return 0;
        }
    }
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    /* turn went 0 .. limit: `limit` steps, each followed by a hand-over;
     * thread 0 read the end after the last one. */
    *yields = game.yields[0] + game.yields[1];
    return (game.end - game.start) / game.limit;
}

/* --- spawn-join --------------------------------------------------------- */

static void *nothing(void *arg)
{
    return arg;
}

static uint64_t spawn_join(unsigned pairs)
{
    uint64_t start = rdtsc();
    for (unsigned i = 0; i < pairs; i++) {
        pthread_t thread;
        int error = pthread_create(&thread, NULL, nothing, NULL);
        if (error) {
            fail("pthread_create (spawn-join)", error);
            return 0;
        }
        pthread_join(thread, NULL);
    }
    return (rdtsc() - start) / pairs;
}

/* --- main --------------------------------------------------------------- */

int main(void)
{
    int init = getpid() == 1;
    unsigned long yields;
    uint64_t cycles;

    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("bench: linux threads: %s, %d rounds of %d hand-overs and of %d pairs\n",
           init ? "as /init" : "as a program", ROUNDS, HANDOVERS, PAIRS);

    /* Warm-up: the code, the stacks and the scheduler's state in place. */
    cycles = yield_switch(HANDOVERS / 10, &yields);
    printf("bench: linux warm-up yield-switch cycles=%llu switches=%u yields=%lu\n",
           (unsigned long long)cycles, 2 * (HANDOVERS / 10), yields);
    for (int round = 0; round < ROUNDS; round++) {
        cycles = yield_switch(HANDOVERS, &yields);
        if (cycles)
            printf("bench: linux yield-switch cycles=%llu switches=%u yields=%lu\n",
                   (unsigned long long)cycles, 2 * HANDOVERS, yields);
    }

    cycles = spawn_join(PAIRS / 10);
    printf("bench: linux warm-up spawn-join cycles=%llu pairs=%u\n",
           (unsigned long long)cycles, PAIRS / 10);
    for (int round = 0; round < ROUNDS; round++) {
        cycles = spawn_join(PAIRS);
        if (cycles)
            printf("bench: linux spawn-join cycles=%llu pairs=%u\n",
                   (unsigned long long)cycles, PAIRS);
    }
    printf("bench: linux done\n");
    fflush(stdout);

    if (init) {
        sync();
        reboot(RB_POWER_OFF);
        /* Only if that failed: PID 1 returning panics the kernel, and
         * panic=-1 with QEMU's -no-reboot ends QEMU all the same. */
        fail("reboot(RB_POWER_OFF)", errno);
    }
    return 0;
}
