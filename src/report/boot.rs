//! The boot report: what GRUB handed over, one fact per line, in a stable
//! format (documented in docs/boot-report.md).
//!
//! ```text
//! loader: GRUB 2.06-13+deb12u2
//! cmdline: kestrel.test=42 hello-world
//! mem: [0x0000000000000000-0x000000000009fbff] usable
//! mem: [0x000000000009fc00-0x000000000009ffff] reserved
//! mem: [0x0000000000100000-0x0000000007fdffff] usable
//! mem: total usable 130559 KiB
//! kernel: [0x0000000000100000-0x0000000000132fff] at virtual [0xffffffff80101000-0xffffffff80132fff]
//! mbi: [0x00000000001000b8-0x0000000000100707]
//! module: [0x00000000005a9000-0x00000000005aa002] first module arg=1
//! framebuffer: text 80x25x16 pitch 160 at 0xb8000
//! acpi: rsdp v1 rsdt 0x7fe1ad8
//! frames: 32581 usable
//! ```
//!
//! Ranges print with an inclusive end, like Linux's firmware map. Strings
//! from outside (the loader's name, the command line, module strings) are
//! shown through [`Escaped`]: one line each, whatever their bytes. Each line
//! is marked [`Shown::Everywhere`] (the short summary for the 25-row screen)
//! or [`Shown::SerialOnly`]; the serial port gets every line once, in order.
//!
//! Pure formatting over [`BootInfo`], tested on the host.

#![forbid(unsafe_code)]

use core::fmt;

use multiboot2::{MemoryArea, MemoryAreaType, TagType};

use crate::boot_info::{BootInfo, TagString, module_range};
use crate::memory::frame_allocator::{area_range, is_usable};
use crate::memory::layout::{DIRECT_MAP_OFFSET, HEAP_START, HeapUsage, PagingSummary};
use crate::memory::range::PhysRange;
use crate::text::Escaped;

/// Where a report line goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// On the screen and on serial: part of the short summary.
    Everywhere,
    /// On serial only: the details.
    SerialOnly,
}

/// Offset of the RSDT address inside an RSDP (after signature, checksum,
/// OEM id and revision), and so inside the RSDP tags' payload.
const RSDP_RSDT_OFFSET: usize = 16;

/// Everything the report says, gathered from the boot and the kernel.
pub struct Report<'r, 'mbi> {
    /// The validated boot information.
    pub boot: &'r BootInfo<'mbi>,
    /// The loaded kernel image's physical range.
    pub kernel: PhysRange,
    /// Where it runs: the first and the past-the-end virtual address of
    /// its high-linked part (.text to the end of .bss).
    pub kernel_virtual: (u64, u64),
    /// How many frames the frame allocator can hand out.
    pub free_frames: u64,
    /// What the kernel's page tables hold.
    pub paging: PagingSummary,
    /// The heap after its first growth.
    pub heap: HeapUsage,
}

impl Report<'_, '_> {
    /// Produces every line, in order, through `line`.
    pub fn emit(&self, mut line: impl FnMut(Shown, fmt::Arguments) -> fmt::Result) -> fmt::Result {
        use Shown::{Everywhere, SerialOnly};
        let boot = self.boot;
        let loader = boot.tag_string(TagType::BootLoaderName);
        line(Everywhere, format_args!("loader: {}", Text(loader)))?;
        let cmdline = boot.tag_string(TagType::Cmdline);
        line(Everywhere, format_args!("cmdline: {}", Text(cmdline)))?;
        for area in boot.memory_areas() {
            line(
                SerialOnly,
                format_args!("mem: {} {}", area_range(area), AreaType(area.typ())),
            )?;
        }
        let usable_kib = total_usable_bytes(boot.memory_areas()) / 1024;
        line(
            Everywhere,
            format_args!("mem: total usable {usable_kib} KiB"),
        )?;
        let (virtual_start, virtual_end) = self.kernel_virtual;
        line(
            SerialOnly,
            format_args!(
                "kernel: {} at virtual [{virtual_start:#018x}-{:#018x}]",
                self.kernel,
                virtual_end.saturating_sub(1)
            ),
        )?;
        line(SerialOnly, format_args!("mbi: {}", boot.mbi_range()))?;
        for (module, string) in boot.modules().zip(boot.module_strings()) {
            let cmdline = Text(Some(string));
            line(
                SerialOnly,
                format_args!("module: {} {cmdline}", module_range(module)),
            )?;
        }
        if let Some(fb) = boot.framebuffer() {
            line(
                SerialOnly,
                format_args!(
                    "framebuffer: {} {}x{}x{} pitch {} at {:#x}",
                    fb.kind, fb.width, fb.height, fb.bpp, fb.pitch, fb.address
                ),
            )?;
        }
        if let Some(rsdp) = boot.mbi.rsdp_v2_tag() {
            line(
                SerialOnly,
                format_args!(
                    "acpi: rsdp v2 rsdt {:#x} xsdt {:#x}",
                    self.rsdp_v2_rsdt(),
                    rsdp.xsdt_address()
                ),
            )?;
        } else if let Some(rsdp) = boot.mbi.rsdp_v1_tag() {
            line(
                SerialOnly,
                format_args!("acpi: rsdp v1 rsdt {:#x}", rsdp.rsdt_address()),
            )?;
        }
        line(
            Everywhere,
            format_args!("frames: {} usable", self.free_frames),
        )?;
        let paging = &self.paging;
        let [gib, mib, kib] = paging.direct_map_pages;
        line(
            SerialOnly,
            format_args!(
                "paging: nx {}, pat {}, 1g pages {}, direct map {} KiB at {DIRECT_MAP_OFFSET:#x} \
                 in {gib} x 1 GiB + {mib} x 2 MiB + {kib} x 4 KiB pages",
                OnOff(paging.nx),
                OnOff(paging.pat),
                OnOff(paging.pages_1g),
                paging.direct_map_bytes / 1024,
            ),
        )?;
        line(
            SerialOnly,
            format_args!(
                "heap: talc at {HEAP_START:#x}, {} KiB mapped, limit {} KiB",
                self.heap.mapped / 1024,
                self.heap.limit / 1024
            ),
        )
    }

