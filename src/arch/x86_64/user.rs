//! Ring 3: the `syscall` entry and its return, the first entry into a
//! program, the user FPU state, and the switches (SMEP, SMAP, the FPU's
//! control bits) that keep the kernel and programs apart.
//!
//! **System calls.** `syscall` loads CS and SS from STAR, RIP from LSTAR,
//! and clears the RFLAGS bits SFMASK names ([`ENTRY_FLAGS_MASK`]: IF, so
//! the entry runs with interrupts off until it is on the kernel stack; TF,
//! DF, AC, NT and IOPL, so no user-chosen flag reaches kernel code). The
//! entry swaps GS to the per-CPU block (`swapgs`), keeps the user stack
//! pointer in it, switches to the running thread's kernel stack (the TSS's
//! `rsp0`, which the scheduler keeps at the running thread's stack top),
//! and saves every register as a [`UserRegisters`] record laid out like an
//! interrupt frame at its top. The handler registered with
//! [`set_syscall_handler`] gets that record, with interrupts on.
//!
//! **The way back** is `sysret` when the return address is canonical, and
//! `iretq` otherwise: Intel CPUs raise the #GP of a non-canonical RCX in
//! `sysret` at ring 0, on the user's stack pointer (Intel SDM vol. 2B,
//! SYSRET). The handler also refuses such a return (the process layer kills
//! the program), so this is a second wall, taken whatever the CPU model.
//!
//! **GS.** In the kernel GS points at the per-CPU block; in a program it is
//! the user's (always 0: no system call sets it, and without FSGSBASE a
//! program can only load a flat selector). Every way in from ring 3 swaps:
//! this entry, the interrupt entries (`irq`) and the exception entries
//! (`idt`).

use core::arch::global_asm;
use core::sync::atomic::{AtomicBool, Ordering};

use spin::Once;
use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};
use x86_64::registers::model_specific::{Efer, EferFlags, Msr};

use super::gdt::{KERNEL_CODE, SYSRET_BASE, USER_CODE, USER_DATA};
use super::percpu::{KERNEL_STACK, USER_RSP};

/// IA32_STAR: the segment bases of `syscall` and `sysret`.
const IA32_STAR: u32 = 0xc000_0081;
/// IA32_LSTAR: where `syscall` jumps in 64-bit mode.
const IA32_LSTAR: u32 = 0xc000_0082;
/// IA32_FMASK: RFLAGS bits `syscall` clears.
const IA32_FMASK: u32 = 0xc000_0084;
/// IA32_FS_BASE: the FS segment's base (a program's thread pointer).
const IA32_FS_BASE: u32 = 0xc000_0100;

/// RFLAGS bits.
mod rflags {
    /// Trap flag: single-step.
    pub const TF: u64 = 1 << 8;
    /// Interrupt enable.
    pub const IF: u64 = 1 << 9;
    /// Direction flag: string instructions count down.
    pub const DF: u64 = 1 << 10;
    /// I/O privilege level (two bits).
    pub const IOPL: u64 = 3 << 12;
    /// Nested task.
    pub const NT: u64 = 1 << 14;
    /// Alignment check, and with SMAP: user pages accessible.
    pub const AC: u64 = 1 << 18;
    /// Bit 1, always set.
    pub const RESERVED: u64 = 1 << 1;
}

/// What `syscall` clears in RFLAGS on entry.
const ENTRY_FLAGS_MASK: u64 =
    rflags::TF | rflags::IF | rflags::DF | rflags::IOPL | rflags::NT | rflags::AC;

/// RFLAGS a program starts with: interrupts on, nothing else.
const INITIAL_FLAGS: u64 = rflags::IF | rflags::RESERVED;

/// The first address past the lower canonical half: a return address at or
/// above it would fault in `sysret`.
const CANONICAL_LOWER_END: u64 = 1 << 47;

