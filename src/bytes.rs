//! Checked little-endian reads from untrusted byte slices: the one reader
//! behind the boot information's validation, the framebuffer tag, the ELF
//! symbol table and the ACPI tables.
//!
//! Every read says where and how wide it is, and answers `None` when the
//! field does not lie wholly inside the slice (an offset past the end, or
//! one whose end overflows `usize`): a short or hostile input can make a
//! caller report a problem, never panic.
//!
//! A leaf: it uses no other module of the kernel. Pure logic, tested on the
//! host.

#![forbid(unsafe_code)]

/// The `N` bytes at `offset`, if `bytes` holds all of them.
pub fn array_at<const N: usize>(bytes: &[u8], offset: usize) -> Option<[u8; N]> {
    bytes.get(offset..offset.checked_add(N)?)?.try_into().ok()
}

/// The little-endian `u16` at `offset`, if `bytes` holds all of it.
pub fn u16_at(bytes: &[u8], offset: usize) -> Option<u16> {
    array_at(bytes, offset).map(u16::from_le_bytes)
}

/// The little-endian `u32` at `offset`, if `bytes` holds all of it.
pub fn u32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    array_at(bytes, offset).map(u32::from_le_bytes)
}

/// The little-endian `u64` at `offset`, if `bytes` holds all of it.
pub fn u64_at(bytes: &[u8], offset: usize) -> Option<u64> {
    array_at(bytes, offset).map(u64::from_le_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_fields_inside_the_slice() {
        let bytes = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09];
        assert_eq!(u16_at(&bytes, 0), Some(0x0201));
        assert_eq!(u32_at(&bytes, 1), Some(0x0504_0302));
        assert_eq!(u64_at(&bytes, 1), Some(0x0908_0706_0504_0302));
        assert_eq!(array_at::<3>(&bytes, 6), Some([0x07, 0x08, 0x09]));
    }

    #[test]
    fn a_field_that_does_not_fit_is_none() {
        let bytes = [0u8; 8];
        assert_eq!(u64_at(&bytes, 0), Some(0));
        assert_eq!(u64_at(&bytes, 1), None);
        assert_eq!(u32_at(&bytes, 5), None);
        assert_eq!(u16_at(&bytes, 8), None);
        assert_eq!(u16_at(&[], 0), None);
        assert_eq!(array_at::<0>(&bytes, 8), Some([]));
        assert_eq!(array_at::<0>(&bytes, 9), None);
    }

    #[test]
    fn an_offset_near_usize_max_is_none_not_an_overflow() {
        let bytes = [0u8; 8];
        assert_eq!(u32_at(&bytes, usize::MAX), None);
        assert_eq!(u64_at(&bytes, usize::MAX - 3), None);
    }
}
