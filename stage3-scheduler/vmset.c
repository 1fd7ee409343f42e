/*
 * vmset.c - create the VMs, serve their consoles and hypercalls, run one slice of one VM.
 */
#define _GNU_SOURCE
#include "vmset.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hypercall.h"
#include "runner.h"

const char *const vm_names[SCHED_MAX_VMS] = {
	"Neo", "Morpheus", "Trinity", "Tank", "Dozer", "Switch", "Apoc", "Mouse",
};

/* ---- the console: each VM's 0xE9 bytes, printed a whole line at a time ---- */

static void console_flush(struct matrix_vm *v)
{
	v->line[v->line_len] = '\0';
	printf("%s: %s\n", v->vm.name, v->line);
	v->line_len = 0;
}

/*
 * Lines, not bytes: Neo and Morpheus may each be half-way through a line when the CPU
 * switches. Bytes that are not printable are shown as '.', so a guest cannot send escape
 * sequences to the host's terminal.
 */
static void console_put(struct matrix_vm *v, uint8_t c)
{
	if (c == '\n') {
		console_flush(v);
		return;
	}
	v->line[v->line_len++] = c >= 0x20 && c < 0x7f ? (char)c : '.';
	if (v->line_len == CONSOLE_LINE_MAX)
		console_flush(v);
}

/* ---- the hypercalls: OUT the argument, IN the result (guests/include/hypercall.h) ---- */

static int hypercall_out(struct matrix_vm *v, unsigned number, uint32_t arg)
{
	switch (number) {
	case HC_REPORT_WORK:
		v->set->sched.vm[v->index].work += arg;
		v->hc_result = HC_OK;
		break;
	default:
		v->hc_result = HC_ENOSYS;
		break;
	}
	return 0;
}

static int matrix_pio(void *ctx, struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data,
		      unsigned size)
{
	struct matrix_vm *v = ctx;
	uint32_t value;

	(void)vcpu;
	if (port == DEBUG_CONSOLE_PORT) {
		if (out)
			console_put(v, data[0]);
		else
			memset(data, DEBUG_CONSOLE_PORT, size);
		return 0;
	}
	if (port < HC_PORT_BASE || port > HC_PORT_LAST)
		return -ENOENT;
	if (size != sizeof(value)) {
		fprintf(stderr, "%s: %u-byte access to hypercall port 0x%x (the ABI is 32-bit)\n",
			v->vm.name, size, port);
		return -EINVAL;
	}
	if (!out) {
		memcpy(data, &v->hc_result, sizeof(value));
		return 0;
	}
	memcpy(&value, data, sizeof(value));
	return hypercall_out(v, port - HC_PORT_BASE, value);
}

/* ---- creating the VMs ---- */

/* One thread and one CPU: without the pin, Linux could spread our "one CPU" over two. */
static int pin_to_one_cpu(struct vmset *set)
{
	cpu_set_t one;
	set->cpu = sched_getcpu();
	if (set->cpu < 0)
		return -errno;
	CPU_ZERO(&one);
	CPU_SET(set->cpu, &one);
	return sched_setaffinity(0, sizeof(one), &one) < 0 ? -errno : 0;
}

/* The guest's arguments, as a boot loader would pass them: RDI = index, RSI = argument. */
static int pass_arguments(struct matrix_vm *v, uint64_t arg)
{
	struct kvm_regs regs;
	if (ioctl(v->vcpu.fd, KVM_GET_REGS, &regs) < 0)
		return -errno;
	regs.rdi = (uint64_t)v->index;
	regs.rsi = arg;
	return ioctl(v->vcpu.fd, KVM_SET_REGS, &regs) < 0 ? -errno : 0;
}

