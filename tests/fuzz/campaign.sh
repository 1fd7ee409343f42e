#!/bin/bash
# tests/fuzz/campaign.sh - one libFuzzer campaign: TARGET for SECONDS of wall time, at a low
# priority, and one line that says what it got (make run calls it once per target).
#
#   campaign.sh OUT TARGET SECONDS NICE
#
# The line: the target, the wall seconds, the CPU seconds the fuzzer really had (user + system:
# on a shared machine a 600 s campaign may get far less than 600 s of CPU, and the table says
# so), then libFuzzer's last status line (executions, cov, ft, exec/s). libFuzzer's own output
# is in OUT/logs/TARGET.log, new inputs in OUT/corpus/TARGET, crashes in OUT/crashes/.
# -close_fd_mask=3: the devices' one-line complaints would cost more than the devices; crash
# reports still come through (the sanitizers write to a descriptor of their own).
# Exit status: 1 when the campaign found a crash (or the fuzzer failed otherwise).
set -u
out=$1 t=$2 seconds=$3 nice=$4
mkdir -p "$out/crashes" "$out/logs" "$out/corpus/$t"
dict=()
[ -f "dict/$t.dict" ] && dict=(-dict="dict/$t.dict")
log=$out/logs/$t.log
TIMEFORMAT='%R %U %S'
times=$( { time nice -n "$nice" "$out/bin/fuzz_$t" -max_total_time="$seconds" \
	-close_fd_mask=3 -timeout=10 -rss_limit_mb=2048 "${dict[@]}" \
	-artifact_prefix="$out/crashes/$t-" "$out/corpus/$t" "corpus/$t" >"$log" 2>&1; } 2>&1 )
rc=$?
read -r wall user sys <<<"$times"
cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.0f", u + s }')
printf '%-16s wall %.0f s, cpu %s s: %s\n' "$t" "$wall" "$cpu" \
	"$(grep -E '^#[0-9]+' "$log" | tail -n 1)"
if grep -q 'ERROR: libFuzzer\|SUMMARY: .*Sanitizer' "$log"; then
	echo "$t: CRASH, see $log"
	exit 1
fi
exit $rc
