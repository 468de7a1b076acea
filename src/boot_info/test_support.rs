//! Host-test helpers: synthetic Multiboot2 boot information, byte by byte as
//! GRUB lays it out, in 8-byte-aligned buffers. Only built for `cargo test`.

use super::validate::{ELF64_SECTION_HEADER_SIZE, tag_type};

/// Bytes in a buffer that starts 8-byte aligned (as the boot information
/// must), backed by `u64`s.
pub struct Aligned {
    /// The storage; its first `len` bytes are the data.
    words: Vec<u64>,
    /// How many bytes are data.
    len: usize,
}

impl Aligned {
    /// A copy of `bytes` in an aligned buffer.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut words = vec![0u64; bytes.len().div_ceil(8).max(1)];
        let mut aligned = Self {
            words: Vec::new(),
            len: bytes.len(),
        };
        // SAFETY: a u64 buffer viewed as bytes: same memory, any bit pattern
        // is a valid u8, and the length is within the allocation.
        let view = unsafe {
            core::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), words.len() * 8)
        };
        view[..bytes.len()].copy_from_slice(bytes);
        aligned.words = words;
        aligned
    }

    /// The data.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: as in `from_bytes`; `len` never exceeds the storage.
        unsafe { core::slice::from_raw_parts(self.words.as_ptr().cast::<u8>(), self.len) }
    }
}

/// Builds a boot information structure tag by tag.
#[derive(Clone, Default)]
pub struct Builder {
    /// The tags so far (without the 8-byte header), each padded to 8.
    tags: Vec<u8>,
}

impl Builder {
    /// No tags yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tag of `typ` with `payload` after its header, padded to 8 bytes.
    pub fn tag(mut self, typ: u32, payload: &[u8]) -> Self {
        let size = 8 + payload.len() as u32;
        self.tags.extend_from_slice(&typ.to_le_bytes());
        self.tags.extend_from_slice(&size.to_le_bytes());
        self.tags.extend_from_slice(payload);
        while !self.tags.len().is_multiple_of(8) {
            self.tags.push(0);
        }
        self
    }

    /// Raw bytes appended as they are (to build malformed structures).
    pub fn raw(mut self, bytes: &[u8]) -> Self {
        self.tags.extend_from_slice(bytes);
        self
    }

    /// A NUL-terminated string tag.
    fn string(self, typ: u32, text: &str) -> Self {
        let mut payload = text.as_bytes().to_vec();
        payload.push(0);
        self.tag(typ, &payload)
    }

    /// The command-line tag.
    pub fn cmdline(self, text: &str) -> Self {
        self.string(tag_type::CMDLINE, text)
    }

    /// The boot-loader-name tag.
    pub fn loader(self, name: &str) -> Self {
        self.string(tag_type::BOOT_LOADER_NAME, name)
    }

    /// A memory-map tag of (base, length, type) entries.
    pub fn memory_map(self, areas: &[(u64, u64, u32)]) -> Self {
        let mut payload = Vec::new();
        payload.extend_from_slice(&24u32.to_le_bytes()); // entry size
        payload.extend_from_slice(&0u32.to_le_bytes()); // entry version
        for &(base, length, typ) in areas {
            payload.extend_from_slice(&base.to_le_bytes());
            payload.extend_from_slice(&length.to_le_bytes());
            payload.extend_from_slice(&typ.to_le_bytes());
            payload.extend_from_slice(&0u32.to_le_bytes());
        }
        self.tag(tag_type::MEMORY_MAP, &payload)
    }

    /// A module tag: `start..end` and its command line.
    pub fn module(self, start: u32, end: u32, cmdline: &str) -> Self {
        let mut payload = Vec::new();
        payload.extend_from_slice(&start.to_le_bytes());
        payload.extend_from_slice(&end.to_le_bytes());
        payload.extend_from_slice(cmdline.as_bytes());
        payload.push(0);
        self.tag(tag_type::MODULE, &payload)
    }

    /// A framebuffer tag with its type-specific bytes `info`.
    pub fn framebuffer(
        self,
        address: u64,
        pitch: u32,
        size: (u32, u32),
        bpp: u8,
        kind: u8,
        info: &[u8],
    ) -> Self {
        let mut payload = Vec::new();
        payload.extend_from_slice(&address.to_le_bytes());
        payload.extend_from_slice(&pitch.to_le_bytes());
        payload.extend_from_slice(&size.0.to_le_bytes());
        payload.extend_from_slice(&size.1.to_le_bytes());
        payload.push(bpp);
        payload.push(kind);
        payload.extend_from_slice(&[0, 0]);
        payload.extend_from_slice(info);
        self.tag(tag_type::FRAMEBUFFER, &payload)
    }

