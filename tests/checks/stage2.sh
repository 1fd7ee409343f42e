# tests/checks/stage2.sh - stage 2: every hypercall, the page walker next to KVM's, and the
# hostile guests (the host prints an error line, the guest gets an error code, the VM runs on).
# Sourced by tests/grade, which defines check, build and record.
#
# Every guest checks its own results too and halts with the number of checks that failed,
# which hypercall-kvm turns into its exit status: exit 0 means the guest saw what it expected.

S2=stage2-hypercalls
G2=guests/stage2
HK=$S2/hypercall-kvm
DEMO=$G2/demo.bin
EFAULT='-> HC_EFAULT \(-14\)'
EINVAL='-> HC_EINVAL \(-22\)'
ENOSYS='-> HC_ENOSYS \(-38\)'

build "build stage 2" $S2

# ---- the demo: every call, the host's side and the guest's side of it ----

DEMO_DONE=('guest: 0 check\(s\) failed' 'guest halted: rax=0' 'hypercalls: 11 made')
check "demo: ./run stage2 at the top" 0 'guest .*demo\.bin' "${DEMO_DONE[@]}" -- ./run stage2
check "demo: ./run in the stage directory" 0 "${DEMO_DONE[@]}" -- $S2/run
check "HC_print32bit: the host prints the value" 0 '^HC_print32bit: 3735928559 \(0xdeadbeef\)$' \
	'^guest: HC_print32bit\(0xdeadbeef\) returned 0 \(HC_OK\)$' -- $HK $DEMO
check "HC_numExits: two calls in a row count up by one" 0 \
	'^guest: HC_numExits\(\) returned [1-9][0-9]*, then [1-9][0-9]*$' \
	'^guest: ok: HC_numExits counts its own exit' -- $HK $DEMO
check "HC_printStr: a string from guest memory" 0 \
	'^HC_printStr: Hello from the guest, through a hypercall!$' \
	'returned 0 \(HC_OK\)' -- $HK $DEMO
check "HC_printStr: across two pages mapped out of order" 0 \
	'^HC_printStr: this string starts on one page and ends on another$' \
	'^guest: ok: HC_printStr across two 4 KiB pages mapped out of order$' -- $HK $DEMO
check "HC_numExitsByType: the host fills the guest's buffer" 0 \
	'^guest: HC_numExitsByType\(buf\) returned 0 \(HC_OK\), ' \
	'buf = "IO in: [0-9]+ out: [0-9]+"$' -- $HK $DEMO
check "HC_gvaToHva: 2 MiB and 4 KiB pages, the same byte the same hva" 0 \
	'^HC_gvaToHva: gva 0x[0-9a-f]+ -> gpa 0x[0-9a-f]+ in a 2 MiB page -> hva 0x[0-9a-f]+$' \
	'^HC_gvaToHva: gva 0x40001005 -> gpa 0x[0-9a-f]+ in a 4 KiB page -> hva 0x[0-9a-f]+$' \
	'^guest: ok: a 4 KiB page: the same host address$' \
	'^guest: ok: a 2 MiB page of our own: the same host address$' -- $HK $DEMO
# A vCPU with 1 GiB pages maps the alias; one without them (this course's nested KVM) must
# refuse it as its CPU would. The guest asks CPUID which, and checks for that outcome.
check "HC_gvaToHva: a 1 GiB page (used, or refused where the vCPU has none)" 0 \
	'^guest: ok: a 1 GiB page' -- $HK $DEMO

# The guest must get the very address the host printed for it.
HVA_AGREES='out=$("$@" 2>&1) || exit 1
x="\(0x[0-9a-f]*\)"
host=$(echo "$out" | sed -n "s/^HC_gvaToHva: gva $x -> .* -> hva $x\$/\1 \2/p" | head -n 1)
guest=$(echo "$out" | sed -n "s/^guest: HC_gvaToHva($x) = $x\$/\1 \2/p" | head -n 1)
echo "host printed: $host; guest got: $guest"
[ -n "$host" ] && [ "$host" = "$guest" ] && echo "the guest got the host address"'
check "HC_gvaToHva: the guest gets the hva the host printed" 0 'the guest got the host address' \
	-- bash -c "$HVA_AGREES" hva-agrees $HK $DEMO

# ---- one exit per call: number and argument in registers (KVM_CAP_SYNC_REGS) ----

ONE=$G2/one-exit.bin
check "one exit: HC_print32bit by registers, the guest counts its exits" 0 \
	'^HC_print32bit: 3405705229 \(0xcafef00d\)$' \
	'^guest: HC_print32bit_regs\(0xcafef00d\) returned 0 \(HC_OK\)$' \
	'^guest: HC_print32bit: 1 exit\(s\) by registers, 2 by OUT \+ IN$' \
	'^guest: ok: HC_numExits by registers counts its own exit$' -- $HK $ONE
check "one exit: 64-bit pointers and results, no HC_HIGH" 0 \
	'^HC_printStr: Hello through registers, in one exit$' \
	'^guest: ok: HC_gvaToHva: the same 64-bit host address as by OUT \+ IN \+ IN$' \
	"HC_printStr\(0x8000000000\): .*PML4 entry 1 is not present $EFAULT" \
	'^guest: HC_printStr_regs\(0x8000000000\) returned 0xfffffffffffffff2$' -- $HK $ONE
check "one exit: refusals, and every check of the guest" 0 \
	"register call 0x4d \(rbx 0x4d2\): unknown hypercall 77 $ENOSYS" \
	"IN from port 0x506: the register call is an OUT $EINVAL" \
	'^guest: 0 check\(s\) failed$' '^guest halted: rax=0$' 'hypercalls: 16 made, 3 refused' \
	-- $HK $ONE

# ---- the page walker next to KVM's own (KVM_TRANSLATE) ----

check "page walker agrees with KVM_TRANSLATE" 0 \
	'^translate-check: [1-9][0-9]* addresses agree with KVM_TRANSLATE, 0 disagree$' \
	'mapped: [1-9][0-9]* by 4 KiB pages, [1-9][0-9]* by 2 MiB pages' \
	'refused by both: [1-9][0-9]* not mapped' 'non-canonical: 4 refused by our walker' \
	-- $S2/translate-check $G2/map.bin

# ---- hostile guests: an error line from the host, an error code to the guest, and on ----

check "hostile: unmapped pointers, at every level of the tables" 0 \
	"HC_printStr\(0x8000000000\): .*PML4 entry 1 is not present $EFAULT" \
	"HC_printStr\(0xc0000000\): .*PDPT entry 3 is not present $EFAULT" \
	"HC_printStr\(0x40400000\): .*PD entry 2 is not present $EFAULT" \
	"HC_printStr\(0x40003000\): .*PT entry 3 is not present $EFAULT" \
	"HC_gvaToHva\(0x40400000\): .*not present $EFAULT" \
	"HC_numExitsByType\(0x40003000\): .*not present $EFAULT" \
	'^guest: HC_printStr\(0x8000000000\) returned -14 \(HC_EFAULT\)$' \
	'^HC_printStr: still running after 7 refusals$' 'hypercalls: 8 made, 7 refused' \
	-- $HK $G2/bad-unmapped.bin
check "hostile: a pointer mapped to no RAM" 0 \
	"HC_printStr\(0x40006000\): .*gpa 0x200000 is not RAM \(RAM ends at 0x200000\) $EFAULT" \
	'^guest: ok: mapped to a gpa with no RAM: HC_EFAULT$' -- $HK $G2/bad-unmapped.bin
check "hostile: a string with no NUL to the end of RAM" 0 \
	"HC_printStr\(0x1fff00\): byte 256 at gva 0x200000: not mapped: PD entry 1 .*$EFAULT" \
	"HC_printStr\(0x40005f00\): byte 256 at gva 0x40006000: gpa 0x200000 is not RAM .*$EFAULT" \
	'^guest: ok: a string that runs to the end of RAM: HC_EFAULT$' \
	'^HC_printStr: still running after 3 refusals$' -- $HK $G2/bad-no-nul.bin
check "hostile: a string to the end of a 1 MiB RAM (its 2 MiB page goes on)" 0 \
	"HC_printStr\(0xfff00\): byte 256 at gva 0x100000: gpa 0x100000 is not RAM .*$EFAULT" \
	'^guest halted: rax=0$' -- $HK --mem 1M $G2/bad-no-nul.bin
check "hostile: a string longer than HC_STR_MAX" 0 \
	"HC_printStr\(0x[0-9a-f]+\): no NUL in the first 4096 bytes $EINVAL" \
	'^guest: ok: exactly HC_STR_MAX bytes with the NUL: HC_OK$' -- $HK $G2/bad-no-nul.bin
