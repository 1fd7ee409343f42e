# guests/stage4/guest-test.sh - the Linux guest's side of stage 4's checks.
#
# tests/checks/stage4.sh copies this onto the test disk as /test.sh; the guest's init finds it
# there (guests/linux/init, "/test.sh on the disk") and runs it in /mnt. One line per fact,
# each starting with "guest:", for the grader to look for.

echo "guest: cpus=$(nproc)"
# The kernel's own count of the RAM it was given: "Memory: 262000K/307196K available".
total_k=$(dmesg | sed -n 's/.*Memory: [0-9]*K\/\([0-9]*\)K available.*/\1/p' | head -n 1)
echo "guest: ram_mib=$(( (total_k + 1023) / 1024 ))"

# The wall clock comes from the CMOS RTC at boot (1970 without one).
echo "guest: year=$(date -u +%Y)"

echo "guest-wrote-this" > /mnt/from-guest.txt && sync && echo "guest: wrote from-guest.txt"

# virtio-rng's driver is a module; the test puts it on the disk in case the initramfs does not
# carry it (insmod then fails harmlessly if it is already loaded).
insmod /mnt/virtio-rng.ko 2>/dev/null
echo "guest: rng=$(cat /sys/class/misc/hw_random/rng_current)"
echo "guest: random=$(dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')"

if ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ping -c 2 -W 5 10.0.2.2; then
	echo "guest: ping host ok"
fi

# How each virtio device interrupts: MSI-X vectors (virtio0-config, virtio0-req.0 ...) once
# the driver enabled MSI-X, a pin (IO-APIC) otherwise.
irqs virtio | sed 's/^/guest: /'
