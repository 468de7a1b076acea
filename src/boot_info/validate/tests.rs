//! Host tests of `validate`.

use super::*;
use crate::boot_info::test_support::{Aligned, Builder, typical};

/// Validates a test buffer.
fn check(buffer: &Aligned) -> Result<(), Problem> {
    validate(buffer.bytes())
}

/// A minimal well-formed structure: a memory map and the end tag.
fn minimal() -> Builder {
    Builder::new().memory_map(&[(0, 0x9fc00, 1)])
}

#[test]
fn accepts_what_grub_passes() {
    assert_eq!(check(&typical().build()), Ok(()));
    assert_eq!(check(&minimal().end().build()), Ok(()));
}

#[test]
fn accepts_trailing_bytes_beyond_total_size() {
    let mut bytes = typical().build().bytes().to_vec();
    bytes.extend_from_slice(&[0xff; 24]);
    assert_eq!(check(&Aligned::from_bytes(&bytes)), Ok(()));
}

#[test]
fn rejects_misaligned_start() {
    let buffer = Aligned::from_bytes(&[&[0u8][..], typical().build().bytes()].concat());
    let result = validate(&buffer.bytes()[1..]);
    assert!(
        matches!(result, Err(Problem::Misaligned { .. })),
        "{result:?}"
    );
}

#[test]
fn rejects_truncated_header() {
    for len in 0..HEADER_SIZE {
        let buffer = Aligned::from_bytes(&typical().build().bytes()[..len]);
        assert_eq!(check(&buffer), Err(Problem::Truncated { available: len }));
    }
}

#[test]
fn rejects_implausible_total_sizes() {
    for total in [0, 8, 15, 17, 100, MAX_TOTAL_SIZE as u32 + 8, u32::MAX] {
        let buffer = minimal().end().build_with_total_size(total);
        assert_eq!(
            check(&buffer),
            Err(Problem::BadTotalSize {
                total_size: total as usize
            })
        );
    }
}

#[test]
fn rejects_total_size_beyond_the_data() {
    let full = typical().build();
    let cut = Aligned::from_bytes(&full.bytes()[..full.bytes().len() - 8]);
    assert_eq!(
        check(&cut),
        Err(Problem::TotalSizeBeyondData {
            total_size: full.bytes().len(),
            available: full.bytes().len() - 8
        })
    );
}

#[test]
fn rejects_total_size_that_cuts_a_tag() {
    // Header (8) + memory map tag (16 + 24) + end (8) = 56; claim 40.
    let buffer = minimal().end().build_with_total_size(40);
    assert_eq!(
        check(&buffer),
        Err(Problem::TagBeyondEnd {
            offset: 8,
            tag_type: 6,
            size: 40,
            total_size: 40
        })
    );
    // Claim 48: the chain stops before the end tag.
    let buffer = minimal().end().build_with_total_size(48);
    assert_eq!(check(&buffer), Err(Problem::MissingEndTag));
    // Claim 64: the end tag is followed by 8 more bytes of zero "tag".
    let mut bytes = minimal().end().build().bytes().to_vec();
    bytes.extend_from_slice(&[0; 8]);
    bytes[..4].copy_from_slice(&64u32.to_le_bytes());
    assert_eq!(
        check(&Aligned::from_bytes(&bytes)),
        Err(Problem::EndTagNotLast {
            offset: 48,
            total_size: 64
        })
    );
}

#[test]
fn rejects_zero_sized_and_small_tags() {
    for size in [0u32, 1, 7] {
        let mut raw = 99u32.to_le_bytes().to_vec();
        raw.extend_from_slice(&size.to_le_bytes());
        let buffer = minimal().raw(&raw).end().build();
        assert_eq!(
            check(&buffer),
            Err(Problem::TagTooSmall {
                offset: 48,
                tag_type: 99,
                size: size as usize
            })
        );
    }
}

#[test]
fn rejects_tag_overlapping_the_end() {
    let mut raw = 99u32.to_le_bytes().to_vec();
    raw.extend_from_slice(&17u32.to_le_bytes()); // 17 > the 16 bytes left
    let buffer = minimal().raw(&raw).end().build();
    assert_eq!(
        check(&buffer),
        Err(Problem::TagBeyondEnd {
            offset: 48,
            tag_type: 99,
            size: 17,
            total_size: 64
        })
    );
}

#[test]
fn rejects_missing_end_tag() {
    assert_eq!(check(&minimal().build()), Err(Problem::MissingEndTag));
    assert_eq!(
        check(&minimal().cmdline("x").build()),
        Err(Problem::MissingEndTag)
    );
}

#[test]
fn rejects_bad_end_tag() {
    let buffer = minimal().tag(tag_type::END, &[0; 8]).build();
    assert_eq!(
        check(&buffer),
        Err(Problem::BadEndTag {
            offset: 48,
            size: 16
        })
    );
    let early = minimal().end().cmdline("after the end").end().build();
    assert!(matches!(
        check(&early),
        Err(Problem::EndTagNotLast { offset: 48, .. })
    ));
}

