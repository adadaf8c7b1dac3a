# src/sandbox/module.mk - WebAssembly modules as Nano services: the host
# interface, the module manager, delivery, faults and persistence.  Depends
# on core/, wasm/ (the engine stays standalone: it knows nothing of this)
# and hal/pins.h for modules' set_pin.  NANO_WITH_WASM=0 (the tiny profile) leaves all of it, its unit
# tests and its API routes out; sandbox.h then gives the daemon, the API
# and nanoctl stubs that answer "not in this build".
NANO_SRCS-$(NANO_WITH_WASM) += src/sandbox/abi.c src/sandbox/settings.c \
                               src/sandbox/host.c src/sandbox/kv.c \
                               src/sandbox/run.c src/sandbox/sandbox.c

ifneq ($(NANO_WITH_WASM),1)
UNIT_EXCLUDE += tests/unit/sandbox/%
endif
ifneq ($(NANO_WITH_WASM),1)
TOOL_EXCLUDE += tests/tools/bench_sandbox.c
endif
ifneq ($(NANO_WITH_WASM),1)
FUZZ_EXCLUDE += tests/fuzz/fuzz_sandbox.c
endif
