//! The context switch: the callee-saved registers and the stack pointer.
//!
//! Everything else a thread needs is on its stack already: the caller-saved
//! registers were saved by the compiler around the call, or by the
//! interrupt entry that led here; RFLAGS (and with it the interrupt flag)
//! by the path that resumes (a yield restores its own, an interrupt's
//! `iretq` the interrupted one). The switch itself runs with interrupts off.

use core::arch::global_asm;
use core::sync::atomic::AtomicBool;

global_asm!(
    ".global kestrel_switch",
    "kestrel_switch:",
    // rdi: where to save the old stack pointer; rsi: where the new one is
    // saved; rdx: the old thread's `on_cpu` flag, cleared once its stack
    // pointer is saved: from then on another CPU may run it, and this one
    // never touches its stack again; rcx: the new thread's `on_cpu` flag,
    // waited for (the CPU that ran it last may still be saving it), then
    // set. Waiting only after letting go of the old thread means two CPUs
    // that swap threads cannot wait for each other.
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "mov [rdi], rsp",
    "mov byte ptr [rdx], 0",
    "2:",
    "cmp byte ptr [rcx], 0",
    "je 3f",
    "pause",
    "jmp 2b",
    "3:",
    "mov byte ptr [rcx], 1",
    "mov rsp, [rsi]",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
);

unsafe extern "C" {
    /// Saves the callee-saved registers on the current stack, stores the
    /// stack pointer at `save`, clears `leaving`, waits until `arriving` is
    /// clear and sets it, loads the stack pointer at `next` and restores
    /// what is there.
    fn kestrel_switch(
        save: *mut u64,
        next: *const u64,
        leaving: *const AtomicBool,
        arriving: *const AtomicBool,
    );
}

/// Callee-saved registers [`kestrel_switch`] pops: r15, r14, r13, r12, rbx,
/// rbp.
const SAVED_REGISTERS: usize = 6;

/// Switches from the running thread, whose stack pointer goes to `save`
/// and whose `leaving` flag is cleared after, to the one whose stack
/// pointer is saved at `next`, once its `arriving` flag is clear (its
/// last CPU has saved it).
///
/// # Safety
/// Interrupts are off. `save` and `leaving` are the running thread's, valid
/// until `leaving` is clear; `next` and `arriving` are the next thread's,
/// valid while it exists, and the stack pointer at `next` is one
/// [`kestrel_switch`] saved, or one [`initial_stack`] prepared, on a stack
/// that stays mapped while it runs.
pub unsafe fn switch(
    save: *mut u64,
    next: *const u64,
    leaving: *const AtomicBool,
    arriving: *const AtomicBool,
) {
    // SAFETY: forwarded from the caller.
    unsafe { kestrel_switch(save, next, leaving, arriving) }
}

/// Prepares a new thread's stack, whose top (exclusive) is `top`, so that
/// the first switch to it "returns" into `start` with every callee-saved
/// register zero (RBP zero: the outermost frame for backtraces). Returns
/// the stack pointer to switch to.
///
/// # Safety
/// `top` is the 16-byte-aligned end of a mapped, writable stack of at
/// least a page that nothing else uses.
pub unsafe fn initial_stack(top: u64, start: extern "C" fn() -> !) -> u64 {
    // Above the return address: a zero word, so that at `start` the stack
    // is aligned as after a call (rsp + 8 a multiple of 16).
    let words = top as *mut u64;
    // SAFETY: the caller promised the stack's last page is mapped and ours;
    // these are its top 8 words.
    unsafe {
        words.sub(1).write(0);
        words.sub(2).write(start as usize as u64);
        for register in 3..3 + SAVED_REGISTERS {
            words.sub(register).write(0);
        }
        words.sub(2 + SAVED_REGISTERS) as u64
    }
}
