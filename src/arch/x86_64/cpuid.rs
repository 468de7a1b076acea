//! What this CPU can do, from the `cpuid` instruction (Intel SDM vol. 2A,
//! CPUID): the features the memory code chooses between.

use core::arch::x86_64::{__cpuid, __cpuid_count};

/// Leaf 1: processor info and feature bits.
const LEAF_FEATURES: u32 = 0x1;
/// Leaf 1 EDX bit 16: the page attribute table.
const EDX_PAT: u32 = 1 << 16;
/// Leaf 1 ECX bit 30: the RDRAND instruction.
const ECX_RDRAND: u32 = 1 << 30;
/// Leaf 7 (structured extended features), subleaf 0.
const LEAF_STRUCTURED: u32 = 0x7;
/// Leaf 7 EBX bit 7: supervisor-mode execution prevention (SMEP).
const EBX_SMEP: u32 = 1 << 7;
/// Leaf 7 EBX bit 20: supervisor-mode access prevention (SMAP).
const EBX_SMAP: u32 = 1 << 20;
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
    /// Supervisor-mode execution prevention: the kernel cannot run user pages.
    pub smep: bool,
    /// Supervisor-mode access prevention: the kernel cannot touch user
    /// pages outside `stac`/`clac`.
    pub smap: bool,
    /// The RDRAND instruction (random numbers from the CPU).
    pub rdrand: bool,
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
    let structured = if __cpuid(0).eax >= LEAF_STRUCTURED {
        __cpuid_count(LEAF_STRUCTURED, 0).ebx
    } else {
        0
    };
    Features {
        smep: structured & EBX_SMEP != 0,
        smap: structured & EBX_SMAP != 0,
        rdrand: basic.ecx & ECX_RDRAND != 0,
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