check "hostile: non-canonical addresses" 0 \
	"HC_printStr\(0x800000000000\): .*non-canonical address .*$EINVAL" \
	"HC_printStr\(0xffff7fffffffffff\): .*non-canonical address .*$EINVAL" \
	"HC_gvaToHva\(0x1000000001000\): .*non-canonical address .*$EINVAL" \
	"HC_numExitsByType\(0x800000000000\): .*non-canonical address .*$EINVAL" \
	'^guest: HC_gvaToHva\(0x8000000000000000\) returned 0xffffffffffffffea$' \
	"HC_printStr\(0xffff800000000000\): .*PML4 entry 256 is not present $EFAULT" \
	'^HC_printStr: still running after 10 refusals$' -- $HK $G2/bad-noncanonical.bin
check "hostile: buffers over the page tables" 0 \
	"HC_numExitsByType\(0x1000\): .*the PML4 this buffer is translated through $EFAULT" \
	"HC_numExitsByType\(0x5000\): .*the host's page-table pool \(0x1000-0x7fff\) $EFAULT" \
	"HC_numExitsByType\(0x40004000\): .*the PT this buffer is translated through $EFAULT" \
	"HC_numExitsByType\(0xfe0\): byte 32 at gva 0x1000: .*PML4 .*$EFAULT" \
	'^guest: ok: the page tables are as they were$' \
	'^guest: ok: all or nothing: no byte before the PML4 moved$' \
	'^guest: ok: the host kept serving hypercalls$' -- $HK $G2/bad-pt-buffer.bin
check "hostile: a buffer the guest mapped read-only" 0 \
	"HC_numExitsByType\(0x40002000\): .*the guest maps gpa 0x[0-9a-f]+ read-only $EFAULT" \
	'^guest: ok: a page the guest mapped read-only: HC_EFAULT$' -- $HK $G2/bad-pt-buffer.bin
check "hostile: unknown hypercall numbers" 0 \
	"IN from port 0x57f: unknown hypercall 127 $ENOSYS" \
	"OUT 0x4d2 to port 0x5ff: unknown hypercall 255 $ENOSYS" \
	"OUT 0x10 to port 0x508: unknown hypercall 8 $ENOSYS" \
	'^guest: IN from port 0x57f returned -38 \(HC_ENOSYS\)$' \
	'^HC_printStr: still running after 6 refusals$' -- $HK $G2/bad-unknown-call.bin
check "hostile: hypercall ports used against the ABI" 0 \
	"1-byte IN from port 0x501: the hypercall ABI is 32-bit $EINVAL" \
	"OUT to port 0x501: HC_numExits takes no argument $EINVAL" \
	"IN from port 0x502: HC_printStr needs its OUT first $EINVAL" \
	'^guest: 1-byte IN from port 0x501 returned 0xea$' -- $HK $G2/bad-unknown-call.bin

# ---- bad input ----

check "bad input: missing guest file" 2 'no-such\.bin: cannot load guest image' \
	-- $HK /nonexistent/no-such.bin
check "bad input: an extra argument" 2 "unexpected argument 'extra'" -- $HK $DEMO extra

# ---- the same on a hardware KVM (kvm-amd in the nested test host): 1 GiB pages exist there ----

NESTED_RUN='./translate-check map.bin | sed "s/^/walker: /"
for g in demo one-exit bad-unmapped bad-no-nul bad-noncanonical bad-pt-buffer bad-unknown-call; do
	./hypercall-kvm $g.bin >out.txt 2>&1
	echo "$g: exit $?"
	grep "^guest: ok: a 1 GiB" out.txt || :
done'
nested_files=(--file $S2/translate-check.static:/work/translate-check
	--file $S2/hypercall-kvm.static:/work/hypercall-kvm)
for g in map demo one-exit bad-unmapped bad-no-nul bad-noncanonical bad-pt-buffer \
	bad-unknown-call; do
	nested_files+=(--file $G2/$g.bin:/work/$g.bin)
done
N='[1-9][0-9]*'
CHECK_TIMEOUT=240 check "walker and every guest on a hardware KVM (nested host, 1 GiB pages)" 0 \
	"^walker: translate-check: $N addresses agree with KVM_TRANSLATE, 0 disagree$" \
	"^walker:   mapped: $N by 4 KiB pages, $N by 2 MiB pages, $N by 1 GiB pages$" \
	'^guest: ok: a 1 GiB page: the same host address$' '^demo: exit 0$' '^one-exit: exit 0$' \
	'^bad-unmapped: exit 0$' '^bad-no-nul: exit 0$' '^bad-noncanonical: exit 0$' \
	'^bad-pt-buffer: exit 0$' '^bad-unknown-call: exit 0$' \
	-- tests/nested/run-nested "${nested_files[@]}" -- "$NESTED_RUN"
