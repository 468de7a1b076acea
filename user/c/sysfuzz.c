/*
 * sysfuzz SEED COUNT: COUNT random raw system calls (the `syscall`
 * instruction, not libc, so errno and the thread pointer stay untouched)
 * from a xorshift64* generator seeded with SEED. The calls and arguments
 * depend on SEED alone, never on results, so a seed replays exactly.
 *
 * Output: "sysfuzz: N calls" every 10000 calls, and at the end
 *   sysfuzz: seed S: N calls, K ok, E errors, U enosys
 * where K + E = N (K: results >= 0, E: results -4095..-1) and U (-ENOSYS)
 * is part of E. Exit 0; 1 if the memory it checks was changed behind its
 * back; 2 on bad arguments.
 *
 * Safe by construction, on kestrel and on a Linux host (where it runs as
 * root in tests): it calls only the system calls kestrel implements, plus
 * unknown numbers (>= 500, or huge values whose low 32 bits Linux ignores
 * or finds unknown) and a few read-only Linux calls kestrel lacks. Never:
 * exit, exit_group, kill, tkill, tgkill, rt_sigreturn; read/readv of fds
 * 0-2 (they would wait for typing); close, lseek, fcntl(F_SETFL) of fds 0-2;
 * more than 16 bytes to fds 1 and 2 (always from a printable buffer); opens
 * other than read-only of a fixed list of paths; ioctl other than a few
 * read-only requests; munmap, mprotect, mremap, mmap(MAP_FIXED) outside a
 * region it reserved for them; brk except around its unused heap;
 * arch_prctl(ARCH_SET_FS) to anything but the current value. Inherited fds
 * from 3 up are closed first: every fd >= 3 it uses is its own, read-only.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096ul
#define SCRATCH_PAGES 4
#define SCRATCH_SIZE (SCRATCH_PAGES * PAGE)
#define RESERVED_SIZE (1ul << 20)
#define MAX_FUZZ_FD 16

/* Linux x86_64 numbers. */
enum {
    NR_read = 0, NR_write = 1, NR_open = 2, NR_close = 3, NR_stat = 4,
    NR_fstat = 5, NR_lstat = 6, NR_lseek = 8, NR_mmap = 9, NR_mprotect = 10,
    NR_munmap = 11, NR_brk = 12, NR_rt_sigprocmask = 14, NR_ioctl = 16,
    NR_readv = 19, NR_writev = 20, NR_sched_yield = 24, NR_mremap = 25,
    NR_nanosleep = 35, NR_getpid = 39, NR_uname = 63, NR_fcntl = 72,
    NR_getcwd = 79, NR_chdir = 80, NR_getppid = 110, NR_arch_prctl = 158,
    NR_gettid = 186, NR_set_tid_address = 218, NR_clock_gettime = 228,
    NR_openat = 257, NR_newfstatat = 262, NR_getrandom = 318,
};

/* Linux calls kestrel does not have, harmless with any argument from the
 * pools below: they only read state, or write into a buffer argument. */
static const long harmless_unknown[] = {
    96 /* gettimeofday */, 97 /* getrlimit */, 98 /* getrusage */,
    99 /* sysinfo */, 100 /* times */, 102 /* getuid */, 104 /* getgid */,
    107 /* geteuid */, 108 /* getegid */, 111 /* getpgrp */,
    115 /* getgroups */, 118 /* getresuid */, 120 /* getresgid */,
    121 /* getpgid */, 124 /* getsid */, 143 /* sched_getparam */,
    145 /* sched_getscheduler */, 146 /* sched_get_priority_max */,
    147 /* sched_get_priority_min */, 201 /* time */,
    204 /* sched_getaffinity */, 229 /* clock_getres */, 309 /* getcpu */,
};

/* Paths open, stat, chdir get: a copy of one of these in the scratch
 * buffer (or a bad pointer); the long ones are built at start. */
