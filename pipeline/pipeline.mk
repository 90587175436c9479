# The experiment pipeline (included by the top-level Makefile):
#
#   make pipeline [DATASET=synthetic] [PROFILE=default] [STORE=...] [LABELS=...] [SEEDS=...]
#
# Stages: ingest -> train (the grid) -> evaluate -> decode -> analysis ->
# report, all against one SQLite store.  The grid: for each label count in
# LABELS and seed in SEEDS, the DRMM trained semi-supervised with the four
# loss settings of the paper's Table 1 (drmm: no penalty, drmm+nn, drmm+kl,
# drmm+kl+nn; the reconstruction term always on) and the CNN (the same
# network on the labelled images only).  The report goes to
# REPORT_DIR/report.md with its CSV and PNG files.  README.md ("The
# pipeline") documents the variables and the profiles' measured times.
#
# A stage is redone when its configuration, its inputs or its program
# changed, and only then:
# - configuration: each stage's flags go to a file under the work directory
#   (PL_W), rewritten at parse time only when they differ;
# - inputs: the stamp files of the stages before it, which are rewritten
#   only when their content changed (a re-ingest of identical data keeps
#   dataset.info, so no run is redone);
# - program: a fingerprint of each bin/ program (pipeline/fingerprint.sh)
#   that ignores the embedded git commit, so a commit that does not change
#   a program's code does not redo its stages.
# Runs redone replace the earlier ones in the report (the grid is the latest
# run of each name); the earlier ones stay in the store.

PIPELINE_GOALS := $(filter pipeline pipeline-%,$(MAKECMDGOALS))
.PHONY: pipeline pipeline-plan pipeline-prep pipeline-run

ifneq ($(PIPELINE_GOALS),)

# ---- variables given on the command line: only the documented ones ----
# (`make pipeline dataset=synthetic` or `EPOCH=2` would otherwise be ignored
# and the default profile would start.)  PL_SUB is internal: it marks the
# sub-makes `make pipeline` runs.
PL_VARS := DATASET PROFILE STORE REPORT_DIR LABELS SEEDS MODELS EPOCHS BATCH VALID DRMM_FLAGS A_KL A_NN TRAIN_FLAGS \
           CNN_FLAGS NOT_MEANINGFUL ARCH SYNTH_TRAIN SYNTH_TEST SYNTH_SIZE SYNTH_SEED SYNTH_PRESET TRAIN_LIMIT TEST_LIMIT DECODE_SAMPLES \
           DECODE_MODELS DECODE_LABELS JOBS THREADS MNIST_DIR CIFAR10_DIR SVHN_DIR FASHION_MNIST_DIR PNG_CSV EXECUTOR \
           SLURM_CPUS SLURM_MEM SLURM_TIME SLURM_FLAGS GEN_FLAGS MODE RMM_FLAGS
