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
//! The boot report, which also spans paging, the heap and interrupts, is
//! the `report` module's, above every layer it reports on.

pub mod framebuffer;
#[cfg(test)]
mod fuzz;
#[cfg(target_os = "none")]
mod load;
pub mod reserved;
#[cfg(test)]
pub mod test_support;
pub mod validate;

#[cfg(target_os = "none")]
pub use load::load;
#[cfg(target_os = "none")]
pub use reserved::reserved_ranges;

use multiboot2::{BootInformation, BootInformationHeader, MemoryArea, ModuleTag, TagType};

use self::validate::Problem;
use crate::console::pixels::Framebuffer;
use crate::memory::range::PhysRange;

/// The boot information, loaded and checked.
pub struct BootInfo<'a> {
    /// The parsed structure (from the `multiboot2` crate).
    pub mbi: BootInformation<'a>,
    /// Where the structure lies in physical memory (the kernel reads it
    /// through the direct map, elsewhere).
    physical: u64,
}

impl<'a> BootInfo<'a> {
    /// Validates the boot information in `bytes` (see [`validate`]) and, if
    /// it is well-formed, hands it to the `multiboot2` crate. The bytes lie
    /// at physical address `physical`.
    pub fn from_bytes_at(bytes: &'a [u8], physical: u64) -> Result<Self, Problem> {
        Self::from_bytes(bytes).map(|boot| Self { physical, ..boot })
    }

    /// [`BootInfo::from_bytes_at`] for bytes whose address is physical too
    /// (the host tests' buffers).
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, Problem> {
        validate::validate(bytes)?;
        let header = bytes.as_ptr().cast::<BootInformationHeader>();
        // SAFETY: `bytes` is readable and unchanging for 'a, and `validate`
        // checked that it is 8-byte aligned, that its total size lies inside
        // the slice and that a well-formed tag chain closed by an end tag
        // fills it, so the crate reads only inside `bytes`.
        match unsafe { BootInformation::load(header) } {
            Ok(mbi) => Ok(Self {
                mbi,
                physical: bytes.as_ptr() as u64,
            }),
            // Not expected after `validate`; reported rather than trusted.
            Err(_) => Err(Problem::CrateRejected),
        }
    }

    /// The kernel command line's bytes (before the NUL), or none when GRUB
    /// passed no command line. Bytes, not a `str`: one byte that is not
    /// UTF-8 must not hide the rest of the line.
    pub fn cmdline(&self) -> &[u8] {
        self.tag_string(TagType::Cmdline).map_or(&[], |s| s.bytes)
    }

    /// The boot loader's name (bytes before the NUL), or none when it gave
    /// none.
    pub fn loader_name(&self) -> &[u8] {
        self.tag_string(TagType::BootLoaderName)
            .map_or(&[], |s| s.bytes)
    }

    /// The string that is the whole payload of the first tag of type `typ`
    /// (the command line, the loader's name), if there is such a tag.
    pub fn tag_string(&self, typ: TagType) -> Option<TagString<'_>> {
        self.tag_payload(typ).map(TagString::new)
    }

    /// The memory map's regions (validation guarantees there is a map).
    pub fn memory_areas(&'a self) -> &'a [MemoryArea] {
        self.mbi
            .memory_map_tag()
            .map(|tag| tag.memory_areas())
            .unwrap_or(&[])
    }

    /// The physical address of the byte `at` points to, inside the
    /// structure (a tag's payload, say).
    pub fn physical_address_of(&self, at: *const u8) -> u64 {
        self.physical + (at as u64 - self.mbi.start_address() as u64)
    }

    /// Where the boot information itself lies in physical memory.
    pub fn mbi_range(&self) -> PhysRange {
        PhysRange::from_size(self.physical, self.mbi.total_size() as u64)
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
        framebuffer::parse(self.tag_payload(TagType::Framebuffer)?).ok()
    }

    /// Every module GRUB loaded (`module2`), in order.
    pub fn modules(&self) -> impl Iterator<Item = &ModuleTag> {
        self.mbi.module_tags()
    }

    /// Every module's string (the words after its file name in `module2`),
    /// in the order of [`BootInfo::modules`].
    pub fn module_strings(&self) -> impl Iterator<Item = TagString<'_>> {
        self.mbi
            .tags()
            .filter(|tag| tag.header().typ == TagType::Module)
            .map(|tag| {
                let payload = tag.payload();
                // Validation checked that the start and end fields are there.
                TagString::new(payload.get(MODULE_FIELDS..).unwrap_or(&[]))
            })
    }
}

impl BootInfo<'_> {
    /// Where the boot archive lies: the first module whose string's first
    /// word is `initrd` (`module2 /boot/initrd.tar initrd`).
    pub fn initrd(&self) -> Option<PhysRange> {
        self.modules()
            .zip(self.module_strings())
            .find(|(_, string)| string.bytes.split(|&b| b == b' ').next() == Some(b"initrd"))
            .map(|(module, _)| module_range(module))
    }
}

/// Bytes of a module tag's payload before its string: start and end.
const MODULE_FIELDS: usize = 8;

/// A string from the boot information, as the bytes GRUB wrote: outside
/// input, to be shown through [`crate::text::Escaped`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagString<'a> {
    /// The bytes before the terminating NUL (all of them if there is none).
    pub bytes: &'a [u8],
    /// Whether a NUL ended the string inside its tag, as the specification
    /// requires.
    pub terminated: bool,
}

impl<'a> TagString<'a> {
    /// The string at the start of `field`, up to its first NUL.
    pub fn new(field: &'a [u8]) -> TagString<'a> {
        match field.iter().position(|&b| b == 0) {
            Some(nul) => TagString {
                bytes: &field[..nul],
                terminated: true,
            },
            None => TagString {
                bytes: field,
                terminated: false,
            },
        }
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
    use crate::check;
    use crate::selftest::{Context, Outcome};

    /// GRUB identifies itself and passed a memory map: what only the real
    /// boot shows (the structure's layout rules are `validate`'s host
    /// tests, the command line's are `cmdline`'s).
    fn loaded_from_grub(context: &Context) -> Outcome {
        let boot = context.boot;
        check!(
            boot.loader_name().starts_with(b"GRUB"),
            "loader is {}",
            crate::text::Escaped(boot.loader_name())
        );
        check!(boot.mbi.memory_map_tag().is_some());
        Ok(())
    }

    pub(crate) const TESTS: &[crate::selftest::Test] = crate::kernel_tests![loaded_from_grub];
}
