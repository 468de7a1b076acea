; The reference kernel `make bench` compares boot times with: the least a
; Multiboot2 kernel can do. GRUB loads it and jumps to `start`; it prints
; `ready` on COM1 and halts. Whatever this costs from QEMU's start is the
; firmware's and GRUB's share of a boot, which no kernel can go below.
;
; Not part of kestrel: it runs in 32-bit protected mode as GRUB left it,
; with no stack, and uses the serial port as the BIOS/firmware set it up
; (QEMU's COM1 needs no programming to send).

MB2_MAGIC     equ 0xE85250D6     ; Multiboot2 header magic
MB2_ARCH_I386 equ 0              ; architecture: 32-bit protected mode
MB2_TAG_END   equ 0              ; the header's closing tag type
COM1          equ 0x3F8          ; first serial port: data register
COM1_LSR      equ COM1 + 5       ; line status
LSR_THR_EMPTY equ 0x20           ; transmitter holding register empty

section .multiboot_header
align 8
header_start:
    dd MB2_MAGIC
    dd MB2_ARCH_I386
    dd header_end - header_start
    dd -(MB2_MAGIC + MB2_ARCH_I386 + (header_end - header_start)) ; checksum
    dw MB2_TAG_END, 0            ; end tag: type, flags
    dd 8                         ;          size
header_end:

section .text
bits 32
global start
start:
    mov esi, message
.next:
    lodsb
    test al, al
    jz .halt
    mov dx, COM1_LSR
.wait:
    in al, dx                    ; wait until the port can take a byte
    test al, LSR_THR_EMPTY
    jz .wait
    mov al, [esi - 1]
    mov dx, COM1
    out dx, al
    jmp .next
.halt:
    cli
    hlt
    jmp .halt

section .rodata
; \r\n first: under UEFI, GRUB and the firmware leave text on the line.
message: db 13, 10, "ready", 13, 10, 0
