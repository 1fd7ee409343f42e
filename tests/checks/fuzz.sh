# tests/checks/fuzz.sh - the fuzz targets (tests/fuzz/) over their stored corpora: each input
# once, no mutation (seconds), so that a crash found by a campaign and fixed stays fixed.
# Sourced by tests/grade, which defines check, build and record. Campaigns are `make fuzz`.
# Needs clang and libclang-rt-14-dev (make deps); no /dev/kvm.

FZ=tests/fuzz
CHECK_TIMEOUT=900 check "build the fuzz targets (clang, libFuzzer, ASan + UBSan)" 0 -- \
	make -s -C $FZ
for fz_src in $FZ/fuzz_*.c; do
	fz_name=${fz_src#$FZ/fuzz_}
	fz_name=${fz_name%.c}
	[ "$fz_name" = ops ] && continue
	check "fuzz_$fz_name: its stored corpus runs clean" 0 "^$fz_name: [0-9]+ inputs, no crash" \
		-- make -s -C $FZ regress TARGET="$fz_name"
done
