#!/bin/sh
# guests/stage5/l1-net.sh - stage 5's network checks, inside the nested host's L1 (busybox sh).
#
# tests/checks/stage5-network.sh starts this through tests/nested/run-nested with these files in
# /work: minivisor (the dynamic build: libslirp has no static library; run-nested brings its
# shared libraries), vmlinuz and initrd.cpio.gz (guests/linux), and the firmware at its usual
# paths, and tun.ko (L1's kernel module for tap devices). Each run boots Linux directly
# (-kernel) on one card with a user-mode back end (or a tap), and the
# guest runs /bin/nettest (guests/linux/bin/nettest): DHCP, a file from this side through
# 10.0.2.2, a file served to this side through a hostfwd port. This script is the host side:
#
#   www/host.bin   512 KiB of random bytes, and www/host.sha its sha256, served by busybox
#                  httpd on port 8080 (the guest reaches it as 10.0.2.2:8080 through slirp,
#                  as 192.168.77.1:8080 over the tap)
#   hostfwd        127.0.0.1:PORT -> guest port 80: this side fetches guest.txt, compares its
#                  sha256 with seq 1 30000's, and answers through www/done ("ok SHA" or not)
#
#   DNS            the e1000 run's back end has dns=on: L1's /etc/resolv.conf names
#                  127.0.0.1, where dns-answer (tests/nested/dns-answer.c) answers one name;
#                  the guest looks it up at 10.0.2.3 and slirp forwards the query there
#
# virtio-simple-q35: virtio-net's simple path (YAML virtio: simple), the same user checks.
# The tap runs (e1000; virtio-net on its fast path with offloads, pci=nomsi: INTx): the
# VMM (root in L1) creates tap0, this script gives it 192.168.77.1/24, the guest takes
# 192.168.77.2/24, pings this side, and the same two files cross the tap.
# Each run is one section of the output, "== NAME": the VMM's output, then "vmm-exit: N".
# All traffic stays inside L1: its loopback, and a tap that only L1 and the guest share.

cd /work || exit 1
# slirp reaches "the host" (10.0.2.2) on this side's loopback, which L1's init leaves down.
ip link set lo up
mkdir -p www
dd if=/dev/urandom of=www/host.bin bs=1024 count=512 2>/dev/null
sha256sum www/host.bin | cut -d' ' -f1 >www/host.sha
httpd -f -p 8080 -h www &
httpd_pid=$!
# L1 has no resolver; this one knows one name, on loopback only (libslirp asks the first
# nameserver of /etc/resolv.conf).
mkdir -p /etc
echo "nameserver 127.0.0.1" >/etc/resolv.conf
./dns-answer files.minivisor.test 192.0.2.7 >dns.log 2>&1 &
dns_pid=$!
expected=$(seq 1 30000 | sha256sum | cut -d' ' -f1)

# Wait (bounded) until the guest says it serves guest.txt, or the VMM has ended.
wait_serving() {   # wait_serving LOG PID
	i=0
	until grep -q 'nettest: serving' "$1"; do
		[ -d "/proc/$2" ] || return 1
		i=$((i + 1))
		[ $i -gt 600 ] && return 1
		sleep 1
	done
}

# tap needs /dev/net/tun: L1's kernel has tun as a module, which the check brings (tun.ko).
if [ ! -e /dev/net/tun ] && [ -f tun.ko ]; then
	insmod tun.ko || echo "l1: insmod tun.ko failed"
	[ -e /dev/net/tun ] || { mkdir -p /dev/net && mknod /dev/net/tun c 10 200; }
fi

# tap: once the VMM has made tap0 (it creates it, as root), give this side its address.
tap_setup() {   # tap_setup PID
	i=0
	until [ -d /sys/class/net/tap0 ]; do
		[ -d "/proc/$1" ] || return 1
		i=$((i + 1))
		[ $i -gt 600 ] && return 1
		sleep 0.1
	done
	ip addr add 192.168.77.1/24 dev tap0 && ip link set tap0 up && echo "l1: tap0 192.168.77.1/24 up"
}

run() {   # run NAME URL TEST MINIVISOR-ARGS...: URL is where this side fetches guest.txt
	name=$1 url=$2 test=$3
	shift 3
	echo "== $name"
	rm -f www/done got.txt
	: >"$name.log"
	./minivisor -m 256 -kernel vmlinuz -initrd initrd.cpio.gz \
		-append "console=ttyS0 panic=-1 $append_more mv.test=\"$test\"" "$@" </dev/null >"$name.log" 2>&1 &
	pid=$!
	case $name in tap*) tap_setup $pid ;; esac
	if wait_serving "$name.log" $pid; then
		if wget -q -O got.txt "$url"; then
			sha=$(sha256sum got.txt | cut -d' ' -f1)
			if [ "$sha" = "$expected" ]; then
				echo "l1: guest.txt from $url: sha256 ok"
				echo "ok $sha" >www/done
			else
				echo "l1: guest.txt sha256 $sha, expected $expected"
				echo "bad $sha" >www/done
			fi
		else
			echo "l1: wget $url failed"
			echo "bad wget" >www/done
		fi
	else
		echo "l1: the guest never served guest.txt"
	fi
	wait $pid
	rc=$?
	cat "$name.log"
	echo "vmm-exit: $rc"
}

run e1000-pc http://127.0.0.1:10080/guest.txt "/bin/nettest dns files.minivisor.test 192.0.2.7" \
	-M pc -nic user,model=e1000,dns=on,hostfwd=tcp:127.0.0.1:10080-:80
# (irqs first: the check reads how virtio-net interrupts, MSI-X vectors on q35)
run virtio-q35 http://127.0.0.1:10081/guest.txt "irqs virtio; /bin/nettest" \
	-M q35 -netdev user,id=n0,hostfwd=tcp:127.0.0.1:10081-:80 -device virtio-net-pci,netdev=n0
run tap-e1000-q35 http://192.168.77.2/guest.txt "/bin/nettest tap 192.168.77.2/24 192.168.77.1" \
	-M q35 -netdev tap,id=t0,ifname=tap0 -device e1000,netdev=t0,mac=52:54:00:00:77:02
# virtio-net's simple path (kicks served on the vCPU thread, no event index, no mergeable
# buffers), chosen by the YAML key (the flag -simple-virtio says the same).
printf 'virtio: simple\n' >simple.yaml
run virtio-simple-q35 http://127.0.0.1:10082/guest.txt "/bin/nettest" -config simple.yaml \
	-M q35 -netdev user,id=n0,hostfwd=tcp:127.0.0.1:10082-:80 -device virtio-net-pci,netdev=n0
# virtio-net over the tap, on its fast path: the tap with virtio headers and offloads; with
# pci=nomsi, so that its interrupts take the pin, raised through an irqfd with resample
# (MSI-X through irqfd is the virtio-q35 run's).
append_more=pci=nomsi
run tap-virtio-q35 http://192.168.77.2/guest.txt "irqs virtio; /bin/nettest tap 192.168.77.2/24 192.168.77.1" \
	-M q35 -netdev tap,id=t0,ifname=tap0 -device virtio-net-pci,netdev=t0,mac=52:54:00:00:77:02
append_more=
kill $httpd_pid $dns_pid
echo "== dns"
cat dns.log
echo "== end"
