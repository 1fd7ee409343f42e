# tests/checks/stage5.sh - stage 5: the disk backends (raw, QCOW2) against QEMU's own tools.
# Sourced by tests/grade, which defines check, build and record.
#
# QEMU is the reference: images that qemu-img makes must read the same in qcow2-tool, and
# images that qcow2-tool writes must pass `qemu-img check` and convert to the same bytes.
# Each scenario is a function run in a child bash (exported), so check sees one command.

S5B=stage5-full-machine/block
build "build the disk backends and qcow2-tool" $S5B

S5_TOOL=$ROOT/$S5B/qcow2-tool
S5_TMP=$(mktemp -d)
export S5_TOOL S5_TMP

# Same bytes? Prints "match" or the first difference.
s5_same() {
	cmp "$1" "$2" && echo match
}

# Images qemu-img makes, in each version, cluster size and refcount width, read byte for byte.
s5_qemu_to_us() {
	set -e
	cd "$S5_TMP"
	head -c 3M /dev/urandom >src.raw
	for o in compat=0.10 cluster_size=4096 cluster_size=512,refcount_bits=1 \
		cluster_size=2M refcount_bits=64; do
		qemu-img convert -O qcow2 -o "$o" src.raw q.qcow2
		"$S5_TOOL" read q.qcow2 0 3M >out.raw
		cmp src.raw out.raw
		echo "$o: match"
		rm q.qcow2
	done
}

# Our writes at odd offsets, the same writes through the raw backend as the reference.
s5_us_to_qemu() {
	set -e
	cd "$S5_TMP"
	qemu-img create -q -f qcow2 w.qcow2 4M
	truncate -s 4M w.raw
	head -c 300000 /dev/urandom >d1
	for fmt in qcow2 raw; do
		"$S5_TOOL" -f $fmt write w.$fmt 12345 <d1
		"$S5_TOOL" -f $fmt --chunk 4K fill w.$fmt 1000000 1500000 0x5a
		"$S5_TOOL" -f $fmt write w.$fmt 4000000 <d1 2>/dev/null && exit 1 # past the end
		"$S5_TOOL" -f $fmt --chunk 1M write w.$fmt 3000000 <d1
	done
	qemu-img check w.qcow2
	qemu-img convert -O raw w.qcow2 back.raw
	s5_same back.raw w.raw
}

# An image qcow2-tool creates, written by us, then checked and read by QEMU.
s5_our_image() {
	set -e
	cd "$S5_TMP"
	rm -f o.qcow2
	"$S5_TOOL" create --cluster-size 4K o.qcow2 2M
	"$S5_TOOL" fill o.qcow2 5000 70000 0x77
	qemu-img check o.qcow2
	qemu-img info o.qcow2 | grep 'cluster_size: 4096'
	qemu-io -c 'read -P 0x77 5000 70000' -c 'read -P 0 0 5000' -c 'read -P 0 75000 1M' \
		o.qcow2
}

# 512-byte clusters and 64-bit refcounts: one refcount table cluster covers only 2 MiB.
s5_growth() {
	set -e
	cd "$S5_TMP"
	qemu-img create -q -f qcow2 -o cluster_size=512,refcount_bits=64 g.qcow2 4M
	"$S5_TOOL" --chunk 256K fill g.qcow2 0 3M 0x42
	"$S5_TOOL" info g.qcow2
	qemu-img check g.qcow2
	qemu-io -c 'read -P 0x42 0 3M' g.qcow2
}

