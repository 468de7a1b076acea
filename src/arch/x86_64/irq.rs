//! The IDT entries of every vector after the CPU's exceptions (32–255):
//! one tiny entry point per vector, all handing the vector number to the
//! dispatcher the kernel registered ([`set_interrupt_dispatcher`]; the
//! `interrupts` module's), which knows which device or controller it
//! belongs to (or reports it as unexpected).
//!
//! Interrupts are never nested: an interrupt gate clears IF, and handlers
//! run to the end before `iretq` sets it again.

use spin::Once;
use x86_64::structures::idt::{HandlerFunc, InterruptDescriptorTable, InterruptStackFrame};

/// What every vector from 32 up is handed to, with interrupts off.
pub type InterruptDispatcher = fn(u8);

/// The registered dispatcher. Read without a lock (`Once::get` is one
/// atomic load), so an interrupt inside any locked section reaches it.
static DISPATCHER: Once<InterruptDispatcher> = Once::new();

/// Registers what vectors 32–255 are handed to (the first call wins).
/// Before it, an interrupt is ignored (interrupts stay off until then).
pub fn set_interrupt_dispatcher(dispatcher: InterruptDispatcher) {
    DISPATCHER.call_once(|| dispatcher);
}

/// What runs after the dispatcher (and its EOI), outside the handler's
/// count (`percpu::in_interrupt` is false there): the scheduler's
/// preemption, which may switch threads. The interrupted thread returns
/// through its interrupt frame when it runs again.
static EXIT_HOOK: Once<fn()> = Once::new();

/// Registers the exit hook (the first call wins).
pub fn set_interrupt_exit_hook(hook: fn()) {
    EXIT_HOOK.call_once(|| hook);
}

/// The entry point of vector `V`. The CPU layer's own IPIs (TLB
/// shootdown, reschedule) are handled here: the memory layer below the
/// dispatcher needs the first.
extern "x86-interrupt" fn entry<const V: u8>(_frame: InterruptStackFrame) {
    super::percpu::enter_interrupt();
    match V {
        super::smp::TLB_SHOOTDOWN_VECTOR => {
            super::smp::count_received(V);
            super::tlb::handle_ipi();
            super::apic::eoi();
        }
        // Nothing to do but end it: the exit hook below, or the idle loop
        // the IPI woke from `hlt`, looks at the run queue.
        super::smp::RESCHEDULE_VECTOR => {
            super::smp::count_received(V);
            super::apic::eoi();
        }
        _ => {
            if let Some(dispatch) = DISPATCHER.get() {
                dispatch(V);
            }
        }
    }
    super::percpu::leave_interrupt();
    if let Some(hook) = EXIT_HOOK.get() {
        hook();
    }
}

/// The entry point of every vector from 32 to 255, in order: a table built
/// at compile time, so the boot fills the IDT in one short loop (224
/// straight-line assignments were 2 ms of first-run code under TCG).
static ENTRIES: [HandlerFunc; 224] = {
    let mut table: [HandlerFunc; 224] = [entry::<32>; 224];
    /// Fills the 16 entries of vectors `16 * row` to `16 * row + 15`.
    macro_rules! fill_row {
        ($row:literal) => {
            fill_row!(@ $row, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
        };
        (@ $row:literal, $($column:literal)*) => {
            $( table[$row * 16 + $column - 32] = entry::<{ $row * 16 + $column }>; )*
        };
    }
    fill_row!(2);
    fill_row!(3);
    fill_row!(4);
    fill_row!(5);
    fill_row!(6);
    fill_row!(7);
    fill_row!(8);
    fill_row!(9);
    fill_row!(10);
    fill_row!(11);
    fill_row!(12);
    fill_row!(13);
    fill_row!(14);
    fill_row!(15);
    table
};

/// Points vectors 32–255 at their entry points.
pub fn install(idt: &mut InterruptDescriptorTable) {
    for (slot, &handler) in idt.slice_mut(32..).iter_mut().zip(&ENTRIES) {
        slot.set_handler_fn(handler);
    }
}
