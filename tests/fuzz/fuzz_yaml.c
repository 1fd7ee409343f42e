/*
 * fuzz_yaml.c - stage 5's machine description (config.c): a YAML document as -config reads
 * it, then the command line's flags on top, as minivisor does.
 *
 * Teaches: a config file is input from whoever wrote it; every key, type and number is
 * checked and refused in one line, never trusted.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"

/*
 * A vmm_config lives as long as the process and has no free function: the strings config.c
 * copies (strdup) are not leaks there. Leak checking would only report that design.
 */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* First line: flags (space-separated), the rest: the YAML document. */
	const uint8_t *nl = memchr(data, '\n', size);
	size_t flags_len = nl ? (size_t)(nl - data) : 0;
	char *flags = strndup((const char *)data, flags_len);
	const char *yaml = (const char *)data + (nl ? flags_len + 1 : 0);
	size_t yaml_len = size - (nl ? flags_len + 1 : 0);

	struct vmm_config c;
	char why[512];
	config_defaults(&c);
	if (config_load_yaml_string(&c, "fuzz.yaml", yaml, yaml_len, why, sizeof(why)) == 0) {
		char *argv[33] = { "minivisor" };
		int argc = 1;
		for (char *save, *w = strtok_r(flags, " ", &save); w && argc < 32;
		     w = strtok_r(NULL, " ", &save))
			argv[argc++] = w;
		argv[argc] = NULL;
		config_parse_args(&c, argc, argv, why, sizeof(why));
		config_vga(&c);
	}
	free(flags);
	return 0;
}