#[test]
fn rejects_misaligned_tag() {
    // A 9-byte tag followed directly by the next one, without the padding
    // to 8: the walker reads the next header 7 bytes late (garbage).
    let mut raw = 1u32.to_le_bytes().to_vec();
    raw.extend_from_slice(&9u32.to_le_bytes());
    raw.push(0);
    raw.extend_from_slice(&[0, 0, 0, 0, 8, 0, 0, 0]); // an end tag, unaligned
    raw.extend_from_slice(&[0; 7]);
    let buffer = minimal().raw(&raw).build();
    assert!(check(&buffer).is_err());
}

#[test]
fn rejects_memory_maps_the_crate_cannot_read() {
    let mut wrong_entry_size = 20u32.to_le_bytes().to_vec();
    wrong_entry_size.extend_from_slice(&[0; 4 + 20]);
    let buffer = Builder::new()
        .tag(tag_type::MEMORY_MAP, &wrong_entry_size)
        .end()
        .build();
    assert!(matches!(
        check(&buffer),
        Err(Problem::BadTag {
            what: "memory map entry size is not 24",
            ..
        })
    ));

    let mut partial = 24u32.to_le_bytes().to_vec();
    partial.extend_from_slice(&[0; 4 + 20]);
    let buffer = Builder::new()
        .tag(tag_type::MEMORY_MAP, &partial)
        .end()
        .build();
    assert!(matches!(
        check(&buffer),
        Err(Problem::BadTag {
            offset: 8,
            tag_type: 6,
            ..
        })
    ));

    let buffer = Builder::new()
        .tag(tag_type::MEMORY_MAP, &[0; 4])
        .end()
        .build();
    assert!(matches!(check(&buffer), Err(Problem::BadTag { .. })));

    let overflow = Builder::new()
        .memory_map(&[(u64::MAX - 10, 11, 1)])
        .end()
        .build();
    assert!(matches!(check(&overflow), Err(Problem::BadTag { .. })));
    let top = Builder::new()
        .memory_map(&[(u64::MAX - 10, 10, 1)])
        .end()
        .build();
    assert_eq!(check(&top), Ok(()));
}

#[test]
fn rejects_elf_sections_the_crate_cannot_read() {
    let sections = minimal()
        .elf_sections(&[(0, 0), (0x30_0000, 0x100)])
        .end()
        .build();
    assert_eq!(check(&sections), Ok(()));
    let short = minimal().tag(tag_type::ELF_SECTIONS, &[0; 8]).end().build();
    assert!(matches!(
        check(&short),
        Err(Problem::BadTag { tag_type: 9, .. })
    ));
    // number 1, entry size 48, index 0, one 48-byte entry
    let mut odd = [1u32, 48, 0].map(u32::to_le_bytes).concat();
    odd.extend_from_slice(&[0; 48]);
    let wrong_entry_size = minimal().tag(tag_type::ELF_SECTIONS, &odd).end().build();
    assert!(matches!(
        check(&wrong_entry_size),
        Err(Problem::BadTag {
            what: "ELF section header size is not 64 or 40",
            ..
        })
    ));
}

#[test]
fn rejects_module_ending_before_it_starts() {
    let buffer = minimal().module(0x2000, 0x1fff, "").end().build();
    assert!(matches!(
        check(&buffer),
        Err(Problem::BadTag {
            tag_type: 3,
            what: "module ends before it starts",
            ..
        })
    ));
    let short = minimal().tag(tag_type::MODULE, &[0; 4]).end().build();
    assert!(matches!(
        check(&short),
        Err(Problem::BadTag { tag_type: 3, .. })
    ));
    let empty = minimal().module(0x2000, 0x2000, "").end().build();
    assert_eq!(check(&empty), Ok(()));
}

#[test]
fn rejects_framebuffers_the_crate_cannot_read() {
    let indexed = |colours: u16, palette: usize| {
        let mut info = colours.to_le_bytes().to_vec();
        info.extend(vec![0; palette]);
        minimal()
            .framebuffer(0xa0000, 320, (320, 200), 8, 0, &info)
            .end()
            .build()
    };
    assert_eq!(check(&indexed(16, 48)), Ok(()));
    assert!(matches!(
        check(&indexed(17, 48)),
        Err(Problem::BadTag { tag_type: 8, .. })
    ));
    let no_count = minimal()
        .framebuffer(0xa0000, 320, (320, 200), 8, 0, &[])
        .end()
        .build();
    assert!(matches!(
        check(&no_count),
        Err(Problem::BadTag { tag_type: 8, .. })
    ));
    let rgb = |info: &[u8]| {
        minimal()
            .framebuffer(0xfd00_0000, 4096, (1024, 768), 32, 1, info)
            .end()
            .build()
    };
    assert_eq!(check(&rgb(&[16, 8, 8, 8, 0, 8])), Ok(()));
    assert!(matches!(
        check(&rgb(&[16, 8, 8])),
        Err(Problem::BadTag { tag_type: 8, .. })
    ));
    let short = minimal().tag(tag_type::FRAMEBUFFER, &[0; 20]).end().build();
    assert!(matches!(
        check(&short),
        Err(Problem::BadTag { tag_type: 8, .. })
    ));
}

