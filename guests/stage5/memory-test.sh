#!/bin/sh
# /test.sh of the RAM-above-4-GiB check (guests/stage5/l1-memory.sh): what Linux found (its
# memory size, the e820 entry from 4 GiB, the PCI root bridge's windows from our DSDT, the
# 64-bit one past the RAM), then memtouch over 90% of the available memory, every 64-bit word
# of it.
grep MemTotal /proc/meminfo
dmesg | grep -E 'BIOS-e820: \[mem 0x0000000100000000'
dmesg | grep -E 'root bus resource \[mem'
memtouch 90 8
