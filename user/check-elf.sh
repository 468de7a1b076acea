#!/bin/sh
# check-elf.sh FILE...: each FILE must be what kestrel loads: a static
# x86_64 ELF executable (ET_EXEC, no interpreter, no dynamic section) with a
# PT_GNU_STACK that is not executable and no segment both writable and
# executable. Prints what is wrong and fails.
set -eu
status=0
for file in "$@"; do
    headers=$(readelf -hlW "$file")
    fail() { echo "check-elf: $file: $1" >&2; status=1; }
    echo "$headers" | grep -q 'Type: *EXEC' || fail "not ET_EXEC"
    echo "$headers" | grep -q 'Machine: *Advanced Micro Devices X86-64' || fail "not x86_64"
    echo "$headers" | grep -Eq '^ *(INTERP|DYNAMIC) ' && fail "not static"
    echo "$headers" | grep -Eq '^ *GNU_STACK ' || fail "no PT_GNU_STACK (the stack would be executable)"
    # Flags are three columns, R W E: "WE" only when both are set.
    echo "$headers" | grep -E '^ *(LOAD|GNU_STACK) ' | grep -q 'WE' \
        && fail "a segment is both writable and executable"
done
exit $status