# raw base <- mid.qcow2 (written by qemu-io) <- sub/top.qcow2 with a relative backing name.
s5_backing() {
	set -e
	cd "$S5_TMP"
	mkdir -p sub
	head -c 2M /dev/urandom >base.raw
	sum=$(md5sum <base.raw)
	qemu-img create -q -f qcow2 -b base.raw -F raw mid.qcow2 3M
	qemu-io -c 'write -P 0x11 100k 300k' mid.qcow2 >/dev/null
	qemu-img create -q -f qcow2 -b ../mid.qcow2 -F qcow2 sub/top.qcow2
	cd sub
	"$S5_TOOL" info top.qcow2 | grep 'backing file: ../mid.qcow2'
	cd ..
	qemu-img convert -O raw sub/top.qcow2 want.raw
	"$S5_TOOL" read sub/top.qcow2 0 3M >got.raw
	echo -n "chain read: " && s5_same want.raw got.raw
	"$S5_TOOL" fill sub/top.qcow2 1000 70000 0x33      # partial clusters: copy-on-write
	"$S5_TOOL" write sub/top.qcow2 390000 <base.raw   # over the mid/base boundary and past 2M
	qemu-img check sub/top.qcow2
	qemu-img convert -O raw sub/top.qcow2 want.raw
	"$S5_TOOL" read sub/top.qcow2 0 3M >got.raw
	echo -n "after copy-on-write: " && s5_same want.raw got.raw
	[ "$(md5sum <base.raw)" = "$sum" ] && echo "base unchanged"
}

# zlib-compressed clusters from qemu-img convert -c; then overwriting part of them.
s5_compressed() {
	set -e
	cd "$S5_TMP"
	{ head -c 1M /dev/zero; seq 1 200000; head -c 500K /dev/urandom; } >c.raw
	qemu-img convert -c -O qcow2 c.raw c.qcow2
	qemu-img check c.qcow2 | grep -E '[1-9][0-9.]*% compressed'
	"$S5_TOOL" read c.qcow2 0 "$(stat -c %s c.raw)" >got.raw
	echo -n "compressed read: " && s5_same c.raw got.raw
	"$S5_TOOL" fill c.qcow2 1100000 5000 0x44
	qemu-img check c.qcow2
	qemu-img convert -O raw c.qcow2 want.raw
	"$S5_TOOL" read c.qcow2 0 "$(stat -c %s want.raw)" >got.raw
	echo -n "after rewrite: " && s5_same want.raw got.raw
}

# Kill qcow2-tool with SIGKILL right after its Nth file write (--kill-after-writes), for N
# across a whole allocating write (L2 tables, data, new refcount blocks, a refcount table
# growth); qemu-img check after each death: exit 0 (clean) or 3 (leaked clusters only).
# Every write, not every 13th: S5_KILL_STEP=1 CHECK_TIMEOUT=600 tests/grade stage5.
s5_sigkill() {
	cd "$S5_TMP"
	local n=1 rc crc clean=0 leaks=0 corrupt=0 kills=0
	while :; do
		rm -f k.qcow2
		qemu-img create -q -f qcow2 -o cluster_size=512,refcount_bits=64 k.qcow2 4M
		# (in a subshell that waits for it: bash's "Killed" notice goes to /dev/null)
		("$S5_TOOL" --kill-after-writes $n --chunk 64K fill k.qcow2 1000 2600K 0x5a; exit $?) \
			2>/dev/null
		rc=$?
		qemu-img check k.qcow2 >check.out 2>&1
		crc=$?
		case $crc in
		0) clean=$((clean + 1)) ;;
		3) leaks=$((leaks + 1)) ;;
		*) corrupt=$((corrupt + 1)); echo "killed after write $n:"; head -5 check.out ;;
		esac
		[ $rc -eq 137 ] && kills=$((kills + 1))
		[ $rc -ne 137 ] && break
		n=$((n + ${S5_KILL_STEP:-13}))
	done
	qemu-io -c 'read -P 0x5a 1000 2600K' k.qcow2 | grep -v '^[0-9]'
	echo "kills: $kills, clean: $clean, leaks only: $leaks, corrupt: $corrupt"
}

