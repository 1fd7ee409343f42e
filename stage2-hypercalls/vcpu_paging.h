/*
 * vcpu_paging.h - what the page walker needs from a live vCPU, read through KVM.
 *
 * page_walk.c is pure: it takes the paging registers as a struct, so the unit tests can give
 * it any. This file fills that struct from a real vCPU: CR0, CR3, CR4 and EFER from
 * KVM_GET_SREGS at the moment of a hypercall (the guest may have switched tables since the
 * last one), and two CPUID facts once, from the CPUID the vCPU was given (KVM_GET_CPUID2):
 * whether 1 GiB pages exist and how wide physical addresses are. Both change what a page
 * walk accepts, so the host must judge the guest's tables by the guest's own CPU.
 */
#ifndef VCPU_PAGING_H
#define VCPU_PAGING_H

#include "kvm.h"
#include "page_walk.h"

/* Read the CPUID facts into regs. 0 or a negative errno. */
int vcpu_paging_init(struct vcpu *vcpu, struct paging_regs *regs);

/* Read CR0, CR3, CR4 and EFER into regs. 0 or a negative errno. */
int vcpu_paging_update(struct vcpu *vcpu, struct paging_regs *regs);

#endif
