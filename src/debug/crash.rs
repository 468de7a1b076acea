//! `crash=KIND` on the command line: one fault raised on purpose after
//! `ready`, so that a user can see each report and the tests can check it.
//!
//! Each fault is raised by the CPU, never by a Rust panic: inline assembly
//! does what the compiler would otherwise check or fold (Rust's `/` by zero
//! panics instead of dividing; a null `read_volatile` trips a debug
//! assertion), and the recursion goes through `core::hint::black_box`, so the
//! optimiser cannot turn it into a loop. Every kind has a function of its
//! own, never inlined, so the report's backtrace names it first.
//!
//! The three W^X kinds (`write-code`, `write-rodata`, `exec-data`) fault
//! because the kernel maps its sections with the rights they need and no
//! more (`memory::paging`). Where that protection is missing (a CPU without
//! NX, for `exec-data`) the access succeeds, changes nothing, and a warning
//! says so.

use core::arch::asm;
use core::sync::atomic::AtomicU8;

use super::Crash;

/// The non-canonical address `crash=gp` reads: bit 63 set, bits 62..47
/// clear.
const NON_CANONICAL: u64 = 0x8000_0000_0000_0000;

/// A constant, in `.rodata`, that `crash=write-rodata` writes to.
static CONSTANT: u64 = 0x6b65_7374_7265_6c00;

/// `ret`, in `.data` (an atomic has interior mutability, so it is not
/// placed in `.rodata`), which `crash=exec-data` calls.
static RET_IN_DATA: AtomicU8 = AtomicU8::new(0xc3);

/// Raises the fault `kind` names. Returns only from a breakpoint, or when a
/// W^X kind finds the memory writable or executable after all.
pub fn run(kind: Crash) {
    println!("crash={}: {}", kind.name(), what(kind));
    match kind {
        Crash::Breakpoint => {
            breakpoint();
            println!("crash=breakpoint: the kernel carried on after the breakpoint");
        }
        Crash::Divide => divide(),
        Crash::InvalidOpcode => invalid_opcode(),
        Crash::PageFault => read_at(0),
        Crash::LowHalf => read_at(OLD_IMAGE),
        Crash::Gp => gp(),
        Crash::StackOverflow => {
            stack_overflow(0);
        }
        Crash::WriteCode => {
            write_code();
            log::warn!("crash=write-code: no fault: the kernel's code is writable");
        }
        Crash::WriteRodata => {
            write_rodata();
            log::warn!("crash=write-rodata: no fault: the kernel's constants are writable");
        }
        Crash::ExecData => {
            exec_data();
            log::warn!("crash=exec-data: no fault: the kernel's data is executable");
        }
        Crash::Oom => oom(),
        Crash::Smap | Crash::Smep => user_page(kind),
    }
}

/// Where `crash=smap` and `crash=smep` map their program's page.
const USER_PAGE: u64 = 0x1000_0000;

/// A read of, or a call into, a page of a program's address space, made
/// for the purpose and loaded on this CPU: SMAP or SMEP faults (#PF in
/// kernel mode, a kernel panic); without them it works, a warning says so,
/// and the kernel's tables come back.
fn user_page(kind: Crash) {
    use crate::arch::Access;
    use crate::memory::address_space::AddressSpace;
    let Ok(mut space) = AddressSpace::new() else {
        log::warn!("crash={}: no memory for an address space", kind.name());
        return;
    };
    let access = if kind == Crash::Smep {
        Access::READ_EXECUTE
    } else {
        Access::READ
    };
    let Ok(frame) = space.map_zeroed(USER_PAGE, access, true) else {
        log::warn!("crash={}: no memory for the page", kind.name());
        return;
    };
    // SAFETY: the frame is the new space's page, in the direct map, and
    // nothing else uses it; its first byte becomes `ret`.
    unsafe { AddressSpace::frame_bytes(frame).write(RET) };
    // SAFETY: the space maps the kernel like the kernel's own tables; this
    // thread loads the kernel's again before the space is dropped.
    unsafe { crate::arch::switch_root(space.root()) };
    if kind == Crash::Smep {
        call_user_page();
        log::warn!("crash=smep: no fault: this CPU has no SMEP");
    } else {
        read_user_page();
        log::warn!("crash=smap: no fault: this CPU has no SMAP");
    }
    // SAFETY: the kernel's own tables.
    unsafe { crate::arch::switch_root(crate::arch::kernel_root()) };
    drop(space);
}

/// `ret`.
const RET: u8 = 0xc3;

/// A plain kernel read of [`USER_PAGE`].
#[inline(never)]
fn read_user_page() {
    // SAFETY: the page is mapped (user, read-only) in the loaded tables;
    // under SMAP the read faults and the handler reports and halts.
    unsafe {
        asm!("mov {value}, qword ptr [{address}]", address = in(reg) USER_PAGE,
            value = out(reg) _, options(nostack, readonly));
    }
}

/// A call to the `ret` at [`USER_PAGE`].
#[inline(never)]
fn call_user_page() {
    // SAFETY: the page holds `ret` (user, read + execute) in the loaded
    // tables; under SMEP the fetch faults and the handler reports and
    // halts, without it the call returns at once.
    unsafe { asm!("call {}", in(reg) USER_PAGE, clobber_abi("C")) };
}

