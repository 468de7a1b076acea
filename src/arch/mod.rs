//! Everything that depends on the processor architecture. Only x86_64 exists.
//!
//! The rest of the kernel reaches the CPU through the names re-exported here,
//! never through the submodule: `arch::x86_64` is private, so the compiler
//! keeps that rule.

mod x86_64;

pub use self::x86_64::cpuid::{cpuid, features};
pub use self::x86_64::idt::{CpuException, Vector as ExceptionVector, set_exception_handler};
pub use self::x86_64::irq::set_interrupt_dispatcher;
pub use self::x86_64::paging::{
    Access, CacheType, FrameSource, IDENTITY_MAPPED_END, MapError, PageTables, access_of,
    enable_nx, init_pat, nx_enabled, translate,
};
pub use self::x86_64::port::Port;
pub use self::x86_64::qemu_exit::{ExitCode, exit_qemu};
pub use self::x86_64::{apic, ioapic, isa, pic, pit};
pub use self::x86_64::{
    disable_interrupts, enable_and_wait, enable_interrupts, frame_pointer, halt_forever, init,
    read_timestamp, stack_guard_pages, triple_fault, without_interrupts,
};
pub use ::x86_64::structures::idt::InterruptStackFrameValue;

#[cfg(target_os = "none")]
pub(crate) use self::x86_64::paging::ktests;
