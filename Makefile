# minivisor - a KVM hypervisor in five stages.
#
#   make run          build everything and run the highest stage's demo
#   make test         unit tests + the grader (last line: "N passed, N failed")
#   make stage1       build one stage (stage1 .. stage5, those that exist)
#   make bench        the benchmarks, each next to a reference measured in the same run
#   make soak [N=30]  N nested-host disk boots in a row, counting stalls (long: minutes each)
#   make fuzz [FUZZ_SECONDS=600] [TARGET=name] [FUZZ_BUDGET=cpu]
#                     run the libFuzzer targets (tests/fuzz/README.md), each for FUZZ_SECONDS
#                     (of wall time, or of CPU time with FUZZ_BUDGET=cpu)
#   make SANITIZE=1 ... build (and test) everything with AddressSanitizer + UBSan
#   make grade PART="stage5-boot ..."   [SANITIZE=1] one or more grader parts
#   make docs         render docs/*.dot to SVG
#   make deps         install the Debian packages the project needs (needs root)
#   make clean

# Every Debian package the project uses. Install steps live here and nowhere else.
DEB_PACKAGES = gcc make binutils nasm libcmocka-dev graphviz seabios \
	qemu-system-x86 qemu-utils busybox-static e2fsprogs cpio xz-utils kmod zlib1g-dev \
	libyaml-dev qemu-system-data xorriso isolinux syslinux syslinux-common mtools \
	dosfstools fdisk acpica-tools libvncserver-dev libpng-dev novnc websockify chromium \
	vncsnapshot tesseract-ocr xvfb ovmf libslirp-dev clang libclang-rt-14-dev

STAGE_DIRS := $(sort $(patsubst %/Makefile,%,$(wildcard stage[1-5]-*/Makefile)))
STAGES := $(foreach d,$(STAGE_DIRS),$(firstword $(subst -, ,$(d))))

# SANITIZE=1: every stage, the unit tests and the tools (qcow2-tool, the manager) with
# AddressSanitizer and UndefinedBehaviorSanitizer; a report ends the program (exit != 0), so
# a check fails. The sub-makes take CFLAGS from the environment (their `CFLAGS ?=`). The
# *.static copies for the nested host cannot take ASan: they are linked dynamically
# (STATIC_LINK empty) and tests/nested/run-nested copies their libraries into L1 (ldd).
# Binaries are built in place, so a change of flavour cleans the stages first (the stamp
# build/flavour says which flavour they are): sanitized and plain objects never mix.
FLAVOUR := $(if $(filter 1,$(SANITIZE)),sanitize,plain)
ifeq ($(FLAVOUR),sanitize)
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
export CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -g $(SANITIZE_FLAGS)
export STATIC_LINK :=
# The VMMs map guest RAM and leave it to exit(): allocations still reachable are no leaks;
# an unreachable one is, and fails the check (LeakSanitizer stays on).
export ASAN_OPTIONS := abort_on_error=0:detect_stack_use_after_return=0
export UBSAN_OPTIONS := print_stacktrace=1
endif
ifneq ($(filter-out deps docs fuzz clean,$(or $(MAKECMDGOALS),all)),)
ifneq ($(shell cat build/flavour 2>/dev/null || echo plain),$(FLAVOUR))
$(info make: switching the build to $(FLAVOUR): cleaning the stages and unit tests first)
$(shell for d in $(STAGE_DIRS) tests/unit; do $(MAKE) -s -C $$d clean >/dev/null 2>&1; done; \
	mkdir -p build && echo $(FLAVOUR) >build/flavour)
endif
endif

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

# One grader part (or several) in this flavour: make [SANITIZE=1] grade PART="stage5-boot"
# (the sanitizer's options and compiler flags reach the checks' own builds as in make test).
grade: deps all
	@tests/grade $(PART)

bench: deps all
	@tests/bench

# Not part of `make test` (the grader runs each target over its stored corpus only, seconds):
# fuzzing campaigns, FUZZ_SECONDS (600) per target, every target or TARGET's.
FUZZ_SECONDS ?= 600
fuzz: deps
	@$(MAKE) -s -C tests/fuzz run FUZZ_SECONDS=$(FUZZ_SECONDS) $(if $(TARGET),TARGET="$(TARGET)") \
		$(if $(FUZZ_BUDGET),FUZZ_BUDGET=$(FUZZ_BUDGET))

# Not part of `make test`: a soak of the nested test host (tests/nested/README.md, "Stalls").
soak: deps all
	@tests/nested/soak $(or $(N),30)

docs: deps
	@$(MAKE) -s -C docs

clean:
	@for d in $(STAGE_DIRS) guests tests/unit tests/fuzz docs; do $(MAKE) -s -C $$d clean; done
	rm -rf build

.PHONY: all $(STAGES) guests deps run test grade bench fuzz soak docs clean
