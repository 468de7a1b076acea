//! The reports that span several layers: the boot report (what GRUB
//! handed over, the memory the kernel found and mapped, the heap; on both
//! consoles after the boot, and by the shell's `bootinfo`), and the
//! interrupt counts the shell's `interrupts` shows.
//!
//! It sits above everything it reports on, so the layers below need not
//! know about each other to be reported together.

pub mod boot;
#[cfg(target_os = "none")]
pub mod interrupts;
#[cfg(target_os = "none")]
mod print;

#[cfg(target_os = "none")]
pub use boot::{Report, total_usable_bytes};
#[cfg(target_os = "none")]
pub use print::print_report;
