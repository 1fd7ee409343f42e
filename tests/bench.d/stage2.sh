# tests/bench.d/stage2.sh - stage 2: a hypercall's round trip next to stage 1's bare exit.
# Sourced by tests/bench. bench-hypercall runs stage 1's bench-out guest (one OUT, nothing
# done) and one VM per hypercall, each call in both conventions (OUT + IN; one OUT with the
# registers), taking turns in short rounds in one process, and prints every call as a ratio
# to that exit; then the host-only parts of a pointer call (KVM_GET_SREGS, the page walk).
# 10000: about that many exits for each.
echo "== stage 2: hypercall round trip vs stage 1's bare I/O exit (same run)"
stage2-hypercalls/bench-hypercall guests/stage1/bench-out.bin guests/stage2/bench.bin 10000
