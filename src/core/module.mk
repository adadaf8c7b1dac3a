# src/core/module.mk - the always-on core: no knowledge of drivers, rules or
# protocols.  Depends on libc and libyaml only.
NANO_SRCS-1 += src/core/err.c src/core/mem.c src/core/buf.c src/core/time.c \
               src/core/loop_epoll.c src/core/json.c \
               src/core/value.c src/core/msg.c src/core/topic.c src/core/bus.c \
               src/core/log.c src/core/metrics.c src/core/state.c \
               src/core/overlay.c \
               src/core/base64.c
NANO_SRCS-1 += src/core/cfg.c src/core/cfg_json.c src/core/cfg_yaml.c \
               src/core/cfg_schema.c
NANO_LIBS-1 += -lyaml -lpthread
