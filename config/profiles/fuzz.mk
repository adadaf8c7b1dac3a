# config/profiles/fuzz.mk - libFuzzer targets (clang): library objects carry
# coverage and sanitizer instrumentation; tests/fuzz/fuzz_*.c supply the entry.
CC               := clang
NANO_WITH_API    := 1
NANO_WITH_RULES  := 1
NANO_WITH_WASM   := 1
OPT_CFLAGS       := -O1 -g -fno-omit-frame-pointer \
                    -fsanitize=fuzzer-no-link,address,undefined -DNANO_DEBUG=1 \
                    -DNANO_FUZZING=1
OPT_LDFLAGS      := -fsanitize=fuzzer,address,undefined
