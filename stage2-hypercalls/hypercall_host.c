/*
 * hypercall_host.c - decode hypercall port I/O and perform the calls (see hypercall_host.h).
 *
 * Two halves: the decoder (hypercall_pio and its helpers), which knows ports, directions,
 * sizes and the registers of the one-exit convention, but no call; and the calls, each a
 * function from a 64-bit argument to a 64-bit result, listed in one table. A pointer
 * argument goes through guest_virt.c, which walks the guest's page tables, so no call ever
 * dereferences a guest address itself.
 */
#include "hypercall_host.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "cpu_modes.h"
#include "guest_virt.h"
#include "hypercall.h"
#include "vcpu_paging.h"

struct hypercall {
	const char *name;
	bool takes_arg;
	int64_t (*fn)(struct hypercall_host *hc, struct vcpu *vcpu, uint64_t arg);
};

/* ---- refusals: one line on stderr, an error code for the guest ---- */

static const char *code_name(int err)
{
	switch (err) {
	case -EFAULT: return "HC_EFAULT";
	case -EINVAL: return "HC_EINVAL";
	case -ENOSYS: return "HC_ENOSYS";
	default: return "error";
	}
}

/* "hypercall error: HC_printStr(0x8000000000): not mapped: ... -> HC_EFAULT (-14)" */
__attribute__((format(printf, 4, 5)))
static int refuse(struct hypercall_host *hc, const char *call, int err, const char *fmt, ...)
{
	va_list ap;
	hc->errors++;
	fflush(stdout);   /* keep the guest's lines and this one in the order they happened */
	fprintf(stderr, "hypercall error: %s: ", call);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " -> %s (%d)\n", code_name(err), err);
	return err;
}

/*
 * The ABI's two address errors: HC_EINVAL for a request no address could satisfy (a
 * non-canonical address, a string past the bound, a paging mode we do not walk), HC_EFAULT
 * for an address that is well-formed but not usable (not mapped, not RAM, protected).
 */
static int abi_code(const struct gv_error *err)
{
	bool malformed = err->fault == GV_NO_NUL || err->fault == GV_TOO_BIG ||
			 (err->fault == GV_WALK && (err->walk.fault == WALK_NON_CANONICAL ||
						    err->walk.fault == WALK_UNSUPPORTED));
	return malformed ? -EINVAL : -EFAULT;
}

static int refuse_gv(struct hypercall_host *hc, const char *name, uint64_t arg,
		     const struct guest_virt *gv, const struct gv_error *err)
{
	char call[64], why[256];
	snprintf(call, sizeof(call), "%s(0x%llx)", name, (unsigned long long)arg);
	return refuse(hc, call, abi_code(err), "%s", gv_describe(gv, err, why, sizeof(why)));
}

/* ---- the guest's memory as its vCPU sees it right now ---- */

static int guest_view(struct hypercall_host *hc, struct vcpu *vcpu, struct guest_virt *gv)
{
	int err = vcpu_paging_update(vcpu, &hc->paging);
	*gv = (struct guest_virt){
		.mem = &vcpu->vm->mem,
		.regs = hc->paging,
		.pool_start = PAGE_POOL_GPA,
		.pool_end = PAGE_POOL_END,
	};
	return err;
}

/* Printable ASCII as it is, the rest as C escapes: a guest cannot drive the terminal. */
static void print_escaped(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c == '\\')
			fputs("\\\\", stdout);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

/* ---- the calls ---- */

static int64_t hc_print32(struct hypercall_host *hc, struct vcpu *vcpu, uint64_t arg)
{
	(void)vcpu;
	if (!hc->quiet)
		printf("HC_print32bit: %u (0x%08x)\n", (uint32_t)arg, (uint32_t)arg);
	return HC_OK;
}

static int64_t hc_num_exits(struct hypercall_host *hc, struct vcpu *vcpu, uint64_t arg)
{
	(void)vcpu, (void)arg;
	return (int64_t)hc->stats->total;   /* this call's own IN exit included */
}

static int64_t hc_print_str(struct hypercall_host *hc, struct vcpu *vcpu, uint64_t gva)
{
	char text[HC_STR_MAX];
	struct guest_virt gv;
	struct gv_error err;

	if (guest_view(hc, vcpu, &gv))
		return refuse(hc, "HC_printStr", -EFAULT, "cannot read the vCPU's registers");
	if (gv_read_string(&gv, gva, text, sizeof(text), &err) < 0)
		return refuse_gv(hc, "HC_printStr", gva, &gv, &err);
	if (!hc->quiet) {
		fputs("HC_printStr: ", stdout);
		print_escaped(text);
		putchar('\n');
	}
	return HC_OK;
}

static int64_t hc_num_exits_by_type(struct hypercall_host *hc, struct vcpu *vcpu, uint64_t gva)
{
	char text[HC_EXITS_BUF_SIZE] = { 0 };
	struct guest_virt gv;
	struct gv_error err;

	snprintf(text, sizeof(text), "IO in: %llu out: %llu", (unsigned long long)hc->stats->io_in,
		 (unsigned long long)hc->stats->io_out);
	if (guest_view(hc, vcpu, &gv))
		return refuse(hc, "HC_numExitsByType", -EFAULT, "cannot read the vCPU's registers");
	if (gv_write(&gv, gva, text, sizeof(text), &err))
		return refuse_gv(hc, "HC_numExitsByType", gva, &gv, &err);
	return HC_OK;
}

static int64_t hc_gva_to_hva(struct hypercall_host *hc, struct vcpu *vcpu, uint64_t gva)
{
	struct guest_virt gv;
	struct gv_error err;
	struct page_walk w;
	char where[80];

	if (guest_view(hc, vcpu, &gv))
		return refuse(hc, "HC_gvaToHva", -EFAULT, "cannot read the vCPU's registers");
	void *hva = gva_to_hva(&gv, gva, &w, &err);
	if (!hva)
		return refuse_gv(hc, "HC_gvaToHva", gva, &gv, &err);
	if (!hc->quiet)
		printf("HC_gvaToHva: gva 0x%llx -> %s -> hva %p\n", (unsigned long long)gva,
		       walk_describe(&w, where, sizeof(where)), hva);
	return (int64_t)(uintptr_t)hva;
}

static const struct hypercall calls[] = {
	[HC_PRINT32] = { "HC_print32bit", true, hc_print32 },
	[HC_NUM_EXITS] = { "HC_numExits", false, hc_num_exits },
	[HC_PRINT_STR] = { "HC_printStr", true, hc_print_str },
	[HC_NUM_EXITS_BY_TYPE] = { "HC_numExitsByType", true, hc_num_exits_by_type },
	[HC_GVA_TO_HVA] = { "HC_gvaToHva", true, hc_gva_to_hva },
};

static const struct hypercall *find_call(unsigned number)
{
	if (number >= sizeof(calls) / sizeof(calls[0]) || !calls[number].fn)
		return NULL;
	return &calls[number];
}

/* ---- the decoder ---- */

/* HC_REGS needs the registers in the kvm_run page at every exit: ask KVM for them. */
static int sync_regs_enable(struct vcpu *vcpu)
{
	int fields = ioctl(vcpu->vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
	if (fields <= 0 || !(fields & KVM_SYNC_X86_REGS))
		return -ENOTSUP;
	vcpu->run->kvm_valid_regs |= KVM_SYNC_X86_REGS;
	return 0;
}

int hypercall_host_init(struct hypercall_host *hc, struct vcpu *vcpu, struct exit_stats *stats)
{
	memset(hc, 0, sizeof(*hc));
	hc->stats = stats;
	int err = sync_regs_enable(vcpu);
	return err ? err : vcpu_paging_init(vcpu, &hc->paging);
}

const char *hypercall_host_strerror(int err)
{
	if (err == -ENOTSUP)
		return "KVM lacks KVM_CAP_SYNC_REGS (the vCPU's registers in the kvm_run page), "
		       "which the one-exit hypercall port 0x506 needs";
	return strerror(-err);
}

int hypercall_guest_args(struct vcpu *vcpu, uint64_t argument)
{
	struct kvm_regs regs;
	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0)
		return -errno;
	regs.rdi = vcpu->vm->mem.size;
	regs.rsi = argument;
	return ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0 ? -errno : 0;
}

static void run_call(struct hypercall_host *hc, struct vcpu *vcpu,
		     const struct hypercall *call, uint64_t arg)
{
	hc->result = (uint64_t)call->fn(hc, vcpu, arg);
}

static void port_out(struct hypercall_host *hc, struct vcpu *vcpu, uint16_t port,
		     uint32_t value)
{
	const struct hypercall *call = find_call(port - HC_PORT_BASE);
	uint64_t arg = hc->arg_high << 32 | value;
	char what[64];

	hc->calls++;
	hc->arg_high = 0;   /* every call consumes the upper half */
	hc->pending_port = port;
	if (call && call->takes_arg) {
		run_call(hc, vcpu, call, arg);
	} else if (call) {
		snprintf(what, sizeof(what), "OUT to port 0x%x", port);
		hc->result = refuse(hc, what, -EINVAL, "%s takes no argument", call->name);
	} else {
		snprintf(what, sizeof(what), "OUT 0x%llx to port 0x%x", (unsigned long long)arg,
			 port);
		hc->result = refuse(hc, what, -ENOSYS, "unknown hypercall %u", port - HC_PORT_BASE);
	}
}

static uint32_t port_in(struct hypercall_host *hc, struct vcpu *vcpu, uint16_t port)
{
	const struct hypercall *call = find_call(port - HC_PORT_BASE);
	char what[64];

	snprintf(what, sizeof(what), "IN from port 0x%x", port);
	hc->calls += port != hc->pending_port;
	if (port == hc->pending_port)
		hc->pending_port = 0;   /* the result of the OUT just made */
	else if (call && !call->takes_arg)
		run_call(hc, vcpu, call, 0);
	else if (call)
		hc->result = refuse(hc, what, -EINVAL, "%s needs its OUT first", call->name);
	else
		hc->result = refuse(hc, what, -ENOSYS, "unknown hypercall %u", port - HC_PORT_BASE);
	hc->arg_high = 0;
	return (uint32_t)hc->result;
}

/* HC_HIGH: the upper halves of 64-bit arguments and results. */
static uint32_t port_high(struct hypercall_host *hc, bool out, uint32_t value)
{
	if (out)
		hc->arg_high = value;
	return (uint32_t)(hc->result >> 32);
}

/*
 * HC_REGS: the one-exit call. EAX, the OUT's data, is the call number and RBX its argument;
 * the result replaces RAX. KVM put the registers in run->s.regs at this exit and, since
 * kvm_dirty_regs says they changed, loads them back before the guest runs on (the OUT is
 * then complete: RIP moves past it, the other registers are as the guest left them).
 */
static void register_call(struct hypercall_host *hc, struct vcpu *vcpu, uint32_t number)
{
	struct kvm_regs *regs = &vcpu->run->s.regs.regs;
	const struct hypercall *call = find_call(number);
	char what[64];

	hc->calls++;
	hc->arg_high = 0;
	hc->pending_port = 0;
	if (call) {
		run_call(hc, vcpu, call, regs->rbx);
	} else {
		snprintf(what, sizeof(what), "register call 0x%x (rbx 0x%llx)", number,
			 (unsigned long long)regs->rbx);
		hc->result = refuse(hc, what, -ENOSYS, "unknown hypercall %u", number);
	}
	regs->rax = hc->result;
	vcpu->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
}

/* An IN from HC_REGS: not part of the convention; the error comes back in EAX. */
static uint32_t register_port_in(struct hypercall_host *hc)
{
	hc->calls++;
	hc->result = refuse(hc, "IN from port 0x506", -EINVAL, "the register call is an OUT");
	return (uint32_t)hc->result;
}

/* A 1- or 2-byte access: refused, and an IN still gets the error's low bytes. */
static void wrong_size(struct hypercall_host *hc, uint16_t port, bool out, uint8_t *data,
		       unsigned size)
{
	char what[64];
	uint32_t value;

	hc->calls++;
	snprintf(what, sizeof(what), "%u-byte %s port 0x%x", size, out ? "OUT to" : "IN from",
		 port);
	hc->result = refuse(hc, what, -EINVAL, "the hypercall ABI is 32-bit");
	value = (uint32_t)hc->result;
	if (!out)
		memcpy(data, &value, size < sizeof(value) ? size : sizeof(value));
}

int hypercall_pio(void *ctx, struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data,
		  unsigned size)
{
	struct hypercall_host *hc = ctx;
	uint32_t value = 0;

	if (port < HC_PORT_BASE || port > HC_PORT_LAST)
		return debug_console_pio(NULL, vcpu, port, out, data, size);
	if (size != sizeof(value)) {
		wrong_size(hc, port, out, data, size);
		return 0;
	}
	if (out)
		memcpy(&value, data, sizeof(value));
	if (port == HC_PORT_BASE + HC_HIGH)
		value = port_high(hc, out, value);
	else if (port == HC_PORT_BASE + HC_REGS && out)
		register_call(hc, vcpu, value);
	else if (port == HC_PORT_BASE + HC_REGS)
		value = register_port_in(hc);
	else if (out)
		port_out(hc, vcpu, port, value);
	else
		value = port_in(hc, vcpu, port);
	if (!out)
		memcpy(data, &value, sizeof(value));
	return 0;
}
