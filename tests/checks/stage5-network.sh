# tests/checks/stage5-network.sh - stage 5's network (stage5-full-machine/net/): the e1000 and
# stage 4's virtio-net on the full machine, user-mode networking (libslirp) and tap back ends.
# Sourced by tests/grade, which defines check, build and record.
#
# On this host: the unit tests (rings, EEPROM, offloads, options), the bad-input lines, and a
# boot sector that hands the e1000 hostile rings and frames on this host's KVM
# (guests/stage5/e1000-hostile.asm) and gets an ARP reply from slirp through the card.
# Then Linux, in ONE nested-host session (guests/stage5/l1-net.sh): on e1000 (pc) and on
# virtio-net (q35), the guest gets its address by DHCP, fetches a file from an HTTP server on
# L1's loopback through 10.0.2.2 and checks its sha256, and L1 fetches the guest's file through a
# hostfwd port and checks its sha256; then the same two files and a ping over a tap device that
# L1 makes, on e1000 and on virtio-net's fast path (the tap with virtio headers and checksum
# and TSO offloads; with pci=nomsi, so its interrupts take the pin through an irqfd with
# resample); and the user-mode checks once more on virtio-net's simple path (YAML virtio: simple). No traffic leaves L1 (its loopback and its own tap). DNS: the e1000 run asks for
# it (-nic user,dns=on), and L1's resolver is tests/nested/dns-answer on its own loopback.

S5=stage5-full-machine
MV=$S5/minivisor
check "build minivisor (for the network checks)" 0 -- make -s -C $S5 minivisor minivisor.static
check "network unit tests: e1000 EEPROM, PHY, TX/RX ring walkers, hostile rings, TSO; virtio-net headers, mergeable buffers, tap frames; options" \
	0 '\[  PASSED  \] [0-9]+ test' '!FAILED' \
	-- bash -c 'make -s -C tests/unit test_stage5_net && tests/unit/test_stage5_net'

# ---- bad input: one line, exit 2 ----------------------------------------------------------
check "bad input: a card naming an unknown netdev id" 2 \
	'^minivisor: e1000: netdev=n9: no -netdev with that id$' \
	-- $MV -netdev user,id=n0 -device e1000,netdev=n9
check "bad input: a bad MAC address" 2 \
	"^minivisor: -device e1000,mac=52:54:00:12:34: bad MAC address" \
	-- $MV -device e1000,mac=52:54:00:12:34
check "bad input: a multicast MAC address" 2 "bad MAC address '01:00:5e:00:00:01'" \
	-- $MV -nic user,mac=01:00:5e:00:00:01
check "bad input: an unknown back end" 2 \
	"^minivisor: -netdev slirp,id=x: unknown back end 'slirp' \(known: user, tap\)$" \
	-- $MV -netdev slirp,id=x
check "bad input: an unknown card model in -nic" 2 "unknown model 'rtl8139'" \
	-- $MV -nic user,model=rtl8139
check "bad input: a malformed hostfwd" 2 "bad hostfwd 'tcp:127.0.0.1:2222'" \
	-- $MV -nic user,hostfwd=tcp:127.0.0.1:2222
s5n_port_in_use() {   # a hostfwd onto a port that a listener holds: one line, exit 2
	python3 - "$1" <<'EOF'
import socket, subprocess, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
port = s.getsockname()[1]
r = subprocess.run([sys.argv[1], "-nic", "user,hostfwd=tcp:127.0.0.1:%d-:80" % port],
                   stdin=subprocess.DEVNULL, capture_output=True, text=True)
sys.stdout.write(r.stdout + r.stderr)
sys.exit(r.returncode)
EOF
}
check "bad input: a hostfwd port in use" 2 \
	'^minivisor: -netdev nic0: hostfwd tcp:127\.0\.0\.1:[0-9]+-:80: cannot listen on host port [0-9]+ \(in use\?\)$' \
	-- bash -c "$(declare -f s5n_port_in_use); s5n_port_in_use $MV"
