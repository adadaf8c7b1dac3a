# src/drivers/module.mk - the device manager, the driver registry and the
# drivers.  ALL_DRIVERS lists every driver Nano has (src/drivers/<name>.c);
# a profile's DRIVERS picks the ones compiled in.
NANO_SRCS-1 += src/drivers/registry.c src/drivers/devmgr.c
ALL_DRIVERS += sim bme280 ds18b20 sht3x mcp3008 gpio_in

# modbus links libmodbus (about 60 KB, no TLS), so it exists only in builds
# that want it.
ifeq ($(strip $(NANO_WITH_MODBUS)),1)
ALL_DRIVERS += modbus
endif
NANO_LIBS-$(strip $(NANO_WITH_MODBUS)) += -lmodbus