# A write into an image left with leaks by a kill, then qemu-img check -r leaks repairs it.
s5_after_kill() {
	set -e
	cd "$S5_TMP"
	rm -f k2.qcow2
	qemu-img create -q -f qcow2 k2.qcow2 4M
	("$S5_TOOL" --kill-after-writes 5 fill k2.qcow2 0 1M 1; exit $?) 2>/dev/null || true
	"$S5_TOOL" fill k2.qcow2 0 2M 2
	qemu-img check -r leaks k2.qcow2 >/dev/null || true
	qemu-img check k2.qcow2
	qemu-io -c 'read -P 2 0 2M' k2.qcow2 | grep -v '^[0-9]'
}

export -f s5_same s5_qemu_to_us s5_us_to_qemu s5_our_image s5_growth s5_backing \
	s5_compressed s5_sigkill s5_after_kill

check "qemu-img images read byte for byte (v2, v3, 512 B..2 MiB clusters, 1..64-bit refcounts)" 0 \
	'compat=0.10: match' 'cluster_size=512,refcount_bits=1: match' 'cluster_size=2M: match' \
	-- bash -c s5_qemu_to_us
check "our writes: qemu-img check clean, convert gives the bytes written" 0 \
	'No errors were found' '^match' -- bash -c s5_us_to_qemu
check "an image made by qcow2-tool passes qemu-img check and qemu-io" 0 'No errors were found' \
	'read 70000/70000' '!Pattern verification failed' -- bash -c s5_our_image
check "refcount table growth (512 B clusters, 64-bit refcounts)" 0 'No errors were found' \
	'read 3145728/3145728' '!Pattern verification failed' -- bash -c s5_growth
check "backing chain raw <- qcow2 <- qcow2 (relative name): read and copy-on-write" 0 \
	'chain read: match' 'No errors were found' 'after copy-on-write: match' 'base unchanged' \
	-- bash -c s5_backing
check "zlib-compressed clusters (qemu-img convert -c): read and overwrite" 0 'compressed read: match' \
	'No errors were found' 'after rewrite: match' -- bash -c s5_compressed
check "SIGKILL after every 13th write: qemu-img check never finds corruption" 0 \
	'kills: [1-9][0-9]+, clean: [0-9]+, leaks only: [0-9]+, corrupt: 0$' \
	'!Pattern verification failed' -- bash -c s5_sigkill
check "writing on after a kill; qemu-img check -r leaks gives leaks back" 0 \
	'No errors were found' '!Pattern verification failed' -- bash -c s5_after_kill

# ---- bad input: one clear line, a non-zero exit ----
qemu-img create -q -f qcow2 "$S5_TMP/bad.qcow2" 4M
qemu-io -c 'write -P 1 0 3M' "$S5_TMP/bad.qcow2" >/dev/null
cp "$S5_TMP/bad.qcow2" "$S5_TMP/hdr.qcow2"
printf '\x28' | dd of="$S5_TMP/hdr.qcow2" bs=1 seek=23 conv=notrunc status=none # cluster_bits 40
check "bad input: corrupt header" 2 'hdr\.qcow2: corrupt header: cluster_bits 40' \
	-- "$S5_TOOL" info "$S5_TMP/hdr.qcow2"
cp "$S5_TMP/bad.qcow2" "$S5_TMP/short.qcow2"
truncate -s 200000 "$S5_TMP/short.qcow2"
check "bad input: image truncated in its tables" 2 \
	'short\.qcow2: truncated or corrupt image: L2 table 0 at 0x40000' \
	-- "$S5_TOOL" info "$S5_TMP/short.qcow2"
cp "$S5_TMP/bad.qcow2" "$S5_TMP/short2.qcow2"
truncate -s 1000000 "$S5_TMP/short2.qcow2"
check "bad input: image truncated in its data" 1 \
	'short2\.qcow2: corrupt image: data cluster at 0x[0-9a-f]+ lies past the end of the file' \
	-- "$S5_TOOL" read "$S5_TMP/short2.qcow2" 0 4M
