//! Running programs: a process is a program loaded into its own address
//! space with one thread, its open files and working directory. This file
//! starts one ([`spawn`]), waits for it ([`Running::wait`]), ends it
//! ([`exit_current`]: by its own `exit`, a fault, `abort` or Ctrl-C), and
//! lists them for `ps`.
//!
//! The running thread finds its process through the per-CPU block: the
//! scheduler publishes the word this layer gave the thread
//! ([`crate::arch::percpu::user_context`]), a pointer from
//! `Arc::into_raw`, so a system call reaches its process without a lock.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use spin::{Mutex, Once};

use super::exec::{self, ExecError};
use super::files::{self, FdTable};
use super::memory::Memory;
use crate::arch::{self, percpu};
use crate::sched::{self, JoinHandle};

/// How a program ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// It called `exit` or `exit_group` with this code (its low 8 bits).
    Exited(u8),
    /// The kernel ended it: the reason, as the report said it.
    Killed(String),
}

/// One running program.
pub struct Process {
    /// Its process ID: its thread's ID, as on Linux.
    pid: AtomicU64,
    /// The ID of the thread that started it (the shell's).
    pub parent: u64,
    /// Its name: the last part of the path it was run by.
    pub name: String,
    /// Its memory, until it exits.
    pub memory: Mutex<Option<Memory>>,
    /// Its open files.
    pub files: Mutex<FdTable>,
    /// Its working directory: absolute, normalised.
    pub cwd: Mutex<String>,
    /// How it ended, once it has.
    status: Mutex<Option<Status>>,
    /// The system-call numbers it was told are not implemented (logged once
    /// each).
    pub unimplemented_logged: Mutex<Vec<u64>>,
    /// Its `set_tid_address` pointer (kept, never written: no threads).
    pub clear_child_tid: AtomicU64,
    /// Its thread's stop flag (`sched::stop_flag`), once the thread runs:
    /// set by Ctrl-C.
    pub stop: Once<Arc<AtomicBool>>,
    /// Started in the background: its terminal reads get the end of file.
    pub background: bool,
}

impl Process {
    /// Its process ID.
    pub fn pid(&self) -> u64 {
        self.pid.load(Ordering::Relaxed)
    }

    /// Whether it was asked to stop (Ctrl-C).
    pub fn stop_requested(&self) -> bool {
        self.stop
            .get()
            .is_some_and(|stop| stop.load(Ordering::Acquire))
    }
}

/// Whether a program with process ID `pid` runs.
pub fn exists(pid: u64) -> bool {
    TABLE.lock().contains_key(&pid)
}

/// Every running program, by process ID.
static TABLE: Mutex<BTreeMap<u64, Arc<Process>>> = Mutex::new(BTreeMap::new());

/// The program the running thread belongs to, if it runs one.
pub fn current() -> Option<&'static Process> {
    let context = percpu::user_context();
    // SAFETY: a non-zero context is a pointer `spawn` made with
    // `Arc::into_raw` and gave to this thread; the reference it holds is
    // given back only by `Running::wait`, after the thread has exited, so
    // the process lives while its thread runs, which is while this is used
    // (the 'static is that thread's lifetime; nothing keeps it longer).
    (context != 0).then(|| unsafe { &*(context as *const Process) })
}

/// Why a program did not start.
#[derive(Debug)]
pub enum SpawnError {
    /// No such file in the initrd.
    NotFound,
    /// A directory.
    IsDirectory,
    /// It could not be loaded.
    Exec(ExecError),
    /// No thread could be made for it.
    NoThread,
}

impl core::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SpawnError::NotFound => f.write_str("no such file"),
            SpawnError::IsDirectory => f.write_str("is a directory"),
            SpawnError::Exec(error) => write!(f, "cannot run it: {error}"),
            SpawnError::NoThread => f.write_str("no memory for its thread"),
        }
    }
}

/// A started program.
pub struct Running {
    /// The process.
    process: Arc<Process>,
    /// Its thread.
    thread: JoinHandle,
    /// The reference its thread holds (its per-CPU context word), given
    /// back once it has exited.
    context: u64,
}

impl Running {
    /// Its process ID.
    pub fn pid(&self) -> u64 {
        self.thread.id()
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.process.name
    }

