# Makefile - Nano, the only build entry point (non-recursive GNU make).
#
#   make                      full profile: build/full/{nanod,nanoctl,nano-wasm}
#   make PROFILE=tiny         size-optimised router build
#   make PROFILE=debug tests  ASan+UBSan build of everything plus the unit tests
#   make test                 the whole suite (tests/run.sh), ends "N passed, N failed"
#   make fuzz FUZZ_SECONDS=20 every libFuzzer target for a bounded time (clang)
#   make size                 stripped sizes per profile and per module
#
# Each src/<module>/module.mk adds its sources to NANO_SRCS-1 (compiled in) or
# NANO_SRCS-0 (compiled out) according to its NANO_WITH_* switch, its libraries to
# NANO_LIBS-1, and its programs to NANO_PROGS (with <prog>_SRCS).  Library objects
# go into build/<profile>/libnano.a; programs and tests link against it, so a
# program only carries the objects it references.

PROFILE ?= full
include config/profiles/$(PROFILE).mk
include config/defaults.mk
-include config/local.mk

BUILD      ?= build/$(PROFILE)
CC         ?= cc
AR         ?= ar
PKG_CONFIG ?= pkg-config
PYTHON     ?= python3
VERSION    := $(shell cat VERSION)

NANO_FEATURES := API RULES WASM MODBUS GPIOD

WARN_CFLAGS := -std=c11 -Wall -Wextra -Wundef -Wshadow -Wvla \
               -Wstrict-prototypes -Wmissing-prototypes -Wimplicit-fallthrough \
               -Wno-unused-parameter \
               -Werror=implicit-function-declaration -Werror=format-security \
               -Werror=incompatible-pointer-types -Werror=int-conversion
NANO_CPPFLAGS := -D_GNU_SOURCE -Isrc -I$(BUILD)/gen -Itests
# -fno-math-errno lets sqrt/fabs/isnan compile to instructions; with
# --as-needed a program only maps libm if it really calls into it (the
# shared libm costs ~600 KB of resident memory, see bench/footprint).
ALL_CFLAGS   = $(NANO_CPPFLAGS) $(WARN_CFLAGS) -fno-math-errno $(OPT_CFLAGS) \
               $(CFLAGS) -MMD -MP
ALL_LDFLAGS  = -Wl,--as-needed $(OPT_LDFLAGS) $(LDFLAGS)

NANO_SRCS-1 :=
NANO_SRCS-0 :=
NANO_LIBS-1 :=
NANO_PROGS  :=
ALL_DRIVERS :=
UNIT_EXCLUDE :=   # patterns of tests/unit, tests/tools and tests/fuzz sources
TOOL_EXCLUDE :=   # that a module.mk leaves out when its feature is off
FUZZ_EXCLUDE :=
include $(sort $(wildcard src/*/module.mk src/*/*/module.mk))

DRIVER_SRCS := $(patsubst %,src/drivers/%.c,$(DRIVERS))
LIB_SRCS    := $(NANO_SRCS-1) $(DRIVER_SRCS)
LIB_OBJS    := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIBNANO     := $(BUILD)/libnano.a
# libm is linked statically: the few functions used cost a few KB, where
# mapping the shared libm costs ~600 KB of resident memory (ifunc tables).
LIBM        ?= -lm
LIBS        := $(NANO_LIBS-1) $(LIBM)

GEN := $(BUILD)/gen/nano_config.h $(BUILD)/gen/drivers.def

PROG_BINS := $(NANO_PROGS:%=$(BUILD)/%)

.PHONY: all tests test fuzz fuzz-build size clean check-config-tools matrix
all: $(PROG_BINS)

$(LIBNANO): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

define prog_rule
$(BUILD)/$(1): $$($(1)_SRCS:%.c=$(BUILD)/%.o) $(LIBNANO)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$^ $$(LIBS) $$($(1)_LIBS)
ifeq ($(STRIP_BINARIES),1)
	strip --strip-all $$@
endif
endef
$(foreach p,$(NANO_PROGS),$(eval $(call prog_rule,$(p))))

$(BUILD)/%.o: %.c $(GEN)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# ---- generated headers --------------------------------------------------------
$(BUILD)/gen/nano_config.h: config/profiles/$(PROFILE).mk config/defaults.mk VERSION Makefile
	@mkdir -p $(@D)
	@{ echo '/* generated from config/profiles/$(PROFILE).mk - do not edit */'; \
	   echo '#define NANO_VERSION "$(VERSION)"'; \
	   echo '#define NANO_PROFILE "$(PROFILE)"'; \
	   $(foreach f,$(NANO_FEATURES),echo '#define NANO_WITH_$(f) $(if $(filter 1,$(NANO_WITH_$(f))),1,0)';) \
	   echo '#define NANO_DRIVERS_ALL "$(strip $(ALL_DRIVERS))"'; \
	 } > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/drivers.def: config/profiles/$(PROFILE).mk config/defaults.mk Makefile $(wildcard src/drivers/module.mk)
	@mkdir -p $(@D)
	@for d in $(DRIVERS); do echo "NANO_DRIVER($$d)"; done > $@.tmp && mv $@.tmp $@

# ---- unit tests -----------------------------------------------------------------
# tests/unit/<module>/test_*.c, one binary each, linked with libnano.a and the
# shared test helpers in tests/support/.
UNIT_SRCS    := $(filter-out $(UNIT_EXCLUDE),$(sort $(wildcard tests/unit/*/test_*.c)))
SUPPORT_SRCS := $(wildcard tests/support/*.c)
SUPPORT_OBJS := $(SUPPORT_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS    := $(UNIT_SRCS:%.c=$(BUILD)/%)
TOOL_SRCS    := $(filter-out $(TOOL_EXCLUDE),$(sort $(wildcard tests/tools/*.c)))
TOOL_BINS    := $(TOOL_SRCS:%.c=$(BUILD)/%)

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(SUPPORT_OBJS) $(LIBNANO)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(SUPPORT_OBJS) $(LIBNANO)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $(TOOL_LIBS)

TOOL_LIBS ?=
tests: $(PROG_BINS) $(UNIT_BINS) $(TOOL_BINS)

test:
	bash tests/run.sh

# ---- fuzzing --------------------------------------------------------------------
FUZZ_SRCS := $(filter-out $(FUZZ_EXCLUDE),$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_SECONDS ?= 20
fuzz-build:
	$(MAKE) PROFILE=fuzz fuzz-bins
fuzz-bins: $(FUZZ_SRCS:%.c=$(BUILD)/%)
$(BUILD)/tests/fuzz/%: $(BUILD)/tests/fuzz/%.o $(LIBNANO)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
fuzz: fuzz-build
	bash tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS)

# ---- reports --------------------------------------------------------------------
size:
	bash tools/size_report.sh

matrix:
	bash tests/profiles/matrix.sh

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(UNIT_SRCS:%.c=$(BUILD)/%.d) $(SUPPORT_OBJS:.o=.d)
-include $(TOOL_SRCS:%.c=$(BUILD)/%.d) $(FUZZ_SRCS:%.c=$(BUILD)/%.d)
-include $(foreach p,$(NANO_PROGS),$($(p)_SRCS:%.c=$(BUILD)/%.d))
