//! The processors the MADT lists (ACPI 6.5, 5.2.12): its local APIC entries
//! (type 0, 8-bit APIC IDs) and local x2APIC entries (type 9, 32-bit IDs),
//! each enabled, online-capable (may be brought up later: hotplug) or
//! neither (absent; skipped).
//!
//! The online-capable flag exists from MADT revision 5 (ACPI 6.3). In an
//! older MADT a disabled entry may still be hotplugged (QEMU's `-smp
//! 2,maxcpus=4` lists its two absent CPUs so), and counts as online-capable:
//! Linux reads it the same way.
//!
//! Pure logic over the table's bytes, tested on the host. The `acpi`
//! crate's own list takes the first entry for the boot CPU and drops the
//! online-capable flag, so the kernel reads the entries itself.

#![forbid(unsafe_code)]

use alloc::vec::Vec;

use crate::bytes::u32_at;

/// The byte at `offset`, if `bytes` holds it.
fn u8_at(bytes: &[u8], offset: usize) -> Option<u8> {
    bytes.get(offset).copied()
}

/// Where the MADT's entries begin: after the 36-byte table header, the
/// local APIC address (4 bytes) and the flags (4 bytes).
const ENTRIES_OFFSET: usize = 44;
/// The table's length, in its header.
const LENGTH_OFFSET: usize = 4;
/// The table's revision, in its header.
const REVISION_OFFSET: usize = 8;
/// The first MADT revision with the online-capable flag.
const ONLINE_CAPABLE_REVISION: u8 = 5;
/// Entry type: a processor's local APIC.
const LOCAL_APIC: u8 = 0;
/// Entry type: a processor's local x2APIC.
const LOCAL_X2APIC: u8 = 9;
/// Entry flag: the processor is usable now.
const ENABLED: u32 = 1 << 0;
/// Entry flag: the processor may be enabled later (ACPI 6.3 on).
const ONLINE_CAPABLE: u32 = 1 << 1;

/// One processor the MADT lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Processor {
    /// Its local APIC's ID.
    pub apic_id: u32,
    /// Usable now (else only online-capable: a hotplug slot).
    pub enabled: bool,
    /// Listed by an x2APIC entry.
    pub x2apic: bool,
}

/// The processors in the MADT `table` (its whole bytes), in table order,
/// without those neither enabled nor online-capable, and without repeats of
/// an APIC ID (a firmware may list a CPU in both entry kinds). A truncated
/// or malformed entry ends the list.
pub fn processors(table: &[u8]) -> Vec<Processor> {
    let length = u32_at(table, LENGTH_OFFSET).map_or(0, |length| length as usize);
    let table = &table[..length.min(table.len())];
    let has_online_capable =
        u8_at(table, REVISION_OFFSET).is_some_and(|revision| revision >= ONLINE_CAPABLE_REVISION);
    let mut found: Vec<Processor> = Vec::new();
    let mut offset = ENTRIES_OFFSET;
    while let (Some(kind), Some(size)) = (u8_at(table, offset), u8_at(table, offset + 1)) {
        let size = usize::from(size);
        if size < 2 || offset + size > table.len() {
            break;
        }
        let entry = &table[offset..offset + size];
        let listed = match kind {
            LOCAL_APIC => u8_at(entry, 3)
                .zip(u32_at(entry, 4))
                .map(|(id, flags)| (u32::from(id), flags, false)),
            LOCAL_X2APIC => u32_at(entry, 4)
                .zip(u32_at(entry, 8))
                .map(|(id, flags)| (id, flags, true)),
            _ => None,
        };
        if let Some((apic_id, flags, x2apic)) = listed
            && (flags & (ENABLED | ONLINE_CAPABLE) != 0 || !has_online_capable)
            && !found.iter().any(|known| known.apic_id == apic_id)
        {
            found.push(Processor {
                apic_id,
                enabled: flags & ENABLED != 0,
                x2apic,
            });
        }
        offset += size;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A MADT of revision 5 with `entries` after the header and its two
    /// fields.
    fn madt(entries: &[&[u8]]) -> Vec<u8> {
        let mut table = vec![0u8; ENTRIES_OFFSET];
        table[..4].copy_from_slice(b"APIC");
        table[REVISION_OFFSET] = ONLINE_CAPABLE_REVISION;
        for entry in entries {
            table.extend_from_slice(entry);
        }
        let length = table.len() as u32;
        table[4..8].copy_from_slice(&length.to_le_bytes());
        table
    }

    fn local_apic(id: u8, flags: u32) -> Vec<u8> {
        let mut entry = vec![LOCAL_APIC, 8, id, id];
        entry.extend_from_slice(&flags.to_le_bytes());
        entry
    }

    fn x2apic(id: u32, flags: u32) -> Vec<u8> {
        let mut entry = vec![LOCAL_X2APIC, 16, 0, 0];
        entry.extend_from_slice(&id.to_le_bytes());
        entry.extend_from_slice(&flags.to_le_bytes());
        entry.extend_from_slice(&id.to_le_bytes());
        entry
    }

    #[test]
    fn lists_enabled_and_hotplug_processors_and_skips_absent_ones() {
        // QEMU's -smp 2,maxcpus=4 lists four, two enabled; an I/O APIC
        // entry (type 1) in between is skipped.
        let io_apic = [1u8, 12, 0, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0];
        let table = madt(&[
            &local_apic(0, 1),
            &io_apic,
            &local_apic(1, 1),
            &local_apic(2, 2),
            &local_apic(3, 0),
        ]);
        let found = processors(&table);
        let summary: Vec<(u32, bool)> = found.iter().map(|p| (p.apic_id, p.enabled)).collect();
        assert_eq!(summary, [(0, true), (1, true), (2, false)]);
        assert!(found.iter().all(|p| !p.x2apic));
    }

    #[test]
    fn before_revision_5_a_disabled_entry_is_a_hotplug_slot() {
        let mut table = madt(&[&local_apic(0, 1), &local_apic(1, 1), &local_apic(2, 0)]);
        table[REVISION_OFFSET] = 3;
        let enabled: Vec<bool> = processors(&table).iter().map(|p| p.enabled).collect();
        assert_eq!(enabled, [true, true, false]);
    }

    #[test]
    fn reads_x2apic_entries_and_drops_repeated_ids() {
        let table = madt(&[&local_apic(0, 1), &x2apic(0, 1), &x2apic(300, 1)]);
        let found = processors(&table);
        assert_eq!(
            found,
            [
                Processor {
                    apic_id: 0,
                    enabled: true,
                    x2apic: false
                },
                Processor {
                    apic_id: 300,
                    enabled: true,
                    x2apic: true
                },
            ]
        );
    }

    #[test]
    fn a_truncated_or_zero_length_entry_ends_the_list() {
        let mut table = madt(&[&local_apic(0, 1), &[LOCAL_APIC, 0, 1, 1]]);
        assert_eq!(processors(&table).len(), 1);
        // The header's length cuts the last entry short.
        table = madt(&[&local_apic(0, 1), &local_apic(1, 1)]);
        let short = (table.len() - 3) as u32;
        table[4..8].copy_from_slice(&short.to_le_bytes());
        assert_eq!(processors(&table).len(), 1);
        assert!(processors(&[]).is_empty());
        assert!(processors(&table[..10]).is_empty());
    }
}
