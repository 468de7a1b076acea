//! TLB shootdown: after a change to a mapping that other CPUs may hold in
//! their TLBs (an unmap, a new frame behind a page, tightened rights), each
//! of them flushes it before the change counts as done, and before the old
//! frame is reused.
//!
//! The caller has already changed the entries and flushed its own TLB. It
//! publishes the range, sends [`TLB_SHOOTDOWN_VECTOR`] to the CPUs that may
//! hold it, and waits until each has acknowledged; each flushes in its
//! interrupt handler ([`handle_ipi`]). One shootdown at a time (a spin
//! lock): one that waits for the lock answers the shootdown in flight
//! meanwhile, so two CPUs that shoot down at once cannot wait for each
//! other.
//!
//! The mechanism user address spaces will use too: the caller names the
//! CPUs (for a process, those that have run it).

use core::sync::atomic::{AtomicU64, Ordering};

use spin::Mutex;
use x86_64::VirtAddr;
use x86_64::instructions::tlb;

use super::smp::{self, TLB_SHOOTDOWN_VECTOR};

/// Above this many pages a CPU flushes its whole TLB instead of page by page.
const MAX_PAGES_ONE_BY_ONE: u64 = 32;

/// Serialises shootdowns (the published request is one).
static LOCK: Mutex<()> = Mutex::new(());
/// The request in flight: first page, and how many pages.
static START: AtomicU64 = AtomicU64::new(0);
/// Pages in the request in flight.
static PAGES: AtomicU64 = AtomicU64::new(0);
/// CPUs that have not acknowledged the request in flight yet, a bit each.
static WAITING: AtomicU64 = AtomicU64::new(0);

/// Flushes `pages` pages from `start` from this CPU's TLB ([`EVERYTHING`]:
/// all of it).
fn flush_local(start: u64, pages: u64) {
    if pages == RELEASE_ROOT {
        super::paging::release_root(start);
        return;
    }
    if pages > MAX_PAGES_ONE_BY_ONE {
        tlb::flush_all();
        return;
    }
    for page in 0..pages {
        tlb::flush(VirtAddr::new(start + page * crate::arch::PAGE_SIZE));
    }
}

/// Makes the CPUs in `cpus` (a bit each; this CPU's bit is ignored) drop
/// `pages` pages from `start` from their TLBs, and returns once all have.
/// Flushes this CPU's too. Call with no spin lock held that another CPU
/// may wait for with interrupts off (it must take the interrupt); with one
/// CPU online it only flushes locally.
pub fn shootdown(cpus: u64, start: u64, pages: u64) {
    if pages == 0 {
        return;
    }
    let interrupts_were_on = super::interrupts_enabled();
    loop {
        super::disable_interrupts();
        // With interrupts off this thread stays on this CPU.
        let me = super::percpu::cpu();
        let targets = cpus & smp::other_cpus();
        if targets == 0 {
            flush_local(start, pages);
            break;
        }
        if let Some(_guard) = LOCK.try_lock() {
            flush_local(start, pages);
            START.store(start, Ordering::Relaxed);
            PAGES.store(pages, Ordering::Relaxed);
            WAITING.store(targets, Ordering::Release);
            for cpu in smp::cpus_in(targets) {
                smp::send_ipi(cpu, TLB_SHOOTDOWN_VECTOR);
            }
            while WAITING.load(Ordering::Acquire) != 0 {
                core::hint::spin_loop();
            }
            break;
        }
        // Another CPU's shootdown is in flight: answer it here (its IPI
        // may wait behind our cleared interrupt flag; when it comes, it
        // flushes and acknowledges again, harmlessly), then try again.
        if WAITING.load(Ordering::Acquire) & (1 << me) != 0 {
            handle_ipi();
        }
        if interrupts_were_on {
            super::enable_interrupts();
        }
        core::hint::spin_loop();
    }
    if interrupts_were_on {
        super::enable_interrupts();
    }
}

/// The shootdown IPI's handler: flush what is asked, then acknowledge.
/// Nothing when this CPU is not waited for: a late IPI whose request this
/// CPU already answered (inline, while it waited for its own turn). While
/// its bit is set the request cannot change, so the range read is the one
/// acknowledged.
pub fn handle_ipi() {
    let me = 1 << super::percpu::cpu();
    if WAITING.load(Ordering::Acquire) & me == 0 {
        return;
    }
    let start = START.load(Ordering::Relaxed);
    let pages = PAGES.load(Ordering::Relaxed);
    flush_local(start, pages);
    WAITING.fetch_and(!me, Ordering::AcqRel);
}

/// [`shootdown`]'s page count that flushes whole TLBs.
pub const EVERYTHING: u64 = u64::MAX;

/// [`shootdown`]'s page count that asks instead: a CPU that has the
/// hierarchy whose root is `start` loaded (an idle CPU keeps the last
/// program's, see `sched`) loads the kernel's. What a program's address
/// space does before its tables are freed.
pub const RELEASE_ROOT: u64 = u64::MAX - 1;
