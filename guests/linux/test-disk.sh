#!/bin/sh
#
# guests/linux/test-disk.sh FILE TEST [SIZE] - write a test disk for the Linux test guest.
#
# Makes FILE a raw disk image of SIZE (default 8M, any `truncate -s` size) whose first sector
# holds "MINIVISOR-TEST-DISK", a newline, TEST and a newline (see bin/mv-testdisk). Attach it
# as a second disk next to build/linux/boot.iso or boot-disk.qcow2: the guest's init finds it
# and runs TEST (e.g. "storage", or any shell command), as if booted with mv.test=TEST.
# The image is raw so the host can read what the guest wrote with plain dd.

set -eu
[ $# -ge 2 ] || { echo "usage: $0 FILE TEST [SIZE]" >&2; exit 2; }
file=$1 test=$2 size=${3:-8M}
case $test in *'
'*) echo "${0##*/}: the test must be one line" >&2; exit 2 ;; esac
[ ${#test} -le 480 ] || { echo "${0##*/}: the test must fit in one sector (480 bytes)" >&2; exit 2; }

rm -f "$file"
truncate -s "$size" "$file"
printf 'MINIVISOR-TEST-DISK\n%s\n' "$test" | dd of="$file" conv=notrunc status=none
