//! The `log` crate's facade, on both consoles: `log::info!` and friends.
//!
//! A record is one line: `[LEVEL] message`. On serial it is plain text; on
//! the screen the whole line is in the level's colour (error red, warn
//! yellow, info the default grey, debug and trace dim grey). Records more
//! detailed than the level chosen with `loglevel=` on the kernel command line
//! are dropped (`info` until the command line has been read). Plain
//! `println!` output is not a record and carries no tag.

use log::{Level, LevelFilter, Log, Metadata, Record};

use super::color::{Color, ColorCode};

/// The kernel's logger; it has no state of its own.
struct ConsoleLogger;

/// The one instance `log` is given.
static LOGGER: ConsoleLogger = ConsoleLogger;

/// Installs the logger at the command line's default level (`info`), which
/// holds until the command line has been read. Call once, after the consoles.
pub fn init() {
    // Fails only if a logger is already installed, i.e. on a second call,
    // which then changes nothing.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(crate::cmdline::LogLevel::default().0);
}

/// Shows records up to `level` from now on.
pub fn set_level(level: LevelFilter) {
    log::set_max_level(level);
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
        if self.enabled(record.metadata()) {
            let level = record.level();
            super::print_record(color_of(level), format_args!("[{level}] {}", record.args()));
        }
    }

    fn flush(&self) {}
}
