# src/hal/module.mk - the hardware abstraction: one interface per bus kind
# (i2c.h spi.h uart.h gpio.h w1.h), the Linux back ends, the emulated back
# ends with their device emulators, worker lanes for blocking reads, and the
# named pins of the config's `pins:` section.  Back ends are chosen per bus
# name at run time ("sim:" prefix), so both are always built.
NANO_SRCS-1 += src/hal/hal.c src/hal/offload.c src/hal/pins.c \
               src/hal/linux/i2c_dev.c src/hal/linux/spidev.c \
               src/hal/linux/uart_termios.c src/hal/linux/gpio_cdev.c \
               src/hal/linux/w1_sysfs.c \
               src/hal/sim/sim.c src/hal/sim/sim_config.c \
               src/hal/sim/i2c_sim.c src/hal/sim/spi_sim.c \
               src/hal/sim/gpio_sim.c src/hal/sim/uart_sim.c \
               src/hal/sim/emu_bme280.c src/hal/sim/emu_sht3x.c \
               src/hal/sim/emu_mcp3008.c src/hal/sim/emu_ds18b20.c \
               src/hal/sim/emu_modbus.c
