# tests/checks/stage5-manager.sh - stage 5: minivisor-manager runs several VMs, minivisor-ctl
# creates, lists, destroys them and attaches to their consoles. Sourced by tests/grade.
#
# Most checks drive the manager with a stand-in VMM (a shell script that prints a banner and
# echoes its console input), so that the manager's own logic - consoles, signals, exit
# statuses - is checked in milliseconds and deterministically. The last group runs the real
# stage 5 `minivisor` under the manager. No sleeps as synchronisation: `minivisor-ctl wait`
# blocks until the manager has seen the event, and a manager's start is polled with `list`.

S5M=stage5-full-machine/manager
build "build the VM manager and its CLI" $S5M

M_TMP=$(mktemp -d)
M_CTL=$ROOT/$S5M/minivisor-ctl
M_MGR=$ROOT/$S5M/minivisor-manager
M_SOCK=$M_TMP/fake.sock
M_C="$M_CTL -s $M_SOCK" # for check, which runs a command, not a function (mktemp: no spaces)
export M_TMP M_CTL M_MGR M_SOCK

# The stand-in VMM: gets `-config FILE [FLAGS...]` like minivisor; -ignore-term makes it
# ignore SIGTERM (so destroy must SIGKILL it); typing "exit" ends it with status 3, "crash"
# kills it with SIGSEGV.
cat >"$M_TMP/fake-vmm" <<'SCRIPT'
#!/bin/sh
[ "$3" = -ignore-term ] && trap '' TERM
echo "fake VM up: $*"
while read -r line; do
	echo "guest got: $line"
	[ "$line" = exit ] && exit 3
	[ "$line" = crash ] && kill -SEGV $$
done
SCRIPT
chmod +x "$M_TMP/fake-vmm"
echo "machine: pc" >"$M_TMP/fake.yaml"

