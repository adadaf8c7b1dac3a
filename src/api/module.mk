# src/api/module.mk - Nano's own HTTP/1.1 server and client on the event loop,
# the router, and the blocking client nanoctl uses.  Depends on core/ only:
# other modules register their routes here, never the other way round.
NANO_SRCS-$(NANO_WITH_API) += src/api/http_parse.c src/api/http_server.c \
                              src/api/router.c src/api/http_client.c \
                              src/api/http_call.c

# The daemon's control API: routes over the server (these know the modules
# they expose; nothing in core/ knows them).
NANO_SRCS-$(NANO_WITH_API) += src/api/api.c src/api/h_core.c src/api/h_devices.c \
                              src/api/h_hal.c

# WebAssembly services' routes, only where the sandbox is built.
ifeq ($(NANO_WITH_WASM),1)
NANO_SRCS-$(NANO_WITH_API) += src/api/h_sandbox.c
endif

# Service routes exist when both the API and the rule engine are built.
API_SERVICES-$(NANO_WITH_RULES) := src/api/h_services.c
NANO_SRCS-$(NANO_WITH_API) += $(API_SERVICES-1)
