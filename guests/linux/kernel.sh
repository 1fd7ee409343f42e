# shellcheck shell=bash
#
# guests/linux/kernel.sh - fetch a Debian kernel without installing it.
#
# Sourced (not run) by guests/linux/build.sh and tests/nested/run-nested. It teaches how to get a
# ready-made, small x86-64 Linux for a hypervisor to boot without root and without touching the
# host's /boot:
#
#   1. linux-image-cloud-amd64 (the nested host's kernel: small, boots fast under TCG) and
#      linux-image-amd64 (the guests' kernel: it has the PC disk drivers, ata_piix and ahci,
#      that the cloud flavour leaves out) are meta packages; each depends on one versioned
#      image package
#      (e.g. linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)); `apt-cache show` tells which.
#   2. `apt-get download` fetches the .deb into our cache; `dpkg-deb -x` unpacks it into a plain
#      directory: boot/vmlinuz-<release> is the bzImage, lib/modules/<release>/ the modules.
#   3. Debian's kernels build most virtio drivers and KVM as modules (CONFIG_VIRTIO_BLK=m,
#      CONFIG_KVM_AMD=m), so an initramfs must carry them and load them in dependency order.
#      The package has no modules.dep (depmod runs at install time), so we read each module's
#      own "depends=" string from its .modinfo section instead.
#
# Everything lands in $KERNEL_CACHE (default build/cache/kernel). Functions print one-line errors
# prefixed with the caller's name ($ME) and return non-zero; they never exit the caller.

