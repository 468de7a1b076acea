//! An I/O APIC (Intel 82093AA datasheet): routes the board's interrupt
//! pins (global system interrupts) to vectors on a local APIC.
//!
//! Two registers in its page (mapped uncached by the caller): a selector and
//! a window onto the indexed register the selector names. Not for handlers:
//! the selector/window pair is a two-step access, done only at init (with
//! interrupts off).

/// Offset of the register selector.
const IOREGSEL: u64 = 0x00;
/// Offset of the data window.
const IOWIN: u64 = 0x10;
/// Indexed register: version, and in bits 16–23 the highest pin number.
const REG_VERSION: u32 = 0x01;
/// Indexed register of pin 0's redirection entry (low half; high at +1).
const REG_REDIRECTION_BASE: u32 = 0x10;

/// Redirection entry bit 13: active low (else active high).
const ENTRY_ACTIVE_LOW: u32 = 1 << 13;
/// Redirection entry bit 15: level triggered (else edge).
const ENTRY_LEVEL: u32 = 1 << 15;
/// Redirection entry bit 16: masked.
const ENTRY_MASKED: u32 = 1 << 16;
/// High half of an entry: the destination APIC ID sits in bits 24–31.
const DESTINATION_SHIFT: u32 = 24;
/// Where the version register holds the highest redirection entry's index
/// (bits 16–23: one less than the number of pins).
const MAX_ENTRY_SHIFT: u32 = 16;
/// The width of that field.
const MAX_ENTRY_MASK: u32 = 0xff;

/// How a pin signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinMode {
    /// Active low rather than active high.
    pub active_low: bool,
    /// Level rather than edge triggered.
    pub level: bool,
}

/// One I/O APIC at a mapped address.
pub struct IoApic {
    /// Virtual address of its register page.
    base: u64,
}

impl IoApic {
    /// The I/O APIC whose register page is mapped at `base`.
    ///
    /// # Safety
    /// `base` must be the virtual address of an I/O APIC's registers, mapped
    /// uncached for as long as the value is used, and nothing else may
    /// program that I/O APIC meanwhile.
    pub unsafe fn new(base: u64) -> IoApic {
        IoApic { base }
    }

    /// Reads indexed register `register`.
    fn read(&mut self, register: u32) -> u32 {
        // SAFETY: `new`'s contract: both registers lie in the mapped page;
        // selecting then reading the window is the device's protocol, and
        // `&mut self` keeps the two steps together.
        unsafe {
            core::ptr::write_volatile((self.base + IOREGSEL) as *mut u32, register);
            core::ptr::read_volatile((self.base + IOWIN) as *const u32)
        }
    }

    /// Writes indexed register `register`.
    fn write(&mut self, register: u32, value: u32) {
        // SAFETY: as in `read`.
        unsafe {
            core::ptr::write_volatile((self.base + IOREGSEL) as *mut u32, register);
            core::ptr::write_volatile((self.base + IOWIN) as *mut u32, value);
        }
    }

    /// How many input pins it has.
    pub fn pins(&mut self) -> u32 {
        ((self.read(REG_VERSION) >> MAX_ENTRY_SHIFT) & MAX_ENTRY_MASK) + 1
    }

    /// Masks every pin.
    pub fn mask_all(&mut self) {
        for pin in 0..self.pins() {
            let low = REG_REDIRECTION_BASE + 2 * pin;
            let entry = self.read(low);
            self.write(low, entry | ENTRY_MASKED);
        }
    }

    /// Routes `pin` to `vector` on the local APIC `destination` (physical
    /// destination mode, fixed delivery), unmasked.
    pub fn route(&mut self, pin: u32, vector: u8, mode: PinMode, destination: u32) {
        let low = REG_REDIRECTION_BASE + 2 * pin;
        let mut entry = u32::from(vector);
        if mode.active_low {
            entry |= ENTRY_ACTIVE_LOW;
        }
        if mode.level {
            entry |= ENTRY_LEVEL;
        }
        // Masked while the halves change, then the low half unmasks it.
        self.write(low, ENTRY_MASKED);
        self.write(low + 1, destination << DESTINATION_SHIFT);
        self.write(low, entry);
    }
}
