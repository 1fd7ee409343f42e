# minivisor - a KVM hypervisor in five stages.
#
#   make run          build everything and run the highest stage's demo
#   make test         unit tests + the grader (last line: "N passed, N failed")
#   make stage1       build one stage (stage1 .. stage5, those that exist)
#   make bench        the benchmarks, each next to a reference measured in the same run
#   make soak [N=30]  N nested-host disk boots in a row, counting stalls (long: minutes each)
#   make docs         render docs/*.dot to SVG
#   make deps         install the Debian packages the project needs (needs root)
#   make clean

# Every Debian package the project uses. Install steps live here and nowhere else.
DEB_PACKAGES = gcc make binutils nasm libcmocka-dev graphviz seabios \
	qemu-system-x86 qemu-utils busybox-static e2fsprogs cpio xz-utils kmod zlib1g-dev \
	libyaml-dev qemu-system-data xorriso isolinux syslinux syslinux-common mtools \
	dosfstools fdisk acpica-tools libvncserver-dev libpng-dev novnc websockify chromium \
	vncsnapshot tesseract-ocr xvfb ovmf libslirp-dev

STAGE_DIRS := $(sort $(patsubst %/Makefile,%,$(wildcard stage[1-5]-*/Makefile)))
STAGES := $(foreach d,$(STAGE_DIRS),$(firstword $(subst -, ,$(d))))

all: $(STAGES)

# "stage1" -> make -C stage1-simple-kvm
$(STAGES): guests
	@$(MAKE) -s -C $(filter $@-%,$(STAGE_DIRS))

guests:
	@$(MAKE) -s -C guests
	@guests/linux/build.sh

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null \
		|| { echo "make deps: apt-get install failed (run as root?)"; exit 1; }; \
	fi; \
	apt-cache show linux-image-cloud-amd64 >/dev/null 2>&1 || { \
		echo "make deps: apt-get update (the Linux guest's kernel is fetched with apt-get download)"; \
		apt-get update -qq || { echo "make deps: apt-get update failed"; exit 1; }; }

run: deps all
	./run

test: deps all
	@$(MAKE) -s -C tests/unit check
	@tests/grade

bench: deps all
	@tests/bench

# Not part of `make test`: a soak of the nested test host (tests/nested/README.md, "Stalls").
soak: deps all
	@tests/nested/soak $(or $(N),30)

docs: deps
	@$(MAKE) -s -C docs

clean:
	@for d in $(STAGE_DIRS) guests tests/unit docs; do $(MAKE) -s -C $$d clean; done
	rm -rf build

.PHONY: all $(STAGES) guests deps run test bench soak docs clean
