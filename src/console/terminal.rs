//! Text as a terminal on the serial line wants it: `\n` as `\r\n`, and a
//! backspace or DEL as backspace, space, backspace (the character erased),
//! as `uart_16550`'s `Uart16550Tty` sends them. Here the text goes out in
//! runs, so the driver fills the UART's 16-byte FIFO after one status read
//! instead of reading the status before every byte (under QEMU each read is
//! an exit to the emulator: the boot's serial output took half as long).
//!
//! Pure logic, tested on the host.

#![forbid(unsafe_code)]

/// ASCII backspace.
const BACKSPACE: u8 = 0x08;
/// ASCII DEL, which terminals' keyboards send for backspace.
const DELETE: u8 = 0x7f;

/// Calls `send` with `text` as runs of bytes a terminal shows as meant.
pub fn for_terminal(text: &[u8], mut send: impl FnMut(&[u8])) {
    let mut rest = text;
    while let Some(at) = rest
        .iter()
        .position(|&byte| matches!(byte, b'\n' | BACKSPACE | DELETE))
    {
        if at > 0 {
            send(&rest[..at]);
        }
        send(match rest[at] {
            b'\n' => b"\r\n",
            _ => b"\x08 \x08",
        });
        rest = &rest[at + 1..];
    }
    if !rest.is_empty() {
        send(rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(text: &[u8]) -> Vec<Vec<u8>> {
        let mut runs = Vec::new();
        for_terminal(text, |run| runs.push(run.to_vec()));
        runs
    }

    #[test]
    fn plain_text_is_one_run() {
        assert_eq!(
            runs(b"mem: [0x0-0x9fbff] usable"),
            [b"mem: [0x0-0x9fbff] usable".to_vec()]
        );
        assert!(runs(b"").is_empty());
    }

    #[test]
    fn line_breaks_and_erasing_are_translated_between_runs() {
        assert_eq!(
            runs(b"ab\ncd\n"),
            [
                b"ab".to_vec(),
                b"\r\n".to_vec(),
                b"cd".to_vec(),
                b"\r\n".to_vec()
            ]
        );
        assert_eq!(
            runs(b"\x7fx\x08"),
            [b"\x08 \x08".to_vec(), b"x".to_vec(), b"\x08 \x08".to_vec()]
        );
        assert_eq!(runs(b"\n\n"), [b"\r\n".to_vec(), b"\r\n".to_vec()]);
    }
}
