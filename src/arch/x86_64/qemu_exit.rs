//! QEMU's `isa-debug-exit` device: how the self-test tells QEMU to exit.
//!
//! QEMU started with `-device isa-debug-exit,iobase=0xf4,iosize=0x04` exits
//! with status `(value << 1) | 1` when a value is written to port 0xf4. On a
//! real PC that port may belong to other hardware, so this is only ever used
//! when the command line says `qemu-exit`.

use super::port::Port;

/// The I/O port of the `isa-debug-exit` device.
const ISA_DEBUG_EXIT_PORT: u16 = 0xf4;

/// What the self-test reports to QEMU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum ExitCode {
    /// Every test passed: QEMU exits with status 33.
    Success = 0x10,
    /// Some test failed: QEMU exits with status 35.
    Failed = 0x11,
}

/// Asks QEMU to exit, then halts: the write takes effect asynchronously
/// under TCG, so the CPU must not run on into anything else meanwhile.
pub fn exit_qemu(code: ExitCode) -> ! {
    let mut port = Port::<u32>::new(ISA_DEBUG_EXIT_PORT);
    // SAFETY: only called when the user asked for `qemu-exit`, i.e. asserted
    // that port 0xf4 is QEMU's debug-exit device; writing it has no other
    // effect on memory.
    unsafe { port.write(code as u32) };
    super::halt_forever()
}
