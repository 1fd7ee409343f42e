#!/bin/sh
# guests/stage5/l1-net.sh - stage 5's network checks, inside the nested host's L1 (busybox sh).
#
# tests/checks/stage5-network.sh starts this through tests/nested/run-nested with these files in
# /work: minivisor (the dynamic build: libslirp has no static library; run-nested brings its
# shared libraries), vmlinuz and initrd.cpio.gz (guests/linux), and the firmware at its usual
# paths. Each run boots Linux directly (-kernel) on one card with a user-mode back end, and the
# guest runs /bin/nettest (guests/linux/bin/nettest): DHCP, a file from this side through
# 10.0.2.2, a file served to this side through a hostfwd port. This script is the host side:
#
#   www/host.bin   512 KiB of random bytes, and www/host.sha its sha256, served by busybox
#                  httpd on 127.0.0.1:8080 (the guest reaches it as 10.0.2.2:8080)
#   hostfwd        127.0.0.1:PORT -> guest port 80: this side fetches guest.txt, compares its
#                  sha256 with seq 1 30000's, and answers through www/done ("ok SHA" or not)
#
# Each run is one section of the output, "== NAME": the VMM's output, then "vmm-exit: N".
# All traffic stays on L1's loopback.

cd /work || exit 1
# slirp reaches "the host" (10.0.2.2) on this side's loopback, which L1's init leaves down.
ip link set lo up
mkdir -p www
dd if=/dev/urandom of=www/host.bin bs=1024 count=512 2>/dev/null
sha256sum www/host.bin | cut -d' ' -f1 >www/host.sha
httpd -p 127.0.0.1:8080 -h www || echo "l1: httpd did not start"
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

run() {   # run NAME HOSTFWD-PORT MINIVISOR-ARGS...
	name=$1 port=$2
	shift 2
	echo "== $name"
	rm -f www/done got.txt
	: >"$name.log"
	./minivisor -m 256 -kernel vmlinuz -initrd initrd.cpio.gz \
		-append "console=ttyS0 panic=-1 mv.test=/bin/nettest" "$@" </dev/null >"$name.log" 2>&1 &
	pid=$!
	if wait_serving "$name.log" $pid; then
		if wget -q -O got.txt "http://127.0.0.1:$port/guest.txt"; then
			sha=$(sha256sum got.txt | cut -d' ' -f1)
			if [ "$sha" = "$expected" ]; then
				echo "l1: guest.txt through hostfwd 127.0.0.1:$port: sha256 ok"
				echo "ok $sha" >www/done
			else
				echo "l1: guest.txt sha256 $sha, expected $expected"
				echo "bad $sha" >www/done
			fi
		else
			echo "l1: wget through hostfwd 127.0.0.1:$port failed"
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

run e1000-pc 10080 -M pc -nic user,model=e1000,hostfwd=tcp:127.0.0.1:10080-:80
run virtio-q35 10081 -M q35 -netdev user,id=n0,hostfwd=tcp:127.0.0.1:10081-:80 \
	-device virtio-net-pci,netdev=n0
echo "== end"
