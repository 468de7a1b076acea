//! Threads' kernel stacks: frames from the frame allocator, mapped in a
//! slot of the stack region (`memory::layout::THREAD_STACKS`) with an
//! unmapped guard page below, so that an overflow faults (and the double
//! fault's report names the thread) instead of overwriting a neighbour.
//!
//! Slots are reused: a freed slot's pages are unmapped and their frames
//! given back; its page tables stay, so a warm slot costs no table frames.

use alloc::vec::Vec;

use spin::Mutex;

use crate::memory::layout::{THREAD_STACK_SIZE, THREAD_STACK_SLOT, THREAD_STACKS};
use crate::memory::{PAGE_SIZE, paging};

/// The most threads that can have a stack at once.
pub const MAX_STACKS: u64 = 4096;

/// Slots given back, to reuse first; and the next never-used slot.
static SLOTS: Mutex<(Vec<u64>, u64)> = Mutex::new((Vec::new(), 0));

/// One thread's stack.
#[derive(Debug)]
pub struct Stack {
    /// Its slot's number.
    slot: u64,
}

/// Why a stack could not be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackError {
    /// Every slot is in use.
    NoSlot,
    /// The frame allocator has no frame left.
    NoFrames,
}

impl core::fmt::Display for StackError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            StackError::NoSlot => "no stack slot is free",
            StackError::NoFrames => "no free frame for a stack",
        })
    }
}

impl Stack {
    /// A fresh stack: a slot, its pages mapped read + write, no-execute.
    pub fn new() -> Result<Stack, StackError> {
        let slot = crate::arch::without_interrupts(|| {
            let mut slots = SLOTS.lock();
            if let Some(slot) = slots.0.pop() {
                return Ok(slot);
            }
            if slots.1 == MAX_STACKS {
                return Err(StackError::NoSlot);
            }
            slots.1 += 1;
            Ok(slots.1 - 1)
        })?;
        let stack = Stack { slot };
        if paging::map_fresh(stack.bottom(), THREAD_STACK_SIZE) < THREAD_STACK_SIZE {
            stack.release();
            return Err(StackError::NoFrames);
        }
        // SAFETY: the whole stack was just mapped writable, and no thread
        // uses it yet. Zeroed, so that `high_water` sees what was used.
        unsafe { core::ptr::write_bytes(stack.bottom() as *mut u8, 0, THREAD_STACK_SIZE as usize) };
        Ok(stack)
    }

    /// The guard page's address (never mapped).
    pub fn guard(&self) -> u64 {
        THREAD_STACKS + self.slot * THREAD_STACK_SLOT
    }

    /// The lowest byte of the stack.
    pub fn bottom(&self) -> u64 {
        self.guard() + PAGE_SIZE
    }

    /// The end of the stack (exclusive): its first push goes below.
    pub fn top(&self) -> u64 {
        self.bottom() + THREAD_STACK_SIZE
    }

    /// The deepest the stack has been used, in bytes, to a page: from the
    /// top down to the lowest page whose bytes are not all zero (a new
    /// stack is zeroed).
    pub fn high_water(&self) -> u64 {
        let mut page = self.bottom();
        while page < self.top() {
            let words = page as *const u64;
            // SAFETY: every page of the stack is mapped (new() mapped them
            // all; they stay until release), readable; reading a word the
            // owning thread may write concurrently only gives an old or new
            // value, and volatile keeps the compiler from assuming either.
            let used = (0..(PAGE_SIZE / 8) as usize)
                .any(|index| unsafe { words.add(index).read_volatile() } != 0);
            if used {
                return self.top() - page;
            }
            page += PAGE_SIZE;
        }
        0
    }

    /// Unmaps the stack's pages, gives their frames back, and the slot.
    fn release(&self) {
        paging::unmap_and_free(self.bottom(), THREAD_STACK_SIZE);
        crate::arch::without_interrupts(|| SLOTS.lock().0.push(self.slot));
    }

    /// Gives the stack back. The thread it belonged to must never run
    /// again.
    pub fn free(self) {
        self.release();
    }
}