check "bad input: tap without permission (as user nobody)" 2 \
	'^minivisor: -netdev t0: tap mvtap9: cannot open: Operation not permitted' \
	-- setpriv --reuid=65534 --regid=65534 --clear-groups $MV -netdev tap,id=t0,ifname=mvtap9 \
	-device e1000,netdev=t0
check "bad input: YAML network entry with an unknown key" 2 \
	"net-bad\.yaml:2: key 'network': unknown key 'speed' for a user back end" \
	-- bash -c "printf 'network:\n  - { backend: user, speed: 10 }\n' >build/net-bad.yaml &&
		$MV -config build/net-bad.yaml"
check "the static build refuses -netdev user in one line (libslirp is shared only)" 2 \
	'user-mode networking is not in this static build' -- $S5/minivisor.static -nic user

# ---- hostile guest on this host's KVM --------------------------------------------------------
check "e1000 hostile guest image (nasm)" 0 -- make -s -C guests stage5/e1000-hostile.img
check "e1000: hostile rings and frames: one line each, the guest sees drops, the VMM runs on" 0 \
	'e1000-hostile: tx-ring-outside: ok' 'e1000-hostile: zero-length: ok' \
	'e1000-hostile: buffer-outside: ok' 'e1000-hostile: tdt-chase: ok' \
	'e1000-hostile: rx-ring-outside: ok' 'e1000-hostile: arp-reply: ok' \
	'e1000-hostile: done' '!FAILED' \
	'^e1000\.0: transmit descriptor 0 at 0xfff00000 is outside RAM$' \
	'^e1000\.0: zero-length frame: dropped$' \
	'^e1000\.0: transmit buffer 0xfff00000\+64 is outside RAM: frame dropped$' \
	'^e1000\.0: frame longer than [0-9]+ bytes \(no end of packet\?\): dropped$' \
	'^e1000\.0: receive descriptor 0 at 0xfff00000 is outside RAM$' \
	'minivisor: guest powered off' \
	-- $MV -nic user -drive file=guests/stage5/e1000-hostile.img,format=raw

# ---- Linux in the nested host: one session ---------------------------------------------------
check "the guest kernel has Linux's e1000 driver (build/linux/modules.txt)" 0 \
	'^e1000 (module|built-in)' -- sh -c 'guests/linux/build.sh >/dev/null && cat build/linux/modules.txt'
check "build the test DNS responder (tests/nested/dns-answer.c)" 0 \
	-- cc -std=gnu11 -Wall -Wextra -Werror -O2 -o build/dns-answer tests/nested/dns-answer.c