#[test]
fn rejects_rsdp_copies_of_the_wrong_size() {
    assert_eq!(check(&minimal().rsdp_v1(0x1000).end().build()), Ok(()));
    assert_eq!(
        check(&minimal().rsdp_v2(0x1000, 0x2000).end().build()),
        Ok(())
    );
    for (typ, len) in [
        (tag_type::ACPI_OLD, 12),
        (tag_type::ACPI_OLD, 28),
        (tag_type::ACPI_NEW, 20),
        (tag_type::ACPI_NEW, 48),
    ] {
        let buffer = minimal().tag(typ, &vec![0; len]).end().build();
        assert!(
            matches!(check(&buffer), Err(Problem::BadTag { .. })),
            "type {typ} payload {len}"
        );
    }
}

#[test]
fn accepts_the_elf_sections_grub_passes() {
    // Five 64-byte headers, section names in section 4.
    let buffer = minimal().elf_sections_raw(5, 64, 4, 5 * 64).end().build();
    assert_eq!(check(&buffer), Ok(()));
    // shndx 0 (SHN_UNDEF): no section names; no sections at all.
    let buffer = minimal().elf_sections_raw(5, 64, 0, 5 * 64).end().build();
    assert_eq!(check(&buffer), Ok(()));
    let buffer = minimal().elf_sections_raw(0, 64, 0, 0).end().build();
    assert_eq!(check(&buffer), Ok(()));
    // More header bytes than announced (padding) are fine.
    let buffer = minimal().elf_sections_raw(2, 64, 1, 3 * 64).end().build();
    assert_eq!(check(&buffer), Ok(()));
    // ELF32 headers, as the crate reads them too.
    let buffer = minimal().elf_sections_raw(3, 40, 2, 3 * 40).end().build();
    assert_eq!(check(&buffer), Ok(()));
}

#[test]
fn rejects_elf_sections_nothing_can_read() {
    let bad = |what: &str, buffer: Aligned| match check(&buffer) {
        Err(Problem::BadTag {
            tag_type: 9,
            what: found,
            ..
        }) => assert!(found.contains(what), "{found:?} lacks {what:?}"),
        other => panic!("expected a bad ELF sections tag ({what}), got {other:?}"),
    };
    // Shorter than num, entsize, shndx.
    for payload in [0, 4, 11] {
        let buffer = minimal()
            .tag(tag_type::ELF_SECTIONS, &vec![0; payload])
            .end()
            .build();
        bad("shorter", buffer);
    }
    // Sizes that are neither ELF64's nor ELF32's.
    for entsize in [0, 39, 63, 65] {
        bad(
            "not 64 or 40",
            minimal()
                .elf_sections_raw(2, entsize, 1, 2 * 64)
                .end()
                .build(),
        );
    }
    // num * entsize past the tag, including a num that would overflow
    // 32 bits.
    bad(
        "past the end",
        minimal().elf_sections_raw(3, 64, 1, 2 * 64).end().build(),
    );
    bad(
        "past the end",
        minimal().elf_sections_raw(3, 40, 1, 2 * 40).end().build(),
    );
    bad(
        "past the end",
        minimal()
            .elf_sections_raw(u32::MAX, 64, 1, 64)
            .end()
            .build(),
    );
    // shndx beyond the sections.
    bad(
        "not a section",
        minimal().elf_sections_raw(5, 64, 5, 5 * 64).end().build(),
    );
    bad(
        "not a section",
        minimal()
            .elf_sections_raw(2, 64, 0xffff, 2 * 64)
            .end()
            .build(),
    );
}

#[test]
fn requires_a_memory_map() {
    assert_eq!(
        check(&Builder::new().cmdline("").end().build()),
        Err(Problem::NoMemoryMap)
    );
}

#[test]
fn messages_say_what_is_wrong() {
    let message = Problem::TagBeyondEnd {
        offset: 48,
        tag_type: 99,
        size: 17,
        total_size: 64,
    }
    .to_string();
    assert_eq!(
        message,
        "boot information tag at offset 48 (type 99, size 17) runs past the total size 64"
    );
    assert_eq!(
        Problem::BadTotalSize { total_size: 4 }.to_string(),
        "the boot information's total size 4 is implausible (must be a multiple of 8 from 16 to 4194304)"
    );
    assert_eq!(
        Problem::MissingEndTag.to_string(),
        "the boot information has no end tag"
    );
}
