//! Every CPU at work: [`start_others`] wakes each processor the MADT lists
//! as enabled, one at a time, and brings it to the same state as the boot
//! CPU (long mode on the kernel's page tables, its own GDT, TSS,
//! double-fault stack and per-CPU block, its local APIC and timer), where
//! it runs its idle thread and takes threads from the scheduler.
//!
//! The start (Intel SDM vol. 3A, 9.4.4.1, "typical AP initialization"):
//! the start code (`asm/ap_start.asm`) is copied to the AP start-up page
//! (below 1 MiB, kept for it in the reserved list), which is
//! identity-mapped only while CPUs start; then INIT, 10 ms, a start-up IPI,
//! 200 µs, a second start-up IPI if the CPU has not answered, and up to
//! [`ANSWER_TIMEOUT`] for it to say it is alive, its first act in the
//! kernel; then as long as it takes to come online. A CPU that does not
//! answer is reported, sent INIT again (so that it cannot run the start
//! code later, once the page is gone) and left out; the boot goes on. A CPU
//! that comes alive after the boot CPU gave up halts at once (see
//! [`START`]).
//!
//! Without a MADT (`-machine pc,acpi=off`), without a local APIC timer (the
//! PIT ticks only the boot CPU), or without a free page below 1 MiB, the
//! kernel runs on the boot CPU alone and says why.
//!
//! Device interrupts stay routed to the boot CPU; the other CPUs get their
//! own timer's tick and the kernel's IPIs (reschedule, TLB shootdown, the
//! NMI that stops them at a panic).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;

use spin::Once;

use crate::arch::{self, percpu, smp};
use crate::firmware::madt::Processor;
use crate::memory::paging;
use crate::sched::Stack;

/// How long a started CPU has to say it is alive (its first instruction in
/// the kernel): generous, since under QEMU's TCG on a loaded host a virtual
/// CPU may wait for a host core.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);
/// The SDM's wait after INIT.
const AFTER_INIT: Duration = Duration::from_millis(10);
/// The SDM's wait after a start-up IPI.
const AFTER_STARTUP: Duration = Duration::from_micros(200);

/// One CPU the kernel knows of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cpu {
    /// Its APIC ID.
    pub apic_id: u32,
    /// Where it stands.
    pub state: CpuState,
}

/// Where a CPU stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuState {
    /// It runs the kernel, as CPU number `number`.
    Online {
        /// The kernel's number for it (0: the boot CPU).
        number: usize,
    },
    /// The MADT lists it as online-capable, not enabled: a hotplug slot,
    /// not started.
    Hotplug,
    /// It did not answer the start-up IPIs in time.
    NoAnswer,
    /// More CPUs than the kernel runs on (`arch::smp::MAX_CPUS`).
    Beyond,
    /// An APIC ID above 254 while the APIC is in xAPIC mode, whose IPIs
    /// carry 8-bit destinations (255 is the broadcast).
    Unreachable,
    /// Enabled, but not started: the kernel runs on the boot CPU alone (the
    /// `cpus:` line says why).
    NotStarted,
}

/// Every CPU the kernel knows of, once [`start_others`] ran.
static CPUS: Once<Vec<Cpu>> = Once::new();

/// The start in progress, in two steps: the started CPU's first act in
/// [`ap_main`] moves it from [`STARTING`] to [`ALIVE`] (before it touches
/// anything shared); the boot CPU, when the CPU did not get that far in
/// time, moves it from [`STARTING`] to [`ABANDONED`] and the CPU, should it
/// come late, halts at once. Once alive, a CPU is waited for: it runs the
/// kernel's code, holds its locks, and stopping it there could hang the
/// machine.
static START: AtomicUsize = AtomicUsize::new(STARTING);
/// [`START`]: a CPU was sent its start-up IPIs.
const STARTING: usize = 0;
/// [`START`]: the CPU runs `ap_main`.
const ALIVE: usize = 1;
/// [`START`]: the boot CPU gave up on it.
const ABANDONED: usize = 2;
/// [`START`]: the CPU is online (its idle thread, its tick, the scheduler).
const ONLINE: usize = 3;
/// The highest APIC ID an xAPIC IPI can name (255 is the broadcast).
const MAX_XAPIC_ID: u32 = 254;

