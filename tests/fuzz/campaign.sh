#!/bin/bash
# tests/fuzz/campaign.sh - one libFuzzer campaign: TARGET for SECONDS, at a low priority, and
# one line that says what it got (make run calls it once per target).
#
#   campaign.sh OUT TARGET SECONDS NICE [wall|cpu]
#
# wall (the default): SECONDS of wall time (-max_total_time). cpu: SECONDS of CPU time - the
# fuzzer runs until the kernel has charged it that much (/proc/PID/stat, user + system), then
# gets SIGUSR1, libFuzzer's "finish gracefully". On a shared machine a nice-19 campaign gets
# only the idle CPU: a wall-time budget may then be a fraction of a CPU minute, a CPU budget
# is always what it says (it just takes longer).
#
# The line: the target, the wall seconds, the CPU seconds the fuzzer really had, then
# libFuzzer's last status line (executions, cov, ft, exec/s). libFuzzer's own output is in
# OUT/logs/TARGET.log, new inputs in OUT/corpus/TARGET, crashes in OUT/crashes/.
# -close_fd_mask=3: the devices' one-line complaints would cost more than the devices; crash
# reports still come through (the sanitizers write to a descriptor of their own).
# Exit status: 1 when the campaign found a crash (or the fuzzer failed otherwise).
set -u
out=$1 t=$2 seconds=$3 nice=$4 budget=${5:-wall}
mkdir -p "$out/crashes" "$out/logs" "$out/corpus/$t"
dict=()
[ -f "dict/$t.dict" ] && dict=(-dict="dict/$t.dict")
log=$out/logs/$t.log
# libFuzzer's -timeout is wall time: a niced fuzzer on a busy machine may wait seconds for the
# CPU, and an input that needs 0.05 s of it then "times out" (uhci did, at 10 s). So a niced
# campaign allows 120 s; a real hang still ends the run.
timeout=10
[ "$nice" -gt 0 ] && timeout=120
limit=(-max_total_time="$seconds")
[ "$budget" = cpu ] && limit=(-max_total_time=0 -handle_usr1=1)

# cpu_seconds PID: user + system time the kernel has charged the process so far.
cpu_seconds() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	# Fields after the command name (which may hold spaces): utime is the 12th, stime the 13th.
	set -- ${stat##*) }
	echo $(( (${12} + ${13}) / $(getconf CLK_TCK) ))
}

# A session of its own (setsid), so an autogroup of its own, niced too: with the kernel's
# autogroups on (sched_autogroup_enabled), a process's nice value counts only against the
# processes of its own session, and a nice-19 fuzzer would still take its share of the CPU
# from everyone else's sessions.
start=$(date +%s)
setsid bash -c 'echo "$0" >/proc/self/autogroup 2>/dev/null; exec nice -n "$0" "$@"' "$nice" \
	"$out/bin/fuzz_$t" "${limit[@]}" -close_fd_mask=3 -timeout="$timeout" \
	-rss_limit_mb=2048 "${dict[@]}" -artifact_prefix="$out/crashes/$t-" \
	"$out/corpus/$t" "corpus/$t" >"$log" 2>&1 &
pid=$!
if [ "$budget" = cpu ]; then
	# Polling is fine here: this is a tool's stopwatch, not a test's synchronisation.
	while used=$(cpu_seconds "$pid") && [ "$used" -lt "$seconds" ]; do
		sleep 2
	done
	kill -USR1 "$pid" 2>/dev/null
fi
wait "$pid"
rc=$?
wall=$(( $(date +%s) - start ))
# `times` prints the shell's own times, then its waited-for children's (user, system); it
# must run in this shell, not in a $( ) subshell, which has no children of its own.
times >"$log.times"
read -r cuser csys < <(sed -n 2p "$log.times")
cpu=$(awk -v u="$cuser" -v s="$csys" 'BEGIN {
	split(u, a, "m"); split(s, b, "m")
	printf "%.0f", a[1] * 60 + a[2] + b[1] * 60 + b[2] }')
printf '%-16s wall %d s, cpu %s s: %s\n' "$t" "$wall" "$cpu" \
	"$(grep -E '^#[0-9]+' "$log" | tail -n 1)"
if grep -q 'ERROR: libFuzzer\|SUMMARY: .*Sanitizer' "$log"; then
	echo "$t: CRASH, see $log"
	exit 1
fi
exit $rc