qemu-img create -q -f qcow2 "$S5_TMP/loop-a.qcow2" 1M
qemu-img create -q -f qcow2 -b loop-a.qcow2 -F qcow2 "$S5_TMP/loop-b.qcow2"
qemu-img rebase -u -b loop-b.qcow2 -F qcow2 "$S5_TMP/loop-a.qcow2"
check "bad input: backing file loop" 2 'loop-a\.qcow2: backing file loop' \
	-- "$S5_TOOL" info "$S5_TMP/loop-a.qcow2"
qemu-img create -q -f qcow2 -b "$S5_TMP/gone.raw" -F raw -u "$S5_TMP/orphan.qcow2" 1M
check "bad input: missing backing file" 2 'orphan\.qcow2: backing file: .*gone\.raw: cannot open: No such file' \
	-- "$S5_TOOL" info "$S5_TMP/orphan.qcow2"
if qemu-img create -q -f qcow2 -o compression_type=zstd "$S5_TMP/zstd.qcow2" 1M 2>/dev/null; then
	check "bad input: unsupported feature is named" 2 'compression type 1 \(zstd\)' \
		-- "$S5_TOOL" info "$S5_TMP/zstd.qcow2"
fi

# Locks: one process holds the image, the other must be refused (both directions).
s5_qemu_holds() {
	cd "$S5_TMP"
	coproc QIO { qemu-io -f qcow2 bad.qcow2 2>&1; }
	echo 'read 0 512' >&"${QIO[1]}"
	while read -r line <&"${QIO[0]}"; do [[ $line == *'read 512/512'* ]] && break; done
	"$S5_TOOL" read bad.qcow2 0 512 >/dev/null
	rc=$?
	echo quit >&"${QIO[1]}"
	wait
	exit $rc
}
s5_we_hold() {
	cd "$S5_TMP"
	coproc HOLD { "$S5_TOOL" hold bad.qcow2; }
	read -r line <&"${HOLD[0]}"
	echo "$line"
	qemu-img info bad.qcow2
	rc=$?
	eval "exec ${HOLD[1]}>&-"
	wait
	exit $rc
}
export -f s5_qemu_holds s5_we_hold
check "bad input: image locked by qemu-io" 2 'bad\.qcow2: already in use by another process' \
	-- bash -c s5_qemu_holds
check "locked image: qemu-img refused while qcow2-tool holds it" 1 'locked .*bad\.qcow2' \
	'Failed to get shared "write" lock' -- bash -c s5_we_hold

# The same bad images given to the VMM as its disk: one line, exit 2, before any VM exists.
s5_vmm_while_held() {
	cd "$S5_TMP"
	coproc HOLD { "$S5_TOOL" hold bad.qcow2; }
	read -r line <&"${HOLD[0]}"
	"$S5_MV_PATH" -hda bad.qcow2
	rc=$?
	eval "exec ${HOLD[1]}>&-"
	wait
	exit $rc
}
S5_MV=stage5-full-machine/minivisor
S5_MV_PATH=$PWD/$S5_MV
export -f s5_vmm_while_held
export S5_MV_PATH
check "minivisor is built" 0 -- make -s -C stage5-full-machine minivisor
check "minivisor -hda: corrupt qcow2 header" 2 '^minivisor: .*hdr\.qcow2: corrupt header' \
	-- $S5_MV -hda "$S5_TMP/hdr.qcow2"
check "minivisor -hda: truncated image" 2 '^minivisor: .*short\.qcow2: truncated or corrupt' \
	-- $S5_MV -M q35 -drive "file=$S5_TMP/short.qcow2"
check "minivisor -hda: backing file loop" 2 '^minivisor: .*loop-a\.qcow2: backing file loop' \
	-- $S5_MV -hda "$S5_TMP/loop-a.qcow2"
check "minivisor -hda: image locked by another process" 2 \
	'^minivisor: .*bad\.qcow2: already in use by another process' -- bash -c s5_vmm_while_held
check "minivisor -drive: a missing image file" 2 \
	'^minivisor: .*nothing\.img: cannot open' -- $S5_MV -drive "file=$S5_TMP/nothing.img,format=raw"

rm -rf "$S5_TMP"
