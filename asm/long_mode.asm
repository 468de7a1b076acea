; The first 64-bit instructions: tidy the segment registers, move to the
; high half and call Rust.
;
; boot.asm far-jumps here with the 64-bit GDT loaded, paging on, EDI = the
; boot information address, ESI = the Multiboot2 magic and, in boot_tsc, the
; timestamp counter read at boot.asm's first instructions. The boot page
; tables map the kernel twice: where it was loaded (identity, where this
; first part runs, in .boot) and KERNEL_VIRT_BASE higher, where everything
; from `higher_half_start` on is linked.

global long_mode_start
; A sized function symbol, so that backtraces name the outermost frame by it
; (not by the linker's __text_start at the same address).
global higher_half_start:function (higher_half_start.end - higher_half_start)
extern rust_main
extern boot_tsc
extern __kernel_virt_base               ; linker.ld: KERNEL_VIRT_BASE

; --- low: linked and run at the load address ------------------------------------

section .boot_text progbits alloc exec nowrite align=16
bits 64
long_mode_start:
    ; The data segment registers still hold 32-bit-era selectors. In long mode
    ; the CPU ignores their base and limit, but a null selector is the clean
    ; state (and SS must be null or valid for interrupts to return).
    xor eax, eax
    mov ss, ax
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax

    ; A 64-bit absolute jump: no relative one reaches the top 2 GiB.
    mov rax, higher_half_start
    jmp rax

; --- high: linked at KERNEL_VIRT_BASE + the load address ----------------------

section .text
bits 64
higher_half_start:
    ; The stack too: boot.asm set ESP to the stack's physical address.
    mov rax, __kernel_virt_base         ; an absolute symbol: its value
    add rsp, rax

    ; The upper halves of RDI and RSI are undefined after the switch; writing
    ; the 32-bit halves zero-extends them (Intel SDM vol. 1, 3.4.1.1).
    mov edi, edi                ; rust_main's 1st argument: boot information
    mov esi, esi                ; 2nd argument: the Multiboot2 magic
    mov rdx, [rel boot_tsc]     ; 3rd: the timestamp counter at `start`

    ; A zero frame pointer marks the outermost frame: the kernel is built with
    ; frame pointers (x86_64-kernel.json), and a backtrace walks the chain of
    ; saved RBPs until it finds this 0 in rust_main's frame.
    xor ebp, ebp                ; clears all of RBP (32-bit writes zero-extend)

    ; RSP = stack_top, 16-byte aligned, as the System V ABI wants before a call.
    call rust_main

    ; rust_main never returns; if it somehow did, stop here rather than run
    ; off into whatever follows.
.halt:
    cli
    hlt
    jmp .halt
.end:
