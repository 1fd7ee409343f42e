# run-lib.sh - what every stage's ./run script shares (sourced, POSIX sh).
#
# A stage's ./run is the student's front door: it must say how to use it without starting a
# guest (--help), and when something is not built it must say so, naming the file, instead of
# failing somewhere deep inside. Stage 1 owns this file because every later stage builds on
# stage 1; each ./run sources it as ../stage1-simple-kvm/run-lib.sh.
#
#   run_wants_help "$@"      true when -h, -help or --help is among the arguments
#   run_usage                prints the calling script's header comment (its usage)
#   run_wants_check "$@"     true when --check is among the arguments
#   run_need STAGE FILE...   every FILE must exist, else: "run: build first" naming it, exit 2
#   run_ready STAGE CMD...   for --check: says what would run and exits 0 (nothing started)
#   run_quoted ARGS...       the arguments as one line for a shell, each in single quotes
#
# --check is how tests/checks/clone.sh proves, on a fresh clone, that `make stageN` builds
# everything `./run stageN` needs, without booting anything.

run_wants_help()
{
	for run_arg in "$@"; do
		case $run_arg in -h | -help | --help) return 0 ;; esac
	done
	return 1
}

run_wants_check()
{
	for run_arg in "$@"; do
		[ "$run_arg" = --check ] && return 0
	done
	return 1
}

# The header comment: from line 2 up to the first line that is not a comment, "# " removed.
run_usage()
{
	sed -n '2,/^[^#]/s/^# \{0,1\}//p' "./${0##*/}"
}

run_need()
{
	run_stage=$1
	shift
	for run_file in "$@"; do
		[ -e "$run_file" ] && continue
		echo "run: $run_file is missing: build first: make (in $(pwd)) or make $run_stage at the top" >&2
		exit 2
	done
}

run_ready()
{
	run_stage=$1
	shift
	echo "run: $run_stage is ready: $*"
	exit 0
}

# The nested host runs its command line with `sh -c`, as ssh does, so arguments that hold
# spaces or quotes (./run stage4 --test 'cat /mnt/hello.txt') must travel quoted.
run_quoted()
{
	for run_arg in "$@"; do
		printf "'%s' " "$(printf '%s' "$run_arg" | sed "s/'/'\\\\''/g")"
	done
}
