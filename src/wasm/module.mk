# SPDX-License-Identifier: MIT
#
# src/wasm/module.mk - the WebAssembly engine: a standalone library (libc
# and libm only; it includes nothing else from Nano), plus the nano-wasm
# command-line tool.  NANO_WITH_WASM=0 (the tiny profile) leaves all of it,
# its unit tests and the spec runner out of the build.
WASM_SRCS := src/wasm/decode.c src/wasm/validate.c src/wasm/compile.c \
             src/wasm/interp.c src/wasm/instance.c src/wasm/host.c \
             src/wasm/module.c src/wasm/dump.c
NANO_SRCS-$(NANO_WITH_WASM) += $(WASM_SRCS)

ifeq ($(NANO_WITH_WASM),1)
NANO_PROGS      += nano-wasm
nano-wasm_SRCS  := src/cmd/nano_wasm.c
else
UNIT_EXCLUDE    += tests/unit/wasm/%
TOOL_EXCLUDE    += tests/tools/wasm_spec.c
FUZZ_EXCLUDE    += tests/fuzz/fuzz_wasm_%
endif