    /// Writes every line (what serial shows; for tests).
    #[cfg(test)]
    pub fn write_all(&self, out: &mut impl fmt::Write) -> fmt::Result {
        self.emit(|_, text| writeln!(out, "{text}"))
    }

    /// Writes the summary lines only (what the screen shows; for tests).
    #[cfg(test)]
    pub fn write_summary(&self, out: &mut impl fmt::Write) -> fmt::Result {
        self.emit(|shown, text| match shown {
            Shown::Everywhere => writeln!(out, "{text}"),
            Shown::SerialOnly => Ok(()),
        })
    }

    /// The RSDT address in the ACPI 2.0 RSDP copy (the crate has a getter
    /// only on the 1.0 tag, whose layout the 2.0 one extends); 0 if absent.
    fn rsdp_v2_rsdt(&self) -> u32 {
        self.boot
            .tag_payload(TagType::AcpiV2)
            .and_then(|payload| crate::bytes::u32_at(payload, RSDP_RSDT_OFFSET))
            .unwrap_or(0)
    }
}

/// The sum of the sizes of all `usable` regions, in bytes.
pub fn total_usable_bytes(areas: &[MemoryArea]) -> u64 {
    areas
        .iter()
        .filter(|area| is_usable(area))
        .fold(0u64, |sum, area| sum.saturating_add(area.size()))
}

/// A memory-map type as the report names it: Linux's e820 names, else
/// `type <N>`.
pub struct AreaType(pub MemoryAreaType);

impl fmt::Display for AreaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            MemoryAreaType::Available => f.write_str("usable"),
            MemoryAreaType::Reserved => f.write_str("reserved"),
            MemoryAreaType::AcpiAvailable => f.write_str("ACPI data"),
            MemoryAreaType::ReservedHibernate => f.write_str("ACPI NVS"),
            MemoryAreaType::Defective => f.write_str("unusable"),
            MemoryAreaType::Custom(n) => write!(f, "type {n}"),
        }
    }
}

/// A feature as the report names it: `on` or `off`.
struct OnOff(bool);

impl fmt::Display for OnOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0 { "on" } else { "off" })
    }
}