static int boot_one(struct vmset *set, int i, const struct matrix_options *opt)
{
	struct matrix_vm *v = &set->vm[i];
	const struct runner_options boot = { MODE_LONG, opt->mem_size, opt->kvm_path,
					     opt->guest[i] };
	int err = runner_boot(&boot, &v->vm, &v->vcpu);   /* prints its own reason */
	if (err)
		return err;
	v->vm.name = vm_names[i];
	v->set = set;
	v->index = i;
	v->handlers = (struct exit_handlers){ .pio = matrix_pio, .ctx = v };
	err = pass_arguments(v, opt->guest_arg[i]);
	if (!err && set->kick)
		err = kick_attach(set->kick, &v->vcpu);
	if (err) {
		fprintf(stderr, "%s: cannot set up its vCPU: %s\n", v->vm.name, strerror(-err));
		vcpu_destroy(&v->vcpu);
		vm_destroy(&v->vm);
	}
	return err;
}

int vmset_create(struct vmset *set, const struct matrix_options *opt, struct kick *kick)
{
	int err;

	memset(set, 0, sizeof(*set));
	set->last = -1;
	sched_init(&set->sched, opt->weight, opt->vms);
	err = pin_to_one_cpu(set);
	if (err) {
		fprintf(stderr, "%s: cannot pin to one CPU: %s\n", opt->prog, strerror(-err));
		return err;
	}
	if (kick) {
		err = kick_init(kick);
		if (err) {
			fprintf(stderr, "%s: cannot create the slice timer: %s\n", opt->prog,
				strerror(-err));
			return err;
		}
		set->kick = kick;
	}
	for (set->n = 0; set->n < opt->vms; set->n++) {
		err = boot_one(set, set->n, opt);
		if (err) {
			vmset_destroy(set);
			return err;
		}
	}
	return 0;
}

void vmset_destroy(struct vmset *set)
{
	for (int i = 0; i < set->n; i++) {
		vcpu_destroy(&set->vm[i].vcpu);
		vm_destroy(&set->vm[i].vm);
	}
	set->n = 0;
	if (set->kick)
		kick_destroy(set->kick);
	set->kick = NULL;
}

/* ---- running ---- */

/*
 * The clock a VM is charged by: CPU time of this thread, which KVM_RUN's time in the guest is
 * part of. The wall clock would do on an idle host, but when another process takes our CPU
 * for a while, the wall clock would bill that to whichever VM happened to be running.
 */
static uint64_t cpu_time_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void take_off_schedule(struct vmset *set, int i, enum vcpu_status status)
{
	struct matrix_vm *v = &set->vm[i];
	int left = sched_remove(&set->sched, i);

	if (v->line_len)
		console_flush(v);
	if (status == VCPU_FAILED)
		set->failed = true;
	printf("-- %s %s: taken off the schedule, %d VM%s still running\n", v->vm.name,
	       status == VCPU_HALTED ? "halted" : status == VCPU_FAILED ? "failed" : "stopped",
	       left, left == 1 ? "" : "s");
}

enum vcpu_status vmset_run_slice(struct vmset *set, int i, uint64_t quantum_ns)
{
	struct matrix_vm *v = &set->vm[i];
	enum vcpu_status status;
	uint64_t start = cpu_time_ns();

	if (set->last >= 0 && set->last != i)
		set->switches++;
	set->last = i;
	if (quantum_ns)
		kick_arm(set->kick, quantum_ns);
	do
		status = vcpu_step(&v->vcpu, &v->stats, &v->handlers);
	while (quantum_ns && status == VCPU_RUNNING);
	if (quantum_ns) {
		kick_disarm(set->kick, status == VCPU_INTERRUPTED);
		v->preempted += status == VCPU_INTERRUPTED;
	}
	sched_charge(&set->sched, i, cpu_time_ns() - start);

	/* Anything but "go on" (halted, failed, stopped) means this VM cannot run again. */
	if (status != VCPU_RUNNING && status != VCPU_INTERRUPTED)
		take_off_schedule(set, i, status);
	return status;
}

uint64_t vmset_progress(const struct vmset *set, int i)
{
	const uint64_t *counter = gpa_to_hva(&set->vm[i].vm.mem, PROGRESS_GPA, sizeof(*counter));
	return counter ? *counter : 0;
}
