//! What the CPU says about a fault, in words.
//!
//! - [`PageFaultCode`]: a page fault's error code (Intel SDM vol. 3, 4.7):
//!   what kind of access, to what kind of page, in which mode, and the rarer
//!   causes (a reserved bit in a page-table entry, a protection key, a
//!   shadow-stack access, SGX).
//! - [`SelectorCode`]: the error code of #TS, #NP, #SS and #GP (SDM vol. 3,
//!   6.13): the segment selector or IDT vector involved, if any.
//! - [`looks_like_stack_overflow`]: whether a double fault is a kernel stack
//!   running into its guard page.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

use core::fmt;

use crate::arch::PAGE_SIZE;

/// A page fault's error code, printed in words, e.g. `read from a
/// non-present page, in kernel mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageFaultCode(pub u64);

impl PageFaultCode {
    /// The page was present (a protection violation, not a missing page).
    pub const PRESENT: u64 = 1 << 0;
    /// The access was a write.
    pub const WRITE: u64 = 1 << 1;
    /// The access was made in user mode (CPL 3).
    pub const USER: u64 = 1 << 2;
    /// A reserved bit was set in a paging-structure entry.
    pub const RESERVED_BIT: u64 = 1 << 3;
    /// The access was an instruction fetch.
    pub const INSTRUCTION_FETCH: u64 = 1 << 4;
    /// A protection key forbade the access.
    pub const PROTECTION_KEY: u64 = 1 << 5;
    /// A shadow-stack access.
    pub const SHADOW_STACK: u64 = 1 << 6;
    /// An SGX access-control violation.
    pub const SGX: u64 = 1 << 15;

    /// Whether every bit of `flag` is set.
    fn has(self, flag: u64) -> bool {
        self.0 & flag == flag
    }

    /// Whether the faulting access was an instruction fetch.
    pub fn is_instruction_fetch(self) -> bool {
        self.has(Self::INSTRUCTION_FETCH)
    }
}

impl fmt::Display for PageFaultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present = self.has(Self::PRESENT);
        let user = self.has(Self::USER);
        let rarer = Self::RESERVED_BIT | Self::PROTECTION_KEY | Self::SHADOW_STACK | Self::SGX;
        let access = if self.is_instruction_fetch() {
            "instruction fetch from"
        } else if self.has(Self::WRITE) {
            "write to"
        } else {
            "read from"
        };
        // For a present page in kernel mode and none of the rarer causes,
        // the page's rights are what forbade the access. (A user-mode access
        // may instead have hit a kernel page, so that case says less.)
        let page = if !present {
            "a non-present page"
        } else if self.0 & rarer != 0 || user {
            "a present page"
        } else if self.is_instruction_fetch() {
            "a no-execute page"
        } else if self.has(Self::WRITE) {
            "a read-only page"
        } else {
            "a present page"
        };
        let mode = if user { "user" } else { "kernel" };
        write!(f, "{access} {page}, in {mode} mode")?;
        if self.has(Self::RESERVED_BIT) {
            f.write_str(", reserved bit set in a page-table entry")?;
        }
        if self.has(Self::PROTECTION_KEY) {
            f.write_str(", protection-key violation")?;
        }
        if self.has(Self::SHADOW_STACK) {
            f.write_str(", shadow-stack access")?;
        }
        if self.has(Self::SGX) {
            f.write_str(", SGX violation")?;
        }
        Ok(())
    }
}

/// The selector error code of #TS, #NP, #SS and #GP, printed in words, e.g.
/// `GDT selector 0x10 (entry 2)` or `no selector`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectorCode(pub u64);

impl SelectorCode {
    /// The fault happened while delivering an external event (an interrupt).
    const EXTERNAL: u64 = 1 << 0;
    /// The index refers to a gate in the IDT.
    const IDT: u64 = 1 << 1;
    /// (When not IDT) the index refers to the LDT, not the GDT.
    const LDT: u64 = 1 << 2;
}

impl fmt::Display for SelectorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.0;
        if code == 0 {
            return f.write_str("no selector");
        }
        let index = (code >> 3) & 0x1fff;
        if code & Self::IDT != 0 {
            write!(f, "IDT vector {index}")?;
        } else {
            let table = if code & Self::LDT != 0 { "LDT" } else { "GDT" };
            write!(f, "{table} selector {:#x} (entry {index})", code & 0xfff8)?;
        }
        if code & Self::EXTERNAL != 0 {
            f.write_str(", during an external event")?;
        }
        Ok(())
    }
}

