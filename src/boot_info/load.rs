//! Loading the boot information from the address GRUB passed.

use multiboot2::{BootInformation, BootInformationHeader};

use super::BootInfo;
use crate::arch::halt_forever;

/// The value a Multiboot2 loader leaves in EAX (the assembly checks it first).
const MULTIBOOT2_BOOTLOADER_MAGIC: u32 = 0x36d7_6289;

/// Loads the boot information at physical address `mbi_addr`; on any problem
/// prints a `boot error:` line and halts.
pub fn load(mbi_addr: usize, magic: u32) -> BootInfo<'static> {
    if magic != MULTIBOOT2_BOOTLOADER_MAGIC {
        fail(format_args!("not loaded by a Multiboot2 boot loader (magic {magic:#x})"));
    }
    let header = mbi_addr as *const BootInformationHeader;
    // SAFETY: a Multiboot2 loader (checked above) passed this address; the
    // first 4 GiB, where it lies, are identity-mapped, and nothing in the
    // kernel writes to that memory. The crate checks alignment, the total size
    // and the end tag before it hands out a reference.
    match unsafe { BootInformation::load(header) } {
        Ok(mbi) => BootInfo { mbi },
        Err(error) => fail(format_args!(
            "the boot information at {mbi_addr:#x} is unusable: {error:?}"
        )),
    }
}

/// Reports an unusable boot information on both consoles and halts.
fn fail(args: core::fmt::Arguments) -> ! {
    println!("boot error: {args}");
    halt_forever()
}
