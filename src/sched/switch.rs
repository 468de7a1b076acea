//! The context switch: the callee-saved registers and the stack pointer.
//!
//! Everything else a thread needs is on its stack already: the caller-saved
//! registers were saved by the compiler around the call, or by the
//! interrupt entry that led here; RFLAGS (and with it the interrupt flag)
//! by the path that resumes (a yield restores its own, an interrupt's
//! `iretq` the interrupted one). The switch itself runs with interrupts off.

use core::arch::global_asm;

global_asm!(
    ".global kestrel_switch",
    "kestrel_switch:",
    // rdi: where to save the old stack pointer; rsi: the new one.
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "mov [rdi], rsp",
    "mov rsp, rsi",
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
    /// stack pointer at `save`, loads `next` and restores what is there.
    fn kestrel_switch(save: *mut u64, next: u64);
}

/// Callee-saved registers [`kestrel_switch`] pops: r15, r14, r13, r12, rbx,
/// rbp.
const SAVED_REGISTERS: usize = 6;

/// Switches from the running thread, whose stack pointer goes to `save`, to
/// the one whose saved stack pointer is `next`.
///
/// # Safety
/// Interrupts are off. `save` is the running thread's slot, valid until it
/// runs again; `next` is a stack pointer [`kestrel_switch`] saved, or one
/// [`initial_stack`] prepared, on a stack that stays mapped while it runs.
pub unsafe fn switch(save: *mut u64, next: u64) {
    // SAFETY: forwarded from the caller.
    unsafe { kestrel_switch(save, next) }
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
