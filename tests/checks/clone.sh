# tests/checks/clone.sh - a fresh clone builds every stage's demo. Sourced by tests/grade.
#
# What a new student does first is `git clone`, then `make stageN && ./run stageN` or
# `cd stageN-* && make && ./run`. A working tree that was built piece by piece (as every
# developer's is) hides the defects of that path: a Makefile whose default goal is not `all`
# (an included fragment's first rule becomes the default), a file that was never committed,
# a demo that needs something no make target builds. So these checks clone the repository
# into a scratch folder and, for each stage, build it both ways and ask the stage's ./run,
# with --check, whether everything it needs is there. --check starts nothing.
#
# The clone is of the committed tree plus the tracked files' uncommitted changes (`git stash
# create`), so a new file that was never `git add`ed is missing there, as it would be for a
# student. Only the downloaded Debian kernel packages (build/cache) are shared, as hard links,
# so that the check works offline and does not download 500 MB again.

clone_dir=$ROOT/build/clone.$$
clone_commit=$(git stash create 2>/dev/null)
[ -n "$clone_commit" ] || clone_commit=HEAD
check "git clone of this repository" 0 -- sh -c "rm -rf '$clone_dir' &&
	git clone -q '$ROOT' '$clone_dir' && git -C '$clone_dir' checkout -q '$clone_commit' &&
	mkdir -p '$clone_dir/build' &&
	{ [ ! -d '$ROOT/build/cache' ] || cp -al '$ROOT/build/cache' '$clone_dir/build/cache'; }"

for clone_stage_dir in "$clone_dir"/stage[1-5]-*/; do
	clone_stage_dir=${clone_stage_dir%/}
	clone_stage=${clone_stage_dir##*/}
	clone_stage=${clone_stage%%-*}
	CHECK_TIMEOUT=600 check "fresh clone: make $clone_stage, then ./run $clone_stage --check" 0 \
		"run: $clone_stage is ready" '!build first' -- \
		sh -c "make -s -C '$clone_dir' $clone_stage && '$clone_dir/run' $clone_stage --check"
	# The same from inside the stage after `make clean`: plain `make` must build the demo.
	CHECK_TIMEOUT=300 check "fresh clone: cd ${clone_stage_dir##*/} && make clean && make && ./run --check" \
		0 "run: $clone_stage is ready" '!build first' -- \
		sh -c "cd '$clone_stage_dir' && make -s clean && make -s && ./run --check"
	check "fresh clone: ./run $clone_stage --help prints its usage, starts nothing" 0 \
		'^run - stage' '--help' -- "$clone_dir/run" $clone_stage --help
done
check "fresh clone: ./run --help is the highest stage's usage" 0 '^run - run one stage' \
	'^run - stage 5' -- "$clone_dir/run" --help
rm -rf "$clone_dir"
