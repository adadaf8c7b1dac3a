# config/profiles/debug.mk - the test build: everything in, AddressSanitizer and
# UndefinedBehaviorSanitizer on, assertions on, no optimisation that hides bugs.
NANO_WITH_API    := 1
NANO_WITH_RULES  := 1
NANO_WITH_WASM   := 1
OPT_CFLAGS       := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
                    -fno-sanitize-recover=undefined -DNANO_DEBUG=1
OPT_LDFLAGS      := -fsanitize=address,undefined