ctl() { "$M_CTL" -s "$M_SOCK" "$@"; }
# Send raw bytes (printf format) as a client that does not play by the rules; print the answer.
m_raw() {
	[ $# -gt 0 ] && { printf "$1" | m_raw; return; }
	perl -MIO::Socket::UNIX -e '
		my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "connect: $!\n";
		local $/; my $in = <STDIN>; print $s $in; shutdown($s, 1); print <$s>;' "$M_SOCK"
}
# Start a manager in the background, then poll (bounded) until it answers.
m_start() {
	"$M_MGR" -s "$M_SOCK" "$@" 2>>"$M_TMP/manager.log" &
	echo $! >"$M_SOCK.pid"
	for _ in $(seq 50); do
		ctl list >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "manager did not answer"
	return 1
}
# After the checks: a manager that a failed check left running is ended by its own pid.
m_stop() {
	[ -s "$M_SOCK.pid" ] && kill "$(cat "$M_SOCK.pid")" 2>/dev/null
	rm -f "$M_SOCK.pid"
}
export -f ctl m_raw

check "no manager: the CLI names the socket" 1 "no manager at $M_SOCK" -- "$M_CTL" -s "$M_SOCK" list
check "the manager starts and answers list" 0 'NAME +PID +STATE +UPTIME +CONFIG' -- \
	bash -c "$(declare -f m_start); m_start --vmm '$M_TMP/fake-vmm' && ctl list"

check "a second manager on the same socket is refused" 1 'a manager is running at' -- \
	"$M_MGR" -s "$M_SOCK" --vmm "$M_TMP/fake-vmm"
check "create two VMs (extra flags go to the VMM)" 0 'created vm1 pid [0-9]+' \
	'created vm2 pid [0-9]+' -- bash -c "ctl create vm1 $M_TMP/fake.yaml -- -m 1G &&
		ctl create vm2 $M_TMP/fake.yaml"
check "list shows both, running, with their configs" 0 \
	"^vm1 +[0-9]+ running +[0-9.]+s +$M_TMP/fake.yaml" "^vm2 +[0-9]+ running " -- $M_C list
check "console: the scrollback from the start" 0 'fake VM up: -config .*/fake\.yaml -m 1G' \
	'the console closed|detached from vm1' -- bash -c 'ctl wait vm1 output "fake VM up" &&
		ctl console vm1'
check "console: input reaches the guest, three attach/detach cycles" 0 'guest got: one' \
	'guest got: two' 'guest got: three' -- bash -c 'for w in one two three; do
		echo $w | ctl console vm1 >/dev/null 2>&1 || exit 1
		ctl wait vm1 output "guest got: $w" || exit 1; done; ctl console vm1'
check "console: Ctrl-] and Ctrl-A d detach; Ctrl-A x is passed on" 0 'guest got: ab$' \
	'guest got: c.x$' '!guest got: ab?[XY]' -- bash -c 'printf "a\035X\n" | ctl console vm1 &&
		printf "b\001dY\n" | ctl console vm1 && printf "\n" | ctl console vm1 &&
		printf "c\001x\n" | ctl console vm1 && ctl wait vm1 output "x" &&
		ctl console vm1 | tr -d "\r"'
check "destroy vm1: SIGTERM; vm2 stays listed and running" 0 \
	'destroyed vm1: stopped \(signal 15' '^vm2 +[0-9]+ running' '!^vm1 ' -- \
	bash -c 'ctl destroy vm1 && ctl list'
check "a VM that exits is listed as stopped with its status" 0 'vm2 stopped \(exit 3\)' \
	'^vm2 +[0-9]+ stopped \(exit 3\)' -- bash -c 'echo exit | ctl console vm2 >/dev/null;
		ctl wait vm2 stopped && ctl list'
check "a VM that crashes takes down only itself" 0 'vm3 stopped \(signal 11' \
	'^vm2 +[0-9]+ stopped \(exit 3\)' '^vm3 .*signal 11' -- bash -c "ctl create vm3 \
		$M_TMP/fake.yaml && ctl wait vm3 output 'fake VM up' &&
		echo crash | ctl console vm3 >/dev/null; ctl wait vm3 stopped && ctl list"
check "destroy a VM that ignores SIGTERM: SIGKILL" 0 'destroyed stubborn: stopped \(signal 9' \
	-- bash -c "ctl create stubborn $M_TMP/fake.yaml -- -ignore-term &&
		ctl wait stubborn output 'fake VM up' && ctl destroy stubborn"
check "wait times out with an error" 1 'timed out waiting for vm2|vm2 stopped .* without' -- \
	$M_C wait -t 1 vm2 output 'never printed'

# ---- bad input: one line each, non-zero exit, the manager keeps running ----
check "bad input: unknown VM" 1 "no VM named 'nosuch'" -- $M_C destroy nosuch
check "bad input: console of an unknown VM" 1 "no VM named 'ghost'" -- $M_C console ghost
check "bad input: duplicate name" 1 "a VM named 'vm2' exists already" -- \
	$M_C create vm2 "$M_TMP/fake.yaml"
check "bad input: missing config" 1 'config .*missing\.yaml: No such file' -- \
	$M_C create vm9 "$M_TMP/missing.yaml"
check "bad input: missing config, sent past the CLI" 0 'error: config /nope\.yaml: No such file' \
	-- bash -c 'm_raw "create vm9 /nope.yaml\\n"'
check "bad input: bad VM name" 1 "bad VM name '\.\./evil'" -- $M_C create ../evil "$M_TMP/fake.yaml"
check "bad input: hostile lines (unknown, empty, NUL, control bytes, quotes, too long)" 0 \
	"error: unknown command 'rm'" 'error: empty request' 'error: malformed request: NUL byte' \
	'error: malformed request: control character' 'error: malformed request: unterminated' \
	'error: malformed request: line longer than' 'error: usage: wait NAME' -- bash -c '
	m_raw "rm -rf /\n"; m_raw "\n"; m_raw "list\0x\n"; m_raw "list\033[2J\n";
	m_raw "console \"vm2\n"; m_raw "wait vm2 5 later\n"; head -c 5000 /dev/zero | tr "\0" a | m_raw'
check "bad input: a client that hangs up mid-line" 0 '^vm2 ' -- bash -c 'm_raw "crea" ; ctl list'
check "bad input: a client that connects and says nothing is dropped" 0 \
	'error: no request line within 5 s' -- bash -c 'sleep 6 | m_raw'
check "the manager survived it all" 0 '^vm2 +[0-9]+ stopped' '^vm3 ' -- $M_C list

check "shutdown stops the VMs and the manager" 0 'the manager has stopped' -- bash -c "
	ctl create last $M_TMP/fake.yaml >/dev/null && ctl shutdown"
check "after shutdown: no manager, the socket is gone" 1 "no manager at $M_SOCK" -- $M_C list
m_stop

# Only the manager holds a VM's console, so a VM must not outlive it: SIGKILL the manager,
# then poll (bounded) until its VM is gone too.
m_orphan() {
	m_start --vmm "$M_TMP/fake-vmm" || return 1
	local pid
	pid=$(ctl create orphan "$M_TMP/fake.yaml" | sed -n 's/.* pid //p')
	ctl wait orphan output 'fake VM up' >/dev/null || return 1
	kill -KILL "$(cat "$M_SOCK.pid")"
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || { echo "VM $pid ended with its manager"; return 0; }
		sleep 0.1
	done
	echo "VM $pid outlived its manager"
	kill "$pid"
}
check "a VM ends when its manager is killed" 0 'ended with its manager' -- \
	bash -c "$(declare -f m_start m_orphan); m_orphan"

# ---- the trust boundary: another local user (nobody, through setpriv) ----
# Whoever can write to the socket's directory can swap the socket; whoever can connect to it
# can name files for the manager to open as its user. A scratch directory that behaves like
# /tmp (world-writable, sticky) stands in for /tmp: with XDG_RUNTIME_DIR unset the default
# socket is ${TMPDIR:-/tmp}/minivisor-UID/manager.sock.
M_PUB=$(mktemp -d)
chmod 1777 "$M_PUB"
M_MINE=$M_PUB/minivisor-$(id -u)
M_ENV="env -u XDG_RUNTIME_DIR -u MINIVISOR_SOCKET TMPDIR=$M_PUB"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
# A raw client as nobody: connect to $1, send $2, print the answer.
nobody_raw() {
	# The manager may answer and hang up before the request is written: ignore SIGPIPE so
	# that the client still reads the answer waiting in its socket.
	printf "$2" | as_nobody perl -MIO::Socket::UNIX -e '
		$SIG{PIPE} = "IGNORE";
		my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "connect: $!\n";
		local $/; my $in = <STDIN>; print $s $in; shutdown($s, 1); print <$s>;' "$1"
}
export M_PUB M_MINE M_ENV
export -f as_nobody nobody_raw
check "trust: a socket directory another user made first (mode 0777) is refused" 2 \
	'socket directory .*/minivisor-[0-9]+ belongs to uid [0-9]+, not to this user' -- \
	bash -c 'as_nobody mkdir -m 0777 "$M_MINE" && $M_ENV "$M_MGR" --vmm "$M_TMP/fake-vmm"'
# nobody's own manager in that directory: root's minivisor-ctl must not talk to it.
as_nobody "$M_MGR" -s "$M_MINE/manager.sock" --vmm /bin/true 2>/dev/null &
m_nobody_pid=$!
check "trust: minivisor-ctl refuses a socket in a directory another user controls" 2 \
	'belongs to uid [0-9]+, not to this user' '!^NAME' -- bash -c '
	for _ in $(seq 50); do [ -S "$M_MINE/manager.sock" ] && break; sleep 0.1; done
	$M_ENV "$M_CTL" list'
kill $m_nobody_pid 2>/dev/null
wait $m_nobody_pid 2>/dev/null
as_nobody rm -rf "$M_MINE"
M_SOCK=$M_MINE/manager.sock
M_C="$M_CTL -s $M_SOCK"
export M_SOCK
check "trust: the manager's own directory is 0700 and its socket 0600" 0 '^700 600$' -- \
	bash -c "$(declare -f m_start); m_start --vmm $M_TMP/fake-vmm &&
		stat -c %a $M_MINE $M_SOCK | paste -sd ' '"
check "trust: another user cannot connect" 0 'connect: Permission denied' -- \
	bash -c 'nobody_raw "$M_SOCK" "list\n"; true'
echo 'machine: pc' >"$M_TMP/root-only.yaml" && chmod 600 "$M_TMP/root-only.yaml"
check "trust: socket opened to all by hand: another user is dropped before it names a file" 0 \
	'error: permission denied: this manager serves uid [0-9]+ only' '!created' -- \
	bash -c 'chmod 755 "$M_MINE" && chmod 666 "$M_SOCK" &&
		nobody_raw "$M_SOCK" "create stolen $M_TMP/root-only.yaml\n"'
check "trust: the refused client left no VM behind" 0 '^NAME' '!^stolen' -- $M_C list
check "trust: shutdown" 0 'the manager has stopped' -- $M_C shutdown
m_stop
rm -rf "$M_PUB"

# ---- the real VMM: SeaBIOS under the manager ----
check "the real VMM is built (stage5-full-machine/minivisor)" 0 -- \
	make -s -C stage5-full-machine minivisor
M_SOCK=$M_TMP/real.sock
M_C="$M_CTL -s $M_SOCK"
export M_SOCK
M_CFG=$ROOT/stage5-full-machine/configs/firmware-only.yaml
check "real minivisor: two SeaBIOS VMs; console shows the banner from the scrollback" 0 \
	'created bios1' 'created bios2' '^bios1 +[0-9]+ (running|stopped)' '^bios2 ' \
	'SeaBIOS \(version [^)]+\)' 'No bootable device' 'bios1 stopped \(exit 0\)' -- \
	bash -c "$(declare -f m_start); m_start && ctl create bios1 $M_CFG &&
		ctl create bios2 $M_CFG -- -m 256M && ctl list &&
		ctl wait -t 30 bios1 output 'No bootable device' && ctl console bios1 &&
		ctl wait -t 30 bios1 stopped"
check "real minivisor: destroy one, the other stays listed" 0 'destroyed bios1' \
	'^bios2 +[0-9]+ ' '!^bios1 ' -- bash -c 'ctl destroy bios1 && ctl list'
check "real minivisor: a VM that stays up (-boot reboot-timeout=-1) until destroyed" 0 \
	'created stay' 'No bootable device\.' '!Retrying' '^stay +[0-9]+ running ' 'destroyed stay' \
	-- bash -c "ctl create stay $M_CFG -- -boot reboot-timeout=-1 &&
		ctl wait -t 30 stay output 'No bootable device.' && ctl console stay </dev/null &&
		ctl list && ctl destroy stay && ctl list"
check "real minivisor: shutdown" 0 'the manager has stopped' -- $M_C shutdown
m_stop
rm -rf "$M_TMP"
