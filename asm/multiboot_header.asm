; The Multiboot2 header: how GRUB recognises this file as a kernel it can load.
;
; GRUB looks for it in the first 32 KiB of the file, 8-byte aligned; linker.ld
; places this section first in the image and KEEPs it through --gc-sections.
; Multiboot2 specification, 3.1. Besides the four mandatory fields and the
; end tag it asks for one thing: a framebuffer (below).

MB2_HEADER_MAGIC  equ 0xE85250D6    ; identifies a Multiboot2 header
MB2_ARCH_I386     equ 0             ; start us in 32-bit protected mode
MB2_TAG_END       equ 0             ; type of the tag that closes the list
MB2_TAG_FRAMEBUFFER equ 5           ; "give me a linear framebuffer"
MB2_TAG_OPTIONAL  equ 1             ; flags bit 0: boot even if GRUB cannot

section .multiboot_header
align 8
header_start:
    dd MB2_HEADER_MAGIC
    dd MB2_ARCH_I386
    dd header_end - header_start                  ; header length in bytes
    ; checksum: magic + architecture + length + checksum must be 0 (mod 2^32)
    dd 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + (header_end - header_start))

    ; Every tag starts on an 8-byte boundary; GRUB refuses the kernel with
    ; "unsupported tag" otherwise.
    ;
    ; A framebuffer, optional, with no preferred size or depth (0 = any):
    ; under UEFI there is no VGA text mode, and this is how the kernel gets a
    ; screen there (src/console/). GRUB turns this tag into `gfxpayload` when
    ; its `multiboot2` command runs; under BIOS the menus set
    ; `gfxpayload=text` after that line, so the VGA text screen stays the
    ; default (grub/grub.cfg.in, grub/45_kestrel.in).
    align 8
framebuffer_tag:
    dw MB2_TAG_FRAMEBUFFER                        ; type
    dw MB2_TAG_OPTIONAL                           ; flags
    dd framebuffer_tag_end - framebuffer_tag      ; size: 20
    dd 0                                          ; width: any
    dd 0                                          ; height: any
    dd 0                                          ; depth: any
framebuffer_tag_end:

    align 8
end_tag:
    dw MB2_TAG_END      ; type
    dw 0                ; flags
    dd 8                ; size of this tag
header_end:
