# src/rules/module.mk - the rule engine: language (lex, parse, compile), VM,
# windows, templates, the service state machine (pure), and the glue that
# binds services to the loop, the bus and the device manager (engine.c).
NANO_SRCS-$(NANO_WITH_RULES) += src/rules/lex.c src/rules/parse.c \
                                src/rules/compile.c src/rules/vm.c \
                                src/rules/window.c src/rules/jscan.c \
                                src/rules/tmpl.c src/rules/service.c
NANO_SRCS-$(NANO_WITH_RULES) += src/rules/engine.c