/// Starts every other enabled processor in `processors` (the MADT's; empty
/// without one) and prints the `cpus:` line. Call once, on the boot CPU,
/// after the interrupt controller, the tick and the scheduler are up, with
/// interrupts on.
pub fn start_others(processors: &[Processor]) {
    let boot_apic = if crate::interrupts::apic_mode() {
        arch::apic::id()
    } else {
        0
    };
    smp::mark_online(0, boot_apic);
    let mut cpus = alloc::vec![Cpu {
        apic_id: boot_apic,
        state: CpuState::Online { number: 0 },
    }];
    let others: Vec<&Processor> = processors
        .iter()
        .filter(|p| p.apic_id != boot_apic)
        .collect();
    let alone = match why_alone(processors) {
        Some(why) => Some(why),
        None if others.is_empty() => Some("the MADT lists no other CPU"),
        None => None,
    };
    if let Some(why) = alone {
        cpus.extend(others.iter().map(|p| Cpu {
            apic_id: p.apic_id,
            state: if p.enabled {
                CpuState::NotStarted
            } else {
                CpuState::Hotplug
            },
        }));
        println!("cpus: 1 online (apic ids {boot_apic}): {why}, the boot CPU alone");
        CPUS.call_once(|| cpus);
        return;
    }
    let page = crate::memory::ap_start_page().expect("why_alone checked the page");
    if let Err(error) = paging::map_start_page(page) {
        println!("cpus: 1 online (apic ids {boot_apic}): cannot map the start-up page: {error}");
        CPUS.call_once(|| cpus);
        return;
    }
    let mut spare: Option<Prepared> = None;
    for processor in others {
        let number = online_count(&cpus);
        let state = if !processor.enabled {
            CpuState::Hotplug
        } else if number >= smp::MAX_CPUS {
            CpuState::Beyond
        } else if processor.apic_id > MAX_XAPIC_ID && !arch::apic::in_x2apic_mode() {
            CpuState::Unreachable
        } else {
            match spare.take().map_or_else(|| prepare(number), Ok) {
                Ok(prepared) => match start(processor.apic_id, page, prepared) {
                    Ok(()) => CpuState::Online { number },
                    Err(unused) => {
                        // Kept for the next CPU, which gets this number.
                        spare = Some(unused);
                        CpuState::NoAnswer
                    }
                },
                Err(why) => {
                    log::warn!("cpus: no stacks for CPU {number}: {why}");
                    CpuState::NoAnswer
                }
            }
        };
        if state == CpuState::NoAnswer {
            log::warn!(
                "cpus: the CPU with APIC ID {} did not answer; left out",
                processor.apic_id
            );
        }
        cpus.push(Cpu {
            apic_id: processor.apic_id,
            state,
        });
    }
    paging::unmap_start_page(page);
    println!("{}", summary(&cpus));
    CPUS.call_once(|| cpus);
}

/// Why the kernel cannot start other CPUs here, if it cannot.
fn why_alone(processors: &[Processor]) -> Option<&'static str> {
    if processors.is_empty() {
        return Some("no MADT");
    }
    if !crate::interrupts::apic_mode() {
        return Some("no local APIC");
    }
    if !crate::time::per_cpu_tick() {
        return Some("the local APIC timer does not tick");
    }
    if crate::memory::ap_start_page().is_none() {
        return Some("no free page below 1 MiB to start them in");
    }
    if !smp::tables_reachable_from_real_mode() {
        return Some("the page tables lie above 4 GiB");
    }
    None
}

/// How many of `cpus` are online.
fn online_count(cpus: &[Cpu]) -> usize {
    cpus.iter()
        .filter(|cpu| matches!(cpu.state, CpuState::Online { .. }))
        .count()
}

/// The `cpus:` line: `cpus: 4 online (apic ids 0 1 2 3)`, then the hotplug
/// slots and the CPUs left out, if any.
fn summary(cpus: &[Cpu]) -> String {
    let ids = |wanted: fn(&CpuState) -> bool| {
        let mut list = String::new();
        for cpu in cpus.iter().filter(|cpu| wanted(&cpu.state)) {
            let _ = write!(
                list,
                "{}{}",
                if list.is_empty() { "" } else { " " },
                cpu.apic_id
            );
        }
        list
    };
    let online = ids(|state| matches!(state, CpuState::Online { .. }));
    let mut line = format!("cpus: {} online (apic ids {online})", online_count(cpus));
    let hotplug = ids(|state| *state == CpuState::Hotplug);
    if !hotplug.is_empty() {
        let count = hotplug.split(' ').count();
        let _ = write!(line, ", {count} hotplug (apic ids {hotplug})");
    }
    let silent = ids(|state| {
        matches!(
            state,
            CpuState::NoAnswer | CpuState::Beyond | CpuState::Unreachable
        )
    });
    if !silent.is_empty() {
        let _ = write!(line, ", left out (apic ids {silent})");
    }
    line
}

/// What a CPU needs before it starts: its per-CPU block and its stacks.
struct Prepared {
    /// Its per-CPU block.
    block: *mut percpu::PerCpu,
    /// The stack its idle thread runs on.
    stack: Stack,
}

/// Makes CPU `number`'s per-CPU block, with its double-fault stack, and
/// its idle thread's stack. Both stacks are the CPU's for good.
fn prepare(number: usize) -> Result<Prepared, crate::sched::StackError> {
    let double_fault = Stack::new()?;
    // The stacks are the CPU's for good: a `Stack` is given back only by
    // its `free`, which nothing calls for these.
    let block = arch::new_cpu(number as u64, double_fault.top());
    Ok(Prepared {
        block,
        stack: Stack::new()?,
    })
}

/// Starts the CPU with APIC ID `apic_id` in the start-up page `page`, on
/// `prepared`, which it owns from then on; gives `prepared` back if the
/// CPU did not answer.
fn start(apic_id: u32, page: u64, prepared: Prepared) -> Result<(), Prepared> {
    // SAFETY: the page is the reserved start-up page, reached writable
    // through the direct map; no CPU runs in it now (one CPU starts at a
    // time, and the last one answered or was sent INIT again).
    unsafe {
        smp::write_start_page(
            paging::phys_to_virt(page),
            ap_main,
            prepared.stack.top(),
            prepared.block as u64,
        );
    }
    START.store(STARTING, Ordering::Release);
    smp::send_init(apic_id);
    crate::time::spin_for(AFTER_INIT);
    for _ in 0..2 {
        smp::send_startup(apic_id, page);
        crate::time::spin_for(AFTER_STARTUP);
        if START.load(Ordering::Acquire) != STARTING {
            break;
        }
    }
    let deadline = crate::time::uptime() + ANSWER_TIMEOUT;
    while START.load(Ordering::Acquire) == STARTING {
        if crate::time::uptime() > deadline
            && START
                .compare_exchange(STARTING, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            // Back to waiting for a start-up IPI, before the page is
            // written again; then as long again for the INIT to land.
            smp::send_init(apic_id);
            crate::time::spin_for(AFTER_INIT);
            return Err(prepared);
        }
        core::hint::spin_loop();
    }
    // Alive: it runs the kernel's code now, and finishes.
    while START.load(Ordering::Acquire) != ONLINE {
        core::hint::spin_loop();
    }
    // Its idle thread runs on the stack for good (never freed).
    Ok(())
}

/// Where a started CPU enters the kernel, in long mode on the kernel's page
/// tables, on its idle stack, with interrupts off; `block` is its per-CPU
/// block. Its idle thread, for good.
extern "C" fn ap_main(block: u64) -> ! {
    // 0. Alive, unless the boot CPU gave up waiting: then halt, touching
    //    nothing it shares.
    if START
        .compare_exchange(STARTING, ALIVE, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        arch::halt_forever();
    }
    // 1. Its per-CPU block (GS), its GDT and TSS, the exception table, PAT.
    arch::init_this_cpu(block as *mut percpu::PerCpu);
    // 2. Its local APIC, which IPIs and its timer need.
    let apic_id = crate::interrupts::init_this_cpu();
    // 3. The scheduler's run queue for it, with this code as its idle
    //    thread.
    crate::sched::init_this_cpu();
    // 4. Its tick, at the boot CPU's rate.
    crate::time::start_this_cpu();
    // 5. Online: IPIs may come, and the boot CPU goes on.
    let number = percpu::cpu();
    smp::mark_online(number, apic_id);
    START.store(ONLINE, Ordering::Release);
    log::debug!("cpus: CPU {number} (apic id {apic_id}) online");
    crate::sched::run_idle()
}

/// The multi-CPU benchmarks (`make bench`).
#[cfg(feature = "bench")]
pub mod bench;

/// In-kernel tests of the kernel on every CPU.
pub(crate) mod ktests;

/// Every CPU the kernel knows of (only the boot CPU before [`start_others`]).
pub fn cpus() -> &'static [Cpu] {
    CPUS.get().map_or(&[], Vec::as_slice)
}