    /// An ELF-sections tag listing 64-bit section headers, one per
    /// `(address, size)` (type `PROGBITS`, everything else zero), as GRUB
    /// passes the kernel's section table with the addresses it loaded at.
    pub fn elf_sections(self, sections: &[(u64, u64)]) -> Self {
        const SHT_PROGBITS: u32 = 1;
        let mut payload = Vec::new();
        payload.extend_from_slice(&(sections.len() as u32).to_le_bytes());
        payload.extend_from_slice(&(ELF64_SECTION_HEADER_SIZE as u32).to_le_bytes());
        payload.extend_from_slice(&0u32.to_le_bytes()); // no name table
        for &(address, size) in sections {
            payload.extend_from_slice(&0u32.to_le_bytes()); // name
            payload.extend_from_slice(&SHT_PROGBITS.to_le_bytes());
            payload.extend_from_slice(&0u64.to_le_bytes()); // flags
            payload.extend_from_slice(&address.to_le_bytes());
            payload.extend_from_slice(&0u64.to_le_bytes()); // file offset
            payload.extend_from_slice(&size.to_le_bytes());
            payload.extend_from_slice(&[0; 24]); // link, info, align, entsize
        }
        self.tag(tag_type::ELF_SECTIONS, &payload)
    }

    /// An ELF-sections tag: `num`, `entsize` and `shndx` as given, then
    /// `headers` zero bytes of section headers.
    pub fn elf_sections_raw(self, num: u32, entsize: u32, shndx: u32, headers: usize) -> Self {
        let mut payload = Vec::new();
        payload.extend_from_slice(&num.to_le_bytes());
        payload.extend_from_slice(&entsize.to_le_bytes());
        payload.extend_from_slice(&shndx.to_le_bytes());
        payload.extend(vec![0; headers]);
        self.tag(tag_type::ELF_SECTIONS, &payload)
    }

    /// An ACPI 1.0 RSDP copy pointing at `rsdt`.
    pub fn rsdp_v1(self, rsdt: u32) -> Self {
        let mut payload = b"RSD PTR ".to_vec();
        payload.push(0); // checksum
        payload.extend_from_slice(b"KSTREL");
        payload.push(0); // revision
        payload.extend_from_slice(&rsdt.to_le_bytes());
        self.tag(tag_type::ACPI_OLD, &payload)
    }

    /// An ACPI 2.0 RSDP copy pointing at `rsdt` and `xsdt`.
    pub fn rsdp_v2(self, rsdt: u32, xsdt: u64) -> Self {
        let mut payload = b"RSD PTR ".to_vec();
        payload.push(0);
        payload.extend_from_slice(b"KSTREL");
        payload.push(2);
        payload.extend_from_slice(&rsdt.to_le_bytes());
        payload.extend_from_slice(&36u32.to_le_bytes());
        payload.extend_from_slice(&xsdt.to_le_bytes());
        payload.extend_from_slice(&[0, 0, 0, 0]);
        self.tag(tag_type::ACPI_NEW, &payload)
    }

    /// The end tag.
    pub fn end(self) -> Self {
        self.tag(tag_type::END, &[])
    }

    /// The structure: the header (total size = everything) and the tags.
    pub fn build(self) -> Aligned {
        let total = 8 + self.tags.len() as u32;
        self.build_with_total_size(total)
    }

    /// The structure with `total_size` written in its header as given.
    pub fn build_with_total_size(self, total_size: u32) -> Aligned {
        let mut bytes = total_size.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[0; 4]);
        bytes.extend_from_slice(&self.tags);
        Aligned::from_bytes(&bytes)
    }
}

/// A typical BIOS boot as GRUB describes it in QEMU with 128 MiB.
pub fn typical() -> Builder {
    Builder::new()
        .cmdline("selftest verbose")
        .loader("GRUB 2.06")
        .memory_map(&[
            (0, 0x9fc00, 1),
            (0x9fc00, 0x400, 2),
            (0xf0000, 0x10000, 2),
            (0x10_0000, 0x7ee_0000, 1),
            (0x7fe_0000, 0x2_0000, 2),
            (0xfffc_0000, 0x4_0000, 2),
        ])
        .module(0x20_0000, 0x20_04d3, "first")
        .framebuffer(0xb8000, 160, (80, 25), 16, 2, &[])
        .rsdp_v1(0x7fe_1234)
        // The null section, .text inside the kernel, a section left at 0,
        // then .symtab and .strtab where GRUB loaded them.
        .elf_sections(&[
            (0, 0),
            (0x10_1000, 0x8000),
            (0, 0x100),
            (0x30_0000, 0x3378),
            (0x30_4000, 0x86e9),
        ])
        .end()
}