PL_BUILD_VARS := CC OPT CFLAGS LDFLAGS SAN
PL_CMDLINE := $(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $(v))),$(v)))
# TESTS is make test's: tests that run make pipeline under `make test
# TESTS=...` pass it on to this make with the rest of the command line.
PL_UNKNOWN := $(filter-out $(PL_VARS) $(PL_BUILD_VARS) PL_SUB TESTS,$(PL_CMDLINE))
ifneq ($(PL_UNKNOWN),)
  # a suggestion for each: the same name in capitals, or a variable it begins
  pl_upper = $(shell printf '%s' '$(1)' | tr a-z- A-Z_)
  pl_suggest = $(firstword $(filter $(call pl_upper,$(1)),$(PL_VARS)) $(filter $(call pl_upper,$(1))%,$(PL_VARS)))
  $(error unknown variable$(if $(word 2,$(PL_UNKNOWN)),s) $(foreach v,$(PL_UNKNOWN),$(v)$(if $(call pl_suggest,$(v)), (did you mean $(call pl_suggest,$(v))?))); \
    make pipeline takes: $(PL_VARS) (README.md, "The pipeline"), and the build's $(PL_BUILD_VARS))
endif

DATASET ?= synthetic
PROFILE ?= default

# Programs at a time: -jN from the command line if given, else JOBS (the
# number of cores), so that a plain `make pipeline` uses every core; JOBS=1
# runs one program at a time (with THREADS=2 threads each).  `make pipeline`
# runs its stages in sub-makes (pipeline-prep, pipeline-run) with -j$(PL_J).
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
ifeq ($(filter-out 0,$(shell printf '%s' '$(JOBS)' | grep -x '[0-9][0-9]*')),)
  $(error JOBS=$(JOBS): the number of programs at a time must be a positive integer)
endif
# (recursive: MAKEFLAGS holds a -jN of the command line in recipes only)
PL_J = $(or $(patsubst -j%,%,$(filter -j%,$(MAKEFLAGS))),$(JOBS))

# Where the trainings run: local (here, make -jN), or slurm (an sbatch job
# array, one task per training, and a dependent job for the rest:
# pipeline/slurm.sh).  The resources of a task come from the profile:
# SLURM_CPUS (threads of its training unless THREADS is given), SLURM_MEM,
# SLURM_TIME; SLURM_FLAGS are more sbatch flags (e.g. --partition=P).
EXECUTOR ?= local
ifeq ($(filter local slurm,$(EXECUTOR)),)
  $(error EXECUTOR=$(EXECUTOR): use local (the default) or slurm)
endif

# ---- the dataset ----
PL_PNG_DIR := $(patsubst png:%,%,$(filter png:%,$(DATASET)))
MNIST_DIR ?= datasets/mnist
CIFAR10_DIR ?= datasets/cifar10
SVHN_DIR ?= datasets/svhn
FASHION_MNIST_DIR ?= /usr/share/datasets/fashion-mnist
# The synthetic scene (datasets/README.md): room2, room (the default before
# it), studio (before room, of reports/synthetic-studio), framed or clutter
# (the first scene, of the older synthetic reports).
SYNTH_PRESET ?= room2
PL_LATENTS := -
ifeq ($(DATASET),synthetic)
  PL_NAME := synthetic
else ifeq ($(DATASET),fashion-mnist)
  PL_NAME := fashion-mnist
  PL_DATADIR := $(FASHION_MNIST_DIR)
else ifeq ($(DATASET),mnist)
  PL_NAME := mnist
  PL_DATADIR := $(MNIST_DIR)
else ifeq ($(DATASET),cifar10)
  PL_NAME := cifar10
  PL_DATADIR := $(CIFAR10_DIR)
else ifeq ($(DATASET),svhn)
  PL_NAME := svhn
  PL_DATADIR := $(SVHN_DIR)
else ifneq ($(PL_PNG_DIR),)
  PL_NAME := png-$(notdir $(patsubst %/,%,$(PL_PNG_DIR)))
  PNG_CSV ?= $(firstword $(wildcard $(PL_PNG_DIR)/labels.csv $(PL_PNG_DIR)/latents.csv) $(PL_PNG_DIR)/labels.csv)
  PL_DATADIR := $(PNG_CSV)
  # latents: the CSV's columns after file, label and split
  PL_LATENTS := $(or $(shell head -n 1 '$(PNG_CSV)' 2>/dev/null | tr -d '\r' | tr ',' '\n' | grep -vxE 'file|label|split' | paste -sd, -),-)
else
  $(error DATASET=$(DATASET) is unknown: use synthetic, fashion-mnist, mnist, cifar10, svhn or png:DIR)
endif

# ---- the profile ----
PL_PROFILES := $(sort $(patsubst pipeline/profiles/%.mk,%,$(wildcard pipeline/profiles/*.mk)))
ifeq ($(filter $(PROFILE),$(PL_PROFILES)),)
  $(error PROFILE=$(PROFILE) is unknown: use one of $(PL_PROFILES) (pipeline/profiles/*.mk))
endif
include pipeline/profiles/$(PROFILE).mk
SLURM_CPUS ?= 2
SLURM_MEM ?= 2G
SLURM_TIME ?= 2:00:00
SLURM_FLAGS ?=
ifeq ($(filter-out 0,$(shell printf '%s' '$(SLURM_CPUS)' | grep -x '[0-9][0-9]*')),)
  $(error SLURM_CPUS=$(SLURM_CPUS): the CPUs of a Slurm task must be a positive integer)
endif

PL_MODELS_ALL := drmm drmm+nn drmm+kl drmm+kl+nn cnn
MODELS ?= $(PL_MODELS_ALL)
DECODE_MODELS ?= drmm+kl+nn cnn
DECODE_LABELS ?= $(firstword $(LABELS))
# flags of bin/generate (the generative side: samples, activity maximisation,
# units rendered to pixels) for DRMM +KL+NN and the CNN at the first label
# count and seed; its defaults otherwise (generate --help)
GEN_FLAGS ?=
# The DRMM models' training mode (train --mode: semisup, supervised, pretrain;
# the CNN trains on its labelled images in every mode).  Another mode than
# semisup is an experiment of its own: runs named <profile>-<mode>/..., its
# own work directory and report directory, in the same store.
MODE ?= semisup
ifeq ($(filter semisup supervised pretrain,$(MODE)),)
  $(error MODE=$(MODE): use semisup (the default), supervised or pretrain)
endif
PL_MODE_TAG := $(if $(filter-out semisup,$(MODE)),-$(MODE))
EXPERIMENT := $(PROFILE)$(PL_MODE_TAG)

# a profile without them: no validation split, verdicts drawn
VALID ?= 0
NOT_MEANINGFUL ?=

PL_BADNUM := $(strip $(shell printf '%s\n' $(LABELS) $(SEEDS) $(EPOCHS) $(BATCH) $(VALID) $(DECODE_SAMPLES) $(TRAIN_LIMIT) \
                 $(TEST_LIMIT) | grep -v '^[0-9][0-9]*$$'))
ifneq ($(PL_BADNUM),)
  $(error pipeline: not a number: $(PL_BADNUM) (LABELS, SEEDS, EPOCHS, ... take non-negative integers))
endif
ifeq ($(strip $(LABELS)),)
  $(error pipeline: LABELS is empty)
endif
ifeq ($(strip $(SEEDS)),)
  $(error pipeline: SEEDS is empty)
endif
ifneq ($(filter-out $(PL_MODELS_ALL),$(MODELS)),)
  $(error MODELS: unknown $(filter-out $(PL_MODELS_ALL),$(MODELS)); use some of $(PL_MODELS_ALL))
endif
ifeq ($(wildcard $(ARCH)),)
  $(error ARCH=$(ARCH): no such architecture file)
endif

# ---- where things go ----
STORE ?= runs/$(PL_NAME)-$(PROFILE).db
REPORT_DIR ?= reports/$(PL_NAME)$(if $(filter default,$(PROFILE)),,-$(PROFILE))$(PL_MODE_TAG)
PL_W := $(basename $(STORE)).pipeline/$(PL_NAME)-$(EXPERIMENT)
# Worker threads per program: 1 when programs run in parallel (make -jN or
# JOBS=N, N > 1), else 2.  Not part of any stage's configuration.
THREADS ?= $(if $(filter-out 1,$(PL_J)),1,2)
PL_STAGE := sh pipeline/stage.sh

# ---- configuration files, written at parse time when changed ----
$(shell mkdir -p $(PL_W)/prog $(if $(filter slurm,$(EXECUTOR)),$(PL_W)/slurm))
# $(call pl_write,FILE,VAR): writes the value of VAR to FILE unless FILE holds it
# (compared with whitespace collapsed: GNU make 4.3's $(file <) sometimes keeps
# the trailing newline, which made an unchanged file look changed and its
# stage rerun).  Not in the make that runs `make pipeline`'s sub-makes: they
# write them (make passes the command line's variables to a sub-make in
# another order, and the report's configuration holds the command).
pl_write = $(if $(and $(filter pipeline,$(MAKECMDGOALS)),$(if $(PL_SUB),,1)),,$(if $(subst x$(strip $($(2)))x,,x$(strip $(file <$(1)))x),$(file >$(1),$($(2)))))

ifeq ($(DATASET),synthetic)
  PL_INGEST_CFG := --synthetic --n-train $(SYNTH_TRAIN) --n-test $(SYNTH_TEST) --size $(SYNTH_SIZE) --seed $(SYNTH_SEED) --preset $(SYNTH_PRESET)
else ifeq ($(DATASET),fashion-mnist)
  PL_INGEST_CFG := --fashion-mnist=$(FASHION_MNIST_DIR)
else ifeq ($(DATASET),mnist)
  PL_INGEST_CFG := --mnist $(MNIST_DIR)
else ifeq ($(DATASET),cifar10)
  PL_INGEST_CFG := --cifar10 $(CIFAR10_DIR)
else ifeq ($(DATASET),svhn)
  PL_INGEST_CFG := --svhn $(SVHN_DIR)
else
  PL_INGEST_CFG := --png-dir $(PL_PNG_DIR) --csv $(PNG_CSV)
endif
# the files read by ingest: a change redoes the ingest
PL_INPUTS := $(if $(filter fashion-mnist mnist,$(DATASET)),$(wildcard $(PL_DATADIR)/*-ubyte*)) \
             $(if $(filter cifar10,$(DATASET)),$(wildcard $(PL_DATADIR)/*.bin $(PL_DATADIR)/batches.meta.txt)) \
             $(if $(filter svhn,$(DATASET)),$(wildcard $(PL_DATADIR)/train_32x32.mat $(PL_DATADIR)/test_32x32.mat)) \
             $(if $(PL_PNG_DIR),$(wildcard $(PNG_CSV) $(PL_PNG_DIR)/*.png))
$(call pl_write,$(PL_W)/ingest.cfg,PL_INGEST_CFG)

# The training flags of each model (the four settings of Table 1, and the CNN).
PL_MODE_FLAGS       := $(if $(PL_MODE_TAG),--mode $(MODE))
PL_FLAGS_drmm       := $(DRMM_FLAGS) --a-kl 0 --a-nn 0 $(PL_MODE_FLAGS)
PL_FLAGS_drmm+nn    := $(DRMM_FLAGS) --a-kl 0 --a-nn $(A_NN) $(PL_MODE_FLAGS)
PL_FLAGS_drmm+kl    := $(DRMM_FLAGS) --a-kl $(A_KL) --a-nn 0 $(PL_MODE_FLAGS)
PL_FLAGS_drmm+kl+nn := $(DRMM_FLAGS) --a-kl $(A_KL) --a-nn $(A_NN) $(PL_MODE_FLAGS)
PL_FLAGS_cnn        := --supervised-only 1 $(CNN_FLAGS)
# TRAIN_LIMIT and TEST_LIMIT cut the datasets read from files; the synthetic
# set is rendered at its size.
PL_TRAIN_LIMIT := $(if $(filter synthetic,$(DATASET)),0,$(TRAIN_LIMIT))
PL_EVAL_FLAGS := $(if $(filter-out synthetic,$(DATASET)),$(if $(filter-out 0,$(TEST_LIMIT)),--limit $(TEST_LIMIT)))

PL_DECODE := $(if $(filter synthetic,$(DATASET)),1,$(if $(filter-out -,$(PL_LATENTS)),1))
PL_GRID_LABELS := $(firstword $(LABELS))
PL_GRID_SEED := $(firstword $(SEEDS))

# ---- programs: a stage depends on its program's fingerprint ----
$(PL_W)/prog/%.fp: $(PL_W)/prog/%.stamp ;
$(PL_W)/prog/%.stamp: $(BIN)/% pipeline/fingerprint.sh
	@sh pipeline/fingerprint.sh $< > $(@:.stamp=.fp).new && \
	 { cmp -s $(@:.stamp=.fp).new $(@:.stamp=.fp) && rm -f $(@:.stamp=.fp).new || mv $(@:.stamp=.fp).new $(@:.stamp=.fp); } && \
	 touch $@

# ---- ingest ----
$(PL_W)/dataset.info $(PL_W)/model.arch: $(PL_W)/ingest.stamp ;
$(PL_W)/ingest.stamp: $(PL_W)/ingest.cfg $(PL_W)/prog/ingest.fp $(ARCH) $(PL_INPUTS) pipeline/stage.sh
	@$(PL_STAGE) ingest $(BIN) '$(STORE)' '$(PL_NAME)' '$(PL_W)' '$(ARCH)' '$(DATASET)' '$(PL_DATADIR)'

# The reconstruction grid of a slot (the DRMM models at the first label
# count and seed), or -.
pl_grid = $(if $(and $(filter-out cnn,$(1)),$(filter $(2),$(PL_GRID_LABELS)),$(filter $(3),$(PL_GRID_SEED))),$(REPORT_DIR)/recon_$(1)_n$(2)_s$(3).png,-)

# ---- one grid slot: $(1) model, $(2) labels, $(3) seed ----
define pl_slot
PL_TRAIN_$(1)_$(2)_$(3) := $(strip --dataset $(PL_NAME) --name $(EXPERIMENT)/$(1)/n$(2)/s$(3) --labels $(2) --seed $(3) \
    --label-seed $(3) --epochs $(EPOCHS) --batch $(BATCH) --train-limit $(PL_TRAIN_LIMIT) \
    $(if $(filter-out 0,$(VALID)),--valid $(VALID)) $(TRAIN_FLAGS) $(PL_FLAGS_$(1)))
$$(call pl_write,$(PL_W)/$(1)_n$(2)_s$(3).train.cfg,PL_TRAIN_$(1)_$(2)_$(3))
PL_EVALCFG_$(1)_$(2)_$(3) := $(strip $(PL_EVAL_FLAGS) grid=$(call pl_grid,$(1),$(2),$(3)))
$$(call pl_write,$(PL_W)/$(1)_n$(2)_s$(3).eval.cfg,PL_EVALCFG_$(1)_$(2)_$(3))

$(PL_W)/$(1)_n$(2)_s$(3).run: $(PL_W)/$(1)_n$(2)_s$(3).train.cfg $(PL_W)/dataset.info $(PL_W)/model.arch $(PL_W)/prog/train.fp
	@DRMM_PIPELINE_COMMAND='$$(PL_COMMAND)' $(PL_STAGE) train $(BIN) '$(STORE)' $$< $(PL_W)/model.arch $$(THREADS) $$@

$(PL_W)/$(1)_n$(2)_s$(3).eval: $(PL_W)/$(1)_n$(2)_s$(3).run $(PL_W)/$(1)_n$(2)_s$(3).eval.cfg $(PL_W)/prog/evaluate.fp
	@$(PL_STAGE) evaluate $(BIN) '$(STORE)' $$< $$(THREADS) $$@ $(call pl_grid,$(1),$(2),$(3)) $(PL_EVAL_FLAGS)

$(PL_W)/$(1)_n$(2)_s$(3).decode: $(PL_W)/$(1)_n$(2)_s$(3).run $(PL_W)/decode.cfg $(PL_W)/prog/decode.fp
	@$(PL_STAGE) decode $(BIN) '$(STORE)' $$< $$(THREADS) $(DECODE_SAMPLES) $$@

PL_RUNS += $(PL_W)/$(1)_n$(2)_s$(3).run
PL_EVALS += $(PL_W)/$(1)_n$(2)_s$(3).eval
PL_DECODES += $(if $(and $(PL_DECODE),$(filter $(1),$(DECODE_MODELS)),$(filter $(2),$(DECODE_LABELS))),$(PL_W)/$(1)_n$(2)_s$(3).decode)
PL_GRIDS += $(if $(filter-out -,$(call pl_grid,$(1),$(2),$(3))),$(PL_W)/$(1)_n$(2)_s$(3).run $(call pl_grid,$(1),$(2),$(3)))
endef

PL_DECODE_CFG := --samples $(DECODE_SAMPLES)
$(call pl_write,$(PL_W)/decode.cfg,PL_DECODE_CFG)
PL_RUNS :=
PL_EVALS :=
PL_DECODES :=
PL_GRIDS :=
# The CNN's runs first: under make -jN they train beside the first DRMM runs
# (a CNN run is about three times shorter), not alone at the end.
$(foreach m,$(filter cnn,$(MODELS)) $(filter-out cnn,$(MODELS)),$(foreach l,$(LABELS),$(foreach s,$(SEEDS),$(eval $(call pl_slot,$(m),$(l),$(s))))))

# ---- decoding analysis (datasets with nuisance latents) ----
PL_ANALYSIS_CFG := latents=$(PL_LATENTS) decodes=$(notdir $(PL_DECODES)) out=$(REPORT_DIR)/decoding.md
$(call pl_write,$(PL_W)/analysis.cfg,PL_ANALYSIS_CFG)
ifneq ($(PL_DECODES),)
PL_ANALYSIS := $(PL_W)/analysis.done
PL_DECODING_MD := $(REPORT_DIR)/decoding.md
$(PL_ANALYSIS): $(PL_DECODES) $(PL_W)/analysis.cfg $(PL_W)/prog/analysis.fp
	@$(PL_STAGE) analysis $(BIN) '$(STORE)' $@ '$(PL_DECODING_MD)' '$(PL_LATENTS)' $(PL_DECODES:.decode=.run)
else
PL_ANALYSIS :=
PL_DECODING_MD := -
endif

# ---- the generative side: DRMM +KL+NN and the CNN, first label count and seed ----
PL_GEN_CFG := flags=$(GEN_FLAGS)
$(call pl_write,$(PL_W)/generate.cfg,PL_GEN_CFG)
PL_GENS :=
PL_GENERATED :=
define pl_gen
$(PL_W)/$(1).gen: $(PL_W)/$(1)_n$(PL_GRID_LABELS)_s$(PL_GRID_SEED).run $(PL_W)/generate.cfg $(PL_W)/prog/generate.fp
	@mkdir -p '$(REPORT_DIR)'
	@$(PL_STAGE) generate $(BIN) '$(STORE)' $$< $$(THREADS) '$(REPORT_DIR)' $(1) $$@ $(GEN_FLAGS)
PL_GENS += $(PL_W)/$(1).gen
PL_GENERATED += $(REPORT_DIR)/generate_$(1).md
endef
$(foreach m,$(filter drmm+kl+nn cnn,$(MODELS)),$(eval $(call pl_gen,$(m))))

# ---- the E-DRMM (bin/edrmm): DRMM +KL+NN and the CNN, first label count, every seed ----
# (on the test images evaluate classifies: the first TEST_LIMIT of a dataset read from files)
PL_EDRMM_FLAGS := $(if $(filter-out synthetic,$(DATASET)),$(if $(filter-out 0,$(TEST_LIMIT)),--test-limit $(TEST_LIMIT)))
PL_EDRMM_CFG := flags=$(PL_EDRMM_FLAGS)
$(call pl_write,$(PL_W)/edrmm.cfg,PL_EDRMM_CFG)
PL_EDRMMS :=
define pl_edrmm
$(PL_W)/$(1)_n$(PL_GRID_LABELS)_s$(2).edrmm: $(PL_W)/$(1)_n$(PL_GRID_LABELS)_s$(2).run $(PL_W)/edrmm.cfg $(PL_W)/prog/edrmm.fp
	@$(PL_STAGE) edrmm $(BIN) '$(STORE)' $$< $$(THREADS) $$@ $(PL_EDRMM_FLAGS)
PL_EDRMMS += $(PL_W)/$(1)_n$(PL_GRID_LABELS)_s$(2).edrmm
endef
$(foreach m,$(filter drmm+kl+nn cnn,$(MODELS)),$(foreach s,$(SEEDS),$(eval $(call pl_edrmm,$(m),$(s)))))

# ---- the shallow Rendering Mixture Model by EM on the training images (bin/rmm) ----
RMM_FLAGS ?=
PL_RMM_CFG := flags=$(RMM_FLAGS)
$(call pl_write,$(PL_W)/rmm.cfg,PL_RMM_CFG)
PL_RMM_MD := $(REPORT_DIR)/rmm.md
$(PL_W)/rmm.done: $(PL_W)/dataset.info $(PL_W)/rmm.cfg $(PL_W)/prog/rmm.fp
	@mkdir -p '$(REPORT_DIR)'
	@$(PL_STAGE) rmm $(BIN) '$(STORE)' '$(PL_NAME)' '$(REPORT_DIR)' $@ $(RMM_FLAGS)

# ---- the report ----
# The command that makes this report again: make pipeline with the variables
# of the command line (as make keeps them: spaces escaped with a backslash,
# which a shell reads back) and those that took effect from the environment
# (`PROFILE=smoke make pipeline`), without the ones that change nothing (JOBS,
# THREADS, EXECUTOR).
pl_empty :=
pl_space := $(pl_empty) $(pl_empty)
PL_ENV_VARS := $(foreach v,$(filter-out JOBS THREADS EXECUTOR,$(PL_VARS)),$(if $(filter environment,$(origin $(v))),$(v)=$(subst $(pl_space),\ ,$($(v)))))
PL_COMMAND := make pipeline $(strip $(filter-out JOBS=% THREADS=% PL_SUB=% EXECUTOR=%,$(MAKEOVERRIDES)) $(PL_ENV_VARS))
PL_NOTES := Profile `$(PROFILE)` (pipeline/profiles/$(PROFILE).mk)$(if $(PL_MODE_TAG), with the DRMM models trained in mode $(MODE) (train --mode)): $(if $(filter synthetic,$(DATASET)),$(SYNTH_TRAIN) training$(if $(filter-out 0,$(VALID)), (the last $(VALID) held out for validation)) and $(SYNTH_TEST) test images of $(SYNTH_SIZE)x$(SYNTH_SIZE) rendered with seed $(SYNTH_SEED) (scene $(SYNTH_PRESET)),$(DATASET)$(if $(filter-out 0,$(TRAIN_LIMIT)), (first $(TRAIN_LIMIT) training images))$(if $(filter-out 0,$(TEST_LIMIT)), (first $(TEST_LIMIT) test images))); $(ARCH) with the input set to the data; $(EPOCHS) epochs of batch $(BATCH)$(if $(and $(filter-out synthetic,$(DATASET)),$(filter-out 0,$(VALID))),; the last $(VALID) training images held out for validation); DRMM flags `$(DRMM_FLAGS)`, a_kl $(A_KL) (+KL), a_nn $(A_NN) (+NN)$(if $(strip $(TRAIN_FLAGS)),; flags of every run `$(TRAIN_FLAGS)`)$(if $(strip $(CNN_FLAGS)),; CNN flags `$(CNN_FLAGS)`).
PL_REPORT_CFG := $(PL_COMMAND) | $(PL_NOTES) | $(NOT_MEANINGFUL) | $(PL_DECODING_MD) | $(PL_GENERATED) | $(PL_RMM_MD) | $(PL_GRIDS)
$(call pl_write,$(PL_W)/report.cfg,PL_REPORT_CFG)

$(REPORT_DIR)/report.md: $(PL_EVALS) $(PL_ANALYSIS) $(PL_GENS) $(PL_EDRMMS) $(PL_W)/rmm.done $(PL_W)/report.cfg $(PL_W)/prog/report.fp
	@mkdir -p $(@D)
	@$(PL_STAGE) report $(BIN) '$(STORE)' '$(PL_NAME)' '$(EXPERIMENT)' $@ '$(PL_DECODING_MD)' \
	    '$(PL_COMMAND)' '$(PL_NOTES)' '$(NOT_MEANINGFUL)' '$(strip $(PL_GENERATED))' '$(PL_RMM_MD)' $(PL_GRIDS)

# `make pipeline`: (1) the ingest and the programs' fingerprints, (2) the
# list of the trainings to do (PL_W/plan: the runs whose file is missing or
# older than its configuration, dataset.info, model.arch or the train
# fingerprint, as make sees them once (1) is done) for "run k of N" and the
# ETA of the progress lines, with the profile and its expected time, (3) the
# rest.  (1) and (3) are sub-makes with the same variables; -j goes to them
# (a -jN of the user's is inherited through make's jobserver).  PL_SUB=1
# marks them.
PL_SUBMAKE = $(MAKE) --no-print-directory $(if $(filter -j%,$(MAKEFLAGS)),,-j$(PL_J)) PL_SUB=1 THREADS='$(THREADS)'
#
# With EXECUTOR=slurm, (3) is pipeline/slurm.sh submit: the trainings of the
# plan go to a job array, and a dependent job merges their stores and runs
# make pipeline-run with the variables of this command line (PL_W/slurm/make.args).
PL_SLURM_THREADS := $(if $(filter command line,$(origin THREADS)),$(THREADS),$(SLURM_CPUS))
pl_shquote = '$(subst ','\'',$(1))'
PL_SLURM_ARGS = $(foreach v,$(filter-out EXECUTOR THREADS JOBS PL_SUB,$(PL_CMDLINE)),$(call pl_shquote,$(v)=$($(v))))
pipeline:
	@+$(PL_SUBMAKE) pipeline-prep
	@$(PL_STAGE) plan '$(PL_W)' '$(DATASET)' '$(PROFILE)' '$(PL_EXPECTED_TIME)' $(PL_RUNS)
ifeq ($(EXECUTOR),slurm)
	$(file >$(PL_W)/slurm/make.args,$(PL_SLURM_ARGS))
	@sh pipeline/slurm.sh submit '$(PL_W)' '$(BIN)' '$(STORE)' '$(PL_NAME)' '$(PL_SLURM_THREADS)' '$(SLURM_CPUS)' \
	    '$(SLURM_MEM)' '$(SLURM_TIME)' '$(SLURM_FLAGS)'
else
	@+$(PL_SUBMAKE) pipeline-run
endif

PL_PROGS := ingest train evaluate decode analysis generate edrmm report

PL_PROGS := ingest train evaluate decode analysis generate rmm report
pipeline-prep: $(PL_W)/ingest.stamp $(foreach p,$(PL_PROGS),$(PL_W)/prog/$(p).fp)

pipeline-run: $(REPORT_DIR)/report.md
	@echo "pipeline: $(DATASET), profile $(PROFILE): report $(REPORT_DIR)/report.md, store $(STORE)"

pipeline-plan:
	@echo "dataset    $(DATASET) (stored as $(PL_NAME))"
	@echo "profile    $(PROFILE): pipeline/profiles/$(PROFILE).mk"
	@echo "store      $(STORE)"
	@echo "report     $(REPORT_DIR)/report.md"
	@echo "work dir   $(PL_W)"
	@echo "threads    $(THREADS) per program, $(PL_J) programs at a time"
	@echo "executor   $(EXECUTOR)$(if $(filter slurm,$(EXECUTOR)), (pipeline/slurm.sh): one task per training with $(SLURM_CPUS) CPUs ($(PL_SLURM_THREADS) threads); $(SLURM_MEM); time $(SLURM_TIME)$(if $(strip $(SLURM_FLAGS)), and $(SLURM_FLAGS)))"
	@echo "time       $(PL_EXPECTED_TIME) (the profile as shipped)"
	@echo "command    $(PL_COMMAND) (recorded in the report)"
	@echo "ingest     $(PL_INGEST_CFG)"
	@echo "runs       $(words $(PL_RUNS)): models $(MODELS) x labels $(LABELS) x seeds $(SEEDS)"
	@$(foreach r,$(PL_RUNS),echo "  train $(PL_TRAIN_$(subst _n,_,$(subst _s,_,$(basename $(notdir $(r))))))";)
	@echo "decode     $(if $(PL_DECODES),$(notdir $(PL_DECODES:.decode=)) ($(DECODE_SAMPLES) samples),none (no nuisance latents))"

endif
