//! `keytest` on the command line: after `ready`, show every key as it is
//! decoded, to see what the keyboard and the serial port deliver (and what
//! the input tests boot). Printable characters show as themselves, Enter
//! starts a new line, every other key shows as `<Name>`.
//!
//! A few Ctrl keys act instead of showing, for the tests (until the shell's
//! commands do the same):
//! - Ctrl-B stops reading input until none has arrived for a second: the
//!   PS/2 queue overflows on purpose (the tests type 200 keys meanwhile),
//!   while serial input is throttled and arrives whole (10,000 bytes); it
//!   then says `keytest: busy done` and reads on;
//! - Ctrl-T prints the interrupt report (`interrupts` in the shell);
//! - Ctrl-R reboots, Ctrl-P powers off.
//!
//! After each key, input dropped since the last report is shown as
//! `keytest: dropped N`.

use core::time::Duration;

use crate::input::{self, key::Key};

/// How long input must pause to end a Ctrl-B busy spell.
const QUIET: Duration = Duration::from_millis(1000);

/// Shows keys forever.
pub fn run() -> ! {
    println!("keytest: type keys; Ctrl-B busy, Ctrl-T interrupts, Ctrl-R reboot, Ctrl-P poweroff");
    loop {
        match input::wait_key() {
            Key::Char(c) => print!("{c}"),
            Key::Enter => println!(),
            Key::Ctrl(b'b') => busy(),
            Key::Ctrl(b't') => {
                println!();
                let _ = crate::report::interrupts::report(&mut Console);
            }
            Key::Ctrl(b'r') => crate::power::reboot(),
            Key::Ctrl(b'p') => crate::power::poweroff(),
            other => print!("<{other:?}>"),
        }
        let dropped = input::take_dropped();
        if dropped > 0 {
            println!("\nkeytest: dropped {dropped}");
        }
    }
}

/// Sleeps without reading input until none arrives for [`QUIET`].
fn busy() {
    println!("\nkeytest: busy");
    crate::console::flush();
    let mut last = received();
    let mut since = crate::time::uptime();
    loop {
        crate::arch::enable_and_wait();
        let now = received();
        if now != last {
            last = now;
            since = crate::time::uptime();
        } else if crate::time::uptime() - since >= QUIET {
            break;
        }
    }
    println!("keytest: busy done");
}

/// Bytes offered to both queues so far.
fn received() -> usize {
    input::SERIAL_QUEUE.received() + input::PS2_QUEUE.received()
}

/// Both consoles as a `fmt::Write`, for the report.
struct Console;

impl core::fmt::Write for Console {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        print!("{text}");
        Ok(())
    }
}
