; Where the other CPUs start: a real-mode page that takes a CPU woken by a
; start-up IPI straight to long mode on the kernel's page tables, then jumps
; to the kernel's entry for it (src/arch/x86_64/smp.rs).
;
; Never run where it is linked: the kernel copies these bytes to a page
; below 1 MiB (the "AP start-up page" of the reserved list), fills the
; parameter block, and sends the start-up IPI with that page's number. The
; CPU then runs at CS = page >> 4, IP = 0, so the code works at any page: it
; finds its own base from CS and writes the two absolute addresses it needs
; (the GDT's, the 64-bit code's) into the page before using them.
;
; From real mode straight to long mode (Intel SDM vol. 3A, 10.8.5: PAE, a
; PML4 in CR3, EFER.LME, then CR0.PG with CR0.PE): CR3, CR4, EFER and CR0
; are the boot CPU's, so this CPU runs with the same paging features
; (no-execute, write protection, global pages). The page itself is
; identity-mapped in the kernel's tables only while the CPUs start: after
; CR0.PG the next instructions are fetched through those tables.

global ap_start
global ap_start_end

; Offsets of the parameter block (smp.rs's `ApStart`, in the same order).
PARAMS      equ 8
P_CR3       equ PARAMS + 0
P_CR4       equ PARAMS + 8
P_EFER      equ PARAMS + 16
P_CR0       equ PARAMS + 24
P_ENTRY     equ PARAMS + 32
P_STACK     equ PARAMS + 40
P_ARG       equ PARAMS + 48

CODE64_SELECTOR equ 0x08
DATA_SELECTOR   equ 0x10
IA32_EFER       equ 0xc0000080
EFER_LMA        equ 1 << 10         ; read-only: set by the CPU itself
EFER_LME        equ 1 << 8
CR4_PAE         equ 1 << 5
CR4_PCIDE       equ 1 << 17         ; only settable in long mode
CR0_PE          equ 1 << 0
CR0_PG          equ 1 << 31

section .rodata.ap_start progbits alloc noexec nowrite align=16
bits 16
ap_start:
    cli
    jmp short real_mode
    align 8, db 0
params:
    times 7 dq 0                    ; cr3, cr4, efer, cr0, entry, stack, arg
    align 8, db 0
; The "accessed" bits are set already: the CPU would otherwise write them
; when it loads a segment, and the page is read-only once paging is on.
gdt:
    dq 0                            ; null
    dq 0x00af9b000000ffff           ; 0x08: 64-bit code, ring 0
    dq 0x00cf93000000ffff           ; 0x10: data, ring 0
gdt_end:
    align 8, db 0
gdtr:
    dw gdt_end - gdt - 1
    dd 0                            ; base: written below
    align 8, db 0
far_jump:
    dd 0                            ; offset: written below
    dw CODE64_SELECTOR

real_mode:
    cld
    mov ax, cs
    mov ds, ax
    movzx ebx, ax
    shl ebx, 4                      ; ebx: this page's physical address

    lea eax, [ebx + gdt - ap_start]
    mov [gdtr - ap_start + 2], eax
    lea eax, [ebx + long_mode - ap_start]
    mov [far_jump - ap_start], eax
    lgdt [gdtr - ap_start]

    mov eax, [P_CR4]
    or eax, CR4_PAE
    and eax, ~CR4_PCIDE
    mov cr4, eax
    mov eax, [P_CR3]                ; the kernel's PML4 lies below 4 GiB
    mov cr3, eax
    mov ecx, IA32_EFER
    mov eax, [P_EFER]
    mov edx, [P_EFER + 4]
    and eax, ~EFER_LMA
    or eax, EFER_LME
    wrmsr
    mov eax, [P_CR0]
    or eax, CR0_PG | CR0_PE
    mov cr0, eax
    o32 jmp far [far_jump - ap_start]

bits 64
long_mode:
    mov eax, DATA_SELECTOR
    mov ds, eax
    mov es, eax
    mov ss, eax
    xor eax, eax
    mov fs, eax
    mov gs, eax
    ; rbx still holds the page's address (its upper half zero).
    mov rsp, [rbx + P_STACK]
    mov rdi, [rbx + P_ARG]
    mov rax, [rbx + P_ENTRY]
    xor ebp, ebp                    ; the outermost frame, for backtraces
    push rbp                        ; no return address: aligned as after a call
    jmp rax
ap_start_end:
