/*
 * machine.c - put the machine together, run one thread per vCPU, serve host I/O.
 * See machine.h for the address map. The order of machine_create() matters to KVM:
 * the interrupt controllers must exist before the vCPUs, whose local APICs join them.
 */
#include "machine.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "acpi.h"
#include "terminal.h"

/* ---- vCPU setup ----------------------------------------------------------------------- */

/* See machine.h for what the VMM adds to KVM's supported CPUID, and why. */
int vcpu_set_identity(struct vm *vm, struct vcpu *vcpu, unsigned ncpus)
{
	struct cpuid_table cpuid;
	int err = vm_supported_cpuid(vm, &cpuid);
	if (err)
		return err;
	bool tsc_deadline = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	for (unsigned i = 0; i < cpuid.head.nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid.entries[i];
		if (e->function == 1) {
			e->ebx = (e->ebx & 0x0000ffff) | (ncpus << 16) | ((uint32_t)vcpu->id << 24);
			e->edx |= 1u << 28;   /* HTT: the count above is valid */
			e->ecx |= 1u << 31;   /* hypervisor present */
			if (tsc_deadline)
				e->ecx |= 1u << 24;
		} else if (e->function == 0xb || e->function == 0x1f) {
			e->edx = vcpu->id;
		}
	}
	return vcpu_set_cpuid(vcpu, &cpuid);
}

/* ---- devices --------------------------------------------------------------------------- */

int machine_fail(int err, char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return err;
}

static int open_host_devices(struct machine *m, const struct machine_config *cfg, char *why,
			     size_t why_len)
{
	int err;
	if (cfg->disk_path) {
		err = virtio_blk_open(&m->blk, cfg->disk_path);
		if (err == -EROFS)
			return machine_fail(err, why, why_len, "%s: disk image is read-only: "
					    "the guest's writes would be lost", cfg->disk_path);
		if (err)
			return machine_fail(err, why, why_len,
					    "%s: cannot open disk image read-write: %s",
					    cfg->disk_path,
					    err == -EINVAL ? "not a regular file" : strerror(-err));
		m->has_blk = true;
	}
	if (cfg->tap_name) {
		err = virtio_net_open(&m->net, cfg->tap_name);
		if (err)
			return machine_fail(err, why, why_len, "tap %s: cannot open: %s",
					    cfg->tap_name, strerror(-err));
		m->has_net = true;
	}
	m->has_rng = cfg->rng;
	/*
	 * The I/O thread pays only if it runs beside the vCPUs. On a host with no CPU to spare
	 * it takes turns with them, and each request costs two context switches instead of one
	 * exit: the nested host's one-CPU L1 read at half the speed (docs/stage4.md).
	 */
	long host_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	m->blk_fast = m->has_blk &&
		      (cfg->virtio_path == VIRTIO_FAST ||
		       (cfg->virtio_path == VIRTIO_AUTO && host_cpus > (long)cfg->ncpus));
	return 0;
}

static int attach_devices(struct machine *m, char *why, size_t why_len)
{
	int fd = m->vm.vm_fd;
	const struct guest_memory *mem = &m->vm.mem;

	if (uart_attach(&m->com1, &m->bus, fd, COM1_PORT, COM1_IRQ, STDOUT_FILENO) ||
	    rtc_attach(&m->rtc, &m->bus) || power_attach(&m->power, &m->bus) ||
	    power_attach_8042(&m->power, &m->bus) ||
	    pci_host_attach(&m->pci, &m->bus, fd))
		return machine_fail(-EBUSY, why, why_len, "legacy devices overlap on the bus");
	m->blk.fast = m->blk_fast;
	if (m->has_blk && virtio_blk_attach(&m->blk, &m->pci, mem))
		return machine_fail(-ENOSPC, why, why_len, "virtio-blk: no PCI slot or address");
	if (m->has_net && virtio_net_attach(&m->net, &m->pci, mem))
		return machine_fail(-ENOSPC, why, why_len, "virtio-net: no PCI slot or address");
	if (m->has_rng && virtio_rng_attach(&m->rng, &m->pci, mem))
		return machine_fail(-ENOSPC, why, why_len, "virtio-rng: no PCI slot or address");
	return 0;
}

