# src/cmd/module.mk - the programs: argument parsing and wiring only.
NANO_PROGS += nanod
nanod_SRCS := src/cmd/nanod.c
NANO_PROGS += nanoctl
nanoctl_SRCS := src/cmd/nanoctl.c src/cmd/ctl.c src/cmd/ctl_hal.c \
                src/cmd/ctl_sandbox.c src/cmd/ctl_service.c