/// A string from a tag, by the rule for outside strings
/// ([`Escaped`]: printable ASCII as is, every other byte escaped); empty
/// when the tag is missing, with a note when it lacks its NUL.
struct Text<'a>(Option<TagString<'a>>);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(string) = self.0 else {
            return Ok(());
        };
        write!(f, "{}", Escaped(string.bytes))?;
        if !string.terminated {
            f.write_str(" <not NUL-terminated>")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boot_info::test_support::{Builder, typical};

    const KERNEL: PhysRange = PhysRange::new(0x10_0000, 0x12_b000);
    const KERNEL_VIRTUAL: (u64, u64) = (0xffff_ffff_8010_1000, 0xffff_ffff_8012_b000);

    /// A paging summary as QEMU's 128 MiB gives it.
    const PAGING: PagingSummary = PagingSummary {
        nx: true,
        pat: true,
        pages_1g: false,
        direct_map_bytes: 130_556 * 1024,
        direct_map_pages: [0, 62, 1151],
    };

    /// The heap after its first growth.
    const HEAP: HeapUsage = HeapUsage {
        mapped: 64 * 1024,
        limit: 64 << 20,
        allocated: 8,
        allocations: 1,
    };

    /// Formats the full report of `builder`'s structure.
    fn full(builder: Builder, frames: u64) -> String {
        let buffer = builder.build();
        let boot = BootInfo::from_bytes(buffer.bytes()).expect("valid test structure");
        let mut out = String::new();
        Report {
            boot: &boot,
            kernel: KERNEL,
            kernel_virtual: KERNEL_VIRTUAL,
            free_frames: frames,
            paging: PAGING,
            heap: HEAP,
        }
        .write_all(&mut out)
        .unwrap();
        // The boot information's address differs per run: mask it.
        let mbi = boot.mbi_range().to_string();
        out.replace(&mbi, "[MBI]")
    }

    #[test]
    fn full_report_of_a_typical_boot() {
        assert_eq!(
            full(typical(), 32484),
            "loader: GRUB 2.06\n\
             cmdline: selftest verbose\n\
             mem: [0x0000000000000000-0x000000000009fbff] usable\n\
             mem: [0x000000000009fc00-0x000000000009ffff] reserved\n\
             mem: [0x00000000000f0000-0x00000000000fffff] reserved\n\
             mem: [0x0000000000100000-0x0000000007fdffff] usable\n\
             mem: [0x0000000007fe0000-0x0000000007ffffff] reserved\n\
             mem: [0x00000000fffc0000-0x00000000ffffffff] reserved\n\
             mem: total usable 130559 KiB\n\
             kernel: [0x0000000000100000-0x000000000012afff] at virtual [0xffffffff80101000-0xffffffff8012afff]\n\
             mbi: [MBI]\n\
             module: [0x0000000000200000-0x00000000002004d2] first\n\
             framebuffer: text 80x25x16 pitch 160 at 0xb8000\n\
             acpi: rsdp v1 rsdt 0x7fe1234\n\
             frames: 32484 usable\n\
             paging: nx on, pat on, 1g pages off, direct map 130556 KiB at 0xffff800000000000 \
             in 0 x 1 GiB + 62 x 2 MiB + 1151 x 4 KiB pages\n\
             heap: talc at 0xffffc00000000000, 64 KiB mapped, limit 65536 KiB\n"
        );
    }

    #[test]
    fn summary_is_loader_cmdline_total_and_frames() {
        let buffer = typical().build();
        let boot = BootInfo::from_bytes(buffer.bytes()).unwrap();
        let mut out = String::new();
        Report {
            boot: &boot,
            kernel: KERNEL,
            kernel_virtual: KERNEL_VIRTUAL,
            free_frames: 7,
            paging: PagingSummary::default(),
            heap: HeapUsage::default(),
        }
        .write_summary(&mut out)
        .unwrap();
        assert_eq!(
            out,
            "loader: GRUB 2.06\ncmdline: selftest verbose\nmem: total usable 130559 KiB\nframes: 7 usable\n"
        );
    }

    #[test]
    fn mbi_line_is_the_structure_itself() {
        let buffer = typical().build();
        let boot = BootInfo::from_bytes(buffer.bytes()).unwrap();
        let start = buffer.bytes().as_ptr() as u64;
        let expected = PhysRange::new(start, start + buffer.bytes().len() as u64);
        assert_eq!(boot.mbi_range(), expected);
    }

    #[test]
    fn names_every_memory_type_like_linux() {
        let map = [
            (0x1000, 0x1000, 1),
            (0x2000, 0x1000, 2),
            (0x3000, 0x1000, 3),
            (0x4000, 0x1000, 4),
            (0x5000, 0x1000, 5),
            (0x6000, 0x1000, 7),
            (0x7000, 0x1000, 0xf000_0001),
        ];
        let report = full(Builder::new().memory_map(&map).end(), 1);
        let types: Vec<&str> = report
            .lines()
            .filter(|line| line.starts_with("mem: ["))
            .map(|line| line.split_once("] ").unwrap().1)
            .collect();
        assert_eq!(
            types,
            [
                "usable",
                "reserved",
                "ACPI data",
                "ACPI NVS",
                "unusable",
                "type 7",
                "type 4026531841"
            ]
        );
        assert!(report.contains("mem: total usable 4 KiB\n"));
    }

    #[test]
    fn missing_tags_give_empty_lines_or_none() {
        let report = full(Builder::new().memory_map(&[]).end(), 0);
        assert_eq!(
            report,
            "loader: \ncmdline: \nmem: total usable 0 KiB\nkernel: [0x0000000000100000-0x000000000012afff] at virtual [0xffffffff80101000-0xffffffff8012afff]\nmbi: [MBI]\nframes: 0 usable\n\
             paging: nx on, pat on, 1g pages off, direct map 130556 KiB at 0xffff800000000000 \
             in 0 x 1 GiB + 62 x 2 MiB + 1151 x 4 KiB pages\n\
             heap: talc at 0xffffc00000000000, 64 KiB mapped, limit 65536 KiB\n"
        );
    }

    #[test]
    fn command_line_is_shown_exactly() {
        let report = full(
            Builder::new()
                .cmdline("  a=b  c\"x\" ü ")
                .memory_map(&[])
                .end(),
            0,
        );
        assert!(
            report.contains("cmdline:   a=b  c\"x\" \\xc3\\xbc \n"),
            "{report}"
        );
    }

    #[test]
    fn malformed_strings_are_marked() {
        let report = full(
            Builder::new()
                .tag(1, b"no nul")
                .tag(2, &[0xff, 0xfe, 0])
                .memory_map(&[])
                .end(),
            0,
        );
        assert!(
            report.contains("cmdline: no nul <not NUL-terminated>\n"),
            "{report}"
        );
        assert!(report.contains("loader: \\xff\\xfe\n"), "{report}");
    }

    #[test]
    fn outside_strings_are_one_escaped_line_each() {
        let hostile = b"selftest x\nready\nboot error: fake\r\x08 \x08\x7f\x1b[2J\xff\\";
        let escaped = "selftest x\\nready\\nboot error: fake\\r\\x08 \\x08\\x7f\\x1b[2J\\xff\\\\";
        let mut module = Vec::new();
        module.extend_from_slice(&0x20_0000u32.to_le_bytes());
        module.extend_from_slice(&0x20_0fffu32.to_le_bytes());
        module.extend_from_slice(hostile);
        module.push(0);
        let mut string = hostile.to_vec();
        string.push(0);
        let report = full(
            Builder::new()
                .tag(1, &string)
                .tag(2, &string)
                .tag(3, &module)
                .memory_map(&[])
                .end(),
            0,
        );
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(lines[0], format!("loader: {escaped}"));
        assert_eq!(lines[1], format!("cmdline: {escaped}"));
        assert!(
            lines.contains(
                &format!("module: [0x0000000000200000-0x0000000000200ffe] {escaped}").as_str()
            ),
            "{report}"
        );
        assert!(
            report
                .bytes()
                .all(|b| b == b'\n' || (0x20..0x7f).contains(&b))
        );
    }

    #[test]
    fn modules_print_inclusive_ranges_and_their_command_lines() {
        let report = full(
            Builder::new()
                .memory_map(&[])
                .module(0x20_0000, 0x20_0001, "one byte")
                .module(0x30_0000, 0x30_0000, "")
                .end(),
            0,
        );
        assert!(
            report.contains("module: [0x0000000000200000-0x0000000000200000] one byte\n"),
            "{report}"
        );
        assert!(
            report.contains("module: [empty at 0x0000000000300000] \n"),
            "{report}"
        );
    }

    #[test]
    fn framebuffer_kinds() {
        let rgb = full(
            Builder::new()
                .memory_map(&[])
                .framebuffer(0xfd00_0000, 4096, (1024, 768), 32, 1, &[16, 8, 8, 8, 0, 8])
                .end(),
            0,
        );
        assert!(
            rgb.contains("framebuffer: rgb 1024x768x32 pitch 4096 at 0xfd000000\n"),
            "{rgb}"
        );
        let indexed = full(
            Builder::new()
                .memory_map(&[])
                .framebuffer(0xa0000, 320, (320, 200), 8, 0, &[1, 0, 1, 2, 3])
                .end(),
            0,
        );
        assert!(
            indexed.contains("framebuffer: indexed 320x200x8 pitch 320 at 0xa0000\n"),
            "{indexed}"
        );
        let other = full(
            Builder::new()
                .memory_map(&[])
                .framebuffer(0x1000, 1, (2, 3), 4, 9, &[])
                .end(),
            0,
        );
        assert!(
            other.contains("framebuffer: type 9 2x3x4 pitch 1 at 0x1000\n"),
            "{other}"
        );
    }

    #[test]
    fn acpi_v2_shows_both_tables() {
        let report = full(
            Builder::new()
                .memory_map(&[])
                .rsdp_v1(0x1111)
                .rsdp_v2(0x7fe_14c0, 0x7fe_2000)
                .end(),
            0,
        );
        let acpi: Vec<&str> = report.lines().filter(|l| l.starts_with("acpi:")).collect();
        assert_eq!(acpi, ["acpi: rsdp v2 rsdt 0x7fe14c0 xsdt 0x7fe2000"]);
    }
}