static const char *const paths[] = {
    "/", ".", "..", "/bin", "/bin/hello", "/bin/cat", "/data",
    "/data/greeting.txt", "/data/numbers.txt", "/etc", "/etc/motd",
    "/nonexistent", "", "data/greeting.txt", "bin", "data",
    "/data/greeting.txt/", "/bin/hello/x", "//data//./greeting.txt",
    "/../../data", "/data/../etc/motd", "nonexistent/x",
};
static char long_name[300];   /* one 299-byte component: ENAMETOOLONG */
static char long_path[5000];  /* longer than PATH_MAX */

/* What fds 1 and 2 may be given: printable, no terminal escapes. */
static const char printable[16] = "~~~~~~~~~~~~~~~~";

/* Must not change: checked every 10000 calls and at the end. */
static unsigned char sentinel[4096];

/*
 * One mapping made at start, then cut up (p: a page):
 *   scratch (4 p, RW) | guard (p, unmapped) | printable (p, R, all '~') |
 *   hole (p, unmapped) | fence (p, PROT_NONE) | reserved (1 MiB, PROT_NONE
 *   at start) | fence (p, PROT_NONE)
 * The fences keep whatever the fuzzed calls do to the reserved region
 * (mmap MAP_FIXED, mremap, growing in place) inside it. The holes stay
 * unmapped: only mmap without MAP_FIXED could place something there, and
 * the fuzzer unmaps what such a call gave at once.
 */
static uint64_t state;
static unsigned char *scratch;       /* SCRATCH_SIZE, then the guard page */
static unsigned char *guard;         /* unmapped */
static unsigned char *printable_map; /* read-only, all '~', unmapped after */
static unsigned char *fence;         /* PROT_NONE, before reserved */
static unsigned char *reserved;      /* RESERVED_SIZE, fuzzed mappings */
static uintptr_t initial_brk;
static uintptr_t fs_base;
static int wrote_console;            /* a fuzzed write reached fd 1 or 2 */

static long raw6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long result;

    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return result;
}

static uint64_t next(void)
{
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545f4914f6cdd1dull;
}

/* 0 <= result < n */
static uint64_t below(uint64_t n)
{
    return next() % n;
}

static int chance(unsigned percent)
{
    return below(100) < percent;
}

/* Pointers no system call may use: the call must fail, not crash. Never
 * the reserved region: what fuzzed calls mapped there may hold anything,
 * and the kernel must not read paths, iovecs or times from it. */
static uint64_t bad_pointer(void)
{
    switch (below(12)) {
    case 0: return 0;
    case 1: return below(PAGE);                                /* null page */
    case 2: return PAGE + below(0x3fe) * PAGE + below(16) * 8; /* below 4 MiB */
    case 3: return 0xffffffff80000000ull + below(1u << 24);    /* kernel image */
    case 4: return 0xffff800000000000ull + below(1ull << 32);  /* direct map */
    case 5: return UINT64_MAX - below(PAGE);
    case 6: return 0x0000800000000000ull + below(1u << 20);    /* non-canonical */
    case 7: return 0x8000000000000000ull + below(PAGE);
    case 8: return 0x00007ffffffff000ull + below(PAGE);        /* last user page */
    case 9: return 0x0000800000000000ull - 1 - below(64);      /* straddles 2^47 */
    case 10: return (uint64_t)(uintptr_t)(guard + below(PAGE));
    default: return (uint64_t)(uintptr_t)(fence + below(PAGE));
    }
}

/* A pointer for a buffer the kernel writes (or reads bytes from that
 * mean nothing): mostly into scratch, sometimes just before its end (the
 * access runs onto the unmapped page), sometimes into the reserved region,
 * sometimes bad. */
static uint64_t buffer_pointer(void)
{
    switch (below(9)) {
    case 0: case 1: case 2: return (uint64_t)(uintptr_t)(scratch + below(SCRATCH_SIZE));
    case 3: return (uint64_t)(uintptr_t)scratch;
    case 4: return (uint64_t)(uintptr_t)(guard - 1 - below(64));
    case 5: return (uint64_t)(uintptr_t)(reserved + below(RESERVED_SIZE));
    default: return bad_pointer();
    }
}

/* Where to put an iovec array: in scratch (fill_iovecs writes it), or bad. */
static uint64_t array_pointer(void)
{
    switch (below(4)) {
    case 0: return (uint64_t)(uintptr_t)(guard - 1 - below(64));
    case 1: return bad_pointer();
    default: return (uint64_t)(uintptr_t)(scratch + below(SCRATCH_SIZE));
    }
}

