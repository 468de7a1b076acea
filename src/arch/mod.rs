//! Everything that depends on the processor architecture. Only x86_64 exists.
//!
//! The rest of the kernel reaches the CPU through the names re-exported here,
//! never through the submodule: `arch::x86_64` is private, so the compiler
//! keeps that rule.

#[cfg(target_os = "none")]
mod x86_64;

/// The size of a page, and of the physical frame behind it: 4 KiB (the
/// smallest page x86_64 maps). The one definition; it compiles on the host
/// too, for the pure modules that compute with pages.
pub const PAGE_SIZE: u64 = 4096;

#[cfg(target_os = "none")]
pub use self::x86_64::cpuid::{cpuid, features};
#[cfg(target_os = "none")]
pub use self::x86_64::idt::{CpuException, Vector as ExceptionVector, set_exception_handler};
#[cfg(target_os = "none")]
pub use self::x86_64::irq::{
    set_interrupt_dispatcher, set_interrupt_exit_hook, set_user_return_hook,
};
#[cfg(target_os = "none")]
pub use self::x86_64::paging::{
    Access, BOOT_MAPPED_END, CacheType, FrameSource, MapError, PageTables, UserPage, access_of,
    cpus_with_root, enable_nx, init_pat, kernel_root, lower_half_entries, nx_enabled,
    set_kernel_root, switch_root, translate,
};
#[cfg(target_os = "none")]
pub use self::x86_64::port::Port;
#[cfg(target_os = "none")]
pub use self::x86_64::qemu_exit::{ExitCode, exit_qemu};
#[cfg(target_os = "none")]
pub use self::x86_64::{apic, cmos, ioapic, isa, percpu, pic, pit, smp, tlb, user};
#[cfg(target_os = "none")]
pub use self::x86_64::{
    copy_bytes, disable_interrupts, enable_and_wait, enable_interrupts, frame_pointer,
    halt_forever, init, init_this_cpu, interrupts_enabled, new_cpu, read_timestamp,
    stack_guard_pages, triple_fault, without_interrupts, zero_frame,
};
#[cfg(target_os = "none")]
pub use ::x86_64::PrivilegeLevel;
#[cfg(target_os = "none")]
pub use ::x86_64::structures::idt::InterruptStackFrameValue;

#[cfg(target_os = "none")]
pub(crate) use self::x86_64::paging::ktests;