/// A program's registers, as the system-call entry saved them (lowest
/// address first). The last five words are laid out like the frame an
/// interrupt pushes, so the same record returns through `iretq`. The entry
/// saves only what a system call reads or may change: R15–RBX (which the
/// Rust code keeps), R11 and RCX (the flags and return address, in the
/// frame part) hold stale values, filled only for an `iretq` return.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
#[allow(missing_docs)]
pub struct UserRegisters {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rsi: u64,
    pub rdi: u64,
    /// The system call's number on entry, its result on return.
    pub rax: u64,
    /// Where the program goes on: the instruction after `syscall` (RCX).
    pub rip: u64,
    pub cs: u64,
    /// The program's RFLAGS (R11).
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// Byte offset of `rip` in [`UserRegisters`], for the return path.
const RIP: usize = core::mem::offset_of!(UserRegisters, rip);
/// Byte offset of `rflags` in [`UserRegisters`].
const RFLAGS: usize = core::mem::offset_of!(UserRegisters, rflags);
/// The offsets the entry's stores assume.
const _: () = assert!(
    core::mem::offset_of!(UserRegisters, r11) == 48
        && core::mem::offset_of!(UserRegisters, rcx) == 88
        && core::mem::size_of::<UserRegisters>() == 160
);

/// What a system call is handed to: the saved registers, which it may
/// change (RAX: the result), with interrupts on, on the thread's kernel
/// stack.
pub type SyscallHandler = fn(&mut UserRegisters);

/// The registered handler (`Once::get`: one atomic load, no lock).
static HANDLER: Once<SyscallHandler> = Once::new();

/// Registers what every system call is handed to (the first call wins).
pub fn set_syscall_handler(handler: SyscallHandler) {
    HANDLER.call_once(|| handler);
}

/// What a page fault on a program's address is handed to first: the
/// process layer's demand pager, which maps the page when the program had
/// reserved it (`mmap`, the stack) and returns true. Takes the address and
/// the page-fault error code.
pub type DemandPager = fn(u64, u64) -> bool;

/// The registered demand pager.
static DEMAND_PAGER: Once<DemandPager> = Once::new();

/// Registers the demand pager (the first call wins).
pub fn set_demand_pager(pager: DemandPager) {
    DEMAND_PAGER.call_once(|| pager);
}

/// Asks the demand pager about a page fault at `address` (a program's
/// address: the lower half) with error code `code`: whether the page is
/// mapped now. From the page-fault entry, interrupts off.
pub extern "C" fn demand_page(address: u64, code: u64) -> bool {
    is_user_canonical(address) && DEMAND_PAGER.get().is_some_and(|pager| pager(address, code))
}

/// Whether SMAP is on, so the copy routines must open user pages with
/// `stac` (which does not exist without SMAP).
pub(super) static SMAP_ON: AtomicBool = AtomicBool::new(false);
/// Whether SMEP is on.
static SMEP_ON: AtomicBool = AtomicBool::new(false);

global_asm!(
    ".global kestrel_syscall_entry",
    "kestrel_syscall_entry:",
    "swapgs",
    "mov gs:[{user_rsp}], rsp",
    "mov rsp, gs:[{kernel_stack}]",
    // The interrupt-frame part: SS, RSP, RFLAGS (R11), CS, RIP (RCX).
    "push {user_data}",
    "push qword ptr gs:[{user_rsp}]",
    "push r11",
    "push {user_code}",
    "push rcx",
    "push rax",
    "push rdi",
    "push rsi",
    "sub rsp, 8", // RCX: the return address, saved above
    "push rdx",
    "push r8",
    "push r9",
    "push r10",
    // R11 (the flags, saved above) and the callee-saved registers, which
    // the Rust code keeps as the C ABI says: their slots are left as they
    // are, and filled only for a return through `iretq`.
    "sub rsp, 56",
    // Twenty words: RSP is 16-byte aligned, as the stack top was. RBP
    // stays the program's (callee-saved: it comes back as it was); a
    // backtrace stops there, at the first frame in the lower half.
    "mov rdi, rsp",
    "sti",
    "call {dispatch}",
    "cli",
    // Back: `sysret` only to a canonical address (see the module).
    "mov rcx, [rsp + {rip}]",
    "shr rcx, 47",
    "jnz 2f",
    "add rsp, 56",
    "pop r10",
    "pop r9",
    "pop r8",
    "pop rdx",
    "add rsp, 8",
    "pop rsi",
    "pop rdi",
    "pop rax",
    "mov rcx, [rsp]",      // RIP
    "mov r11, [rsp + 16]", // RFLAGS
    "mov rsp, [rsp + 24]", // the user stack
    "swapgs",
    "sysretq",
    "2:",
    // The slots left out above, filled for `iretq`'s full restore (the
    // registers still hold the program's values).
    "mov [rsp], r15",
    "mov [rsp + 8], r14",
    "mov [rsp + 16], r13",
    "mov [rsp + 24], r12",
    "mov [rsp + 32], rbp",
    "mov [rsp + 40], rbx",
    "mov r11, [rsp + {rflags}]",
    "mov [rsp + 48], r11",
    "mov rcx, [rsp + {rip}]",
    "mov [rsp + 88], rcx",
    "jmp kestrel_return_to_user",
    // Returns to the program through `iretq` from the record at RSP:
    // every register, then the interrupt-frame part.
    ".global kestrel_return_to_user",
    "kestrel_return_to_user:",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbp",
    "pop rbx",
    "pop r11",
    "pop r10",
    "pop r9",
    "pop r8",
    "pop rdx",
    "pop rcx",
    "pop rsi",
    "pop rdi",
    "pop rax",
    "swapgs",
    "iretq",
    user_rsp = const USER_RSP,
    kernel_stack = const KERNEL_STACK,
    user_data = const USER_DATA,
    user_code = const USER_CODE,
    rip = const RIP,
    rflags = const RFLAGS,
    dispatch = sym dispatch,
);

unsafe extern "C" {
    /// The `syscall` entry (LSTAR).
    fn kestrel_syscall_entry();
    /// Restores a [`UserRegisters`] record at RSP and returns to ring 3.
    fn kestrel_return_to_user() -> !;
}

/// Hands a system call to the registered handler; a call before one is
/// registered gets -ENOSYS (38, Linux's number).
extern "C" fn dispatch(registers: &mut UserRegisters) {
    match HANDLER.get() {
        Some(handler) => handler(registers),
        None => registers.rax = (-38i64) as u64,
    }
}

/// Turns `syscall` on for this CPU and points it at the entry: EFER.SCE,
/// STAR, LSTAR and FMASK. Every CPU, as it starts.
pub fn init_this_cpu() {
    let star = u64::from(SYSRET_BASE) << 48 | u64::from(KERNEL_CODE) << 32;
    // SAFETY: the GDT (gdt.rs) holds the segments STAR names, in the order
    // `syscall`/`sysret` need (asserted when it is built); the entry point
    // is the assembly above, which expects exactly this: interrupts off
    // (FMASK clears IF), GS the user's, RCX/R11 the return state.
    unsafe {
        Msr::new(IA32_STAR).write(star);
        Msr::new(IA32_LSTAR).write(kestrel_syscall_entry as *const () as u64);
        Msr::new(IA32_FMASK).write(ENTRY_FLAGS_MASK);
        Efer::update(|flags| flags.insert(EferFlags::SYSTEM_CALL_EXTENSIONS));
    }
}

/// Turns on, on the boot CPU before the others start (they copy its CR0 and
/// CR4): the FPU and SSE for programs (CR0.MP on, EM off; CR4.OSFXSR and
/// OSXMMEXCPT: the kernel itself never uses them, it is built soft-float),
/// and SMEP and SMAP where the CPU has them. Returns (SMEP, SMAP).
pub fn init_protection(smep: bool, smap: bool) -> (bool, bool) {
    // SAFETY: the kernel never executes or touches user pages outside the
    // copy routines below, which open them with `stac`; nothing in the
    // kernel uses x87 or SSE (soft-float target), so enabling them changes
    // nothing for it.
    unsafe {
        Cr0::update(|flags| {
            // Write protection applies to the kernel too: a copy into a
            // program's read-only page faults (and fails) like the program's
            // own write would.
            flags.insert(Cr0Flags::WRITE_PROTECT | Cr0Flags::MONITOR_COPROCESSOR);
            flags.remove(Cr0Flags::EMULATE_COPROCESSOR);
        });
        Cr4::update(|flags| {
            flags.insert(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE);
            if smep {
                flags.insert(Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION);
            }
            if smap {
                flags.insert(Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION);
            }
        });
    }
    SMEP_ON.store(smep, Ordering::Relaxed);
    SMAP_ON.store(smap, Ordering::Relaxed);
    (smep, smap)
}

/// Whether SMEP and SMAP are on: (SMEP, SMAP).
pub fn protection() -> (bool, bool) {
    (
        SMEP_ON.load(Ordering::Relaxed),
        SMAP_ON.load(Ordering::Relaxed),
    )
}

/// A thread's x87/SSE state, as `fxsave` writes it.
#[repr(C, align(16))]
#[derive(Clone)]
pub struct FpuState([u8; 512]);

/// The x87 control word a program starts with (all exceptions masked,
/// double-extended precision, round to nearest), at byte 0.
const FCW_DEFAULT: u16 = 0x037f;
/// MXCSR a program starts with (all SSE exceptions masked), at byte 24.
const MXCSR_DEFAULT: u32 = 0x1f80;

impl FpuState {
    /// The state a program starts with: every register zero, the control
    /// words at their defaults, as after `fninit` (and as Linux starts
    /// programs): no value from another program leaks in.
    pub fn initial() -> FpuState {
        let mut area = [0u8; 512];
        area[0..2].copy_from_slice(&FCW_DEFAULT.to_le_bytes());
        area[24..28].copy_from_slice(&MXCSR_DEFAULT.to_le_bytes());
        FpuState(area)
    }