/// What each kind does, as its first line says.
fn what(kind: Crash) -> &'static str {
    match kind {
        Crash::Breakpoint => "a breakpoint (int3)",
        Crash::Divide => "dividing by zero",
        Crash::InvalidOpcode => "an undefined instruction (ud2)",
        Crash::PageFault => "reading through a null pointer",
        Crash::LowHalf => "reading 0x100000, where the kernel was loaded (the lower half)",
        Crash::Gp => "reading from a non-canonical address",
        Crash::StackOverflow => "recursing until the stack runs out",
        Crash::WriteCode => "writing into the kernel's code (.text)",
        Crash::WriteRodata => "writing into a constant (.rodata)",
        Crash::ExecData => "calling into data (.data)",
        Crash::Oom => "allocating until the heap is exhausted",
        Crash::Smap => "the kernel reading a program's page outside the copy routines",
        Crash::Smep => "the kernel calling into a program's page",
    }
}

/// `int3`: the handler reports and returns here.
#[inline(never)]
fn breakpoint() {
    // SAFETY: int3 raises #BP, whose handler prints and returns; no memory,
    // stack or register of this function is involved.
    unsafe { asm!("int3", options(nomem, nostack)) };
}

/// `div` by a zero register: #DE.
#[inline(never)]
fn divide() {
    // SAFETY: dividing by zero raises #DE, whose handler reports and halts:
    // the instruction never completes, and the registers it would write
    // (EAX, EDX) are declared clobbered anyway.
    unsafe {
        asm!(
            "div {divisor:e}",
            divisor = in(reg) 0u32,
            inout("eax") 1u32 => _,
            inout("edx") 0u32 => _,
            options(nomem, nostack),
        );
    }
}

/// `ud2`, the instruction defined to be undefined: #UD.
#[inline(never)]
fn invalid_opcode() {
    // SAFETY: ud2 raises #UD, whose handler reports and halts.
    unsafe { asm!("ud2", options(nomem, nostack)) };
}

/// Where GRUB loads the kernel: physical 1 MiB, which the kernel, running
/// in the top 2 GiB, does not map at this (or any lower-half) address.
const OLD_IMAGE: u64 = 0x10_0000;

/// A read from `address` in the lower half, where the kernel maps nothing
/// (a null pointer for 0): #PF.
#[inline(never)]
fn read_at(address: u64) {
    // SAFETY: the read faults (nothing in the lower half is mapped, page 0
    // included) and the handler reports and halts; the register it would
    // load is an output of this block.
    unsafe {
        asm!(
            "mov {value}, qword ptr [{address}]",
            address = in(reg) address,
            value = out(reg) _,
            options(nostack, readonly),
        );
    }
}

/// A read from a non-canonical address: #GP with no selector.
#[inline(never)]
fn gp() {
    // SAFETY: a non-canonical address raises #GP before any memory is read;
    // the handler reports and halts.
    unsafe {
        asm!(
            "mov {value}, qword ptr [{address}]",
            address = in(reg) NON_CANONICAL,
            value = out(reg) _,
            options(nostack, readonly),
        );
    }
}

/// Recursion without end, through a function pointer the optimiser cannot
/// see through: the stack runs into its guard page; the page fault cannot
/// push its frame there, so the CPU raises a double fault, which runs on its
/// own stack (IST) and reports.
#[inline(never)]
fn stack_overflow(depth: u64) -> u64 {
    let recurse: fn(u64) -> u64 = core::hint::black_box(stack_overflow);
    recurse(depth + 1).wrapping_add(depth)
}

/// A store into the code of this very function (the byte already there, so
/// nothing changes if it is allowed): #PF once `.text` is read-only.
#[inline(never)]
fn write_code() {
    let target = write_code as *const () as u64;
    // SAFETY: rewrites one byte of this function's code with its own value:
    // if the page is writable nothing changes; if not, the store faults and
    // the handler reports and halts.
    unsafe {
        asm!(
            "mov {byte}, byte ptr [{address}]",
            "mov byte ptr [{address}], {byte}",
            address = in(reg) target,
            byte = out(reg_byte) _,
            options(nostack),
        );
    }
}

/// A store into [`CONSTANT`] (its own value): #PF once `.rodata` is
/// read-only.
#[inline(never)]
fn write_rodata() {
    let target = &raw const CONSTANT as u64;
    // SAFETY: rewrites the constant's first byte with its own value: if the
    // page is writable the value never changes (so no Rust code can see a
    // difference); if not, the store faults and the handler reports and
    // halts.
    unsafe {
        asm!(
            "mov {byte}, byte ptr [{address}]",
            "mov byte ptr [{address}], {byte}",
            address = in(reg) target,
            byte = out(reg_byte) _,
            options(nostack),
        );
    }
}

/// A call to [`RET_IN_DATA`]: #PF (an instruction fetch from a no-execute
/// page) once `.data` is no-execute; otherwise the `ret` comes straight
/// back.
#[inline(never)]
fn exec_data() {
    let target = RET_IN_DATA.as_ptr() as u64;
    // SAFETY: the byte at `target` is `ret` (0xc3, never changed), so if the
    // page is executable the call returns at once having touched nothing but
    // the return address it pushed; if not, the fetch faults and the handler
    // reports and halts. The C ABI's scratch registers are declared
    // clobbered, as for any call.
    unsafe {
        asm!("call {target}", target = in(reg) target, clobber_abi("C"));
    }
}

/// Allocates 1 MiB blocks, keeping every one, until the heap cannot grow:
/// the allocator's out-of-memory panic names the size and what is left.
#[inline(never)]
fn oom() -> ! {
    let mut blocks = alloc::vec::Vec::new();
    loop {
        // Touch each block so it is really used.
        let block = alloc::vec![1u8; 1 << 20];
        blocks.push(core::hint::black_box(block));
    }
}
