#!/bin/sh
# /test.sh of the RAM-above-4-GiB check (guests/stage5/l1-memory.sh): what Linux found, then
# memtouch over most of it. MEMTOUCH_ARGS: percent of MemAvailable and stride (memtouch.c).
grep MemTotal /proc/meminfo
dmesg | grep -E 'BIOS-e820: \[mem 0x0000000100000000'
memtouch 90 4096
