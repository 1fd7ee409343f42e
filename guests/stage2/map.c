/*
 * map.c - builds the test map and halts: the address space that translate-check walks,
 * next to KVM's own walker, once the guest has stopped.
 */
#include "guest.h"

int main(uint64_t ram_size)
{
	setup_test_map(ram_size);
	say("test map built; 1 GiB pages: %s", cpu_has_1g_pages() ? "yes" : "no");
	return 0;
}
