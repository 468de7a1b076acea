//! The panic screen: the panic handler, the report of a fatal CPU
//! exception, and the deliberate panics (see the module above).

use core::fmt;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use super::DeliberatePanic;
use crate::arch::halt_forever;
use crate::console;
use crate::console::color::{Color, ColorCode};
use crate::debug::backtrace::Start;

/// The panic screen's colours.
pub const PANIC_COLOR: ColorCode = ColorCode::new(Color::White, Color::Red);

/// Set by the first panic; a second one means printing the first failed.
static PANICKING: AtomicBool = AtomicBool::new(false);

/// Writes which thread ran, for the closing line (` in thread N (name)`,
/// or `: stack overflow in thread N (name)` when the fault address lies in
/// its stack's guard page); registered by the scheduler.
pub type Context = fn(&mut dyn fmt::Write, Option<u64>) -> fmt::Result;

/// The registered [`Context`], read without a lock.
static CONTEXT: spin::Once<Context> = spin::Once::new();

/// Registers what names the running thread in a report (the first call
/// wins).
pub fn set_context(context: Context) {
    CONTEXT.call_once(|| context);
}

/// The registered context, as text (nothing before it is registered).
struct InThread(Option<u64>);

impl fmt::Display for InThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match CONTEXT.get() {
            Some(context) => context(f, self.0),
            None => Ok(()),
        }
    }
}

/// Prints the panic screen on the VGA screen and the serial port, then
/// halts this CPU forever (never resets).
#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    // This function's own frame record: the walk starts with the return
    // address into `core::panicking`, then the code that panicked.
    let rbp = crate::arch::frame_pointer();
    begin(format_args!("{}", info.message()));
    line(format_args!("KERNEL PANIC: {}", info.message()));
    if let Some(location) = info.location() {
        line(format_args!(
            "  at {}:{}:{}",
            location.file(),
            location.line(),
            location.column()
        ));
    }
    finish(
        Start {
            rip: None,
            pushed_return: None,
            rbp,
        },
        None,
    )
}

/// A fatal CPU exception, as its handler describes it.
pub struct Exception<'a> {
    /// The exception's name and what it concerns, e.g. `page fault (#PF)
    /// accessing 0x0`.
    pub headline: fmt::Arguments<'a>,
    /// The decoded details, a line each (the error code in words, ...).
    pub details: &'a [fmt::Arguments<'a>],
    /// The state the CPU saved: `rip ... cs ... rflags ... rsp ... ss ...`.
    pub frame: fmt::Arguments<'a>,
    /// Where the backtrace starts: the faulting instruction and the
    /// interrupted code's frame pointer.
    pub backtrace: Start,
    /// The address the fault concerns (CR2), for naming a stack overflow.
    pub fault_address: Option<u64>,
}

/// Prints the panic screen for a fatal CPU exception and halts forever:
/// `KERNEL PANIC: CPU exception: <headline>`, the details, `at <frame>`,
/// the backtrace and the closing line.
pub fn exception(exception: Exception) -> ! {
    begin(format_args!(
        "CPU exception: {} at {}",
        exception.headline, exception.frame
    ));
    line(format_args!(
        "KERNEL PANIC: CPU exception: {}",
        exception.headline
    ));
    for details in exception.details {
        line(format_args!("  {details}"));
    }
    line(format_args!("  at {}", exception.frame));
    finish(exception.backtrace, exception.fault_address)
}

/// Interrupts off, and the check for a panic while panicking: if this is
/// one, prints `what` on serial in one line and halts.
fn begin(what: fmt::Arguments) {
    crate::arch::disable_interrupts();
    // The other CPUs stop first (an NMI each), so that nothing they print
    // mixes into the report; when another CPU is already stopping the
    // machine, its report is the one shown, and this CPU just halts.
    if !crate::arch::smp::stop_others() {
        halt_forever()
    }
    if PANICKING.swap(true, Ordering::SeqCst) {
        // SAFETY: we halt below and never return to the code that panicked.
        unsafe { console::panic_serial(format_args!("KERNEL PANIC while panicking: {what}")) };
        halt_forever()
    }
    // SAFETY: as for `line`: on the way to `halt_forever`.
    unsafe { console::panic_fresh_line() };
}

/// One line of the panic screen, on both consoles.
fn line(args: fmt::Arguments) {
    // SAFETY: only called after `begin`, on the way to `halt_forever`: the
    // code that panicked never runs again, so breaking a console lock it may
    // hold cannot create two live writers.
    unsafe { console::panic_print(PANIC_COLOR, args) };
}

/// The backtrace and the closing line (naming the thread that ran), then
/// the halt.
fn finish(backtrace: Start, fault_address: Option<u64>) -> ! {
    // One row per frame on screen, so the headline stays in view.
    crate::debug::print_backtrace(backtrace, |args| {
        // SAFETY: as for `line`.
        unsafe { console::panic_print_row(PANIC_COLOR, args) }
    });
    line(format_args!(
        "  the kernel has stopped on CPU {}{}; restart the machine",
        crate::arch::percpu::cpu(),
        InThread(fault_address)
    ));
    halt_forever()
}

/// Panics on purpose, as the command line asked (`panic=test|locked`).
pub fn deliberate(kind: DeliberatePanic) -> ! {
    match kind {
        DeliberatePanic::Test => panic!("deliberate panic (panic=test on the command line)"),
        DeliberatePanic::Locked => console::panic_with_locks_held(),
    }
}
