; The 32-bit half of the boot: from GRUB's hand-off to 64-bit long mode.
;
; GRUB jumps to `start` in 32-bit protected mode with paging off, interrupts
; off, EAX = the Multiboot2 magic and EBX = the physical address of the boot
; information (Multiboot2 specification, 3.3 "I386 machine state"). We have no
; stack, no page tables and no idea yet whether this CPU can run 64-bit code,
; so this file:
;
;   1. sets up a stack,
;   2. checks, in this order, that a Multiboot2 loader started us, that the CPU
;      has CPUID, and that it supports long mode, printing a one-line
;      "boot error: ..." on the VGA screen and on COM1 and halting if not,
;   3. unpacks the rest of the kernel, when build/kernel.bin is packed
;      (unpack.asm),
;   4. builds the boot page tables: the kernel image at its high address
;      (KERNEL_VIRT_BASE + physical, the top 2 GiB), the first 4 GiB in the
;      direct map (DIRECT_MAP_OFFSET + physical), and the first 4 GiB
;      identity-mapped only for the jump into long mode,
;   5. enables PAE, long mode and paging, loads a 64-bit GDT and far-jumps to
;      `long_mode_start` (long_mode.asm), which jumps to the high half and
;      calls `rust_main`; Rust then removes the identity half.
;
; Paging is off until step 5, so this code uses physical addresses: it runs
; where it is linked (.boot is linked at its load address), and it reaches
; the high-linked .bss (the stack, the page tables) through PHYS().
;
; This file's code and constants lie in the `.boot` section with the
; Multiboot2 header (linker.ld): never packed, since they run first.
;
; Everything here runs before any Rust code, so it is written to need nothing:
; no stack beyond our own, no BIOS, no memory that GRUB might still be using.

global start
global stack_top
global stack_guard
global boot_tsc
global boot_error
extern long_mode_start
extern unpack_kernel

; --- constants: every magic number is named here ---------------------------

MB2_BOOTLOADER_MAGIC equ 0x36D76289  ; what a Multiboot2 loader puts in EAX

; Where everything after .boot is linked: physical + this (linker.ld and
; src/memory/layout.rs say the same; an in-kernel test compares them).
KERNEL_VIRT_BASE     equ 0xFFFFFFFF80000000
; The physical address of a high-linked symbol, for code that runs before
; paging (or on the identity map).
%define PHYS(symbol) ((symbol) - KERNEL_VIRT_BASE)

EFLAGS_ID            equ 1 << 21     ; CPUID exists iff this bit can be flipped
CPUID_EXT_MAX        equ 0x80000000  ; leaf: highest extended leaf in EAX
CPUID_EXT_FEATURES   equ 0x80000001  ; leaf: extended feature flags
CPUID_EDX_LM         equ 1 << 29     ; in leaf 0x80000001 EDX: long mode

CR4_PAE              equ 1 << 5      ; Physical Address Extension (4-level paging)
CR0_WP               equ 1 << 16     ; write protect also applies to ring 0
CR0_PG               equ 1 << 31     ; paging on
MSR_EFER             equ 0xC0000080  ; Extended Feature Enable Register
EFER_LME             equ 1 << 8      ; Long Mode Enable

PAGE_PRESENT         equ 1 << 0
PAGE_WRITABLE        equ 1 << 1
PAGE_HUGE            equ 1 << 7      ; in a P2 entry: maps a 2 MiB page
PAGE_SIZE            equ 4096
HUGE_PAGE_SHIFT      equ 21          ; 2 MiB
P2_TABLES            equ 4           ; 4 x 1 GiB = the first 4 GiB
ENTRIES_PER_TABLE    equ 512
ENTRY_SIZE           equ 8
IDENTITY_P4_INDEX    equ 0           ; virtual 0: the identity map, for the jump
DIRECT_MAP_P4_INDEX  equ 256         ; 0xffff_8000_0000_0000: DIRECT_MAP_OFFSET
KERNEL_P4_INDEX      equ 511         ; 0xffff_ff80_0000_0000 and up
KERNEL_P3_INDEX      equ 510         ; 0xffff_ffff_8000_0000: KERNEL_VIRT_BASE

VGA_TEXT_BUFFER      equ 0xB8000     ; 80x25 cells of (ASCII byte, colour byte)
VGA_COLUMNS          equ 80
VGA_BLANK            equ 0x0720      ; a space, light grey on black
VGA_ERROR_COLOUR     equ 0x4F        ; white on red

