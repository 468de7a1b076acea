; The Multiboot2 header: how GRUB recognises this file as a kernel it can load.
;
; GRUB looks for it in the first 32 KiB of the file, 8-byte aligned; linker.ld
; places this section first in the image and KEEPs it through --gc-sections.
; We request nothing (no framebuffer, no module alignment): the header is only
; the four mandatory fields and the end tag. Multiboot2 specification, 3.1.

MB2_HEADER_MAGIC  equ 0xE85250D6    ; identifies a Multiboot2 header
MB2_ARCH_I386     equ 0             ; start us in 32-bit protected mode
MB2_TAG_END       equ 0             ; type of the tag that closes the list

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
    align 8
end_tag:
    dw MB2_TAG_END      ; type
    dw 0                ; flags
    dd 8                ; size of this tag
header_end:
