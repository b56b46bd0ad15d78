# Makefile — builds libbpfrt, the bpfrt tools, the tests, benchmarks and fuzzers.
#
#   make demo    install what is missing, build, run the demo
#   make test    install what is missing, build, run every test
#   make bench   benchmarks, side by side
#   make fuzz    libFuzzer targets under ASan/UBSan (FUZZ_SECONDS each)
#   make asan    the test suite under ASan + UBSan

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -fPIC -fvisibility=hidden \
           -Iinclude -Isrc -MMD -MP
LDLIBS  += -lpthread

LIB_SRCS  := $(sort $(wildcard src/*/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_SRCS  := $(sort $(wildcard cli/*.c))
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)
TEST_SRCS := $(sort $(wildcard tests/unit/*.c))
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o)

LIB_A   := $(BUILD)/libbpfrt.a
LIB_SO  := $(BUILD)/libbpfrt.so
TOOLS   := $(BUILD)/bpfrt $(BUILD)/bpfrt_plugin
TESTBIN := $(BUILD)/bpfrt_tests $(BUILD)/kdiff

.PHONY: all deps demo test check bench fuzz asan clean
all: $(LIB_A) $(LIB_SO) $(TOOLS)

deps:
	@scripts/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(LIB_SO): $(LIB_OBJS)
	$(CC) $(LDFLAGS) -shared -o $@ $^ $(LDLIBS)

$(BUILD)/bpfrt: $(CLI_OBJS) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bpfrt_plugin: $(BUILD)/tools/bpfrt_plugin.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Tests link the static library and may reach internal (hidden) symbols.
$(BUILD)/bpfrt_tests: $(TEST_OBJS) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/kdiff: $(BUILD)/tests/kdiff/kdiff.o $(BUILD)/tests/kdiff/gen.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

demo: deps all
	@scripts/demo.sh

test: deps all $(TESTBIN)
	@scripts/test.sh

check: test

bench: deps
	@$(MAKE) --no-print-directory BUILD=build/bench OPT=-O3 all build/bench/bench
	@build/bench/bench

$(BUILD)/bench: $(BUILD)/bench/bench.o $(BUILD)/bench/switch_interp.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan OPT=-O1 \
		CFLAGS_EXTRA= CC=clang \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		LDFLAGS="-fsanitize=address,undefined" all build/asan/bpfrt_tests build/asan/kdiff
	@BUILD=build/asan scripts/test.sh

fuzz: deps
	@scripts/fuzz.sh

clean:
	rm -rf $(BUILD) build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
