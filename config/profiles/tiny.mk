# config/profiles/tiny.mk - OpenWrt routers with 8-16 MB of flash.
# Keeps the core, the Unix-socket API and the rule engine; drops the WebAssembly
# engine and libmodbus.  Optimised for size, dead code removed, LTO, stripped.
NANO_WITH_API    := 1
NANO_WITH_RULES  := 1
NANO_WITH_WASM   := 0
NANO_WITH_MODBUS := 0
OPT_CFLAGS       := -Os -g0 -ffunction-sections -fdata-sections -flto
OPT_LDFLAGS      := -Wl,--gc-sections -flto=auto -Os
STRIP_BINARIES   := 1
# Drivers for what routers and small boards actually carry (no SPI ADC,
# no Modbus); sim keeps the demo config working.
DRIVERS          := sim ds18b20 bme280 sht3x gpio_in