static uint64_t length(void)
{
    switch (below(14)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return below(64);
    case 3: return below(PAGE);
    case 4: return below(SCRATCH_SIZE + 1);
    case 5: return below(1u << 16);
    case 6: return 1ull << 62;
    case 7: return UINT64_MAX;
    case 8: return 1ull << 31;
    case 9: return 0x7fffffff;
    case 10: return UINT64_MAX - PAGE + 1;
    case 11: return 1ull << 47;
    case 12: return 0x8000000000000000ull;
    default: return below(256);
    }
}

/* Anything but 0, 1 and 2 (in the low 32 bits Linux uses). */
static uint64_t other_fd(void)
{
    switch (below(8)) {
    case 0: return (uint64_t)-1;
    case 1: return 3 + below(1000);
    case 2: return (uint64_t)-100;   /* AT_FDCWD */
    case 3: return 0x7fffffff;
    case 4: return (uint64_t)(int64_t)(int32_t)(0x80000000u + below(1000));
    default: return 3 + below(MAX_FUZZ_FD - 2); /* the ones open may have given */
    }
}

static uint64_t any_fd(void)
{
    return chance(25) ? below(3) : other_fd();
}

static uint64_t small_int(void)
{
    switch (below(6)) {
    case 0: return 0;
    case 1: return (uint64_t)-1;
    case 2: return below(16);
    case 3: return next();
    case 4: return 1ull << below(64);
    default: return below(1u << 16);
    }
}

/* A path argument: a copy of a known path somewhere in scratch, or a
 * string that runs onto the unmapped page, or a bad pointer. */
static uint64_t path_pointer(void)
{
    const char *path;
    size_t len, offset;

    switch (below(10)) {
    case 0: path = long_name; break;
    case 1: path = long_path; break;
    case 2: {  /* no terminating NUL before the unmapped page */
        size_t n = 1 + below(64);
        memset(guard - n, 'a', n);
        return (uint64_t)(uintptr_t)(guard - n);
    }
    case 3: return bad_pointer();
    default: path = paths[below(sizeof paths / sizeof *paths)]; break;
    }
    len = strlen(path) + 1;
    if (len > SCRATCH_SIZE)
        len = SCRATCH_SIZE;
    offset = below(SCRATCH_SIZE - len + 1);
    memcpy(scratch + offset, path, len);
    scratch[offset + len - 1] = 0;
    return (uint64_t)(uintptr_t)(scratch + offset);
}

/* A range [address, address + size) for munmap, mprotect, mremap and
 * mmap(MAP_FIXED): inside the reserved region, or with an address or a
 * size no kernel may accept (kernel, non-canonical, wrapping, or above
 * 2^47 whatever the address). Never anything else we own. */
static void region(uint64_t *address, uint64_t *size)
{
    uint64_t offset;

    switch (below(6)) {
    case 0: *address = bad_pointer() | 0xffff800000000000ull; break;
    case 1: *address = 0x0000800000000000ull + below(1ull << 40) * PAGE; break;
    default:
        offset = below(RESERVED_SIZE / PAGE) * PAGE + (chance(10) ? below(PAGE) : 0);
        *address = (uint64_t)(uintptr_t)reserved + offset;
        switch (below(5)) {
        case 0: *size = 0; return;
        case 1: *size = (1ull << 47) + below(1ull << 40) * PAGE; return;
        case 2: *size = UINT64_MAX - below(2 * PAGE); return;
        default: *size = offset < RESERVED_SIZE
                    ? 1 + below(RESERVED_SIZE - offset) : 0; return;
        }
    }
    /* A kernel or non-canonical address: any size. */
    *size = length();
}

static uint64_t prot(void)
{
    return chance(80) ? below(8) : next();
}

/* What one call returned, counted. */
static unsigned long ok_count, error_count, enosys_count;

static void count(long result)
{
    if (result < 0 && result >= -4095) {
        error_count++;
        if (result == -38)
            enosys_count++;
    } else {
        ok_count++;
    }
}

