# src/drivers/module.mk - the device manager, the driver registry and the
# drivers.  ALL_DRIVERS lists every driver Nano has (src/drivers/<name>.c);
# a profile's DRIVERS picks the ones compiled in.
NANO_SRCS-1 += src/drivers/registry.c src/drivers/devmgr.c
ALL_DRIVERS += sim