    /// Saves this CPU's x87/SSE registers here.
    pub fn save(&mut self) {
        // SAFETY: CR4.OSFXSR is on (init_protection); the area is 512
        // bytes, 16-byte aligned, and ours.
        unsafe { core::arch::asm!("fxsave64 [{}]", in(reg) self.0.as_mut_ptr(), options(nostack)) };
    }

    /// Loads this CPU's x87/SSE registers from here.
    pub fn restore(&self) {
        // SAFETY: as in `save`; the area holds a state `save` or `initial`
        // made (reserved MXCSR bits clear), so `fxrstor` does not fault.
        unsafe {
            core::arch::asm!("fxrstor64 [{}]", in(reg) self.0.as_ptr(), options(nostack, readonly))
        };
    }
}

/// The FS base each CPU has, by CPU number (`u64::MAX`: not known).
static FS_BASE: [core::sync::atomic::AtomicU64; super::smp::MAX_CPUS] =
    [const { core::sync::atomic::AtomicU64::new(u64::MAX) }; super::smp::MAX_CPUS];

/// Sets this CPU's FS base: the running program's thread pointer (no MSR
/// write when it has it already: two runs of one program have the same).
pub fn set_fs_base(base: u64) {
    let cpu = super::percpu::cpu();
    if FS_BASE[cpu].swap(base, Ordering::Relaxed) == base {
        return;
    }
    // SAFETY: FS is not used by the kernel; the value is checked canonical
    // by the caller (a non-canonical write would #GP).
    unsafe { Msr::new(IA32_FS_BASE).write(base) };
}

/// Whether `address` is canonical in the lower half (a program's).
pub fn is_user_canonical(address: u64) -> bool {
    address < CANONICAL_LOWER_END
}

/// Enters ring 3 for the first time on this thread: at `rip` with stack
/// `rsp`, every other register zero, interrupts on. The thread's kernel
/// stack (TSS `rsp0`) is where its system calls and interrupts land; what
/// is on it now is never returned to.
pub fn enter(rip: u64, rsp: u64) -> ! {
    let registers = UserRegisters {
        rip,
        cs: u64::from(USER_CODE),
        rflags: INITIAL_FLAGS,
        rsp,
        ss: u64::from(USER_DATA),
        ..UserRegisters::default()
    };
    super::disable_interrupts();
    // SAFETY: the record is copied to this stack and popped by the return
    // path, which swaps to the user's GS and `iretq`s to ring 3 with the
    // user segments of the GDT; the caller has loaded the program's address
    // space, where `rip` and `rsp` are its own.
    unsafe {
        core::arch::asm!(
            "mov rsp, {}",
            "jmp {}",
            in(reg) &raw const registers,
            sym kestrel_return_to_user,
            options(noreturn),
        )
    }
}

// --- copies to and from user memory -------------------------------------------

global_asm!(
    // rdi: destination, rsi: source, rdx: bytes. Returns in RAX the bytes
    // not copied: 0, or what was left when a page fault stopped the copy
    // (the fault handler resumes at the fixup with RCX the count left).
    ".global kestrel_copy_user",
    "kestrel_copy_user:",
    "mov rcx, rdx",
    "cmp byte ptr [rip + {smap}], 0",
    "je 2f",
    "stac",
    "2:",
    ".global kestrel_copy_user_access",
    "kestrel_copy_user_access:",
    "rep movsb",
    ".global kestrel_copy_user_access_end",
    "kestrel_copy_user_access_end:",
    ".global kestrel_copy_user_fixup",
    "kestrel_copy_user_fixup:",
    "cmp byte ptr [rip + {smap}], 0",
    "je 3f",
    "clac",
    "3:",
    "mov rax, rcx",
    "ret",
    smap = sym SMAP_ON,
);

unsafe extern "C" {
    fn kestrel_copy_user(destination: *mut u8, source: *const u8, bytes: usize) -> usize;
    static kestrel_copy_user_access: u8;
    static kestrel_copy_user_access_end: u8;
    static kestrel_copy_user_fixup: u8;
}

/// Where a page fault in kernel mode at `rip` resumes: the copy routine's
/// fixup when `rip` is its one instruction that touches user memory.
pub fn fault_fixup(rip: u64) -> Option<u64> {
    // Taking a linker symbol's address reads nothing.
    let start = &raw const kestrel_copy_user_access as u64;
    let end = &raw const kestrel_copy_user_access_end as u64;
    (start..end)
        .contains(&rip)
        .then_some(&raw const kestrel_copy_user_fixup as u64)
}

/// Copies `bytes` bytes from `source` to `destination`, one of which is a
/// program's memory, in the address space loaded now; a page that is not
/// mapped, or not writable for a write, stops the copy. Returns how many
/// bytes were not copied (0: all were).
///
/// # Safety
/// The user side must lie entirely in the lower half (the caller checked
/// the range: a fault there is caught, a fault elsewhere is a kernel
/// panic); the kernel side must be valid for `bytes` bytes.
pub unsafe fn copy_user(destination: *mut u8, source: *const u8, bytes: usize) -> usize {
    // SAFETY: forwarded from the caller; the routine only moves bytes.
    unsafe { kestrel_copy_user(destination, source, bytes) }
}
