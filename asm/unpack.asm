; Unpacking: the step between the checks and the page tables in boot.asm.
;
; build/kernel.bin is packed (scripts/pack.py): GRUB loads only this file's
; first part (the Multiboot2 header and the 32-bit code of boot.asm and this
; file, the `.boot` section) and a compressed copy of the rest. The rest is
; the kernel's code, constants and data (.text, .rodata, .data, from
; __text_start to __data_end) and its symbol table (.symtab, .strtab, placed
; after __kernel_end). The file's program headers make GRUB zero those
; places; `unpack_kernel` then decompresses each chunk into its place.
;
; Why: GRUB's cost of a kernel file grows with its bytes (about 0.2 ms per
; KiB under QEMU's TCG, decompressing a gzip file no cheaper than reading it),
; while this loop spends a few milliseconds on the lot. docs/performance.md.
;
; The format of a chunk is an LZ4 block (the LZ4 block format description):
; a sequence of
;   token byte: high nibble = literal count, low nibble = match length - 4
;   [more literal count: bytes added while each is 255, if the nibble is 15]
;   the literal bytes
;   -- the last sequence ends here --
;   match offset: 2 bytes, little endian, back from the write position
;   [more match length: bytes added while each is 255, if the nibble is 15]
; A chunk must end exactly after the literals of a sequence and fill its
; destination exactly; anything else is a damaged file, reported by
; boot_error, as are offsets and lengths that would leave the destination.
; Before decoding, a checksum of the compressed bytes (each little-endian
; dword, the last one padded with zeros: sum = rol(sum, 1) + dword) must
; match the table's, so a damaged byte anywhere is caught too.
;
; build/kernel.elf (GDB's file) is not packed: its table says 0 chunks, and
; booting it directly skips this step.

global unpack_kernel
global unpack_table
extern boot_error

; --- constants ---------------------------------------------------------------

UNPACK_MAGIC       equ 0x4B434150   ; "PACK" in memory: scripts/pack.py finds
                                    ; the table by symbol and checks this
MAX_CHUNKS         equ 2            ; the kernel image and its symbol table
LZ4_MIN_MATCH      equ 4            ; a match length field of 0 means 4 bytes
LZ4_MORE           equ 15           ; a nibble of 15: more length bytes follow
LZ4_MORE_BYTE      equ 255          ; a length byte of 255: another follows
LZ4_LITERALS_SHIFT equ 4            ; the token's high nibble: literal count
LZ4_OFFSET_BYTES   equ 2            ; a match offset's size

; One chunk's entry in the table (all physical addresses, 32 bits).
CHUNK_SOURCE       equ 0            ; where GRUB loaded the compressed bytes
CHUNK_SOURCE_SIZE  equ 4            ; how many there are
CHUNK_DEST         equ 8            ; where they unpack to
CHUNK_DEST_SIZE    equ 12           ; exactly how many bytes they unpack to
CHUNK_CHECKSUM     equ 16           ; of the compressed bytes (above)
CHUNK_ENTRY_SIZE   equ 20

; --- the table scripts/pack.py fills in ------------------------------------------

section .boot_data progbits alloc noexec write align=4
align 4
unpack_table:
.magic:  dd UNPACK_MAGIC
.count:  dd 0                       ; 0: not packed (build/kernel.elf)
.chunks: times MAX_CHUNKS * CHUNK_ENTRY_SIZE db 0

section .boot_text progbits alloc exec nowrite align=16
bits 32

; Unpacks every chunk the table lists; returns with all registers as they
; were. Needs the stack boot.asm set up; writes only the destinations.
unpack_kernel:
    pushad
    mov ebx, unpack_table.chunks
    mov eax, [unpack_table.count]
    cmp eax, MAX_CHUNKS
    ja .damaged
.next_chunk:
    test eax, eax
    jz .done
    push eax
    call check_sum
    mov esi, [ebx + CHUNK_SOURCE]
    mov ebp, esi
    add ebp, [ebx + CHUNK_SOURCE_SIZE]  ; EBP = end of the compressed bytes
    mov edi, [ebx + CHUNK_DEST]
    mov [dest_start], edi
    mov eax, edi
    add eax, [ebx + CHUNK_DEST_SIZE]
    mov [dest_end], eax
    push ebx
    call lz4_decode
    pop ebx
    cmp edi, [dest_end]                 ; every byte of the destination written
    jne .damaged
    pop eax
    dec eax
    add ebx, CHUNK_ENTRY_SIZE
    jmp .next_chunk
.done:
    popad
    ret
.damaged:
    mov ebx, msg_damaged
    jmp boot_error                      ; prints and halts, never returns

; Decodes the LZ4 block from ESI up to EBP into EDI, within
; [dest_start, dest_end). Returns EDI = the end of what it wrote. Clobbers
; EAX, EBX, ECX, EDX, ESI. Jumps to unpack_kernel.damaged on bad input.
lz4_decode:
.sequence:
    cmp esi, ebp
    jae unpack_kernel.damaged           ; a chunk ends after literals, not here
    movzx edx, byte [esi]               ; EDX = the token
    inc esi
    mov ecx, edx
    shr ecx, LZ4_LITERALS_SHIFT         ; ECX = literal count
    cmp ecx, LZ4_MORE
    jne .literals
    call read_more_length
.literals:
    lea eax, [esi + ecx]
    cmp eax, ebp
    ja unpack_kernel.damaged            ; literals past the compressed bytes
    lea eax, [edi + ecx]
    cmp eax, [dest_end]
    ja unpack_kernel.damaged            ; literals past the destination
    rep movsb
    cmp esi, ebp
    je .end                             ; the last sequence: literals only
    lea eax, [esi + LZ4_OFFSET_BYTES]
    cmp eax, ebp
    ja unpack_kernel.damaged
    movzx ebx, word [esi]               ; EBX = match offset
    add esi, LZ4_OFFSET_BYTES
    mov ecx, edx
    and ecx, LZ4_MORE                   ; ECX = match length - 4
    cmp ecx, LZ4_MORE
    jne .match
    call read_more_length
.match:
    add ecx, LZ4_MIN_MATCH
    mov eax, edi
    sub eax, [dest_start]               ; EAX = bytes written so far
    test ebx, ebx
    jz unpack_kernel.damaged            ; offset 0 copies nothing known
    cmp ebx, eax
    ja unpack_kernel.damaged            ; back before the destination
    lea eax, [edi + ecx]
    cmp eax, [dest_end]
    ja unpack_kernel.damaged            ; past the destination
    mov eax, edi
    sub eax, ebx                        ; EAX = where the match starts
    mov ebx, esi                        ; EBX = the compressed bytes
    mov esi, eax                        ; ESI = the match
    rep movsb                           ; byte by byte, in order: a match that
                                        ; overlaps its copy repeats, as LZ77 means
    mov esi, ebx
    jmp .sequence
.end:
    ret

; Checks the compressed bytes of the chunk at EBX against its checksum.
; Clobbers EAX, ECX, EDX, ESI.
check_sum:
    mov esi, [ebx + CHUNK_SOURCE]
    mov ecx, [ebx + CHUNK_SOURCE_SIZE]
    add ecx, 3
    shr ecx, 2                          ; ECX = dwords, the last one padded
    xor edx, edx
    jecxz .compare
.next:
    lodsd
    rol edx, 1
    add edx, eax
    loop .next
.compare:
    cmp edx, [ebx + CHUNK_CHECKSUM]
    jne unpack_kernel.damaged
    ret

; Adds to ECX the length bytes at ESI: each byte, while it is 255, and the
; first one that is not. Clobbers EAX.
read_more_length:
    cmp esi, ebp
    jae unpack_kernel.damaged
    movzx eax, byte [esi]
    inc esi
    add ecx, eax
    cmp eax, LZ4_MORE_BYTE
    je read_more_length
    ret

section .boot_rodata progbits alloc noexec nowrite align=4
msg_damaged: db "the kernel file is damaged: its packed part does not unpack", 0

section .boot_data
; The destination of the chunk being unpacked: the bounds every copy checks.
; With the 32-bit code, where it is loaded: .bss is linked in the high half.
dest_start: dd 0
dest_end:   dd 0
