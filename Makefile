# DRMM: build, test and benchmark.  `make` builds bin/, `make test` runs every
# test, `make test-san` runs them under ASan+UBSan, `make bench` runs the
# benchmarks, `make pipeline DATASET=...` runs the experiments.
#
# `make install [PREFIX=/usr/local] [DESTDIR=]` builds portable binaries
# and installs them with their man pages, bash completions and the
# architecture files; `make test TESTS="test_foo ..."` runs only those tests.
#
# The first thing every target does is check the Debian packages the project
# needs (scripts/deps.sh): as root it installs what is missing, otherwise it
# prints the apt-get command to run.

VERSION := 0.1.0

# The user's CFLAGS (optimisation, debugging: `make CFLAGS=-O0`) are kept
# apart from the flags the project cannot build without (PROJECT_CFLAGS:
# language standard, warnings; the include paths go by layer, INC_* below); ALL_CFLAGS, what the rules
# use, is both, the user's last.  SAN=1 builds everything under
# AddressSanitizer + UndefinedBehaviorSanitizer into a separate tree, at -O1
# unless CFLAGS says otherwise.
CC      ?= cc
PREFIX  ?= /usr/local
# Where `train --arch NAME` looks for NAME.arch when there is no such file:
# the repository's archs/ for local builds, the installed copies for
# installed ones.
ARCH_DIR := archs
ifeq ($(SAN),1)
OPT     ?= -O1 -march=native
BUILD   := build-san
SAN_CFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
BIN     := $(BUILD)/bin
else ifeq ($(PORTABLE),1)
# make install: binaries that run on any x86-64 (or whatever CC targets by
# default), not only on CPUs like the build machine's; OpenBLAS picks its
# kernel at run time either way (src/run/blas_kernel.c).
OPT     ?= -O3
BUILD   := build-portable
SAN_CFLAGS :=
BIN     := $(BUILD)/bin
ARCH_DIR := $(PREFIX)/share/drmm/archs
else
OPT     ?= -O3 -march=native
BUILD   := build
SAN_CFLAGS :=
BIN     := bin
endif
CFLAGS  ?= $(OPT) -g
PROJECT_CFLAGS := -std=c11 -Wall -Wextra -D_GNU_SOURCE -pthread -DDRMM_ARCH_DIR=\"$(ARCH_DIR)\"
ALL_CFLAGS = $(PROJECT_CFLAGS) $(SAN_CFLAGS) $(CFLAGS)
# Include paths by layer: a file sees its own layer's headers and those of
# the layers below it, so an include that goes the wrong way (the engine
# reaching into the store, analysis into the training loop) fails to compile.
# Programs, tests, benchmarks and generated files see every layer.
INC_core     := -Isrc/core
INC_engine   := $(INC_core) -Isrc/engine
INC_io       := $(INC_core) -Isrc/io
INC_store    := $(INC_io) -Isrc/store
INC_run      := $(INC_core) -Isrc/engine -Isrc/io -Isrc/store -Isrc/run
INC_analysis := $(INC_store) -Ianalysis
INC_render   := $(INC_io) -Isrc/render
INC_all      := $(INC_run) -Ianalysis -Isrc/render
layer_inc = $(strip $(if $(filter src/core/%,$1),$(INC_core),$(if $(filter src/engine/%,$1),$(INC_engine),\
  $(if $(filter src/io/%,$1),$(INC_io),$(if $(filter src/store/%,$1),$(INC_store),$(if $(filter src/run/%,$1),$(INC_run),\
  $(if $(filter analysis/%,$1),$(INC_analysis),$(if $(filter src/render/%,$1),$(INC_render),\
  $(INC_all)))))))))
LDLIBS  := -lopenblas -llapacke -lsqlite3 -lpng -lcairo -lmatio -lz -lpthread -lm

