//! The IDT entries of every vector after the CPU's exceptions (32–255):
//! one tiny entry point per vector, all handing the vector number to the
//! dispatcher the kernel registered ([`set_interrupt_dispatcher`]; the
//! `interrupts` module's), which knows which device or controller it
//! belongs to (or reports it as unexpected).
//!
//! Interrupts are never nested: an interrupt gate clears IF, and handlers
//! run to the end before `iretq` sets it again.

use spin::Once;
use x86_64::VirtAddr;
use x86_64::structures::idt::InterruptDescriptorTable;

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

/// The entry points of vectors 32–255, [`STUB_SIZE`] bytes apart from
/// `kestrel_irq_stubs`: each pushes its vector and jumps to the common
/// part, which swaps GS when the interrupt came from ring 3 (see
/// `user`), clears AC where SMAP is on (a program may have set it), saves
/// the registers a call clobbers, builds a frame record whose return
/// address is the interrupted RIP (so backtraces go on through the
/// interrupt), and calls [`handle`]; then undoes it all and `iretq`s.
const STUB_SIZE: u64 = 16;

core::arch::global_asm!(
    ".balign 16",
    ".global kestrel_irq_stubs",
    "kestrel_irq_stubs:",
    ".set kestrel_irq_vector, 32",
    ".rept 224",
    ".balign 16",
    ".byte 0x68", // push imm32: the vector
    ".long kestrel_irq_vector",
    "jmp kestrel_irq_common",
    ".set kestrel_irq_vector, kestrel_irq_vector + 1",
    ".endr",
    "kestrel_irq_common:",
    // The stack: vector, then the CPU's frame (RIP, CS, RFLAGS, RSP, SS).
    "test byte ptr [rsp + 16], 3",
    "jz 2f",
    "swapgs",
    "2:",
    "cmp byte ptr [rip + {smap}], 0",
    "je 3f",
    "clac",
    "3:",
    "push rax",
    "push rcx",
    "push rdx",
    "push rsi",
    "push rdi",
    "push r8",
    "push r9",
    "push r10",
    "push r11",
    "cld",
    "push qword ptr [rsp + 80]", // the interrupted RIP
    "push rbp",
    "mov rbp, rsp",
    "mov rdi, [rsp + 88]",  // the vector
    "mov rsi, [rsp + 104]", // the interrupted CS
    "sub rsp, 8",          // 12 words pushed on the CPU's 5: aligned again
    "call {handle}",
    "add rsp, 8",
    "pop rbp",
    "add rsp, 8",
    "pop r11",
    "pop r10",
    "pop r9",
    "pop r8",
    "pop rdi",
    "pop rsi",
    "pop rdx",
    "pop rcx",
    "pop rax",
    "add rsp, 8", // the vector
    "test byte ptr [rsp + 8], 3",
    "jz 4f",
    "swapgs",
    "4:",
    "iretq",
    smap = sym super::user::SMAP_ON,
    handle = sym handle,
);

unsafe extern "C" {
    /// The first entry point (vector 32); see [`STUB_SIZE`].
    static kestrel_irq_stubs: u8;
}

/// Vector `vector`'s interrupt, with interrupts off, on the interrupted
/// thread's kernel stack. The CPU layer's own IPIs (TLB shootdown,
/// reschedule) are handled here: the memory layer below the dispatcher
/// needs the first.
extern "C" fn handle(vector: u64, interrupted_cs: u64) {
    super::percpu::enter_interrupt();
    let vector = vector as u8;
    match vector {
        super::smp::TLB_SHOOTDOWN_VECTOR => {
            super::smp::count_received(vector);
            super::tlb::handle_ipi();
            super::apic::eoi();
        }
        // Nothing to do but end it: the exit hook below, or the idle loop
        // the IPI woke from `hlt`, looks at the run queue.
        super::smp::RESCHEDULE_VECTOR => {
            super::smp::count_received(vector);
            super::apic::eoi();
        }
        _ => {
            if let Some(dispatch) = DISPATCHER.get() {
                dispatch(vector);
            }
        }
    }
    super::percpu::leave_interrupt();
    if let Some(hook) = EXIT_HOOK.get() {
        hook();
    }
    if interrupted_cs & 3 == 3
        && let Some(hook) = USER_RETURN_HOOK.get()
    {
        hook();
    }
}

/// What runs last before an interrupt returns to ring 3: the process
/// layer's check for a program asked to stop (it may end the thread).
static USER_RETURN_HOOK: Once<fn()> = Once::new();

/// Registers the hook run before an interrupt returns to ring 3 (the first
/// call wins).
pub fn set_user_return_hook(hook: fn()) {
    USER_RETURN_HOOK.call_once(|| hook);
}

/// Points vectors 32–255 at their entry points.
pub fn install(idt: &mut InterruptDescriptorTable) {
    // Taking a linker symbol's address reads nothing.
    let first = &raw const kestrel_irq_stubs as u64;
    for (index, slot) in idt.slice_mut(32..).iter_mut().enumerate() {
        // SAFETY: each stub is an interrupt entry point (above) for the
        // kernel code segment, which `set_handler_addr` takes from CS.
        unsafe { slot.set_handler_addr(VirtAddr::new(first + index as u64 * STUB_SIZE)) };
    }
}
