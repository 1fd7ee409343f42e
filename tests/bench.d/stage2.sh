# tests/bench.d/stage2.sh - stage 2: a hypercall's round trip next to stage 1's bare exit.
# Sourced by tests/bench. bench-hypercall times stage 1's bench-out guest (one OUT, nothing
# done) first, in the same process, and prints every hypercall as a ratio to that exit; then
# the host-only parts of a pointer call (reading CR3 through KVM_GET_SREGS, the page walk).
echo "== stage 2: hypercall round trip vs stage 1's bare I/O exit (same run)"
stage2-hypercalls/bench-hypercall guests/stage1/bench-out.bin guests/stage2/bench.bin 10000
