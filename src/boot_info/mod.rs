//! The boot information: what GRUB hands over (Multiboot2 specification,
//! section 3.6): the command line, the memory map, modules, framebuffer, ...
//!
//! GRUB passes the physical address of the information in EBX, which the
//! trampoline forwards to `rust_main`. [`load`] checks the address and the
//! header, makes a byte slice of the structure and turns it into a
//! [`BootInfo`] with [`BootInfo::from_bytes`], which first [`validate`]s every
//! tag itself (the `multiboot2` crate assumes well-formed tags), or it stops
//! the boot with a `boot error:` line. Nothing later has to deal with a
//! missing or broken structure.
//!
//! [`report`] formats what the information says for the boot report.

pub mod framebuffer;
#[cfg(test)]
mod fuzz;
#[cfg(target_os = "none")]
mod load;
pub mod report;
#[cfg(test)]
pub mod test_support;
pub mod validate;

#[cfg(target_os = "none")]
mod print;

#[cfg(target_os = "none")]
pub use load::load;
#[cfg(target_os = "none")]
pub use print::print_report;

use multiboot2::{BootInformation, BootInformationHeader, MemoryArea, ModuleTag, TagType};

use self::framebuffer::Framebuffer;
use self::validate::Problem;
use crate::memory::range::PhysRange;

/// The boot information, loaded and checked.
pub struct BootInfo<'a> {
    /// The parsed structure (from the `multiboot2` crate).
    pub mbi: BootInformation<'a>,
}

impl<'a> BootInfo<'a> {
    /// Validates the boot information in `bytes` (see [`validate`]) and, if
    /// it is well-formed, hands it to the `multiboot2` crate.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, Problem> {
        validate::validate(bytes)?;
        let header = bytes.as_ptr().cast::<BootInformationHeader>();
        // SAFETY: `bytes` is readable and unchanging for 'a, and `validate`
        // checked that it is 8-byte aligned, that its total size lies inside
        // the slice and that a well-formed tag chain closed by an end tag
        // fills it, so the crate reads only inside `bytes`.
        match unsafe { BootInformation::load(header) } {
            Ok(mbi) => Ok(Self { mbi }),
            // Not expected after `validate`; reported rather than trusted.
            Err(_) => Err(Problem::CrateRejected),
        }
    }

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

    /// The memory map's regions (validation guarantees there is a map).
    pub fn memory_areas(&'a self) -> &'a [MemoryArea] {
        self.mbi
            .memory_map_tag()
            .map(|tag| tag.memory_areas())
            .unwrap_or(&[])
    }

    /// Where the boot information itself lies in physical memory.
    pub fn mbi_range(&self) -> PhysRange {
        PhysRange::from_size(
            self.mbi.start_address() as u64,
            self.mbi.total_size() as u64,
        )
    }

    /// The bytes after the header of the first tag of type `typ`.
    pub fn tag_payload(&self, typ: TagType) -> Option<&[u8]> {
        self.mbi
            .tags()
            .find(|tag| tag.header().typ == typ)
            .map(|tag| tag.payload())
    }

    /// The framebuffer GRUB set up, if it passed one (validation checked
    /// that the tag parses).
    pub fn framebuffer(&self) -> Option<Framebuffer> {
        Framebuffer::parse(self.tag_payload(TagType::Framebuffer)?).ok()
    }

    /// Every module GRUB loaded (`module2`), in order.
    pub fn modules(&self) -> impl Iterator<Item = &ModuleTag> {
        self.mbi.module_tags()
    }
}

/// Where a module lies in physical memory (validation guarantees its end is
/// not below its start).
pub fn module_range(module: &ModuleTag) -> PhysRange {
    PhysRange::new(module.start_address() as u64, module.end_address() as u64)
}

/// In-kernel tests of the boot information as GRUB passed it.
#[cfg(target_os = "none")]
pub(crate) mod ktests {
    use crate::selftest::{Context, Outcome};
    use crate::{check, check_eq};

    /// GRUB identifies itself and passed a memory map and the command line.
    fn loaded_from_grub(context: &Context) -> Outcome {
        let boot = context.boot;
        check!(
            boot.loader_name().starts_with("GRUB"),
            "loader is {:?}",
            boot.loader_name()
        );
        check!(boot.mbi.memory_map_tag().is_some());
        // The self-test entry's line, unless the shell's `selftest` runs this.
        check_eq!(boot.cmdline().contains("selftest"), context.options.selftest);
        check_eq!(boot.mbi.start_address() % 8, 0);
        check!(boot.mbi.total_size() >= 16);
        Ok(())
    }

    pub(crate) const TESTS: &[crate::selftest::Test] = crate::kernel_tests![loaded_from_grub];
}
