# storage.mk - the storage family: the ATA/ATAPI drive and its two transports, IDE and AHCI
# (README.md here). Included by ../machine.mk, which lists the families.
STORAGE_DIR := $(MACHINE_DIR)/storage
MACHINE_SRCS += $(addprefix $(STORAGE_DIR)/,ata.c atapi.c ide.c ahci.c)
MACHINE_HDRS += $(addprefix $(STORAGE_DIR)/,ata.h ide.h ahci.h)
