# tests/checks/stage3.sh - stage 3: alternation, preemption, shares, VMs leaving the schedule.
# Sourced by tests/grade, which defines check, build and record. About 15 s in all.
#
# Order is checked on the output joined into one line with '~' between lines, so that one
# pattern can say "this line, then that one". Shares are checked with a loose bound of 10
# percentage points over a 2-3 s run; the 2-point measure over 5 s is in tests/bench.d.

S3=stage3-scheduler
G3=guests/stage3

# Appended to a command run by `bash -o pipefail -c`: its output as one '~'-separated line.
JOINED="2>&1 | tr '\\n' '~'"

# share_re LO HI: an ERE for a percentage printed as %.1f between LO and HI.
share_re() {
	local re="" n
	for ((n = $1; n < $2; n++)); do re+="${re:+|}$n"; done
	echo "( ?($re)\.[0-9]|$2\.0)%"
}

build "build stage 3" $S3

# -- matrix-a: turns at every exit; the order depends on the exits only, never on timing.
order=""
for n in 1 2 3 4 5; do order+="Neo: line $n~Morpheus: line $n~"; done
check "matrix-a: Neo and Morpheus alternate line by line" 0 \
	"${order}-- Neo halted: taken off the schedule, 1 VM still running~-- Morpheus halted" \
	'!line 6' -- bash -o pipefail -c "$S3/matrix-a $JOINED"
check "matrix-a: a VM that halts leaves, the other goes on" 0 \
	'Neo: line 2~Morpheus: line 2~-- Neo halted: taken off the schedule, 1 VM still running~' \
	'still running~Morpheus: line 3~Morpheus: line 4~-- Morpheus halted' \
	'!Neo: line 3' -- bash -o pipefail -c "$S3/matrix-a --lines 2,4 $JOINED"
check "matrix-a: a VM that triple-faults leaves, the other goes on" 1 \
	'Morpheus: line 2~' 'Morpheus: triple fault: the guest shut down \(KVM_EXIT_SHUTDOWN\)' \
	'-- Morpheus failed: taken off the schedule, 1 VM still running~(.*~)?Neo: line 5~' \
	'!Morpheus: line 3' -- bash -o pipefail -c "$S3/matrix-a $G3/talk.bin $G3/fault.bin $JOINED"
check "./run stage3 a" 0 "$order" -- bash -o pipefail -c "./run stage3 a $JOINED"

# -- matrix-b: two loops without any I/O; only the timer's kick can switch between them.
for q in 10 100; do
	check "matrix-b: two compute loops preempted every $q ms" 0 "preempted every $q ms" \
		'^Neo +slices [0-9]+ +preempted ([2-9]|[1-9][0-9]+) .* loops [1-9][0-9]*$' \
		'^Morpheus +slices [0-9]+ +preempted ([2-9]|[1-9][0-9]+) .* loops [1-9][0-9]*$' \
		'[1-9][0-9]* kicks, kick latency mean' -- $S3/matrix-b --quantum $q --seconds 1
done

# -- matrix: fractional shares, by host time and by the work units the guests report.
check "matrix: ./run stage3 gives Neo 70 % and Morpheus 30 % (2 s, +-10 points)" 0 \
	'^ +1\.0 s +Neo [ 0-9.]+% \(work [ 0-9.]+%\) +Morpheus' \
	"^Neo +70\.0% +$(share_re 60 80) +$(share_re 60 80) " \
	"^Morpheus +30\.0% +$(share_re 20 40) +$(share_re 20 40) " \
	'^share error: [0-9.]+ points by host time, [0-9.]+ points by work units' \
	-- ./run stage3 --seconds 2
check "matrix: three VMs at 50/30/20 (3 s, +-10 points)" 0 \
	"^Neo +50\.0% +$(share_re 40 60) +$(share_re 40 60) " \
	"^Morpheus +30\.0% +$(share_re 20 40) +$(share_re 20 40) " \
	"^Trinity +20\.0% +$(share_re 10 30) +$(share_re 10 30) " \
	-- $S3/matrix --share 50,30,20 --seconds 3
check "matrix: a VM that triple-faults leaves, Neo gets the whole CPU" 1 \
	'Morpheus: triple fault' '^-- Morpheus failed: taken off the schedule, 1 VM still running' \
	'^ +2\.0 s +Neo 100\.0% \(work 100\.0%\) +Morpheus +0\.0%' \
	'^share error: not measured, a VM left the schedule' \
	-- $S3/matrix --seconds 2 $G3/worker.bin $G3/fault.bin
check "matrix: a VM that halts leaves, Neo goes on working" 0 \
	'^Morpheus: line 5$' '^-- Morpheus halted: taken off the schedule, 1 VM still running' \
	'^Neo +70\.0% +[0-9.]+% +[0-9.]+% +[0-9.]+ ms +[1-9][0-9]* ' \
	-- $S3/matrix --seconds 1 $G3/worker.bin $G3/talk.bin

# -- bad input: one line, exit 2.
check "bad input: --share 0,0" 2 "--share '0,0': each must be a whole number" \
	-- $S3/matrix --share 0,0
check "bad input: --share abc" 2 "--share 'abc': each must be a whole number" \
	-- $S3/matrix --share abc
check "bad input: --share with one weight" 2 '--share 100: give a weight for each of 2 or more' \
	-- $S3/matrix --share 100
check "bad input: --quantum 0" 2 '--quantum 0: the time slice must be 1..1000 ms' \
	-- $S3/matrix-b --quantum 0
check "bad input: --seconds x" 2 '--seconds x: the run time must be a number' \
	-- $S3/matrix --seconds x
check "bad input: more guests than weights" 2 '3 guests for 2 VMs' \
	-- $S3/matrix $G3/worker.bin $G3/worker.bin $G3/worker.bin
check "bad input: --quantum to matrix-a" 2 '--quantum is not an option of this program' \
	-- $S3/matrix-a --quantum 5
check "bad input: missing guest file" 2 'no-such\.bin: cannot load guest image: No such file' \
	-- $S3/matrix-a $G3/talk.bin $G3/no-such.bin
check "bad input: /dev/null is not KVM" 2 '/dev/null: not a KVM device' \
	-- $S3/matrix --kvm /dev/null
