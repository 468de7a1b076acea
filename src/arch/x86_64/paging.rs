//! Reading the page tables that `asm/boot.asm` built.
//!
//! The first 4 GiB are identity-mapped (virtual = physical), so a physical
//! address of a page table is also a pointer to it. Page 0 and the boot
//! stack's guard page are deliberately not mapped.

use x86_64::registers::control::Cr3;
use x86_64::structures::paging::{OffsetPageTable, PageTable, Translate};
use x86_64::{PhysAddr, VirtAddr};

/// The boot page tables identity-map physical memory below this: 4 GiB.
pub const IDENTITY_MAPPED_END: u64 = 4 << 30;

/// Translates a virtual address through the active page tables, or `None`
/// when it is not mapped.
pub fn translate(addr: u64) -> Option<u64> {
    let (p4_frame, _) = Cr3::read();
    let p4 = p4_frame.start_address().as_u64() as *mut PageTable;
    // SAFETY: CR3 points at the live P4 table, which lies in the identity-
    // mapped first 4 GiB (it is in the kernel's .bss), so its physical address
    // is a valid pointer to it. We only read through the mapper (translate
    // takes &self), and no other code modifies the tables concurrently.
    let mapper = unsafe { OffsetPageTable::new(&mut *p4, VirtAddr::zero()) };
    mapper
        .translate_addr(VirtAddr::new(addr))
        .map(PhysAddr::as_u64)
}

/// In-kernel tests of the boot page tables.
pub(crate) mod ktests {
    use super::{IDENTITY_MAPPED_END, translate};
    use crate::check_eq;
    use crate::selftest::{Context, Outcome};

    /// Page 0 is unmapped, so null pointer dereferences fault.
    fn page_zero_is_unmapped(_: &Context) -> Outcome {
        check_eq!(translate(0), None);
        check_eq!(translate(0xfff), None);
        check_eq!(translate(0x1000), Some(0x1000));
        Ok(())
    }

    /// The whole first 4 GiB are identity-mapped, up to the last byte.
    fn first_four_gib_identity_mapped(_: &Context) -> Outcome {
        for addr in [
            0xb8000,
            0x10_0000,
            0x20_0000,
            1 << 30,
            IDENTITY_MAPPED_END - 0x1000,
            IDENTITY_MAPPED_END - 1,
        ] {
            check_eq!(translate(addr), Some(addr));
        }
        check_eq!(translate(IDENTITY_MAPPED_END), None);
        Ok(())
    }

    pub(crate) const TESTS: &[crate::selftest::Test] =
        crate::kernel_tests![page_zero_is_unmapped, first_four_gib_identity_mapped];
}