# Library: every .c under src/{core,engine,store,io,run,render}/ and analysis/ (the programs' mains are
# src/programs/*.c).
LIB_SRC  := $(wildcard src/core/*.c src/engine/*.c src/store/*.c src/io/*.c src/run/*.c src/render/*.c) \
            $(wildcard analysis/*.c)
LIB_OBJ  := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC)) $(BUILD)/obj/version.o $(BUILD)/obj/schema_sql.o \
            $(BUILD)/obj/report_sql_files.o
LIB      := $(BUILD)/libdrmm.a

PROG_SRC := $(wildcard src/programs/*.c)
PROGS    := $(patsubst src/programs/%.c,$(BIN)/%,$(PROG_SRC))

# bin/train-mpi: train over MPI (data-parallel, src/mpi/), compiled with
# mpicc, built when mpicc exists (MPI=0: never).  scripts/deps.sh installs
# Open MPI as root (else prints the command); on a machine where that first
# make installed it, the next make builds bin/train-mpi.
MPICC ?= mpicc
ifneq ($(MPI),0)
HAVE_MPICC := $(shell command -v $(MPICC) 2>/dev/null)
endif
ifneq ($(HAVE_MPICC),)
PROGS    += $(BIN)/train-mpi
endif

TEST_SRC := $(wildcard tests/test_*.c)
TEST_BINS:= $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
# make test TESTS="test_sha256 test_store": only those (names as in tests/,
# with or without tests/ and .c)
# tests/test_*.sh are shell tests, run the same way (test_slurm.sh: the
# pipeline through a one-node Slurm it starts; `make test-slurm` alone).
TESTS    ?=
TEST_SH  := $(wildcard tests/test_*.sh)
TEST_RUN := $(if $(strip $(TESTS)),$(foreach t,$(basename $(notdir $(TESTS))),$(if $(wildcard tests/$(t).sh),tests/$(t).sh,$(BUILD)/tests/$(t))),$(TEST_BINS) $(TEST_SH))
ifneq ($(filter test test-san,$(MAKECMDGOALS)),)
ifneq ($(filter-out $(TEST_BINS) $(TEST_SH),$(TEST_RUN)),)
$(error TESTS: no test $(notdir $(filter-out $(TEST_BINS) $(TEST_SH),$(TEST_RUN))); the tests: $(basename $(notdir $(TEST_BINS) $(TEST_SH))))
endif
endif
BENCH_SRC:= $(wildcard bench/bench_*.c)
BENCHES  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all deps test test-san test-slurm bench clean pipeline install install-files uninstall FORCE
.DEFAULT_GOAL := all

all: $(PROGS)

deps:
	@sh scripts/deps.sh

# version.c carries the version and the git commit the binaries were built
# from; it is rewritten only when that changes.
$(BUILD)/gen/version.c: FORCE | deps
	@mkdir -p $(@D)
	@sh scripts/version.sh $(VERSION) > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
FORCE:

# Objects are rebuilt when the compiler flags change.
$(BUILD)/gen/flags: FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(ALL_CFLAGS)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(BUILD)/obj/version.o: $(BUILD)/gen/version.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(INC_all) -c $< -o $@

# schema_sql.c embeds the store's migrations schema/NNN_name.sql.
SCHEMA := $(sort $(wildcard schema/*.sql))
$(BUILD)/gen/schema_sql.c: $(SCHEMA) scripts/schema_sql.sh
	@mkdir -p $(@D)
	sh scripts/schema_sql.sh $(SCHEMA) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/schema_sql.o: $(BUILD)/gen/schema_sql.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(INC_all) -c $< -o $@

# report_sql_files.c embeds the report's queries analysis/sql/NAME.sql
# (analysis/report_sql.h); made every time and replaced only when it
# changes, so that a file removed or renamed leaves the programs too.
REPORT_SQL := $(sort $(wildcard analysis/sql/*.sql))
$(BUILD)/gen/report_sql_files.c: FORCE
	@mkdir -p $(@D)
	@sh scripts/report_sql.sh $(REPORT_SQL) > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(BUILD)/obj/report_sql_files.o: $(BUILD)/gen/report_sql_files.c analysis/report_sql.h analysis/sqltable.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(INC_all) -c $< -o $@

# make -s layer-inc F=path/file.c: the include paths that file compiles with
# (tests/test_layers.sh checks them)
.PHONY: layer-inc
layer-inc:
	@echo $(call layer_inc,$(F))

$(BUILD)/obj/%.o: %.c $(BUILD)/gen/flags | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(call layer_inc,$<) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BIN)/%: $(BUILD)/obj/src/programs/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/mpi/train.o: src/programs/train.c $(BUILD)/gen/flags | deps
	@mkdir -p $(@D)
	$(MPICC) $(ALL_CFLAGS) $(INC_all) -DDRMM_MPI -Isrc/mpi -MMD -MP -c $< -o $@

$(BUILD)/obj/mpi/mpi_group.o: src/mpi/mpi_group.c $(BUILD)/gen/flags | deps
	@mkdir -p $(@D)
	$(MPICC) $(ALL_CFLAGS) $(INC_all) -Isrc/mpi -MMD -MP -c $< -o $@

$(BIN)/train-mpi: $(BUILD)/obj/mpi/train.o $(BUILD)/obj/mpi/mpi_group.o $(LIB)
	@mkdir -p $(@D)
	$(MPICC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
# test_blas_kernel runs the gradient checks test_ops and test_drmm under each
# BLAS kernel, so `make test TESTS=test_blas_kernel` builds them too.
$(BUILD)/tests/test_blas_kernel: | $(BUILD)/tests/test_ops $(BUILD)/tests/test_drmm

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Tests run with the programs built (some tests drive bin/ as a user would).
# Under the sanitizers, tests/lsan.supp keeps fontconfig's caches (cairo's
# font lookup) out of the leak reports.
test: $(TEST_RUN) $(PROGS)
	@BIN=$(BIN) $(if $(filter 1,$(SAN)),DRMM_SANITIZED=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp) sh tests/run.sh $(TEST_RUN)

test-slurm: $(PROGS)
	@BIN=$(BIN) sh tests/run.sh tests/test_slurm.sh

test-san:
	@$(MAKE) --no-print-directory SAN=1 test

# The PyTorch peer bench_engine runs beside the C side (skipped, with a note,
# when /usr/bin/python3 cannot import torch: apt-get install -y python3-torch).
# It lives outside the repository, shared with the other worktrees.
TORCH_PEER ?= ../shared/bench/torch_convsmall.py

bench: $(BENCHES) $(PROGS)
	@for b in $(BENCHES); do TORCH_PEER='$(TORCH_PEER)' $$b || exit 1; done

clean:
	rm -rf build build-san build-portable build-fuzz bin

# ---- make install: the programs as drmm-NAME (train, report, verify ...
# are too common as command names), a man page each generated from its
# --help (scripts/man.sh), a bash completion each generated from its --help
# (scripts/completion.sh), the architecture files, the report's queries
# (analysis/sql/*.sql, to run with sqlite3: the programs embed their own
# copy), the LICENSE and README.
# Built portable in build-portable/ (PORTABLE=1) whatever the local build.
PROG_NAMES := $(notdir $(PROGS))
I_BIN  = $(DESTDIR)$(PREFIX)/bin
I_MAN  = $(DESTDIR)$(PREFIX)/share/man/man1
I_COMP = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
I_DATA = $(DESTDIR)$(PREFIX)/share/drmm
I_DOC  = $(DESTDIR)$(PREFIX)/share/doc/drmm
install:
	@$(MAKE) --no-print-directory PORTABLE=1 SAN= PREFIX='$(PREFIX)' DESTDIR='$(DESTDIR)' install-files

$(BUILD)/man/drmm-%.1: $(BIN)/% scripts/man.sh
	@mkdir -p $(@D)
	sh scripts/man.sh $< drmm-$* '$(PROG_NAMES)' > $@.tmp && mv $@.tmp $@
$(BUILD)/completion/drmm-%: $(BIN)/% scripts/completion.sh
	@mkdir -p $(@D)
	sh scripts/completion.sh $< drmm-$* > $@.tmp && mv $@.tmp $@

install-files: $(PROGS) $(PROG_NAMES:%=$(BUILD)/man/drmm-%.1) $(PROG_NAMES:%=$(BUILD)/completion/drmm-%)
	install -d '$(I_BIN)' '$(I_MAN)' '$(I_COMP)' '$(I_DATA)/archs' '$(I_DATA)/sql' '$(I_DOC)'
	for p in $(PROG_NAMES); do install -m 755 $(BIN)/$$p '$(I_BIN)'/drmm-$$p || exit 1; done
	install -m 644 $(PROG_NAMES:%=$(BUILD)/man/drmm-%.1) '$(I_MAN)'
	install -m 644 $(PROG_NAMES:%=$(BUILD)/completion/drmm-%) '$(I_COMP)'
	install -m 644 archs/*.arch '$(I_DATA)/archs'
	install -m 644 $(REPORT_SQL) '$(I_DATA)/sql'
	install -m 644 LICENSE README.md '$(I_DOC)'

uninstall:
	rm -f $(foreach p,$(PROG_NAMES),'$(I_BIN)/drmm-$(p)' '$(I_MAN)/drmm-$(p).1' '$(I_COMP)/drmm-$(p)')
	rm -rf '$(I_DATA)' '$(I_DOC)'

-include pipeline/pipeline.mk

.SECONDARY:
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- fuzzing (issue 15): one libFuzzer harness per loader, built with clang
# and ASan+UBSan into build-fuzz/; `make fuzz` generates the seed corpus
# (fuzz/make_seeds.c, the tests' fixtures) and runs each harness for
# FUZZ_SECONDS (default 60).  Crashes are written to build-fuzz/crashes/.
FUZZ_SECONDS ?= 60
FUZZ_NAMES   := idx cifar png csv arch config
FUZZ_BUILD   := build-fuzz
FUZZ_CC      := clang
FUZZ_CFLAGS  := -O1 -g -std=c11 -D_GNU_SOURCE -pthread -fsanitize=address,undefined,fuzzer-no-link \
                -fno-sanitize-recover=undefined -Isrc/core -Isrc/engine -Isrc/store -Isrc/io -Isrc/run -Itests -Ifuzz
FUZZ_LIB_SRC := $(wildcard src/core/*.c src/engine/*.c src/io/*.c) src/run/train_config.c
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(FUZZ_LIB_SRC))
FUZZ_BINS    := $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_NAMES))

.PHONY: fuzz fuzz-build
$(FUZZ_BUILD)/obj/%.o: %.c | deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@
$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS:fuzzer-no-link=fuzzer) -o $@ $< $(FUZZ_LIB_OBJ) $(LDLIBS)
$(FUZZ_BUILD)/make_seeds: fuzz/make_seeds.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(INC_all) -Itests -o $@ $< $(LIB) $(LDLIBS)
fuzz-build: $(FUZZ_BINS) $(FUZZ_BUILD)/make_seeds
fuzz: fuzz-build
	@$(FUZZ_BUILD)/make_seeds $(FUZZ_BUILD)/seeds >/dev/null
	@mkdir -p $(FUZZ_BUILD)/crashes
	@for f in $(FUZZ_NAMES); do \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$f; \
	    echo "fuzz_$$f: $(FUZZ_SECONDS) s"; \
	    TMPDIR=$${FUZZ_TMPDIR:-$$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp )} $(FUZZ_BUILD)/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
	        -artifact_prefix=$(FUZZ_BUILD)/crashes/$$f- $(FUZZ_BUILD)/corpus/$$f $(FUZZ_BUILD)/seeds/$$f \
	        2>$(FUZZ_BUILD)/fuzz_$$f.log || { tail -40 $(FUZZ_BUILD)/fuzz_$$f.log; exit 1; }; \
	    grep -E '^Done|^#[0-9]+.*DONE' $(FUZZ_BUILD)/fuzz_$$f.log | tail -2; \
	done