COM1                 equ 0x3F8       ; first serial port: data register
COM1_IER             equ COM1 + 1    ; interrupt enable (divisor high with DLAB)
COM1_FCR             equ COM1 + 2    ; FIFO control
COM1_LCR             equ COM1 + 3    ; line control
COM1_MCR             equ COM1 + 4    ; modem control
COM1_LSR             equ COM1 + 5    ; line status
LCR_DLAB             equ 0x80        ; divisor latch access
LCR_8N1              equ 0x03        ; 8 data bits, no parity, 1 stop bit
FCR_ENABLE_CLEAR     equ 0xC7        ; enable and clear FIFOs, 14-byte trigger
MCR_DTR_RTS          equ 0x03
LSR_THR_EMPTY        equ 0x20        ; transmitter holding register empty
SERIAL_SPIN_LIMIT    equ 100000      ; give up on a port that never drains

STACK_SIZE           equ 64 * 1024

section .boot_text progbits alloc exec nowrite align=16
bits 32

; Entry point (ENTRY in linker.ld). EAX = magic, EBX = boot information.
start:
    mov esi, eax                ; keep the magic in ESI (RDTSC overwrites EAX)
    rdtsc                       ; the kernel's first moment, for boot_timing:
    mov [PHYS(boot_tsc)], eax   ; rust_main gets it as its third argument
    mov [PHYS(boot_tsc) + 4], edx ; (long_mode.asm loads it into RDX)
    mov esp, PHYS(stack_top)    ; a stack for the calls below (long_mode.asm
                                ; moves it to its high address)
    mov edi, ebx                ; keep the boot information address in EDI:
                                ; EDI and ESI become rust_main's first two
                                ; arguments (System V: RDI, RSI)

    call check_multiboot
    call check_cpuid
    call check_long_mode
    call unpack_kernel          ; .text, .rodata, .data, the symbol table

    call set_up_page_tables
    call enable_long_mode_paging

    ; Load a GDT with a 64-bit code segment; the far jump reloads CS from it,
    ; which is the moment the CPU starts decoding 64-bit instructions.
    lgdt [gdt64.pointer]
    jmp gdt64.code:long_mode_start

; --- checks ------------------------------------------------------------------

; A Multiboot2 loader leaves its magic in EAX (saved in ESI). Anything else
; (a Multiboot1 loader, a chain loader) gives us no boot information to trust.
check_multiboot:
    cmp esi, MB2_BOOTLOADER_MAGIC
    jne .fail
    ret
.fail:
    mov ebx, msg_no_multiboot
    jmp boot_error

; CPUID exists if software can flip the ID bit of EFLAGS (Intel SDM vol. 1,
; 3.4.3). Flip it, read EFLAGS back, compare, and restore the original value.
check_cpuid:
    pushfd
    pop eax
    mov ecx, eax                ; ECX = original EFLAGS
    xor eax, EFLAGS_ID
    push eax
    popfd                       ; try to flip ID
    pushfd
    pop eax                     ; EAX = EFLAGS as the CPU kept it
    push ecx
    popfd                       ; restore the original
    cmp eax, ecx
    je .fail                    ; the bit did not move: no CPUID
    ret
.fail:
    mov ebx, msg_no_cpuid
    jmp boot_error

; Long mode is advertised in CPUID leaf 0x80000001, EDX bit 29; that leaf
; exists only if leaf 0x80000000 reports it as supported.
check_long_mode:
    mov eax, CPUID_EXT_MAX
    cpuid
    cmp eax, CPUID_EXT_FEATURES
    jb .fail                    ; no extended feature leaf: no long mode
    mov eax, CPUID_EXT_FEATURES
    cpuid
    test edx, CPUID_EDX_LM
    jz .fail
    ret
.fail:
    mov ebx, msg_no_long_mode
    jmp boot_error

; --- page tables ---------------------------------------------------------------

; The first 4 GiB through P3 -> four P2 tables whose 2048 entries map 2 MiB
; pages (the default QEMU CPU has no 1 GiB pages), twice: at 0 (identity,
; only until Rust drops it, for the far jump and the first 64-bit
; instructions in .boot) and at DIRECT_MAP_OFFSET (the direct map, through
; which the kernel reaches physical memory from its first line on).
; The kernel image's high alias: P4[511] -> P3 kernel, whose entry 510 ->
; P2 kernel, mapping KERNEL_VIRT_BASE + the first 1 GiB. Its first 2 MiB go
; through a P1 table of 4 KiB pages so that the stack guard page stays
; unmapped (an overflow of the boot stack faults instead of overwriting
; what lies below), and page 0 with it.
set_up_page_tables:
    mov eax, PHYS(p3_table)
    or eax, PAGE_PRESENT | PAGE_WRITABLE
    mov [PHYS(p4_table) + IDENTITY_P4_INDEX * ENTRY_SIZE], eax
    mov [PHYS(p4_table) + DIRECT_MAP_P4_INDEX * ENTRY_SIZE], eax
    mov eax, PHYS(p3_kernel)
    or eax, PAGE_PRESENT | PAGE_WRITABLE
    mov [PHYS(p4_table) + KERNEL_P4_INDEX * ENTRY_SIZE], eax
    mov eax, PHYS(p2_kernel)
    or eax, PAGE_PRESENT | PAGE_WRITABLE
    mov [PHYS(p3_kernel) + KERNEL_P3_INDEX * ENTRY_SIZE], eax

    ; P3[i] -> P2 table i, for i in 0..4
    xor ecx, ecx
.map_p3:
    mov eax, ecx
    shl eax, 12                         ; i * 4096: the i-th P2 table
    add eax, PHYS(p2_tables)
    or eax, PAGE_PRESENT | PAGE_WRITABLE
    mov [PHYS(p3_table) + ecx * ENTRY_SIZE], eax
    inc ecx
    cmp ecx, P2_TABLES
    jne .map_p3

    ; P2 entry i (across the four tables) maps physical i * 2 MiB, and so
    ; does entry i of the kernel's P2 for i < 512. The upper dword of each
    ; entry stays 0: .bss is zeroed by GRUB.
    xor ecx, ecx
.map_p2:
    mov eax, ecx
    shl eax, HUGE_PAGE_SHIFT
    or eax, PAGE_PRESENT | PAGE_WRITABLE | PAGE_HUGE
    mov [PHYS(p2_tables) + ecx * ENTRY_SIZE], eax
    cmp ecx, ENTRIES_PER_TABLE
    jae .next_p2
    mov [PHYS(p2_kernel) + ecx * ENTRY_SIZE], eax
.next_p2:
    inc ecx
    cmp ecx, P2_TABLES * ENTRIES_PER_TABLE
    jne .map_p2

    ; Replace the kernel alias's first 2 MiB page with the P1 table: P1
    ; entry i maps physical i * 4 KiB, starting at 1 so that entry 0 (page
    ; 0) is absent.
    mov eax, PHYS(p1_table)
    or eax, PAGE_PRESENT | PAGE_WRITABLE
    mov [PHYS(p2_kernel)], eax
    mov ecx, 1
.map_p1:
    mov eax, ecx
    shl eax, 12
    or eax, PAGE_PRESENT | PAGE_WRITABLE
    mov [PHYS(p1_table) + ecx * ENTRY_SIZE], eax
    inc ecx
    cmp ecx, ENTRIES_PER_TABLE
    jne .map_p1

    ; Unmap the guard page below the stack: an overflow faults instead of
    ; silently overwriting whatever lies below. (linker.ld asserts that the
    ; guard page lies inside the first 2 MiB, which this table covers.)
    mov eax, PHYS(stack_guard)
    shr eax, 12
    mov dword [PHYS(p1_table) + eax * ENTRY_SIZE], 0
    ret

; Turn on 4-level paging in long mode (Intel SDM vol. 3, 10.8.5): CR3 points at
; P4, PAE on, EFER.LME on, then paging on, which activates long mode
; (compatibility mode until the far jump loads a 64-bit code segment).
enable_long_mode_paging:
    mov eax, PHYS(p4_table)
    mov cr3, eax

    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax

    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME
    wrmsr

    mov eax, cr0
    or eax, CR0_PG | CR0_WP
    mov cr0, eax
    ret

; --- error reporting -----------------------------------------------------------

; Print "boot error: " and the NUL-terminated message at EBX on the first row
; of the VGA text screen (cleared first) and on COM1, then halt forever.
; Never returns and never resets: the user must be able to read it.
boot_error:
    ; Clear row 0.
    mov edi, VGA_TEXT_BUFFER
    mov ecx, VGA_COLUMNS
    mov ax, VGA_BLANK
    rep stosw

    call serial_init
    mov edi, VGA_TEXT_BUFFER    ; EDI walks the VGA row
    mov esi, msg_prefix
    call print_string
    mov esi, ebx
    call print_string
    mov esi, msg_newline        ; serial only needs the line break; on VGA it
    call serial_string          ; would show as two odd characters
.halt:
    cli
    hlt
    jmp .halt                   ; an NMI can wake hlt: go straight back

; Print the NUL-terminated string at ESI to the VGA cell at EDI (advancing
; EDI) and to COM1. Clobbers EAX, ECX, EDX, ESI.
print_string:
.next:
    lodsb
    test al, al
    jz .done
    mov byte [edi], al
    mov byte [edi + 1], VGA_ERROR_COLOUR
    add edi, 2
    call serial_byte
    jmp .next
.done:
    ret

; Send the NUL-terminated string at ESI to COM1 only.
serial_string:
.next:
    lodsb
    test al, al
    jz .done
    call serial_byte
    jmp .next
.done:
    ret

; 115200 baud, 8N1, FIFOs on. Writing to an absent port does nothing.
serial_init:
    mov dx, COM1_IER
    xor al, al
    out dx, al                  ; no interrupts
    mov dx, COM1_LCR
    mov al, LCR_DLAB
    out dx, al                  ; divisor latch on: COM1 and COM1+1 = divisor
    mov dx, COM1
    mov al, 1
    out dx, al                  ; divisor 1 = 115200 baud
    mov dx, COM1_IER
    xor al, al
    out dx, al                  ; divisor high byte
    mov dx, COM1_LCR
    mov al, LCR_8N1
    out dx, al                  ; 8N1, divisor latch off
    mov dx, COM1_FCR
    mov al, FCR_ENABLE_CLEAR
    out dx, al
    mov dx, COM1_MCR
    mov al, MCR_DTR_RTS
    out dx, al
    ret

; Send the byte in AL to COM1 once its transmitter is free. A missing or stuck
; port must not hang the error path, so the wait is bounded.
serial_byte:
    mov ah, al
    mov ecx, SERIAL_SPIN_LIMIT
    mov dx, COM1_LSR
.wait:
    in al, dx
    test al, LSR_THR_EMPTY
    jnz .send
    loop .wait
.send:
    mov dx, COM1
    mov al, ah
    out dx, al
    ret

; --- read-only data --------------------------------------------------------------

section .boot_rodata progbits alloc noexec nowrite align=4
msg_prefix:       db "boot error: ", 0
msg_no_multiboot: db "not loaded by a Multiboot2 boot loader", 0
msg_no_cpuid:     db "this CPU has no CPUID instruction", 0
msg_no_long_mode: db "this CPU does not support 64-bit long mode", 0
msg_newline:      db 13, 10, 0

; The 64-bit GDT (Intel SDM vol. 3, 3.4.5). In long mode segmentation is
; mostly off: the code segment only needs "present, code, 64-bit". Rust loads
; its own GDT (with a TSS) later; this one just gets us there.
GDT_EXECUTABLE equ 1 << 43
GDT_CODE_DATA  equ 1 << 44      ; a code or data segment, not a system one
GDT_PRESENT    equ 1 << 47
GDT_LONG_MODE  equ 1 << 53      ; 64-bit code segment
GDT_WRITABLE   equ 1 << 41

align 8
gdt64:
    dq 0                                                    ; null descriptor
.code: equ $ - gdt64
    dq GDT_EXECUTABLE | GDT_CODE_DATA | GDT_PRESENT | GDT_LONG_MODE
.data: equ $ - gdt64
    dq GDT_WRITABLE | GDT_CODE_DATA | GDT_PRESENT
.pointer:
    dw $ - gdt64 - 1            ; limit
    dq gdt64                    ; base

; --- zeroed memory (GRUB zeroes .bss when it loads the ELF) --------------------

section .bss
align PAGE_SIZE
p4_table:   resb PAGE_SIZE
p3_table:   resb PAGE_SIZE
p2_tables:  resb PAGE_SIZE * P2_TABLES
p3_kernel:  resb PAGE_SIZE
p2_kernel:  resb PAGE_SIZE
p1_table:   resb PAGE_SIZE
stack_guard:
            resb PAGE_SIZE      ; unmapped: catches a stack overflow
stack_bottom:
            resb STACK_SIZE
stack_top:
; The timestamp counter at `start` (every x86_64 CPU has RDTSC), for
; src/boot_timing.rs. Above the stack, which grows down, away from it.
boot_tsc:   resq 1
