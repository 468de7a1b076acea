//! The `cpu` command's report: the CPUID leaves (Intel SDM vol. 2A, CPUID;
//! AMD APM vol. 3) decoded into the processor's vendor, brand string,
//! family/model/stepping and the features that matter to this kernel.
//!
//! Output, for example under QEMU's default CPU:
//!
//! ```text
//! vendor: AuthenticAMD
//! brand: QEMU Virtual CPU version 2.5+
//! family 15, model 107, stepping 1
//! has: long-mode nx apic sse sse2 sse3
//! lacks: 1g-pages x2apic tsc-deadline ssse3 sse4.1 sse4.2 avx avx2 avx512f
//! ```
//!
//! The features are what the CPU offers; whether the kernel uses them is
//! said elsewhere (the `paging:` and `interrupts:` lines).
//!
//! Pure logic: the leaves come from a function the caller gives (the `cpuid`
//! instruction in the kernel, tables in the host tests).

#![forbid(unsafe_code)]

use core::fmt;

/// Leaf 0: the highest basic leaf, and the vendor string.
const LEAF_VENDOR: u32 = 0;
/// Leaf 1: family/model/stepping and feature bits.
const LEAF_FEATURES: u32 = 1;
/// Leaf 7 subleaf 0: structured extended features.
const LEAF_EXTENDED_FEATURES: u32 = 7;
/// Leaf 0x8000_0000: the highest extended leaf.
const LEAF_EXTENDED_MAX: u32 = 0x8000_0000;
/// Leaf 0x8000_0001: extended feature bits.
const LEAF_EXTENDED_BITS: u32 = 0x8000_0001;
/// Leaves 0x8000_0002..=0x8000_0004: the brand string, 16 bytes each.
const LEAF_BRAND_FIRST: u32 = 0x8000_0002;
/// The last brand-string leaf.
const LEAF_BRAND_LAST: u32 = 0x8000_0004;

/// Registers, in the order a leaf function returns them.
const EAX: usize = 0;
/// EBX.
const EBX: usize = 1;
/// ECX.
const ECX: usize = 2;
/// EDX.
const EDX: usize = 3;

/// Leaf 1 EAX: the base family (bits 8-11), extended when it is 0xf.
const FAMILY_SHIFT: u32 = 8;
/// Leaf 1 EAX: the extended family (bits 20-27).
const EXT_FAMILY_SHIFT: u32 = 20;
/// Leaf 1 EAX: the base model (bits 4-7).
const MODEL_SHIFT: u32 = 4;
/// Leaf 1 EAX: the extended model (bits 16-19), used for families 6 and 15.
const EXT_MODEL_SHIFT: u32 = 16;
/// The family whose extended family is added.
const FAMILY_EXTENDED: u32 = 0xf;
/// The other family whose extended model is used.
const FAMILY_6: u32 = 6;

/// One feature: its name, the leaf, the register and the bit.
struct Feature {
    name: &'static str,
    leaf: u32,
    register: usize,
    bit: u32,
}

/// The features reported, in the order printed.
const FEATURES: &[Feature] = &[
    feature("long-mode", LEAF_EXTENDED_BITS, EDX, 29),
    feature("nx", LEAF_EXTENDED_BITS, EDX, 20),
    feature("1g-pages", LEAF_EXTENDED_BITS, EDX, 26),
    feature("apic", LEAF_FEATURES, EDX, 9),
    feature("x2apic", LEAF_FEATURES, ECX, 21),
    feature("tsc-deadline", LEAF_FEATURES, ECX, 24),
    feature("sse", LEAF_FEATURES, EDX, 25),
    feature("sse2", LEAF_FEATURES, EDX, 26),
    feature("sse3", LEAF_FEATURES, ECX, 0),
    feature("ssse3", LEAF_FEATURES, ECX, 9),
    feature("sse4.1", LEAF_FEATURES, ECX, 19),
    feature("sse4.2", LEAF_FEATURES, ECX, 20),
    feature("avx", LEAF_FEATURES, ECX, 28),
    feature("avx2", LEAF_EXTENDED_FEATURES, EBX, 5),
    feature("avx512f", LEAF_EXTENDED_FEATURES, EBX, 16),
];

/// A table row.
const fn feature(name: &'static str, leaf: u32, register: usize, bit: u32) -> Feature {
    Feature {
        name,
        leaf,
        register,
        bit,
    }
}

/// What the `cpu` command prints.
pub struct CpuInfo {
    /// The 12-byte vendor string (`GenuineIntel`, `AuthenticAMD`).
    vendor: [u8; 12],
    /// The 48-byte brand string, when the CPU has one.
    brand: Option<[u8; 48]>,
    /// Family, model, stepping, as Intel and AMD document combining them.
    family: u32,
    /// The model.
    model: u32,
    /// The stepping.
    stepping: u32,
    /// Per entry of [`FEATURES`]: whether the CPU has it.
    has: [bool; FEATURES.len()],
}

impl CpuInfo {
    /// Reads the leaves through `cpuid(leaf, subleaf) -> [eax, ebx, ecx,
    /// edx]`, asking only for leaves the CPU says it has.
    pub fn read(cpuid: impl Fn(u32, u32) -> [u32; 4]) -> CpuInfo {
        let vendor_leaf = cpuid(LEAF_VENDOR, 0);
        let max_basic = vendor_leaf[EAX];
        let max_extended = cpuid(LEAF_EXTENDED_MAX, 0)[EAX];
        let available = |leaf: u32| {
            if leaf >= LEAF_EXTENDED_MAX {
                leaf <= max_extended
            } else {
                leaf <= max_basic
            }
        };
        let leaf = |leaf: u32| {
            if available(leaf) {
                cpuid(leaf, 0)
            } else {
                [0; 4]
            }
        };

        let mut vendor = [0; 12];
        for (chunk, register) in vendor.chunks_mut(4).zip([EBX, EDX, ECX]) {
            chunk.copy_from_slice(&vendor_leaf[register].to_le_bytes());
        }
        let brand = available(LEAF_BRAND_LAST).then(|| {
            let mut brand = [0; 48];
            let leaves = LEAF_BRAND_FIRST..=LEAF_BRAND_LAST;
            for (chunk, number) in brand.chunks_mut(16).zip(leaves) {
                for (bytes, value) in chunk.chunks_mut(4).zip(cpuid(number, 0)) {
                    bytes.copy_from_slice(&value.to_le_bytes());
                }
            }
            brand
        });

        let signature = leaf(LEAF_FEATURES)[EAX];
        let nibble = |shift: u32| (signature >> shift) & 0xf;
        let base_family = nibble(FAMILY_SHIFT);
        let mut family = base_family;
        if base_family == FAMILY_EXTENDED {
            family += (signature >> EXT_FAMILY_SHIFT) & 0xff;
        }
        let mut model = nibble(MODEL_SHIFT);
        if base_family == FAMILY_6 || base_family == FAMILY_EXTENDED {
            model += nibble(EXT_MODEL_SHIFT) << 4;
        }

        let mut has = [false; FEATURES.len()];
        for (has, feature) in has.iter_mut().zip(FEATURES) {
            *has = leaf(feature.leaf)[feature.register] & 1 << feature.bit != 0;
        }
        CpuInfo {
            vendor,
            brand,
            family,
            model,
            stepping: nibble(0),
            has,
        }
    }

    /// Whether the CPU has the feature printed as `name`.
    #[cfg(test)]
    pub fn has(&self, name: &str) -> bool {
        FEATURES
            .iter()
            .zip(self.has)
            .any(|(feature, has)| has && feature.name == name)
    }

    /// Prints the names of the features whose presence is `present`.
    fn names(&self, f: &mut fmt::Formatter, present: bool) -> fmt::Result {
        let mut first = true;
        for (feature, _) in FEATURES.iter().zip(self.has).filter(|f| f.1 == present) {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(feature.name)?;
            first = false;
        }
        if first {
            f.write_str("(none)")?;
        }
        Ok(())
    }
}

/// Bytes as text: printable ASCII as is, anything else as `?`; NULs and
/// blanks around it dropped (brand strings are padded with either).
struct Text<'a>(&'a [u8]);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let blank = |b: &u8| *b == 0 || *b == b' ';
        let start = self.0.iter().position(|b| !blank(b)).unwrap_or(0);
        let end = self.0.iter().rposition(|b| !blank(b)).map_or(0, |i| i + 1);
        for &byte in &self.0[start..end.max(start)] {
            let shown = if (0x20..=0x7e).contains(&byte) {
                char::from(byte)
            } else {
                '?'
            };
            write!(f, "{shown}")?;
        }
        Ok(())
    }
}

impl fmt::Display for CpuInfo {
    /// The lines of the module's example, each ending in `\n`.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        writeln!(f, "vendor: {}", Text(&self.vendor))?;
        match &self.brand {
            Some(brand) => writeln!(f, "brand: {}", Text(brand))?,
            None => writeln!(f, "brand: (none)")?,
        }
        writeln!(
            f,
            "family {}, model {}, stepping {}",
            self.family, self.model, self.stepping
        )?;
        f.write_str("has: ")?;
        self.names(f, true)?;
        f.write_str("\nlacks: ")?;
        self.names(f, false)?;
        f.write_str("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Registers for a string of up to 16 bytes, little-endian per register.
    fn regs(text: &[u8]) -> [u32; 4] {
        let mut bytes = [0u8; 16];
        bytes[..text.len()].copy_from_slice(text);
        core::array::from_fn(|i| u32::from_le_bytes(bytes[i * 4..i * 4 + 4].try_into().unwrap()))
    }

    /// QEMU's `qemu64` as it answers (family 15 model 107 stepping 1).
    fn qemu64(leaf: u32, _subleaf: u32) -> [u32; 4] {
        let [b, d, c, _] = regs(b"AuthenticAMD");
        match leaf {
            0 => [0xd, b, c, d],
            1 => [0x0006_0fb1, 0, 1 << 0 | 1 << 23, 1 << 9 | 1 << 25 | 1 << 26],
            7 => [0; 4],
            0x8000_0000 => [0x8000_0008, 0, 0, 0],
            0x8000_0001 => [0, 0, 0, 1 << 20 | 1 << 29],
            0x8000_0002 => regs(b"QEMU Virtual CPU"),
            0x8000_0003 => regs(b" version 2.5+"),
            0x8000_0004 => regs(b""),
            _ => panic!("leaf {leaf:#x} asked for"),
        }
    }

    #[test]
    fn qemu64_reads_as_qemu_prints_it() {
        let info = CpuInfo::read(qemu64);
        assert_eq!(
            info.to_string(),
            "vendor: AuthenticAMD\n\
             brand: QEMU Virtual CPU version 2.5+\n\
             family 15, model 107, stepping 1\n\
             has: long-mode nx apic sse sse2 sse3\n\
             lacks: 1g-pages x2apic tsc-deadline ssse3 sse4.1 sse4.2 avx avx2 avx512f\n"
        );
        assert!(info.has("nx") && !info.has("avx"));
    }

    /// A recent Intel CPU: family 6 with an extended model, every feature.
    #[test]
    fn family_6_adds_the_extended_model_and_every_feature_decodes() {
        let info = CpuInfo::read(|leaf, _| {
            let [b, d, c, _] = regs(b"GenuineIntel");
            match leaf {
                0 => [0x1b, b, c, d],
                1 => [0x0005_0657, 0, u32::MAX, u32::MAX],
                7 => [0, u32::MAX, 0, 0],
                0x8000_0000 => [0x8000_0008, 0, 0, 0],
                0x8000_0001 => [0, 0, 0, u32::MAX],
                0x8000_0002 => regs(b"  Xeon(R) CPU E5"),
                0x8000_0003 => regs(b"-2650\0\x01"),
                0x8000_0004 => regs(b""),
                _ => [0; 4],
            }
        });
        let text = info.to_string();
        assert!(text.contains("family 6, model 85, stepping 7"), "{text}");
        assert!(text.contains("\nlacks: (none)\n"), "{text}");
        assert!(text.contains("\nbrand: Xeon(R) CPU E5-2650??\n"), "{text}");
    }

    /// An old CPU without the brand leaves or leaf 7: they are not asked.
    #[test]
    fn missing_leaves_are_not_read() {
        let info = CpuInfo::read(|leaf, _| match leaf {
            0 => [1, 0, 0, 0],
            1 => [0x0000_0f41, 0, 0, 1 << 25],
            0x8000_0000 => [0x8000_0001, 0, 0, 0],
            0x8000_0001 => [0, 0, 0, 1 << 29],
            _ => panic!("leaf {leaf:#x} asked for"),
        });
        let text = info.to_string();
        assert!(text.contains("brand: (none)"), "{text}");
        assert!(text.contains("has: long-mode sse\n"), "{text}");
        assert!(text.contains("family 15, model 4, stepping 1"), "{text}");
    }
}
