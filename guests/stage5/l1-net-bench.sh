#!/bin/sh
# guests/stage5/l1-net-bench.sh - the network benchmark, inside the nested host's L1 (busybox
# sh): minivisor and QEMU, one after the other, boot the same Linux guest with the same card and
# back end, and the guest runs /bin/netbench (guests/linux/bin/netbench). What it teaches: a
# benchmark is only a ratio when both sides share everything but the thing measured (same L1,
# same guest kernel and initramfs, same card model, same slirp library, same run).
#
# tests/bench.d/stage5-network.sh starts this through tests/nested/run-nested --qemu with
# minivisor (dynamic: libslirp), vmlinuz, initrd.cpio.gz, the firmware and tun.ko in /work.
# Usage: sh l1-net-bench.sh MiB [tap]   (tap: also the two cards over a tap device L1 makes)
#
# This side serves www/big.bin (MiB MiB) and www/small.txt with busybox httpd on port 8080 (the
# guest's 10.0.2.2:8080 through slirp, 192.168.77.1:8080 over the tap), and fetches the guest's
# up.bin (MiB MiB) through a hostfwd port (slirp) or the tap, timed with L1's clock.
# Output: one "bench: CONFIG VMM WHAT ..." line per figure, for the bench script's awk.
# All traffic stays inside L1: its loopback, and a tap that only L1 and the guest share.

cd /work || exit 1
mib=${1:-32}
ip link set lo up
mkdir -p www
dd if=/dev/zero of=www/big.bin bs=1M count="$mib" 2>/dev/null
echo "small request." >www/small.txt
httpd -f -p 8080 -h www &
httpd_pid=$!

if [ ! -e /dev/net/tun ] && [ -f tun.ko ]; then
	insmod tun.ko || echo "l1: insmod tun.ko failed"
	[ -e /dev/net/tun ] || { mkdir -p /dev/net && mknod /dev/net/tun c 10 200; }
fi

now() {   # centiseconds since L1's boot
	sed 's/^\([0-9]*\)\.\([0-9][0-9]\).*/\1\2/' /proc/uptime
}

# Bounded waits: until the guest's log has a line, or until the VMM made tap0; both give up
# when the VMM has ended.
wait_line() {   # wait_line LOG PID PATTERN
	i=0
	until grep -q "$3" "$1"; do
		[ -d "/proc/$2" ] || return 1
		i=$((i + 1))
		[ $i -gt 1200 ] && return 1
		sleep 0.5
	done
}
tap_setup() {   # tap_setup PID
	i=0
	until [ -d /sys/class/net/tap0 ]; do
		[ -d "/proc/$1" ] || return 1
		i=$((i + 1))
		[ $i -gt 600 ] && return 1
		sleep 0.1
	done
	ip addr add 192.168.77.1/24 dev tap0 && ip link set tap0 up
}

# run CONFIG VMM URL TEST ARGS...: ARGS are the machine, card and back end, spelled the same
# for both VMMs; URL is where this side fetches up.bin.
run() {
	config=$1 vmm=$2 url=$3 test=$4
	shift 4
	log=$config-$vmm.log
	rm -f www/done
	: >"$log"
	append="console=ttyS0 panic=-1 mv.test=\"$test\""
	if [ "$vmm" = minivisor ]; then
		./minivisor -m 512 -kernel vmlinuz -initrd initrd.cpio.gz -append "$append" "$@" \
			</dev/null >"$log" 2>&1 &
	else
		qemu-system-x86_64 -enable-kvm -cpu host -m 512 -nographic -nodefaults -serial stdio \
			-no-reboot -kernel vmlinuz -initrd initrd.cpio.gz -append "$append" "$@" \
			</dev/null >"$log" 2>&1 &
	fi
	pid=$!
	case $config in *tap*) tap_setup $pid ;; esac
	if wait_line "$log" $pid 'netbench: serving'; then
		t0=$(now)
		if wget -q -O /dev/null "$url"; then
			t=$(($(now) - t0))
			printf 'bench: %s %s guest-to-host %s MiB in %d.%02d s\n' "$config" "$vmm" "$mib" \
				$((t / 100)) $((t % 100))
		else
			echo "bench: $config $vmm no figure: wget $url failed"
		fi
	else
		echo "bench: $config $vmm no figure: the guest never served up.bin"
	fi
	echo "done" >www/done
	wait $pid
	grep -E '^netbench: (rtt|requests|host-to-guest|FAIL)' "$log" | sed "s/^netbench:/bench: $config $vmm/"
	# minivisor's virtio-net figures: frames, MiB and exits (register accesses) per MiB
	grep -E '^minivisor: virtio-net\.0 \(' "$log" | sed "s/^minivisor:/bench: $config $vmm exits:/"
	grep -q '^netbench: done' "$log" || { echo "== $config $vmm log"; tail -n 20 "$log"; }
}

both() {   # both CONFIG URL-PORT TEST MACHINE NETDEV DEVICE: minivisor, then QEMU
	config=$1 port=$2 test=$3 machine=$4 netdev=$5 device=$6
	url=http://127.0.0.1:$port/up.bin
	[ "$port" = tap ] && url=http://192.168.77.2/up.bin
	run "$config" minivisor "$url" "$test" -M "$machine" -netdev "$netdev" -device "$device"
	# QEMU's tap runs no ifup script only when told (minivisor has none to run), its
	# virtio-net is served in QEMU's own process (vhost=off, as minivisor's; the tap's
	# virtio header and offloads are on by default in both), and its cards load no option
	# ROM (PXE) when romfile is empty, as minivisor's have none.
	case $netdev in tap,*) netdev=$netdev,script=no,downscript=no,vhost=off ;; esac
	run "$config" qemu "$url" "$test" -M "$machine" -netdev "$netdev" -device "$device,romfile="
}

user="/bin/netbench $mib"
tap="/bin/netbench $mib tap 192.168.77.2/24 192.168.77.1"
both e1000-user 10090 "$user" pc user,id=n0,hostfwd=tcp:127.0.0.1:10090-:80 e1000,netdev=n0
both virtio-user 10091 "$user" q35 user,id=n0,hostfwd=tcp:127.0.0.1:10091-:80 \
	virtio-net-pci,netdev=n0
if [ "$2" = tap ]; then
	both e1000-tap tap "$tap" q35 tap,id=t0,ifname=tap0 e1000,netdev=t0,mac=52:54:00:00:77:02
	both virtio-tap tap "$tap" q35 tap,id=t0,ifname=tap0 virtio-net-pci,netdev=t0,mac=52:54:00:00:77:02
	# The lesson's "before": minivisor's simple virtio path (no ioeventfd, event index,
	# mergeable buffers or offloads), alone; its figures and exits per MiB.
	run virtio-tap-simple minivisor http://192.168.77.2/up.bin "$tap" -M q35 -simple-virtio \
		-netdev tap,id=t0,ifname=tap0 -device virtio-net-pci,netdev=t0,mac=52:54:00:00:77:02
fi
kill $httpd_pid
echo "== end"