    /// Makes the running thread the one woken when the program ends (see
    /// `sched::JoinHandle::watch`).
    pub fn watch(&self) {
        self.thread.watch();
    }

    /// Waits until it has ended; returns how.
    pub fn wait(self) -> Status {
        let code = self.thread.join();
        // SAFETY: the pointer `spawn` made with `Arc::into_raw` for the
        // thread, which has exited: nothing uses it any more.
        drop(unsafe { Arc::from_raw(self.context as *const Process) });
        TABLE.lock().remove(&self.process.pid());
        let status = self.process.status.lock().take();
        status.unwrap_or(Status::Exited(code as u8))
    }
}

/// Starts the program at `path` (absolute or relative to `cwd`) in the
/// initrd, with `args` (`args[0]`: its name as typed); `background`: its
/// terminal reads get the end of the file (the shell does not pass it
/// keys).
pub fn spawn(
    path: &str,
    args: &[&str],
    cwd: &str,
    background: bool,
) -> Result<Running, SpawnError> {
    let initrd = files::initrd();
    let found = initrd.resolve(cwd, path).ok_or(SpawnError::NotFound)?;
    let image = initrd.file(found.ino).ok_or(SpawnError::IsDirectory)?;
    let loaded = exec::load(image, args, random_bytes()).map_err(SpawnError::Exec)?;
    let name = found.path.rsplit('/').next().unwrap_or(&found.path);
    let root = loaded.memory.space.root();
    let process = Arc::new(Process {
        pid: AtomicU64::new(0),
        parent: sched::current() as u64,
        name: String::from(name),
        memory: Mutex::new(Some(loaded.memory)),
        files: Mutex::new(FdTable::new()),
        cwd: Mutex::new(String::from(cwd)),
        status: Mutex::new(None),
        unimplemented_logged: Mutex::new(Vec::new()),
        clear_child_tid: AtomicU64::new(0),
        stop: Once::new(),
        background,
    });
    let context = Arc::into_raw(process.clone()) as u64;
    let (entry, stack) = (loaded.entry, loaded.stack_pointer);
    let entered = process.clone();
    let thread = sched::spawn_user(name, root, context, move || {
        entered
            .pid
            .store(sched::current() as u64, Ordering::Relaxed);
        entered.stop.call_once(sched::stop_flag);
        drop(entered);
        arch::user::enter(entry, stack)
    });
    let thread = match thread {
        Ok(thread) => thread,
        Err(_) => {
            // SAFETY: the pointer just made, which no thread got.
            drop(unsafe { Arc::from_raw(context as *const Process) });
            return Err(SpawnError::NoThread);
        }
    };
    process.pid.store(thread.id() as u64, Ordering::Relaxed);
    TABLE.lock().insert(thread.id() as u64, process.clone());
    Ok(Running {
        process,
        thread,
        context,
    })
}

/// 16 bytes for a program's `AT_RANDOM` (musl seeds its stack protector
/// and pointer guard from them).
fn random_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    super::random::fill(&mut bytes);
    bytes
}

/// Ends the running program with `status`: frees its memory and files,
/// and ends its thread. Never returns.
pub fn exit_current(status: Status) -> ! {
    let Some(process) = current() else {
        sched::exit(0)
    };
    let code = match &status {
        Status::Exited(code) => usize::from(*code),
        Status::Killed(_) => 0x80,
    };
    // Off its address space first: then no CPU has it loaded, and it can
    // go.
    sched::leave_address_space();
    let memory = process.memory.lock().take();
    drop(memory);
    process.files.lock().close_all();
    *process.status.lock() = Some(status);
    sched::exit(code)
}

/// Ends the running program with a report: `NAME[PID]: killed: REASON`.
pub fn kill_current(reason: core::fmt::Arguments) -> ! {
    let reason = alloc::format!("{reason}");
    if let Some(process) = current() {
        crate::console::fresh_line();
        crate::println!("{}[{}]: killed: {reason}", process.name, process.pid());
    }
    exit_current(Status::Killed(reason))
}

