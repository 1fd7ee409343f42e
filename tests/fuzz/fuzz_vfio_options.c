/*
 * fuzz_vfio_options.c - the vfio family's option parser (vfio/vfio_config.c): PCI addresses
 * in every written form (vfio_parse_bdf) and -device vfio-pci's option lists
 * (vfio_config_device), several in a row as a command line gives them.
 *
 * Teaches: passthrough trusts the host device, not the user's text: the address that names a
 * sysfs path must come out canonical, or be refused in one line. The device side needs a host
 * IOMMU (VFIO fds): the nested-host checks test it (tests/checks/stage5-vfio.sh).
 */
#include <stdlib.h>
#include <string.h>

#include "vfio/vfio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Lines of text: each is a BDF and a -device option list. */
	char *text = strndup((const char *)data, size);
	struct vfio_config c = { 0 };
	char why[256], bdf[16];
	for (char *save, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (vfio_parse_bdf(line, bdf) && strlen(bdf) != 12)
			abort();   /* the canonical form is DDDD:BB:DD.F */
		vfio_config_device(&c, line, why, sizeof(why));
	}
	free(text);
	return 0;
}
