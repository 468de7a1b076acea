//! The sleep type of the S5 (soft-off) state, found in the DSDT's AML
//! without running it: the firmware declares
//! `Name (_S5, Package () { SLP_TYPa, SLP_TYPb, ... })`, which compiles to
//!
//! ```text
//! 08 [5C] '_S5_' 12 PkgLength NumElements  element element ...
//! NameOp [\]     PackageOp
//! ```
//!
//! where each element is a `ZeroOp` (00), `OneOp` (01), `OnesOp` (ff), or a
//! `BytePrefix` (0a) / `WordPrefix` (0b) / `DWordPrefix` (0c) constant
//! (ACPI 6.5, section 20.2). The scan looks for exactly that shape; an `_S5_`
//! declared any other way (a method, a computed package) is not found, and
//! the kernel then cannot power off through ACPI. QEMU, and the firmware of
//! nearly every PC, uses the plain form.
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

/// AML NameOp.
const NAME_OP: u8 = 0x08;
/// AML root prefix `\`.
const ROOT_PREFIX: u8 = 0x5c;
/// AML PackageOp.
const PACKAGE_OP: u8 = 0x12;
/// AML ZeroOp.
const ZERO_OP: u8 = 0x00;
/// AML OneOp.
const ONE_OP: u8 = 0x01;
/// AML OnesOp.
const ONES_OP: u8 = 0xff;
/// AML BytePrefix: one byte follows.
const BYTE_PREFIX: u8 = 0x0a;
/// AML WordPrefix: two bytes follow.
const WORD_PREFIX: u8 = 0x0b;
/// AML DWordPrefix: four bytes follow.
const DWORD_PREFIX: u8 = 0x0c;
/// The name, as AML spells it (four characters, padded with `_`).
const NAME: &[u8; 4] = b"_S5_";
/// SLP_TYP is a 3-bit field of PM1 control.
const SLP_TYP_MASK: u64 = 0b111;

/// `(SLP_TYPa, SLP_TYPb)` from the AML bytes of a DSDT (after its header),
/// or `None` if no `_S5_` package of the plain form is there.
pub fn find(aml: &[u8]) -> Option<(u8, u8)> {
    let mut from = 0;
    while let Some(offset) = aml
        .get(from..)?
        .windows(NAME.len())
        .position(|window| window == NAME)
    {
        let at = from + offset;
        if let Some(found) = parse_at(aml, at) {
            return Some(found);
        }
        from = at + 1;
    }
    None
}

/// Parses the declaration whose name starts at `at`, if it is one.
fn parse_at(aml: &[u8], at: usize) -> Option<(u8, u8)> {
    let before = aml.get(..at)?;
    let named = matches!(before, [.., NAME_OP] | [.., NAME_OP, ROOT_PREFIX]);
    if !named {
        return None;
    }
    let mut rest = aml.get(at + NAME.len()..)?;
    let (&op, after) = rest.split_first()?;
    if op != PACKAGE_OP {
        return None;
    }
    rest = after;
    // PkgLength: bits 6–7 of the lead byte count the bytes that follow.
    let follow = usize::from(rest.first()? >> 6);
    rest = rest.get(1 + follow..)?;
    let (&count, mut elements) = rest.split_first()?;
    if count < 2 {
        return None;
    }
    let a = element(&mut elements)?;
    let b = element(&mut elements)?;
    Some(((a & SLP_TYP_MASK) as u8, (b & SLP_TYP_MASK) as u8))
}

/// Reads one constant element and advances past it.
fn element(bytes: &mut &[u8]) -> Option<u64> {
    let (&op, rest) = bytes.split_first()?;
    let (value, width) = match op {
        ZERO_OP => (0, 0),
        ONE_OP => (1, 0),
        ONES_OP => (u64::MAX, 0),
        BYTE_PREFIX => (u64::from(*rest.first()?), 1),
        WORD_PREFIX => (u64::from(crate::bytes::u16_at(rest, 0)?), 2),
        DWORD_PREFIX => (u64::from(crate::bytes::u32_at(rest, 0)?), 4),
        _ => return None,
    };
    *bytes = rest.get(width..)?;
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;

    #[test]
    fn finds_the_plain_form() {
        // Name (_S5, Package (0x04) { Zero, Zero, Zero, Zero }) as QEMU
        // emits it.
        let aml = b"\x10\x05\\_SB_\x08_S5_\x12\x06\x04\x00\x00\x00\x00\x08_S4_";
        assert_eq!(find(aml), Some((0, 0)));
    }

    #[test]
    fn reads_byte_word_and_root_prefixed_forms() {
        let aml = b"junk\x08\\_S5_\x12\x0a\x04\x0a\x05\x0b\x07\x00\x00\x00";
        assert_eq!(find(aml), Some((5, 7)));
        let aml = b"\x08_S5_\x12\x40\x10\x02\x01\x0a\x06";
        assert_eq!(find(aml), Some((1, 6)));
    }

    #[test]
    fn skips_a_name_that_is_not_a_package_declaration() {
        // A reference to _S5_ inside code, then the real declaration.
        let aml = b"\x70_S5_\x60\x08_S5_\x12\x06\x02\x0a\x03\x0a\x03";
        assert_eq!(find(aml), Some((3, 3)));
        assert_eq!(find(b"\x08_S5_\x14\x08"), None);
        assert_eq!(find(b"\x08_S4_\x12\x06\x02\x00\x00"), None);
        assert_eq!(find(b""), None);
    }

    #[test]
    fn truncated_input_is_not_found_and_never_panics() {
        let full = b"\x08_S5_\x12\x06\x04\x0a\x05\x0a\x05\x00\x00";
        for end in 0..full.len() {
            let got = find(&full[..end]);
            assert!(got.is_none() || end >= 12, "{end}: {got:?}");
        }
        let mut rng = Rng(0x55_0005);
        for _ in 0..2000 {
            let mut bytes: Vec<u8> = (0..64).map(|_| rng.next() as u8).collect();
            let at = rng.below(60);
            bytes[at..at + 4].copy_from_slice(NAME);
            let _ = find(&bytes);
        }
    }
}