/// Asks the program with process ID `pid` to stop (Ctrl-C, `kill`): it
/// ends at its next return to ring 3 or out of a wait, with `reason`.
/// Returns whether there is such a program.
pub fn request_stop(pid: u64) -> bool {
    let known = TABLE.lock().contains_key(&pid);
    known && sched::request_stop(pid as sched::policy::ThreadId)
}

/// One running program, for `ps`.
pub struct ProcessInfo {
    /// Its process ID (its thread's ID).
    pub pid: u64,
    /// Who started it.
    pub parent: u64,
    /// Its name.
    pub name: String,
    /// The frames its memory holds (page tables included).
    pub frames: u64,
}

/// Every running program.
pub fn processes() -> Vec<ProcessInfo> {
    let table: Vec<Arc<Process>> = TABLE.lock().values().cloned().collect();
    table
        .iter()
        .map(|process| ProcessInfo {
            pid: process.pid(),
            parent: process.parent,
            name: process.name.clone(),
            frames: process
                .memory
                .try_lock()
                .and_then(|memory| memory.as_ref().map(|memory| memory.space.frames()))
                .unwrap_or(0),
        })
        .collect()
}

/// What happens to a program that faults in ring 3 (registered with the
/// exception policy): a report, `NAME[PID]: killed: page fault writing
/// 0x10 (not mapped) at rip 0x401000`, and its end. A fault in its stack's
/// guard page is named a stack overflow.
fn user_fault(exception: &arch::CpuException, fault: &crate::exceptions::UserFault) -> ! {
    let rip = exception.frame.instruction_pointer.as_u64();
    let overflow = fault.address().is_some_and(|address| {
        current()
            .and_then(|process| {
                process
                    .memory
                    .try_lock()
                    .and_then(|memory| memory.as_ref().map(|memory| memory.in_stack_guard(address)))
            })
            .unwrap_or(false)
    });
    let what = if overflow { "stack overflow: " } else { "" };
    kill_current(format_args!("{what}{fault} at rip {rip:#x}"))
}

/// Page-fault error code bits: the page was present; a store; a fetch.
const PAGE_FAULT_PRESENT: u64 = 1 << 0;
/// See [`PAGE_FAULT_PRESENT`].
const PAGE_FAULT_WRITE: u64 = 1 << 1;
/// See [`PAGE_FAULT_PRESENT`].
const PAGE_FAULT_FETCH: u64 = 1 << 4;

/// The demand pager (registered with the CPU layer): a fault on a page the
/// running program reserved maps it (`Memory::demand`). Interrupts off.
fn demand_page(address: u64, code: u64) -> bool {
    if code & PAGE_FAULT_PRESENT != 0 {
        return false;
    }
    let Some(process) = current() else {
        return false;
    };
    // The program's own thread faulted, in ring 3 or in a copy its system
    // call makes, and neither holds its memory's lock then (the calls that
    // take it copy nothing from the program); a `ps` on another CPU holds
    // it for a moment: wait for it.
    let mut memory = process.memory.lock();
    memory.as_mut().is_some_and(|memory| {
        memory.demand(
            address,
            code & PAGE_FAULT_WRITE != 0,
            code & PAGE_FAULT_FETCH != 0,
        )
    })
}

/// What `init` found in the boot archive, for the boot report.
pub enum InitrdSummary {
    /// No module with the string `initrd`.
    Missing,
    /// Read: files and bytes.
    Read {
        /// Regular files.
        files: usize,
        /// Their bytes.
        bytes: u64,
    },
    /// Damaged: the reason; the kernel goes on without it.
    Damaged(super::initrd::InitrdError),
}

/// Reads the boot archive (`archive`: the module GRUB loaded with the
/// string `initrd`, in memory for the kernel's life), and registers what a
/// fault in ring 3 does.
pub fn init(archive: Option<&'static [u8]>) -> InitrdSummary {
    crate::exceptions::set_user_fault_handler(user_fault);
    arch::user::set_demand_pager(demand_page);
    let Some(archive) = archive else {
        return InitrdSummary::Missing;
    };
    match super::initrd::Initrd::parse(archive) {
        Ok(initrd) => {
            let summary = InitrdSummary::Read {
                files: initrd.files(),
                bytes: initrd.total_bytes(),
            };
            files::set_initrd(initrd);
            summary
        }
        Err(error) => InitrdSummary::Damaged(error),
    }
}
