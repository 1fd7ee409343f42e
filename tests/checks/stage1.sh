# tests/checks/stage1.sh - stage 1: simple-kvm in every mode, its exit report, bad input.
# Sourced by tests/grade, which defines check, build and record.

S1=stage1-simple-kvm
G1=guests/stage1
HELLO=('Hello, world!' 'guest halted: rax=42 mem\[0x400\]=42' 'exits: total=15 io=14 \(in=0 out=14\) hlt=1')

build "build stage 1" $S1

check "hello in real mode" 0 "${HELLO[@]}" -- $S1/simple-kvm --mode real $G1/hello-16.bin
check "hello in protected mode" 0 "${HELLO[@]}" -- $S1/simple-kvm --mode protected $G1/hello-32.bin
check "hello in long mode" 0 "${HELLO[@]}" -- $S1/simple-kvm --mode long $G1/hello-64.bin
check "long mode is the default" 0 'long mode' "${HELLO[@]}" -- $S1/simple-kvm $G1/hello-64.bin

# 32-bit paging: run here when this host's KVM accepts it, else in the nested test host.
if $S1/simple-kvm --mode paged $G1/hello-32.bin 2>&1 | grep -q 'does not accept paged mode'; then
	CHECK_TIMEOUT=240 check "hello in paged mode (nested host: this KVM lacks 32-bit paging)" 0 "${HELLO[@]}" -- \
		tests/nested/run-nested --file $S1/simple-kvm.static:/work/simple-kvm \
		--file $G1/hello-32.bin:/work/hello-32.bin -- ./simple-kvm --mode paged hello-32.bin
else
	check "hello in paged mode" 0 "${HELLO[@]}" -- $S1/simple-kvm --mode paged $G1/hello-32.bin
fi

check "./run in the stage directory" 0 "${HELLO[@]}" -- $S1/run
check "./run --mode real" 0 'real mode' "${HELLO[@]}" -- $S1/run --mode real
check "./run --mode protected" 0 'protected mode' "${HELLO[@]}" -- $S1/run --mode protected
CHECK_TIMEOUT=240 check "./run --mode paged (here or in the nested host)" 0 'paged mode' "${HELLO[@]}" \
	-- $S1/run --mode paged
check "./run stage1 at the top" 0 'long mode' "${HELLO[@]}" -- ./run stage1

check "triple fault is reported" 1 'triple fault' 'KVM_EXIT_SHUTDOWN' 'rip=0000000000008008' \
	'cr0=' -- $S1/simple-kvm $G1/triple-fault.bin
check "MMIO to nothing is reported" 1 'MMIO write of 4 byte\(s\) at 0x1ff000: no RAM or device' \
	'KVM_EXIT_MMIO' -- $S1/simple-kvm --mem 1M $G1/mmio-nowhere.bin

tmp=$(mktemp -d)
head -c 100000 /dev/zero >"$tmp/big.bin"
: >"$tmp/empty.bin"
check "bad input: missing guest file" 2 'no-such\.bin: cannot load guest image: No such file' \
	-- $S1/simple-kvm "$tmp/no-such.bin"
check "bad input: guest larger than RAM" 2 'big\.bin: guest image larger than RAM' \
	-- $S1/simple-kvm --mem 64K "$tmp/big.bin"
check "bad input: empty guest" 2 'empty\.bin: guest image is empty' -- $S1/simple-kvm "$tmp/empty.bin"
check "bad input: a directory as guest" 2 'not a regular file' -- $S1/simple-kvm "$tmp"
check "bad input: unknown mode" 2 "unknown mode 'unreal'" -- $S1/simple-kvm --mode unreal $G1/hello-64.bin
check "bad input: RAM size 0" 2 '--mem 0: RAM size must be between' -- $S1/simple-kvm --mem 0 $G1/hello-64.bin
check "bad input: absurd RAM size" 2 '--mem 1T: RAM size must be between' -- $S1/simple-kvm --mem 1T $G1/hello-64.bin
check "bad input: RAM size not in whole pages" 2 '--mem 65537: RAM size must be a multiple of 4K' \
	-- $S1/simple-kvm --mem 65537 $G1/hello-64.bin
check "bad input: malformed RAM size" 2 '--mem 2X: RAM size' -- $S1/simple-kvm --mem 2X $G1/hello-64.bin
check "bad input: /dev/null is not KVM" 2 '/dev/null: not a KVM device' -- $S1/simple-kvm --kvm /dev/null $G1/hello-64.bin
check "bad input: missing KVM device" 2 '/nonexistent/kvm: cannot open' -- $S1/simple-kvm --kvm /nonexistent/kvm $G1/hello-64.bin
check "bad input: no guest given" 2 'no guest image given' -- $S1/simple-kvm
rm -rf "$tmp"

# The same guests on a full hardware KVM (kvm-amd inside the nested test host), all modes.
CHECK_TIMEOUT=240 check "every mode on a hardware KVM (nested host)" 0 'real: Hello' 'protected: Hello' \
	'paged: Hello' 'long: Hello' '!FAILED' -- tests/nested/run-nested \
	--file $S1/simple-kvm.static:/work/simple-kvm --file $G1/hello-16.bin:/work/hello-16.bin \
	--file $G1/hello-32.bin:/work/hello-32.bin --file $G1/hello-64.bin:/work/hello-64.bin -- \
	'for m in real:16 protected:32 paged:32 long:64; do
		./simple-kvm --mode ${m%:*} hello-${m#*:}.bin | grep Hello | sed "s/^/${m%:*}: /" \
			|| echo "${m%:*} FAILED"
	done'
