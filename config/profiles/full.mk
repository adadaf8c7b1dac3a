# config/profiles/full.mk - the default: every feature, every driver, -O2 with
# debug info (strip at install time).  Raspberry Pi class devices and x86 gateways.
NANO_WITH_API    := 1
NANO_WITH_RULES  := 1
NANO_WITH_WASM   := 1
OPT_CFLAGS       := -O2 -g
