# src/cmd/module.mk - the programs: argument parsing and wiring only.
NANO_PROGS += nanod
nanod_SRCS := src/cmd/nanod.c
# nanoctl joins once the blocking HTTP client lands (src/api/http_client.c).