/// Whether a double fault looks like a kernel stack overflow: the stack
/// pointer at the fault (`rsp`) sits right above an unmapped page (a guard
/// page), and the last page fault (`cr2`) was in that page. `mapped` says
/// whether an address is mapped.
pub fn looks_like_stack_overflow(rsp: u64, cr2: u64, mapped: impl Fn(u64) -> bool) -> bool {
    let below = rsp.wrapping_sub(1) & !(PAGE_SIZE - 1);
    cr2 & !(PAGE_SIZE - 1) == below && !mapped(below)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(code: u64) -> String {
        PageFaultCode(code).to_string()
    }

    #[test]
    fn page_fault_codes_in_words() {
        use PageFaultCode as C;
        assert_eq!(words(0), "read from a non-present page, in kernel mode");
        assert_eq!(
            words(C::WRITE),
            "write to a non-present page, in kernel mode"
        );
        assert_eq!(
            words(C::PRESENT | C::WRITE),
            "write to a read-only page, in kernel mode"
        );
        assert_eq!(
            words(C::PRESENT | C::INSTRUCTION_FETCH),
            "instruction fetch from a no-execute page, in kernel mode"
        );
        assert_eq!(
            words(C::INSTRUCTION_FETCH),
            "instruction fetch from a non-present page, in kernel mode"
        );
        assert_eq!(
            words(C::PRESENT),
            "read from a present page, in kernel mode"
        );
        assert_eq!(
            words(C::PRESENT | C::WRITE | C::USER),
            "write to a present page, in user mode"
        );
        assert_eq!(words(C::USER), "read from a non-present page, in user mode");
    }

    #[test]
    fn rarer_page_fault_causes_are_named() {
        use PageFaultCode as C;
        assert_eq!(
            words(C::PRESENT | C::RESERVED_BIT),
            "read from a present page, in kernel mode, reserved bit set in a page-table entry"
        );
        assert_eq!(
            words(C::PRESENT | C::WRITE | C::PROTECTION_KEY),
            "write to a present page, in kernel mode, protection-key violation"
        );
        assert_eq!(
            words(C::PRESENT | C::WRITE | C::SHADOW_STACK | C::SGX),
            "write to a present page, in kernel mode, shadow-stack access, SGX violation"
        );
        assert!(PageFaultCode(C::INSTRUCTION_FETCH | C::PRESENT).is_instruction_fetch());
        assert!(!PageFaultCode(C::WRITE).is_instruction_fetch());
    }

    #[test]
    fn selector_codes_in_words() {
        let words = |code| SelectorCode(code).to_string();
        assert_eq!(words(0), "no selector");
        assert_eq!(words(0x10), "GDT selector 0x10 (entry 2)");
        assert_eq!(words(0x1c), "LDT selector 0x18 (entry 3)");
        assert_eq!(words(0x6a), "IDT vector 13");
        assert_eq!(words(0x6b), "IDT vector 13, during an external event");
        assert_eq!(
            words(0x29),
            "GDT selector 0x28 (entry 5), during an external event"
        );
        assert_eq!(words(0xfff8), "GDT selector 0xfff8 (entry 8191)");
        assert_eq!(
            words(1),
            "GDT selector 0x0 (entry 0), during an external event"
        );
    }

    #[test]
    fn stack_overflow_is_recognised_by_the_guard_page() {
        let guard = 0x10_1000;
        let mapped = |address: u64| !(guard..guard + 4096).contains(&address);
        // rsp at the bottom of the stack, the push below it faulted.
        assert!(looks_like_stack_overflow(
            guard + 4096,
            guard + 4088,
            mapped
        ));
        // rsp already inside the guard page (a larger frame).
        assert!(looks_like_stack_overflow(guard + 8, guard, mapped));
        // The last page fault was elsewhere: not this stack.
        assert!(!looks_like_stack_overflow(guard + 4096, 0, mapped));
        // The page below rsp is mapped: no guard page there.
        assert!(!looks_like_stack_overflow(0x20_0000, 0x1f_fff8, mapped));
        // rsp = 0 must not wrap into a false match.
        assert!(!looks_like_stack_overflow(0, 0x1234, mapped));
    }
}
