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
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -fPIC -fvisibility=hidden \
           -Iinclude -Isrc -MMD -MP
override LDLIBS += -lpthread
# The object loader (src/loader) reads ELF with libelf and BTF with libbpf.
override LDLIBS += -lelf -lbpf -lz

LIB_SRCS  := $(sort $(wildcard src/*/*.c src/*/*/*.c))
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
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lZydis -lpcap

$(BUILD)/bpfrt_plugin: $(BUILD)/tools/bpfrt_plugin.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Tests link the static library and may reach internal (hidden) symbols.
$(BUILD)/bpfrt_tests: $(TEST_OBJS) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# eBPF objects the loader's tests open: tests/bpf/NAME.bpf.c -> $(BUILD)/tests/bpf/NAME.o.
TEST_BPF_CC     ?= clang-19
TEST_BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 -Wall -Wextra -Werror -Itests/bpf
TEST_BPF_OBJS   := $(patsubst tests/bpf/%.bpf.c,$(BUILD)/tests/bpf/%.o,$(wildcard tests/bpf/*.bpf.c))

$(BUILD)/tests/bpf/%.o: tests/bpf/%.bpf.c $(wildcard tests/bpf/*.h)
	@mkdir -p $(@D)
	$(TEST_BPF_CC) $(TEST_BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpfrt_tests: | $(TEST_BPF_OBJS)

# The bench's kernel variants, which bpfrt's verifier must accept (tests/unit/test_may_goto.c).
TEST_KWL_OBJS := $(patsubst bench/workloads/kernel/%.c,$(BUILD)/tests/kwl/%.o,$(wildcard bench/workloads/kernel/*.c))

$(BUILD)/tests/kwl/%.o: bench/workloads/kernel/%.c $(wildcard bench/workloads/kernel/*.h bench/workloads/*.h)
	@mkdir -p $(@D)
	$(TEST_BPF_CC) $(BENCH_BPF_CFLAGS) -Wall -Wextra -Werror -c $< -o $@

$(BUILD)/bpfrt_tests: | $(TEST_KWL_OBJS)

$(BUILD)/kdiff: $(BUILD)/tests/kdiff/kdiff.o $(BUILD)/tests/kdiff/gen.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The XDP examples (docs/examples.md): examples/NAME/NAME.bpf.c -> $(BUILD)/examples/NAME/NAME.o,
# their sample captures from examples/captures.py, and the replay tools over one capture:
# kreplay in the kernel, breplay in bpfrt through the library (tests/kxdp/replay.h).
EXAMPLES_CC     ?= clang-19
EXAMPLES_CFLAGS := -O2 -g -target bpf -mcpu=v3 -Wall -Wextra -Werror \
		   -I/usr/include/$(shell gcc -print-multiarch 2>/dev/null || $(CC) -print-multiarch)
EXAMPLE_OBJS    := $(patsubst %.bpf.c,$(BUILD)/%.o,$(wildcard examples/*/*.bpf.c))
EXAMPLE_PCAPS   := $(BUILD)/examples/captures.stamp

.PHONY: examples
examples: $(EXAMPLE_OBJS) $(EXAMPLE_PCAPS) $(BUILD)/kreplay $(BUILD)/breplay

