# NetCompute build. Sources are found by folder, so adding a module never
# means editing this file:
#   common/*.c     -> libcommon.a   (everything shared)
#   master/*.c     -> bin/master    (with dashboard/*.c)
#   worker/*.c     -> bin/worker
#   tests/unit/test_*.c -> one cmocka binary each, linked against the archives
#   tests/fuzz/fuzz_*.c -> one libFuzzer binary each (clang)
#
# make            release build into bin/
# make SAN=1      ASan/UBSan build into build/san/bin/
# make test       installs test deps, builds with sanitizers, runs every test
# make demo       installs deps, builds, prepares data, runs a real cluster
# make bench      benchmark table against liblinear-train / liblinear-predict
# make bench-tree star against reduction tree behind shaped links (root: netns)
# make fuzz       runs each fuzz target for FUZZ_SECONDS
# make soak       chaos soak for DURATION seconds (scripts/soak.sh)

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter
CPPFLAGS = -I. -MMD -MP
LDLIBS   = -lzmq -llinear -lcsv -ljson-c -lwebsockets -lsqlite3 -lpthread -lm

ifeq ($(SAN),1)
BUILD   := build/san
BIN     := build/san/bin
CFLAGS   = -O1 -g -fno-omit-frame-pointer
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all
else
BUILD   := build/rel
BIN     := bin
SANFLAGS =
endif

COMMON_SRC := $(wildcard common/*.c)
MASTER_SRC := $(wildcard master/*.c)
WORKER_SRC := $(wildcard worker/*.c)
DASH_SRC   := $(wildcard dashboard/*.c)
TOOL_SRC   := $(wildcard scripts/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
TTOOL_SRC  := $(wildcard tests/tools/*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

COMMON_OBJ := $(call obj,$(COMMON_SRC))
MASTER_OBJ := $(call obj,$(filter-out master/main.c,$(MASTER_SRC)))
WORKER_OBJ := $(call obj,$(filter-out worker/main.c,$(WORKER_SRC)))
DASH_OBJ   := $(call obj,$(DASH_SRC))
UNIT_BIN   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOL_BIN   := $(patsubst scripts/%.c,$(BIN)/%,$(TOOL_SRC))
TTOOL_BIN  := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TTOOL_SRC))
LIBS_A     := $(BUILD)/libmaster.a $(BUILD)/libdashboard.a $(BUILD)/libworker.a $(BUILD)/libcommon.a

.SECONDARY:
.PHONY: all deps test unit demo bench bench-tree fuzz fuzz-build format lint tidy clean data data-full soak screenshots
all: $(BIN)/master $(BIN)/worker $(TOOL_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) -c $< -o $@

$(BUILD)/libcommon.a: $(COMMON_OBJ)
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^
$(BUILD)/libmaster.a: $(MASTER_OBJ) $(BUILD)/empty.o
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^
$(BUILD)/libworker.a: $(WORKER_OBJ) $(BUILD)/empty.o
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^
$(BUILD)/libdashboard.a: $(DASH_OBJ) $(BUILD)/empty.o
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^
$(BUILD)/empty.o:
	@mkdir -p $(dir $@); printf 'typedef int netcompute_empty_unit;\n' > $(BUILD)/empty.c
	$(CC) -c $(BUILD)/empty.c -o $@

$(BIN)/master: $(BUILD)/master/main.o $(LIBS_A)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $< $(LIBS_A) $(LDLIBS)
$(BIN)/worker: $(BUILD)/worker/main.o $(LIBS_A)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $< $(LIBS_A) $(LDLIBS)
$(BIN)/%: $(BUILD)/scripts/%.o $(LIBS_A)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $< $(LIBS_A) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIBS_A)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $< $(LIBS_A) $(LDLIBS) -lcmocka

$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(LIBS_A)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $< $(LIBS_A) $(LDLIBS)

# Fuzz targets: clang, libFuzzer + ASan/UBSan. The library sources are
# compiled once (fuzzer-no-link) and each target links them.
FUZZ_DIR := build/fuzz
FUZZ_LIB_SRC := $(COMMON_SRC) $(filter-out master/main.c,$(MASTER_SRC)) $(DASH_SRC) \
                $(filter-out worker/main.c,$(WORKER_SRC))
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_LIB_SRC))
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRC))
FUZZ_FLAGS = -O1 -g -fsanitize=address,undefined
FUZZ_SECONDS ?= 60
fuzz-build: $(FUZZ_BIN)
$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(WARN) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(FUZZ_DIR)/libfuzzlib.a: $(FUZZ_LIB_OBJ)
	@rm -f $@; ar rcs $@ $^
$(FUZZ_DIR)/%: tests/fuzz/%.c $(FUZZ_DIR)/libfuzzlib.a
	@mkdir -p $(dir $@)
	clang $(WARN) -I. $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_DIR)/libfuzzlib.a $(LDLIBS)
fuzz: fuzz-build
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build/fuzz/corpus-$$n; \
	  echo "== $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build/fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; done

unit: $(UNIT_BIN) $(TTOOL_BIN)

deps:
	@scripts/deps.sh build

test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory SAN=1 all unit
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory fuzz-build
	@tests/run.sh

demo:
	@scripts/deps.sh demo
	@$(MAKE) --no-print-directory -s all
	@scripts/demo.sh

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory all
	@scripts/bench.sh

# Star against reduction tree behind shaped links (network namespaces: root).
bench-tree:
	@$(MAKE) --no-print-directory all
	@scripts/bench/tree.sh

# The README's dashboard screenshots (docs/screenshots/*.png), from a real cluster in chromium.
screenshots:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory -s all
	@scripts/screenshots.sh

# Chaos soak (not part of test): DURATION=seconds (600), SAN=1 for the ASan build.
soak:
	@scripts/deps.sh soak
	@$(MAKE) --no-print-directory all
	@DURATION=$(or $(DURATION),600) SAN=$(SAN) scripts/soak.sh

data: all
	@scripts/prepare-data.sh

data-full: all
	@FULL=1 scripts/prepare-data.sh

# Every C file and header we wrote (not the fuzz corpora, not node_modules).
FORMAT_SRC := $(COMMON_SRC) $(MASTER_SRC) $(WORKER_SRC) $(DASH_SRC) $(TOOL_SRC) $(TTOOL_SRC) \
              $(UNIT_SRC) $(FUZZ_SRC) $(wildcard common/*.h master/*.h worker/*.h dashboard/*.h \
              tests/unit/*.h tests/oracle/*.h)
format:
	clang-format -i $(FORMAT_SRC)

# lint: what tests/run.sh checks besides the tests: the sources are formatted
# as .clang-format says and cppcheck finds nothing. (The compilers' warnings
# are errors in every build: gcc in all/SAN=1, clang in fuzz-build.)
lint:
	@clang-format --dry-run --Werror $(FORMAT_SRC)
	@cppcheck --quiet --enable=warning,performance --error-exitcode=1 -I. common master worker dashboard
	@echo "lint: formatted as .clang-format says, cppcheck clean"

# tidy: clang-tidy's bug-prone and analyzer checks (slow, advisory; not in make test).
tidy:
	clang-tidy --checks='-*,bugprone-*,clang-analyzer-*,-clang-analyzer-security.insecureAPI.*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier' \
	  $(COMMON_SRC) $(MASTER_SRC) $(WORKER_SRC) $(DASH_SRC) -- $(WARN) -I.

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
