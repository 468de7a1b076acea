/*
 * fault KIND: does one thing user mode may not do, so that the kernel kills
 * the program. Before it, prints "fault: KIND" (flushed). Should the program
 * survive, it prints "fault: KIND: survived" and exits 3.
 *
 * Exception: "efault" is not killed. It makes write(1, K, 16) and
 * read(0, K, 16) with a kernel address K as raw system calls and prints
 * "efault: write returned W, read returned R": exit 0 when both are -14
 * (-EFAULT), else 1.
 *
 * No KIND, or an unknown one: the usage on stderr, exit 2.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KERNEL_ADDRESS 0xffffffff80100000ul

/* Addresses come through a volatile, so that the compiler knows nothing. */
static volatile uintptr_t low_address = 0x10;
static volatile uintptr_t kernel_address = KERNEL_ADDRESS;
static volatile int zero = 0;
static volatile int keep_going = 1;

/* Code in .data: "ret". Calling it must fault (no-execute). */
static unsigned char data_code[16] = { 0xc3 };

static void read_at(uintptr_t address)
{
    uint32_t value;
    __asm__ volatile("movl (%1), %0" : "=r"(value) : "r"(address) : "memory");
    (void)value;
}

static void write_at(uintptr_t address)
{
    __asm__ volatile("movl $0x2a, (%0)" : : "r"(address) : "memory");
}

static void call_at(uintptr_t address)
{
    __asm__ volatile("call *%0" : : "r"(address) : "memory", "rax", "rcx", "rdx",
                     "rsi", "rdi", "r8", "r9", "r10", "r11", "cc");
}

static void jump_at(uintptr_t address)
{
    __asm__ volatile("jmp *%0" : : "r"(address) : "memory");
}

/* Deeper and deeper, 64 KiB a frame, touched a page at a time from the top
 * down like a stack probe, until the guard page below the stack. */
static int recurse(int depth)
{
    volatile char frame[65536];

    for (size_t i = sizeof frame; i >= 4096; i -= 4096)
        frame[i - 1] = (char)depth;
    frame[0] = (char)depth;
    if (!keep_going)
        return frame[0];
    return recurse(depth + 1) + frame[100];
}

static long raw_syscall3(long number, long a, long b, long c)
{
    long result;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return result;
}

static int efault(void)
{
    long w = raw_syscall3(1, 1, (long)kernel_address, 16);  /* write */
    long r = raw_syscall3(0, 0, (long)kernel_address, 16);  /* read */

    printf("efault: write returned %ld, read returned %ld\n", w, r);
    return w == -14 && r == -14 ? 0 : 1;
}

static const char *const kinds[] = {
    "read", "write", "exec", "cli", "hlt", "io", "kernel-jump",
    "kernel-write", "kernel-read", "divide", "opcode", "stack", "efault",
    "abort", "assert",
};

static int usage(void)
{
    fprintf(stderr, "usage: fault KIND\nkinds:");
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        fprintf(stderr, " %s", kinds[i]);
    fprintf(stderr, "\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *kind;
    size_t i;

    if (argc != 2)
        return usage();
    kind = argv[1];
    for (i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (!strcmp(kind, kinds[i]))
            break;
    if (i == sizeof kinds / sizeof *kinds)
        return usage();

    printf("fault: %s\n", kind);
    fflush(stdout);

    if (!strcmp(kind, "read"))
        read_at(low_address);
    else if (!strcmp(kind, "write"))
        write_at(low_address);
    else if (!strcmp(kind, "exec"))
        call_at((uintptr_t)data_code);
    else if (!strcmp(kind, "cli"))
        __asm__ volatile("cli");
    else if (!strcmp(kind, "hlt"))
        __asm__ volatile("hlt");
    else if (!strcmp(kind, "io")) {
        unsigned char value;
        __asm__ volatile("inb $0x60, %0" : "=a"(value));
        (void)value;
    } else if (!strcmp(kind, "kernel-jump"))
        jump_at(kernel_address);
    else if (!strcmp(kind, "kernel-write"))
        write_at(kernel_address);
    else if (!strcmp(kind, "kernel-read"))
        read_at(kernel_address);
    else if (!strcmp(kind, "divide")) {
        volatile int numerator = 1, quotient;
        quotient = numerator / zero;
        (void)quotient;
    } else if (!strcmp(kind, "opcode"))
        __asm__ volatile("ud2");
    else if (!strcmp(kind, "stack"))
        printf("%d\n", recurse(0));
    else if (!strcmp(kind, "efault"))
        return efault();
    else if (!strcmp(kind, "abort"))
        abort();
    else if (!strcmp(kind, "assert"))
        assert(zero == 1);

    printf("fault: %s: survived\n", kind);
    return 3;
}
