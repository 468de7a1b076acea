//! Prints the boot report: the summary lines on screen and serial, the
//! details on serial only (see [`super::boot`] for the format).

use super::boot::{Report, Shown};

/// Prints `report`: each line once, to both consoles or to serial only.
pub fn print_report(report: &Report) {
    let _ = report.emit(|shown, line| {
        match shown {
            Shown::Everywhere => println!("{line}"),
            Shown::SerialOnly => serial_println!("{line}"),
        }
        Ok(())
    });
}
