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

/// The boot archive's line: `initrd: N files, N KiB`, a warning when it is
/// damaged (the kernel goes on without it), or that there is none.
#[cfg(target_os = "none")]
pub fn initrd(summary: &crate::process::program::InitrdSummary) {
    use crate::process::program::InitrdSummary;
    match summary {
        InitrdSummary::Read { files, bytes } => {
            println!("initrd: {files} files, {} KiB", bytes.div_ceil(1024));
        }
        InitrdSummary::Missing => println!("initrd: none (no module named initrd): no programs"),
        InitrdSummary::Damaged(error) => {
            log::warn!("initrd: damaged, not used: {error}");
            println!("initrd: none (the archive is damaged): no programs");
        }
    }
    let (smep, smap) = crate::arch::user::protection();
    let on = |flag: bool| if flag { "on" } else { "off (not on this CPU)" };
    println!(
        "user mode: SMEP {}, SMAP {}; getrandom from {}",
        on(smep),
        on(smap),
        crate::process::random::source()
    );
}