# kernel_fetch CACHE_DIR [META_PACKAGE]
#   Makes sure the newest kernel of META_PACKAGE (default linux-image-cloud-amd64) known to apt
#   is unpacked under CACHE_DIR and sets:
#     KERNEL_PKG      package name, e.g. linux-image-6.1.0-56-cloud-amd64
#     KERNEL_VERSION  package version, e.g. 6.1.192-2 (part of every cache stamp)
#     KERNEL_RELEASE  `uname -r` of that kernel, e.g. 6.1.0-56-cloud-amd64
#     KERNEL_ROOT     the unpacked package (boot/, lib/modules/)
#     KERNEL_IMAGE    the bzImage inside it
#   Without apt lists (offline), it falls back to a kernel unpacked earlier in CACHE_DIR.
# shellcheck disable=SC2034 # the KERNEL_* variables are for the scripts that source this file
kernel_fetch()
{
	local cache=$1 meta=${2:-linux-image-cloud-amd64} pkg ver dir log lock

	mkdir -p "$cache" || return 1
	# The meta package pins its image exactly: "Depends: linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)".
	read -r pkg ver < <(apt-cache show --no-all-versions "$meta" 2>/dev/null |
		sed -n 's/^Depends:.*\(linux-image-[^ ,]*\) (= \([^)]*\)).*/\1 \2/p' | head -n 1)

	if [ -z "$pkg" ] || [ -z "$ver" ]; then
		# Offline or no `apt-get update` yet: reuse the newest kernel already unpacked.
		local flavour=${meta#linux-image-}
		dir=$(ls -d "$cache"/linux-image-*-"$flavour"_*/ 2>/dev/null | sort -V | tail -n 1)
		if [ -z "$dir" ]; then
			echo "$ME: cannot resolve $meta (run 'apt-get update')" >&2
			return 1
		fi
		dir=${dir%/}
		pkg=${dir##*/}; ver=${pkg#*_}; pkg=${pkg%%_*}
	fi

	KERNEL_PKG=$pkg
	KERNEL_VERSION=$ver
	KERNEL_ROOT=$cache/${pkg}_$ver
	# One download at a time: two builds may start together (flock waits for the other).
	exec {lock}>"$cache/.lock" && flock "$lock" || return 1
	if [ ! -e "$KERNEL_ROOT/.unpacked" ]; then
		log=$cache/fetch.log
		rm -rf "$KERNEL_ROOT" "$cache/dl"
		mkdir -p "$cache/dl"
		# apt-get download writes into the current directory.
		if ! (cd "$cache/dl" && apt-get download "$pkg=$ver") >"$log" 2>&1; then
			echo "$ME: apt-get download $pkg=$ver failed (see $log)" >&2
			return 1
		fi
		if ! dpkg-deb -x "$cache"/dl/"$pkg"_*.deb "$KERNEL_ROOT.tmp" >>"$log" 2>&1; then
			echo "$ME: dpkg-deb -x $pkg failed (see $log)" >&2
			return 1
		fi
		rm -rf "$cache/dl"
		mv "$KERNEL_ROOT.tmp" "$KERNEL_ROOT" && touch "$KERNEL_ROOT/.unpacked" || return 1
	fi
	exec {lock}>&-

	KERNEL_IMAGE=$(ls "$KERNEL_ROOT"/boot/vmlinuz-* 2>/dev/null | head -n 1)
	if [ -z "$KERNEL_IMAGE" ]; then
		echo "$ME: no boot/vmlinuz-* in $KERNEL_ROOT" >&2
		return 1
	fi
	KERNEL_RELEASE=${KERNEL_IMAGE##*/vmlinuz-}
}

# kernel_module_file NAME: path of module NAME (dashes and underscores are the same in module
# names: kvm-amd.ko is module kvm_amd). Requires kernel_fetch.
kernel_module_file()
{
	local want=${1//-/_} f base
	while read -r f; do
		base=${f##*/}; base=${base%.ko}
		if [ "${base//-/_}" = "$want" ]; then
			echo "$f"
			return 0
		fi
	done < <(find "$KERNEL_ROOT/lib/modules/$KERNEL_RELEASE" -name '*.ko')
	echo "$ME: module $1 not found in $KERNEL_PKG" >&2
	return 1
}

# kernel_module_deps FILE: the modules FILE needs loaded first, from its "depends=a,b" string.
# .modinfo is a list of NUL-terminated "key=value" strings, so tr + sed read it without modinfo.
kernel_module_deps()
{
	tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | head -n 1 | tr ',' ' '
}

# kernel_modules_closure NAME...: prints the .ko paths that load NAME..., dependencies first,
# each once (a depth-first walk of the "depends=" graph). This is what `modprobe` does with
# modules.dep.
kernel_modules_closure()
{
	local -A _kmc_seen=()
	local _kmc_order=() m
	for m in "$@"; do
		_kernel_modules_visit "$m" || return 1
	done
	printf '%s\n' "${_kmc_order[@]}"
}

# _kernel_modules_visit NAME: one step of the walk; adds to the caller's _kmc_seen/_kmc_order.
_kernel_modules_visit()
{
	local name=${1//-/_} file dep
	[ -n "${_kmc_seen[$name]:-}" ] && return 0
	_kmc_seen[$name]=1
	file=$(kernel_module_file "$name") || return 1
	for dep in $(kernel_module_deps "$file"); do
		_kernel_modules_visit "$dep" || return 1
	done
	_kmc_order+=("$file")
}

# kernel_busybox_tree DIR: a minimal root for an initramfs: static busybox and one symlink per
# applet in /bin (/sbin, /usr/bin and /usr/sbin point at /bin), plus the mount points.
kernel_busybox_tree()
{
	local dir=$1 bb applet
	bb=$(command -v busybox) || { echo "$ME: busybox not found (apt-get install busybox-static)" >&2; return 1; }
	if ! file_is_static "$bb"; then
		echo "$ME: $bb is not statically linked (apt-get install busybox-static)" >&2
		return 1
	fi
	mkdir -p "$dir"/{bin,dev,proc,sys,tmp,mnt,root,usr,lib/modules} || return 1
	cp "$bb" "$dir/bin/busybox" || return 1
	for applet in $("$bb" --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
	done
	ln -sfn bin "$dir/sbin"
	ln -sfn ../bin "$dir/usr/bin"
	ln -sfn ../bin "$dir/usr/sbin"
}

# file_is_static FILE: true when FILE is an ELF without a program interpreter (PT_INTERP), i.e.
# runs without ld.so and shared libraries. (`file` or `ldd` would tell too, but may be missing.)
file_is_static()
{
	! grep -q -a -F '/ld-linux' "$1"
}

# kernel_cpio DIR OUT: packs DIR as a "newc" cpio archive (the format the kernel unpacks into
# its initial tmpfs), files owned by root, in a stable order. OUT ending in .gz is gzipped and
# then padded with zero bytes to a multiple of 512: the kernel skips zeros between archives and
# wants an uncompressed archive appended after it to start 4-byte aligned.
kernel_cpio()
{
	local dir=$1 dest=$2 size
	(
		cd "$dir" || exit 1
		find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet
	) | if [ "${dest%.gz}" != "$dest" ]; then gzip -6n; else cat; fi >"$dest.tmp" || return 1
	size=$(stat -c %s "$dest.tmp")
	if [ $((size % 512)) != 0 ]; then
		head -c $((512 - size % 512)) /dev/zero >>"$dest.tmp" || return 1
	fi
	mv "$dest.tmp" "$dest"
}
