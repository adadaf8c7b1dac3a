# src/port/module.mk - the operating-system layer (Linux today).
NANO_SRCS-1 += src/port/paths.c src/port/proc.c