/* An fd the fuzzer got from open, openat or fcntl: kept when it is one the
 * fd pool draws from, else closed at once (fds must not pile up). */
static void keep_fd(long result)
{
    if (result > MAX_FUZZ_FD)
        raw6(NR_close, result, 0, 0, 0, 0, 0);
}

/* iovecs at scratch address `at` (if there): `n` of them, or as many as
 * fit before the guard page (the kernel then faults on the rest, never
 * reads stale ones). For fds 1 and 2: printable bytes or bad pointers, 16
 * bytes at most in all. */
static void fill_iovecs(uint64_t at, uint64_t n, int console)
{
    unsigned char *p = (unsigned char *)(uintptr_t)at;

    if (p < scratch || p >= scratch + SCRATCH_SIZE)
        return;
    for (uint64_t i = 0; i < n && p + 16 <= scratch + SCRATCH_SIZE; i++, p += 16) {
        uint64_t base, len;
        if (console) {
            base = chance(50) ? (uint64_t)(uintptr_t)(printable + below(8)) : bad_pointer();
            len = below(9);
        } else {
            base = buffer_pointer();
            len = length();
        }
        memcpy(p, &base, 8);
        memcpy(p + 8, &len, 8);
    }
}

static long fuzz_one(void)
{
    uint64_t a = 0, b = 0, c = 0, d = 0, e = 0, f = 0;
    long n, result;

    switch (below(40)) {
    case 0: /* read: never fds 0-2 */
        n = NR_read; a = other_fd(); b = buffer_pointer(); c = length();
        break;
    case 1: case 2: /* write */
        n = NR_write;
        a = chance(30) ? 1 + below(2) : other_fd();
        if (a <= 2) {
            b = chance(50) ? (uint64_t)(uintptr_t)printable : bad_pointer();
            if (chance(10))  /* the end of the printable page, then unmapped */
                b = (uint64_t)(uintptr_t)(printable_map + PAGE - 1 - below(8));
            c = below(17);
        } else {
            b = buffer_pointer(); c = length();
        }
        break;
    case 3: /* open */
        n = NR_open; a = path_pointer();
        b = next() & (04000 | 0200000 | 0400000 | 02000000 | 0100000 | 0400);
        c = small_int();
        break;
    case 4: /* openat */
        n = NR_openat; a = any_fd(); b = path_pointer();
        c = next() & (04000 | 0200000 | 0400000 | 02000000 | 0100000 | 0400);
        d = small_int();
        break;
    case 5: n = NR_close; a = other_fd(); break;
    case 6: n = NR_lseek; a = other_fd(); b = small_int(); c = chance(80) ? below(5) : next(); break;
    case 7: n = NR_fstat; a = any_fd(); b = buffer_pointer(); break;
    case 8: n = NR_stat; a = path_pointer(); b = buffer_pointer(); break;
    case 9: n = NR_lstat; a = path_pointer(); b = buffer_pointer(); break;
    case 10: /* newfstatat */
        n = NR_newfstatat; a = any_fd(); b = path_pointer(); c = buffer_pointer();
        d = chance(80) ? (next() & (0x100 | 0x800 | 0x1000)) : next();
        break;
    case 11: /* getdents64 */
        n = 217; a = any_fd(); b = buffer_pointer(); c = length();
        break;
    case 12: /* fcntl: fds 0-2 only to read flags */
        n = NR_fcntl; a = any_fd();
        if (a <= 2)
            b = chance(50) ? 1 : 3;            /* F_GETFD, F_GETFL */
        else switch (below(8)) {
            case 0: b = 0; break;              /* F_DUPFD */
            case 1: b = 1030; break;           /* F_DUPFD_CLOEXEC */
            case 2: b = 2000 + below(100000); break;
            case 3: b = (uint64_t)-1; break;
            default: b = 1 + below(4); break;  /* F_GETFD..F_SETFL */
        }
        c = small_int();
        break;
    case 13: n = NR_getcwd; a = buffer_pointer(); b = length(); break;
    case 14: n = NR_chdir; a = path_pointer(); break;
    case 15: /* brk: 0, around the unused heap, or nonsense */
        n = NR_brk;
        switch (below(4)) {
        case 0: a = 0; break;
        case 1: a = initial_brk + below(64) * PAGE + below(PAGE); break;
        case 2: a = initial_brk - below(16) * PAGE; break;
        default: a = bad_pointer(); break;
        }
        break;
    case 16: case 17: { /* mmap */
        int fixed;
        n = NR_mmap;
        switch (below(5)) {
        case 0: a = 0; b = length(); break;
        case 1: a = bad_pointer(); b = length(); break;
        case 2: a = 0; b = (1 + below(16)) * PAGE; break;
        default: region(&a, &b); break;
        }
        c = prot();
        d = chance(80) ? 0x22 : 0x20;          /* MAP_PRIVATE|MAP_ANONYMOUS */
        if (chance(30)) d |= 0x10;             /* MAP_FIXED */
        if (chance(20)) d ^= next() & 0x1ff7ff;
        e = chance(80) ? (uint64_t)-1 : any_fd();
        f = chance(80) ? 0 : small_int();
        /* MAP_FIXED only inside the reserved region. */
        fixed = (uintptr_t)a >= (uintptr_t)reserved
                && (uintptr_t)a < (uintptr_t)reserved + RESERVED_SIZE
                && b <= (uintptr_t)reserved + RESERVED_SIZE - (uintptr_t)a
                && ((b + PAGE - 1) & ~(PAGE - 1)) <= (uintptr_t)reserved + RESERVED_SIZE - (uintptr_t)a;
        if (!fixed)
            d &= ~0x10ull;
        if (b > (1u << 20))                    /* no populating or locking much */
            d &= ~(0x8000ull | 0x2000ull);
        result = raw6(n, a, b, c, d, e, f);
        count(result);
        /* Whatever it mapped outside the region goes again at once. */
        if (result >= 0 && !((uintptr_t)result >= (uintptr_t)reserved
                             && (uintptr_t)result < (uintptr_t)reserved + RESERVED_SIZE))
            raw6(NR_munmap, result, b, 0, 0, 0, 0);
        return result;
    }
    case 18: n = NR_munmap; region(&a, &b); break;
    case 19: n = NR_mprotect; region(&a, &b); c = prot(); break;
    case 20: /* mremap: moves only to a place in the region it names */
        n = NR_mremap; region(&a, &b);
        d = chance(70) ? below(8) : next();
        if (d & 2)                      /* MREMAP_FIXED: new place and size */
            region(&e, &c);
        else {
            d &= ~1ull;                 /* no MREMAP_MAYMOVE to anywhere */
            c = chance(50) ? b : length();
        }
        break;
    case 21: /* rt_sigprocmask */
        n = NR_rt_sigprocmask; a = chance(80) ? below(3) : next();
        b = chance(30) ? 0 : buffer_pointer(); c = chance(30) ? 0 : buffer_pointer();
        d = chance(80) ? 8 : small_int();
        break;
    case 22: { /* ioctl: read-only requests */
        static const uint64_t requests[] = {
            0x5413 /* TIOCGWINSZ */, 0x5401 /* TCGETS */, 0x541b /* FIONREAD */,
            0x5451 /* FIOCLEX */, 0x5450 /* FIONCLEX */, 0, 0xffffffff,
        };
        n = NR_ioctl; a = any_fd();
        b = requests[below(sizeof requests / sizeof *requests)];
        c = buffer_pointer();
        break;
    }
    case 23: /* readv: never fds 0-2 */
        n = NR_readv; a = other_fd(); b = array_pointer();
        c = chance(80) ? below(4) : small_int();
        fill_iovecs(b, c, 0);
        break;
    case 24: /* writev: fds 1-2 with printable bytes, 16 at most */
        n = NR_writev;
        a = chance(30) ? 1 + below(2) : other_fd();
        b = array_pointer();
        if (a <= 2) {
            c = below(3);
            fill_iovecs(b, c, 1);
            if ((uintptr_t)b < (uintptr_t)scratch || (uintptr_t)b >= (uintptr_t)scratch + SCRATCH_SIZE
                || (uintptr_t)b + 16 * c > (uintptr_t)scratch + SCRATCH_SIZE)
                b = bad_pointer();             /* not a stale iovec */
        } else {
            c = chance(80) ? below(4) : small_int();
            fill_iovecs(b, c, 0);
        }
        break;
    case 25: n = NR_sched_yield; break;
    case 26: { /* nanosleep: at most 100 us, or invalid, or bad pointers */
        uint64_t *ts;
        n = NR_nanosleep;
        a = chance(80) ? (uint64_t)(uintptr_t)(scratch + below(SCRATCH_SIZE / 16) * 16) : bad_pointer();
        ts = (uint64_t *)(uintptr_t)a;
        if ((unsigned char *)ts >= scratch && (unsigned char *)ts < scratch + SCRATCH_SIZE) {
            ts[0] = chance(10) ? (uint64_t)-1 : 0;
            switch (below(4)) {
            case 0: ts[1] = below(100000); break;
            case 1: ts[1] = 1000000000 + below(1000); break;
            case 2: ts[1] = (uint64_t)-1; break;
            default: ts[1] = 0; break;
            }
        }
        b = chance(50) ? 0 : buffer_pointer();
        break;
    }
    case 27: n = NR_getpid; break;
    case 28: n = NR_getppid; break;
    case 29: n = NR_gettid; break;
    case 30: n = NR_uname; a = buffer_pointer(); break;
    case 31: /* clock_gettime */
        n = NR_clock_gettime; a = chance(70) ? below(12) : small_int();
        b = buffer_pointer();
        break;
    case 32: /* arch_prctl: never sets FS to anything new */
        n = NR_arch_prctl;
        switch (below(8)) {
        case 0: a = 0x1002; b = fs_base; break;               /* ARCH_SET_FS, same */
        case 1: a = 0x1003; b = buffer_pointer(); break;      /* ARCH_GET_FS */
        case 2: a = 0x1004; b = buffer_pointer(); break;      /* ARCH_GET_GS */
        case 3: a = 0x1001; b = bad_pointer(); break;         /* ARCH_SET_GS */
        case 4: a = 0x1011; break;                            /* ARCH_GET_CPUID */
        case 5: a = 0x3001; b = buffer_pointer(); break;      /* ARCH_GET_UNTAG_MASK */
        case 6: a = below(0x1000); b = small_int(); break;
        default: a = 0x6000 + below(1u << 20); b = small_int(); break;
        }
        break;
    case 33: n = NR_set_tid_address; a = buffer_pointer(); break;
    case 34: /* getrandom: at most 4096 bytes into scratch */
        n = NR_getrandom; a = buffer_pointer();
        b = (uintptr_t)a >= (uintptr_t)scratch && (uintptr_t)a < (uintptr_t)guard
            ? below(PAGE + 1) : length();
        c = chance(80) ? below(8) : next();
        break;
    case 35: case 36: /* unknown to Linux: 500..999 */
        n = 500 + (long)below(500);
        a = small_int(); b = buffer_pointer(); c = length(); d = small_int();
        e = small_int(); f = small_int();
        break;
    case 37: /* huge: 2^40, -1, ...; low 32 bits -1, >= 500, or 0 with fd -1 */
        switch (below(4)) {
        case 0: n = (long)(1ull << 40); a = (uint64_t)-1; break;   /* read(-1) if truncated */
        case 1: n = -1; a = small_int(); break;
        case 2: n = (long)((next() << 32) | (500 + below(1u << 20))); a = small_int(); break;
        default: n = (long)(0x8000000000000000ull | (1000 + below(1000))); a = small_int(); break;
        }
        b = buffer_pointer(); c = length();
        break;
    case 38: /* Linux has them, kestrel not */
        n = harmless_unknown[below(sizeof harmless_unknown / sizeof *harmless_unknown)];
        a = buffer_pointer(); b = buffer_pointer(); c = small_int();
        break;
    default: /* cheap and implemented */
        n = chance(50) ? NR_getpid : NR_sched_yield;
        break;
    }

    result = raw6(n, (long)a, (long)b, (long)c, (long)d, (long)e, (long)f);
    count(result);
    if ((n == NR_open || n == NR_openat || n == NR_fcntl) && result >= 0)
        keep_fd(result);
    if ((n == NR_write || n == NR_writev) && a <= 2 && result > 0)
        wrote_console = 1;
    return result;
}

