/*
 * test_stage2_hypercall.c - unit tests for stage 2's hypercall decoder: no KVM.
 *
 * hypercall_pio() is called as the run loop would call it, on a vCPU whose kvm_run page is
 * plain memory: the one-exit convention (port 0x506) reads its argument from run->s.regs,
 * writes its result there and marks the registers dirty, which is all KVM_CAP_SYNC_REGS
 * asks of a VMM. The calls used here (HC_print32bit, HC_numExits) touch no guest memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hypercall.h"
#include "hypercall_host.h"

#define REGS_PORT (HC_PORT_BASE + HC_REGS)

struct fixture {
	struct vm vm;
	struct vcpu vcpu;
	struct kvm_run run;
	struct exit_stats stats;
	struct hypercall_host hc;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->vm.name = "test";
	f->vm.kvm_fd = f->vm.vm_fd = -1;
	f->vcpu = (struct vcpu){ .fd = -1, .run = &f->run, .vm = &f->vm };
	f->hc.stats = &f->stats;
	f->hc.quiet = true;
	f->run.kvm_valid_regs = KVM_SYNC_X86_REGS;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* The guest's OUT: EAX = number is also the OUT's data. */
static int register_call(struct fixture *f, uint32_t number, uint64_t rbx)
{
	uint8_t data[4];
	f->run.s.regs.regs.rax = number;
	f->run.s.regs.regs.rbx = rbx;
	memcpy(data, &number, sizeof(data));
	return hypercall_pio(&f->hc, &f->vcpu, REGS_PORT, true, data, sizeof(data));
}

static void argument_from_rbx_result_in_rax(void **state)
{
	struct fixture *f = *state;
	struct kvm_regs *r = &f->run.s.regs.regs;
	r->rcx = 0x1111, r->rsi = 0x2222, r->rip = 0x8123, r->rsp = 0x9000;
	assert_int_equal(register_call(f, HC_PRINT32, 0xcafef00d), 0);
	assert_int_equal(r->rax, HC_OK);
	assert_true(f->run.kvm_dirty_regs & KVM_SYNC_X86_REGS);   /* KVM loads them back */
	assert_int_equal(f->hc.calls, 1);
	assert_int_equal(f->hc.errors, 0);
	/* Only RAX changes: the rest goes back to the guest as it left them. */
	assert_int_equal(r->rbx, 0xcafef00d);
	assert_int_equal(r->rcx, 0x1111);
	assert_int_equal(r->rsi, 0x2222);
	assert_int_equal(r->rip, 0x8123);
	assert_int_equal(r->rsp, 0x9000);
}

static void result_is_64_bits(void **state)
{
	struct fixture *f = *state;
	f->stats.total = 0x100000005ull;   /* more exits than 32 bits hold */
	assert_int_equal(register_call(f, HC_NUM_EXITS, 0), 0);
	assert_int_equal(f->run.s.regs.regs.rax, 0x100000005ull);
}

static void unknown_number_is_enosys_sign_extended(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(register_call(f, 77, 1234), 0);
	assert_int_equal(f->run.s.regs.regs.rax, (uint64_t)(int64_t)-ENOSYS);
	assert_true(hc_is_error64(f->run.s.regs.regs.rax));
	assert_int_equal(f->hc.errors, 1);
	/* Neither port number nor HC_HIGH is a call. */
	assert_int_equal(register_call(f, HC_REGS, 0), 0);
	assert_int_equal(register_call(f, HC_HIGH, 0), 0);
	assert_int_equal(f->run.s.regs.regs.rax, (uint64_t)(int64_t)-ENOSYS);
	assert_int_equal(f->hc.errors, 3);
}

static void in_from_the_register_port_is_einval(void **state)
{
	struct fixture *f = *state;
	uint32_t value = 0;
	f->run.s.regs.regs.rax = 0x5555;
	assert_int_equal(hypercall_pio(&f->hc, &f->vcpu, REGS_PORT, false, (uint8_t *)&value,
				       sizeof(value)), 0);
	assert_int_equal(value, HC_EINVAL);
	assert_int_equal(f->run.s.regs.regs.rax, 0x5555);   /* registers untouched... */
	assert_false(f->run.kvm_dirty_regs);                /* ...and not written back */
	assert_int_equal(f->hc.errors, 1);
}

static void a_byte_wide_out_is_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t number = HC_PRINT32;
	f->run.s.regs.regs.rax = 0x5555;
	assert_int_equal(hypercall_pio(&f->hc, &f->vcpu, REGS_PORT, true, &number, 1), 0);
	assert_int_equal(f->run.s.regs.regs.rax, 0x5555);
	assert_false(f->run.kvm_dirty_regs);
	assert_int_equal(f->hc.errors, 1);
}

/* A register call in the middle of the OUT + IN convention leaves it working. */
static void both_conventions_mix(void **state)
{
	struct fixture *f = *state;
	uint32_t value = 7;
	f->stats.total = 42;
	assert_int_equal(register_call(f, HC_NUM_EXITS, 0), 0);
	assert_int_equal(f->run.s.regs.regs.rax, 42);
	assert_int_equal(hypercall_pio(&f->hc, &f->vcpu, HC_PORT_BASE + HC_PRINT32, true,
				       (uint8_t *)&value, sizeof(value)), 0);
	assert_int_equal(hypercall_pio(&f->hc, &f->vcpu, HC_PORT_BASE + HC_PRINT32, false,
				       (uint8_t *)&value, sizeof(value)), 0);
	assert_int_equal(value, HC_OK);
	assert_int_equal(f->hc.calls, 2);
	assert_int_equal(f->hc.errors, 0);
}

/* A "KVM" that answers no KVM_CHECK_EXTENSION (here /dev/null) lacks KVM_CAP_SYNC_REGS. */
static void no_sync_regs_is_a_clear_error(void **state)
{
	struct fixture *f = *state;
	f->vm.vm_fd = open("/dev/null", O_RDWR);
	assert_true(f->vm.vm_fd >= 0);
	int err = hypercall_host_init(&f->hc, &f->vcpu, &f->stats);
	close(f->vm.vm_fd);
	assert_int_equal(err, -ENOTSUP);
	assert_non_null(strstr(hypercall_host_strerror(err), "KVM_CAP_SYNC_REGS"));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(argument_from_rbx_result_in_rax),
		T(result_is_64_bits),
		T(unknown_number_is_enosys_sign_extended),
		T(in_from_the_register_port_is_einval),
		T(a_byte_wide_out_is_refused),
		T(both_conventions_mix),
		T(no_sync_regs_is_a_clear_error),
	};
	return cmocka_run_group_tests_name("stage2 hypercall decoder", tests, NULL, NULL);
}
