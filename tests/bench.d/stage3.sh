# tests/bench.d/stage3.sh - stage 3: the cost of a VM switch, and how close the shares come.
# Sourced by tests/bench. Each number stands next to its reference from the same run:
#   the switch cost next to the same-VM exit (and their ratio);
#   the shares of a 5 s 70/30 run next to the target, by host time and by work units
#   (the goal: both within 2 percentage points).
echo "== stage 3: VM switch cost; share error of a 5 s 70/30 run"
stage3-scheduler/bench-switch guests/stage1/bench-out.bin 20000
stage3-scheduler/matrix --seconds 5 | grep -E '^(matrix:|VM |Neo |Morpheus |share error)' |
	sed 's/^/stage3  /'
