# config/defaults.mk - every feature switch and its default.
#
# A profile (config/profiles/*.mk) sets what it needs; anything it leaves unset
# takes the value here.  Switches are always 0 or 1: the build turns each into
# `#define NANO_WITH_X 0|1` in gen/nano_config.h, and -Wundef makes a mistyped
# switch a compile error.

NANO_WITH_API     ?= 1   # JSON REST API on a Unix socket (nanoctl needs it)
NANO_WITH_RULES   ?= 1   # local rule engine and services
NANO_WITH_WASM    ?= 1   # WebAssembly engine and sandboxed services
NANO_WITH_MODBUS  ?= 1   # modbus driver (links libmodbus)
NANO_WITH_GPIOD   ?= 0   # GPIO through libgpiod (0: the kernel uAPI directly)

# Device drivers compiled in (src/drivers/<name>.c each).
DRIVERS           ?= $(ALL_DRIVERS)  # every driver in src/drivers/module.mk

# Build flavour; profiles override.
OPT_CFLAGS        ?= -O2 -g
OPT_LDFLAGS       ?=
STRIP_BINARIES    ?= 0