int machine_create(struct machine *m, const struct machine_config *cfg, char *why,
		   size_t why_len)
{
	const char *step;
	int err;

	memset(m, 0, sizeof(*m));
	m->vm.vm_fd = m->vm.kvm_fd = m->stop_fd = -1;
	m->ncpus = cfg->ncpus;
	bus_init(&m->bus);
	m->bus.trace = cfg->trace_io;

	/* Host files first: a typo in a path should not cost a VM. */
	err = linux_check(&cfg->boot, cfg->mem_size, why, why_len);
	if (!err)
		err = open_host_devices(m, cfg, why, why_len);
	if (err)
		return err;

	err = vm_create(&m->vm, cfg->kvm_path, cfg->mem_size, why, why_len);
	if (err)
		return err;
	/*
	 * Back guest RAM with 2 MiB pages where the host can (transparent huge pages): one page
	 * fault instead of 512 when the kernel decompresses itself or a disk read fills a buffer,
	 * and fewer, larger nested-paging entries. Only a hint: failure changes nothing.
	 */
	madvise(m->vm.mem.host, m->vm.mem.size, MADV_HUGEPAGE);
	err = irqchip_create(m->vm.vm_fd, &step);
	if (err)
		return machine_fail(err, why, why_len, "%s: %s: %s", cfg->kvm_path, step,
				    strerror(-err));

	struct linux_boot boot = cfg->boot;
	err = acpi_build(&m->vm.mem, m->ncpus, &boot.rsdp_gpa);
	if (err)
		return machine_fail(err, why, why_len, "ACPI tables do not fit below 1 MiB");
	err = linux_load(&m->vm, &boot, why, why_len);
	if (err)
		return err;

	for (unsigned i = 0; i < m->ncpus; i++) {
		err = vcpu_create(&m->vm, &m->vcpus[i], i);
		if (!err)
			err = vcpu_set_identity(&m->vm, &m->vcpus[i], m->ncpus);
		if (err)
			return machine_fail(err, why, why_len, "vCPU %u: %s", i, strerror(-err));
	}
	/* Only the boot CPU gets registers; the others wait in KVM for INIT and SIPI from it. */
	err = linux_setup_boot_cpu(&m->vcpus[0]);
	if (err)
		return machine_fail(err, why, why_len, "vCPU 0: cannot enter long mode: %s",
				    strerror(-err));

	err = attach_devices(m, why, why_len);
	if (err)
		return err;
	m->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (m->stop_fd < 0)
		return machine_fail(-errno, why, why_len, "eventfd: %s", strerror(errno));
	return 0;
}

/* ---- running ---------------------------------------------------------------------------- */

struct vcpu_thread_arg {
	struct machine *m;
	struct vcpu *vcpu;
};

void machine_request_stop(struct machine *m, enum machine_end end)
{
	uint64_t one = 1;
	pthread_mutex_lock(&m->bus.lock);
	if (m->end == END_RUNNING)
		m->end = end;
	pthread_mutex_unlock(&m->bus.lock);
	if (write(m->stop_fd, &one, sizeof(one)) < 0)
		perror("minivisor-lite: eventfd");
}

static bool stopping(struct machine *m)
{
	pthread_mutex_lock(&m->bus.lock);
	bool s = m->end != END_RUNNING;
	pthread_mutex_unlock(&m->bus.lock);
	return s;
}

/* Why a device stopped this vCPU: it recorded the reason during this thread's access. */
static enum machine_end guest_stop(const struct machine *m)
{
	if (m->reset_line)
		return END_REBOOT;
	return m->power.stop == STOP_POWEROFF ? END_POWEROFF : END_REBOOT;
}

/* KVM_EXIT_SHUTDOWN with shutdown_resets: the chipset's answer to a triple fault. */
static int triple_fault(void *ctx, struct vcpu *vcpu)
{
	struct machine *m = (struct machine *)((char *)ctx - offsetof(struct machine, bus));
	fprintf(stderr, "vCPU %d: triple fault: the machine resets\n", vcpu->id);
	pthread_mutex_lock(&m->bus.lock);
	m->reset_line = true;
	pthread_mutex_unlock(&m->bus.lock);
	return EXIT_HANDLER_STOP;
}

static void *vcpu_thread(void *p)
{
	struct vcpu_thread_arg *arg = p;
	struct machine *m = arg->m;
	struct exit_stats *stats = &m->stats[arg->vcpu->id];
	struct exit_handlers handlers = { bus_pio, bus_mmio, &m->bus,
					  m->shutdown_resets ? triple_fault : NULL };

	while (!stopping(m)) {
		enum vcpu_status s = vcpu_step(arg->vcpu, stats, &handlers);
		if (s == VCPU_STOPPED) {
			machine_request_stop(m, guest_stop(m));
		} else if (s == VCPU_FAILED) {
			machine_request_stop(m, END_FAILED);
		} else if (s == VCPU_HALTED) {
			/* Only without an in-kernel LAPIC; ours handles HLT inside KVM. */
			fprintf(stderr, "vCPU %d: unexpected HLT exit\n", arg->vcpu->id);
			machine_request_stop(m, END_FAILED);
		}
	}
	/*
	 * A pause for migration (stage 5) saves this vCPU's registers. An exit KVM handed us is
	 * finished only by the next KVM_RUN (an IN's value goes into RAX, RIP moves past it):
	 * enter once with immediate_exit set, which completes it and returns at once, or the
	 * destination would execute the IN or OUT a second time.
	 */
	if (m->end == END_PAUSE) {
		arg->vcpu->run->immediate_exit = 1;
		ioctl(arg->vcpu->fd, KVM_RUN, 0);
		arg->vcpu->run->immediate_exit = 0;
	}
	return NULL;
}

/* SIGUSR1 only interrupts KVM_RUN (EINTR); the thread then sees the stop flag. */
static void kick_handler(int sig)
{
	(void)sig;
}

static void kick_vcpus(struct machine *m)
{
	for (unsigned i = 0; i < m->ncpus; i++) {
		/* immediate_exit covers a kick that lands just before KVM_RUN is entered. */
		m->vcpus[i].run->immediate_exit = 1;
		pthread_kill(m->threads[i], SIGUSR1);
	}
}

static void serve_terminal(struct machine *m, bool *open, bool *escape)
{
	uint8_t in[256], out[256];
	bool quit = false;
	ssize_t n = read(STDIN_FILENO, in, sizeof(in));
	if (n <= 0) {
		*open = false;   /* end of input (tests run with </dev/null): keep running */
		return;
	}
	unsigned len = terminal_filter(in, n, out, escape, &quit);
	pthread_mutex_lock(&m->bus.lock);
	uart_input(&m->com1, out, len);
	pthread_mutex_unlock(&m->bus.lock);
	if (quit)
		machine_request_stop(m, END_QUIT);
}