static void status(const char *format, ...) __attribute__((format(printf, 1, 2)));

static void status(const char *format, ...)
{
    va_list args;

    if (wrote_console) {  /* the status line starts a line of its own */
        raw6(NR_write, 1, (long)"\n", 1, 0, 0, 0);
        wrote_console = 0;
    }
    va_start(args, format);
    vprintf(format, args);
    va_end(args);
    fflush(stdout);
}

static int sentinel_intact(void)
{
    for (size_t i = 0; i < sizeof sentinel; i++)
        if (sentinel[i] != (unsigned char)(i * 7 + 3))
            return 0;
    return 1;
}

static void *map(size_t size, int prot_)
{
    long result = raw6(NR_mmap, 0, (long)size, prot_, 0x22, -1, 0);
    if (result < 0 && result >= -4095) {
        fprintf(stderr, "sysfuzz: mmap of %zu bytes failed: %ld\n", size, result);
        exit(1);
    }
    return (void *)result;
}

int main(int argc, char **argv)
{
    unsigned long long seed, calls;
    char *end;

    if (argc != 3) {
        fprintf(stderr, "usage: sysfuzz SEED COUNT\n");
        return 2;
    }
    seed = strtoull(argv[1], &end, 0);
    if (*end || !*argv[1]) {
        fprintf(stderr, "sysfuzz: bad SEED '%s'\n", argv[1]);
        return 2;
    }
    calls = strtoull(argv[2], &end, 0);
    if (*end || !*argv[2]) {
        fprintf(stderr, "sysfuzz: bad COUNT '%s'\n", argv[2]);
        return 2;
    }
    state = seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
    if (!state)
        state = 1;

    /* Inherited fds are not ours to write to (a make jobserver, say). */
    for (long fd = 3; fd < 1024; fd++)
        raw6(NR_close, fd, 0, 0, 0, 0, 0);

    for (size_t i = 0; i < sizeof sentinel; i++)
        sentinel[i] = (unsigned char)(i * 7 + 3);
    memset(long_name, 'a', sizeof long_name - 1);
    for (size_t i = 0; i + 1 < sizeof long_path; i++)
        long_path[i] = i % 8 == 0 ? '/' : 'b';

    scratch = map(SCRATCH_SIZE + 4 * PAGE + RESERVED_SIZE + PAGE, 3);
    guard = scratch + SCRATCH_SIZE;
    printable_map = guard + PAGE;
    fence = printable_map + 2 * PAGE;
    reserved = fence + PAGE;
    memset(printable_map, '~', PAGE);
    if (raw6(NR_munmap, (long)guard, PAGE, 0, 0, 0, 0)
        || raw6(NR_munmap, (long)(printable_map + PAGE), PAGE, 0, 0, 0, 0)
        || raw6(NR_mprotect, (long)printable_map, PAGE, 1, 0, 0, 0)
        || raw6(NR_mprotect, (long)fence, RESERVED_SIZE + 2 * PAGE, 0, 0, 0, 0)) {
        fprintf(stderr, "sysfuzz: cannot set up its memory\n");
        return 1;
    }
    initial_brk = (uintptr_t)raw6(NR_brk, 0, 0, 0, 0, 0, 0);
    __asm__ volatile("movq %%fs:0, %0" : "=r"(fs_base));

    for (unsigned long long i = 1; i <= calls; i++) {
        fuzz_one();
        if (i % 10000 == 0) {
            if (!sentinel_intact()) {
                status("sysfuzz: memory changed after %llu calls\n", i);
                return 1;
            }
            status("sysfuzz: %llu calls\n", i);
        }
    }
    if (!sentinel_intact()) {
        status("sysfuzz: memory changed\n");
        return 1;
    }
    status("sysfuzz: seed %llu: %llu calls, %lu ok, %lu errors, %lu enosys\n",
           seed, calls, ok_count, error_count, enosys_count);
    return 0;
}