s5n_tun=$(ls build/cache/kernel/*cloud*/lib/modules/*/kernel/drivers/net/tun.ko 2>/dev/null | head -1)
CHECK_TIMEOUT=480 check "nested session ran (e1000, virtio-net over slirp; e1000, virtio-net over tap)" 0 \
	'== end' -- tests/nested/run-nested --timeout 440 --file $MV:/work/minivisor \
	--file /usr/share/seabios/bios-256k.bin:/usr/share/seabios/bios-256k.bin \
	--file /usr/share/qemu/linuxboot_dma.bin:/usr/share/qemu/linuxboot_dma.bin \
	--file build/linux/vmlinuz --file build/linux/initrd.cpio.gz \
	${s5n_tun:+--file "$s5n_tun:/work/tun.ko"} --file build/dns-answer \
	--file guests/stage5/l1-net.sh -- sh l1-net.sh
s5n_log=$CHECK_LOG

s5n_user() {   # s5n_user SECTION DESCRIPTION DRIVER PORT
	check "$2" 0 "nettest: driver $3" 'nettest: dhcp address 10\.0\.2\.15' \
		'nettest: host file sha256 ok \(524288 bytes\)' \
		"l1: guest\.txt from http://127\.0\.0\.1:$4/guest\.txt: sha256 ok" \
		'nettest: all ok' 'minivisor-test-exit: 0' 'minivisor: guest powered off' \
		'vmm-exit: 0' -- tests/nested/section "$s5n_log" "$1"
}
s5n_user e1000-pc "pc + e1000 + user: DHCP, guest fetches through 10.0.2.2, host through hostfwd (sha256)" \
	e1000 10080
s5n_user virtio-q35 "q35 + virtio-net + user: DHCP, guest fetches through 10.0.2.2, host through hostfwd (sha256)" \
	virtio_net 10081
check "q35 + virtio-net: its queues interrupt through MSI-X vectors (sysfs msi_irqs)" 0 \
	'irqs: [0-9]+ msix [0-9a-f:.]+ virtio0-config' 'irqs: [0-9]+ msix [0-9a-f:.]+ virtio0-input\.0' \
	'irqs: [0-9]+ msix [0-9a-f:.]+ virtio0-output\.0' -- tests/nested/section "$s5n_log" virtio-q35
check "q35 + e1000 + tap (made in L1): ping and both files across (sha256)" 0 \
	'l1: tap0 192\.168\.77\.1/24 up' 'nettest: driver e1000' 'nettest: ping 192\.168\.77\.1 ok' \
	'nettest: host file sha256 ok' 'l1: guest\.txt from http://192\.168\.77\.2/guest\.txt: sha256 ok' \
	'nettest: all ok' 'vmm-exit: 0' -- tests/nested/section "$s5n_log" tap-e1000-q35
check "q35 + virtio-net + user: the fast path, event index, mergeable buffers, no offloads (slirp takes plain frames)" 0 \
	'^minivisor: virtio-net\.0: features: event-idx indirect mrg-rxbuf$' \
	'^minivisor: virtio-net\.0 \(fast path\): [0-9]+ frames sent' \
	-- tests/nested/section "$s5n_log" virtio-q35
check "q35 + virtio-net + tap, fast path: checksum and TSO offloads both ways, mergeable buffers; ping and both files (sha256)" 0 \
	'l1: tap0 192\.168\.77\.1/24 up' 'nettest: driver virtio_net' 'nettest: ping 192\.168\.77\.1 ok' \
	'nettest: host file sha256 ok' 'l1: guest\.txt from http://192\.168\.77\.2/guest\.txt: sha256 ok' \
	'nettest: all ok' \
	'^minivisor: virtio-net\.0: features: event-idx indirect mrg-rxbuf csum guest-csum host-tso4 host-tso6 guest-tso4 guest-tso6$' \
	'^minivisor: virtio-net\.0 \(fast path\): [0-9]+ frames sent' '!frame dropped$' 'vmm-exit: 0' \
	-- tests/nested/section "$s5n_log" tap-virtio-q35
check "q35 + virtio-net + tap, fast path, pci=nomsi: INTx through irqfd with KVM's resample eventfd, no KVM_IRQ_LINE" 0 \
	'irqs: [0-9]+ IO-APIC - virtio0' \
	'^minivisor: virtio-net\.0 \(fast path\): .*interrupts: 0 irqfd, 0 KVM_SIGNAL_MSI, [1-9][0-9]* INTx \([1-9][0-9]* by irqfd, 0 KVM_IRQ_LINE\)$' \
	-- tests/nested/section "$s5n_log" tap-virtio-q35
s5n_user virtio-simple-q35 "q35 + virtio-net + user, simple path (YAML virtio: simple): DHCP, guest fetches through 10.0.2.2, host through hostfwd (sha256)" \
	virtio_net 10082
check "q35 + virtio-net, simple path: no event index, no mergeable buffers; kicks served on the vCPU thread" 0 \
	'^minivisor: virtio-net\.0: features: none$' \
	'^minivisor: virtio-net\.0 \(simple path\): [0-9]+ frames sent' \
	-- tests/nested/section "$s5n_log" virtio-simple-q35
check "DNS through slirp (dns=on): the guest's lookup at 10.0.2.3 reaches L1's own responder" 0 \
	'nettest: dns files\.minivisor\.test -> 192\.0\.2\.7 ok' \
	-- tests/nested/section "$s5n_log" e1000-pc
check "DNS: the query came to the responder on L1's loopback, nowhere else" 0 \
	'^dns-answer: query files\.minivisor\.test type 1: 192\.0\.2\.7$' \
	-- tests/nested/section "$s5n_log" dns