/* The main thread: terminal input, network frames, and the stop request. */
static void io_loop(struct machine *m)
{
	bool stdin_open = true, escape = false, rx_wanted = true;
	enum { STOP, STDIN, TAP, WAKE, NFDS };
	struct pollfd fds[NFDS];

	for (;;) {
		fds[STOP] = (struct pollfd){ m->stop_fd, POLLIN, 0 };
		fds[STDIN] = (struct pollfd){ stdin_open ? STDIN_FILENO : -1, POLLIN, 0 };
		fds[TAP] = (struct pollfd){m->has_net && rx_wanted ? m->net.tap_fd : -1, POLLIN, 0};
		fds[WAKE] = (struct pollfd){ m->has_net ? m->net.wake_fd : -1, POLLIN, 0 };
		if (poll(fds, NFDS, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("minivisor-lite: poll");
			machine_request_stop(m, END_FAILED);
			return;
		}
		if (fds[STOP].revents)
			return;
		if (fds[STDIN].revents)
			serve_terminal(m, &stdin_open, &escape);
		if (fds[WAKE].revents) {
			uint64_t v;
			if (read(m->net.wake_fd, &v, sizeof(v)) > 0)
				rx_wanted = true;
		}
		if (fds[TAP].revents) {
			pthread_mutex_lock(&m->bus.lock);
			rx_wanted = virtio_net_receive(&m->net);
			pthread_mutex_unlock(&m->bus.lock);
		}
	}
}

enum machine_end machine_run(struct machine *m)
{
	struct vcpu_thread_arg args[MAX_VCPUS];
	struct sigaction sa = { .sa_handler = kick_handler };   /* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);

	/* Before the vCPUs: the first kick must find the I/O thread there. */
	int err = m->blk_fast ? virtio_blk_start(&m->blk, &m->bus.lock, m->stop_fd) : 0;
	if (err) {
		fprintf(stderr, "minivisor-lite: virtio-blk: cannot start the I/O thread: %s\n",
			strerror(-err));
		return END_FAILED;
	}
	terminal_raw();
	for (unsigned i = 0; i < m->ncpus; i++) {
		args[i] = (struct vcpu_thread_arg){ m, &m->vcpus[i] };
		if (pthread_create(&m->threads[i], NULL, vcpu_thread, &args[i]) != 0) {
			perror("minivisor-lite: pthread_create");
			m->ncpus = i;
			machine_request_stop(m, END_FAILED);
			break;
		}
	}
	io_loop(m);
	kick_vcpus(m);
	for (unsigned i = 0; i < m->ncpus; i++)
		pthread_join(m->threads[i], NULL);
	if (m->blk_fast)
		virtio_blk_join(&m->blk);   /* it saw stop_fd too */
	terminal_restore();
	return m->end;
}

int machine_memory_use(const struct machine *m, struct memory_use *use)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long size_pages, resident_pages;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return -errno;
	int n = fscanf(f, "%lu %lu", &size_pages, &resident_pages);
	fclose(f);
	if (n != 2)
		return -EIO;

	/* mincore() fills one byte per page of guest RAM; bit 0 = resident. */
	uint64_t guest_pages = m->vm.mem.size / page, resident_guest = 0;
	static unsigned char vec[1 << 16];
	for (uint64_t done = 0; done < guest_pages; done += sizeof(vec)) {
		uint64_t chunk =
		    guest_pages - done < sizeof(vec) ? guest_pages - done : sizeof(vec);
		if (mincore(m->vm.mem.host + done * page, chunk * page, vec) < 0)
			return -errno;
		for (uint64_t i = 0; i < chunk; i++)
			resident_guest += vec[i] & 1;
	}
	use->rss_kib = resident_pages * page / 1024;
	use->guest_kib = resident_guest * page / 1024;
	use->overhead_kib = use->rss_kib - use->guest_kib;
	return 0;
}

void machine_print_exits(const struct machine *m, FILE *f)
{
	struct exit_stats sum = { 0 };
	for (unsigned i = 0; i < m->ncpus; i++) {
		sum.total += m->stats[i].total;
		sum.io_in += m->stats[i].io_in;
		sum.io_out += m->stats[i].io_out;
		for (int r = 0; r < EXIT_REASON_SLOTS; r++)
			sum.by_reason[r] += m->stats[i].by_reason[r];
	}
	exit_stats_print(&sum, f);
}

void machine_destroy(struct machine *m)
{
	for (unsigned i = 0; i < MAX_VCPUS; i++)
		if (m->vcpus[i].run)
			vcpu_destroy(&m->vcpus[i]);
	if (m->vm.vm_fd >= 0 || m->vm.kvm_fd >= 0)
		vm_destroy(&m->vm);
	if (m->stop_fd >= 0)
		close(m->stop_fd);
	if (m->has_blk)
		close(m->blk.fd);
	if (m->has_net) {
		close(m->net.tap_fd);
		close(m->net.wake_fd);
	}
}
