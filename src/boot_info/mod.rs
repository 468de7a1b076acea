//! The boot information: what GRUB hands over (Multiboot2 specification,
//! section 3.6): the command line, the memory map, modules, framebuffer, ...
//!
//! GRUB passes the physical address of the information in EBX, which the
//! trampoline forwards to `rust_main`. [`load`] turns it into a [`BootInfo`]
//! or stops the boot with a `boot error:` line; nothing later has to deal
//! with a missing or broken structure.

#[cfg(target_os = "none")]
mod load;

#[cfg(target_os = "none")]
pub use load::load;

use multiboot2::BootInformation;

/// The boot information, loaded and checked.
pub struct BootInfo<'a> {
    /// The parsed structure (from the `multiboot2` crate).
    pub mbi: BootInformation<'a>,
}

impl BootInfo<'_> {
    /// The kernel command line, or "" when GRUB passed none or it is not
    /// valid UTF-8.
    pub fn cmdline(&self) -> &str {
        self.mbi
            .command_line_tag()
            .and_then(|tag| tag.cmdline().ok())
            .unwrap_or("")
    }

    /// The boot loader's name, or "" when it gave none.
    pub fn loader_name(&self) -> &str {
        self.mbi
            .boot_loader_name_tag()
            .and_then(|tag| tag.name().ok())
            .unwrap_or("")
    }
}

/// In-kernel tests of the boot information as GRUB passed it.
#[cfg(target_os = "none")]
pub mod ktests {
    use crate::selftest::{Context, Outcome};
    use crate::{check, check_eq};

    /// GRUB identifies itself and passed a memory map and the command line.
    fn loaded_from_grub(context: &Context) -> Outcome {
        let boot = context.boot;
        check!(boot.loader_name().starts_with("GRUB"), "loader is {:?}", boot.loader_name());
        check!(boot.mbi.memory_map_tag().is_some());
        check!(boot.cmdline().contains("selftest"));
        check_eq!(boot.mbi.start_address() % 8, 0);
        check!(boot.mbi.total_size() >= 16);
        Ok(())
    }

    pub const TESTS: &[crate::selftest::Test] = crate::kernel_tests![loaded_from_grub];
}
