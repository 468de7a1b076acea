//! What this CPU can do, from the `cpuid` instruction (Intel SDM vol. 2A,
//! CPUID): the features the memory code chooses between.

use core::arch::x86_64::{__cpuid, __cpuid_count};

/// Leaf 1: processor info and feature bits.
const LEAF_FEATURES: u32 = 0x1;
/// Leaf 1 EDX bit 16: the page attribute table.
const EDX_PAT: u32 = 1 << 16;
/// Leaf 0x8000_0000: the highest extended leaf.
const LEAF_EXTENDED_MAX: u32 = 0x8000_0000;
/// Leaf 0x8000_0001: extended feature bits.
const LEAF_EXTENDED_FEATURES: u32 = 0x8000_0001;
/// Leaf 0x8000_0001 EDX bit 20: the no-execute page bit (NX / XD).
const EDX_NX: u32 = 1 << 20;
/// Leaf 0x8000_0001 EDX bit 26: 1 GiB pages.
const EDX_PAGE_1GB: u32 = 1 << 26;

/// The features the kernel looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    /// Pages can be marked no-execute (EFER.NXE may be set).
    pub nx: bool,
    /// Page-directory-pointer entries can map 1 GiB pages.
    pub pages_1g: bool,
    /// The page attribute table exists (so write-combining does).
    pub pat: bool,
}

/// Reads the features. The trampoline already checked that CPUID and the
/// extended leaves exist (it needed them for long mode).
pub fn features() -> Features {
    let basic = __cpuid(LEAF_FEATURES);
    let extended_max = __cpuid(LEAF_EXTENDED_MAX).eax;
    let extended = if extended_max >= LEAF_EXTENDED_FEATURES {
        __cpuid(LEAF_EXTENDED_FEATURES).edx
    } else {
        0
    };
    Features {
        nx: extended & EDX_NX != 0,
        pages_1g: extended & EDX_PAGE_1GB != 0,
        pat: basic.edx & EDX_PAT != 0,
    }
}

/// Runs `cpuid` for `leaf` and `subleaf`: [eax, ebx, ecx, edx] (for the
/// shell's `cpu` report, which decodes them). The caller asks only for
/// leaves the CPU reports it has.
pub fn cpuid(leaf: u32, subleaf: u32) -> [u32; 4] {
    let result = __cpuid_count(leaf, subleaf);
    [result.eax, result.ebx, result.ecx, result.edx]
}