$(BUILD)/examples/%.o: examples/%.bpf.c $(wildcard examples/common/*.h)
	@mkdir -p $(@D)
	$(EXAMPLES_CC) $(EXAMPLES_CFLAGS) -c $< -o $@

$(EXAMPLE_PCAPS): examples/captures.py
	@mkdir -p $(@D)
	python3 $< $(@D)
	@touch $@

$(BUILD)/kreplay: $(BUILD)/tests/kxdp/replay.o $(BUILD)/tests/kxdp/kernel.o
	$(CC) $(LDFLAGS) -o $@ $^ -lbpf -lelf -lz -lpcap

$(BUILD)/breplay: $(BUILD)/tests/kxdp/replay.o $(BUILD)/tests/kxdp/bpfrt.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lpcap

demo: examples
test: examples

demo: deps all
	@scripts/demo.sh

test: deps all $(TESTBIN)
	@scripts/test.sh

check: test

bench: deps
	@$(MAKE) --no-print-directory BUILD=build/bench OPT=-O3 build/bench/bpfrt_bench
	@build/bench/bpfrt_bench

# Bench workloads (bench/workloads/*.c) are compiled twice: for eBPF, where
# extract.sh checks the object needs no loader and turns its one function
# into bytes that workloads.c embeds, and natively, as the reference.
# Kernel variants (bench/workloads/kernel/*.c), for the kernel's verifier,
# are compiled for eBPF only.
BENCH_CC         ?= clang-19
BENCH_BPF_CFLAGS := -O2 -target bpf -mcpu=v3 -fno-jump-tables
BENCH_NAT_CFLAGS := -O2
BENCH_WARN       := -Wall -Wextra -Werror
BENCH_WL     := $(basename $(notdir $(wildcard bench/workloads/*.c)))
BENCH_KWL    := $(basename $(notdir $(wildcard bench/workloads/kernel/*.c)))
BENCH_WLDIR  := $(BUILD)/bench/workloads
BENCH_WLHDRS := $(wildcard bench/workloads/*.h)
BENCH_INCS   := $(BENCH_WL:%=$(BENCH_WLDIR)/%.bpf.inc) \
		$(BENCH_KWL:%=$(BENCH_WLDIR)/kernel/%.bpf.inc)
BENCH_OBJS   := $(patsubst %.c,$(BUILD)/%.o,$(wildcard bench/*.c))
BENCH_NATIVE := $(BENCH_WL:%=$(BENCH_WLDIR)/%.native.o)

$(BUILD)/bpfrt_bench: $(BENCH_OBJS) $(BENCH_NATIVE) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lm

$(BUILD)/bench/workloads.o: $(BENCH_INCS)
$(BENCH_OBJS): CFLAGS += -I$(BUILD)/bench
$(BUILD)/bench/bench.o: CFLAGS += -DBENCH_HOST_CC='"$(CC) $(OPT)"' \
	-DBENCH_BPF_CC='"$(BENCH_CC) $(BENCH_BPF_CFLAGS)"' \
	-DBENCH_NATIVE_CC='"$(BENCH_CC) $(BENCH_NAT_CFLAGS)"'

$(BENCH_WLDIR)/%.bpf.o: bench/workloads/%.c $(BENCH_WLHDRS)
	@mkdir -p $(@D)
	$(BENCH_CC) $(BENCH_BPF_CFLAGS) $(BENCH_WARN) -c $< -o $@

$(BENCH_WLDIR)/kernel/%.bpf.o: bench/workloads/kernel/%.c $(BENCH_WLHDRS) \
		$(wildcard bench/workloads/kernel/*.h)
	@mkdir -p $(@D)
	$(BENCH_CC) $(BENCH_BPF_CFLAGS) $(BENCH_WARN) -c $< -o $@

$(BENCH_WLDIR)/%.bpf.inc: $(BENCH_WLDIR)/%.bpf.o bench/extract.sh
	bench/extract.sh $< $@

$(BENCH_WLDIR)/%.native.o: bench/workloads/%.c $(BENCH_WLHDRS)
	@mkdir -p $(@D)
	$(BENCH_CC) $(BENCH_NAT_CFLAGS) $(BENCH_WARN) -c $< -o $@

.SECONDARY: $(BENCH_WL:%=$(BENCH_WLDIR)/%.bpf.o) \
	$(BENCH_KWL:%=$(BENCH_WLDIR)/kernel/%.bpf.o)

asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan OPT=-O1 \
		CFLAGS_EXTRA= CC=clang \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		LDFLAGS="-fsanitize=address,undefined" all examples build/asan/bpfrt_tests build/asan/kdiff
	@BUILD=build/asan scripts/test.sh

fuzz: deps
	@scripts/fuzz.sh

clean:
	rm -rf $(BUILD) build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
