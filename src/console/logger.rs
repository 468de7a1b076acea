//! The `log` crate's facade, on both consoles: `log::info!` and friends.
//!
//! A record is one line: `[LEVEL] message`. On serial it is plain text; on
//! the screen the whole line is in the level's colour (error red, warn
//! yellow, info the default grey, debug and trace dim grey). Records more
//! detailed than the level chosen with `loglevel=` on the kernel command line
//! are dropped. Plain `println!` output is not a record and carries no tag.
//!
//! Until the command line has been read, the level is not known: records
//! logged before then wait in a [`Backlog`] and are printed (or dropped as
//! too detailed) by [`set_level`], in order, after the banner.

use core::sync::atomic::{AtomicBool, Ordering};

use log::{Level, LevelFilter, Log, Metadata, Record};
use spin::Mutex;

use super::backlog::Backlog;
use super::color::{Color, ColorCode};
use crate::arch::without_interrupts;

/// The kernel's logger.
struct ConsoleLogger;

/// The one instance `log` is given.
static LOGGER: ConsoleLogger = ConsoleLogger;

/// Bytes of early records the backlog holds: the init steps' own lines
/// and a few dozen command-line warnings.
const BACKLOG_BYTES: usize = 8 * 1024;

/// Records logged before the level was known (in .bss).
static BACKLOG: Mutex<Backlog<BACKLOG_BYTES>> = Mutex::new(Backlog::new());

/// Whether [`set_level`] has run; before, records go to [`BACKLOG`].
static LEVEL_KNOWN: AtomicBool = AtomicBool::new(false);

/// Installs the logger, holding every record until [`set_level`]. Call
/// once, after the consoles.
pub fn init() {
    // Fails only if a logger is already installed, i.e. on a second call,
    // which then changes nothing.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(LevelFilter::Trace);
}

/// Shows records up to `level` from now on, starting with those held back.
pub fn set_level(level: LevelFilter) {
    log::set_max_level(level);
    LEVEL_KNOWN.store(true, Ordering::SeqCst);
    let dropped = without_interrupts(|| {
        let mut backlog = BACKLOG.lock();
        let dropped = backlog.dropped();
        backlog.drain(|held, text| {
            if held <= level {
                print(held, format_args!("{text}"));
            }
        });
        dropped
    });
    log::debug!("log level: {level}");
    if dropped > 0 {
        log::warn!(
            "{dropped} log records from before the log level was known did not fit and are lost"
        );
    }
}

/// The screen colours of a record of `level`.
pub const fn color_of(level: Level) -> ColorCode {
    match level {
        Level::Error => ColorCode::new(Color::LightRed, Color::Black),
        Level::Warn => ColorCode::new(Color::Yellow, Color::Black),
        Level::Info => ColorCode::DEFAULT,
        Level::Debug | Level::Trace => ColorCode::new(Color::DarkGray, Color::Black),
    }
}

impl Log for ConsoleLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        if LEVEL_KNOWN.load(Ordering::SeqCst) {
            print(record.level(), *record.args());
        } else {
            without_interrupts(|| BACKLOG.lock().push(record.level(), *record.args()));
        }
    }

    fn flush(&self) {}
}

/// Prints one record: `[LEVEL] message`, in the level's colour on screen.
fn print(level: Level, message: core::fmt::Arguments) {
    super::print_record(color_of(level), format_args!("[{level}] {message}"));
}
