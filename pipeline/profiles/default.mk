# Profile default: meaningful results on a 2-core machine in at most 45
# minutes.  A DRMM epoch is SYNTH_TRAIN / 50 steps of 100 images (50 labelled
# + 50 unlabelled), so a DRMM run processes 2 x SYNTH_TRAIN x EPOCHS = 320,000
# images; a CNN epoch has as many steps, of the 50 labelled images only.
# Measured on a fresh clone, build included (README.md, "The pipeline"): 26
# min 51 s (room2 scene) and 33 min 4 s (room, beside other work) two
# programs at a time with Winograd convolutions and OpenBLAS's own
# Cooperlake kernel; before Winograd, with the preset Haswell kernel, 45 min
# 17 s one program at a time.

# labelled images: the paper's Table 1 count for the digit sets, its Table 5
# count scaled to the smaller training set for the synthetic one
ifneq ($(filter mnist fashion-mnist,$(DATASET)),)
LABELS         = 100
else ifeq ($(DATASET),cifar10)
LABELS         = 4000
else
LABELS         = 1000
endif
SEEDS          = 1
EPOCHS         = 8
BATCH          = 100
# the last VALID training images are held out of training (for the synthetic
# set: of its SYNTH_TRAIN; for file datasets: the last of the whole training
# set, so TRAIN_LIMIT's images still train); their error after every epoch is
# the report's held-out curve (train --valid)
VALID          = 2000
# ConvSmall; archs/convsmall32.arch is the same network for 32x32 inputs.  The
# pipeline sets the input line to the dataset's shape in any case.
ARCH           = $(if $(filter synthetic cifar10 svhn,$(DATASET)),archs/convsmall32.arch,archs/convsmall.arch)
SYNTH_TRAIN    = 20000
SYNTH_TEST     = 5000
SYNTH_SIZE     = 32
SYNTH_SEED     = 1
TRAIN_LIMIT    = 20000
TEST_LIMIT     = 0
DECODE_SAMPLES = 2000
# The DRMM's loss weights and top-down options (train --help).  DRMM_FLAGS
# applies to the four DRMM settings; A_KL and A_NN are the weights of the
# +KL and +NN settings (0 in the others), so DRMM_FLAGS must not set them.
# Paper, Table 6: MNIST a_kl 1, a_nn 1; SVHN/CIFAR-10 (and the synthetic
# set, trained like CIFAR-10) a_kl 0.2, a_nn 0.5.  The reconstruction: the
# project's default top-down (a learnable class template, a_rc 10 since LRC
# is a mean over pixels, the unsupervised terms warmed up over one epoch);
# at the paper's a_rc 0.2-0.5 the reconstruction does not train
# (reports/topdown/).
ifneq ($(filter synthetic cifar10 svhn,$(DATASET)),)
A_KL           = 0.2
A_NN           = 0.5
else
A_KL           = 1
A_NN           = 1
endif
DRMM_FLAGS     = --td-param template --a-rc 10 --unsup-warmup 1
TRAIN_FLAGS    =
CNN_FLAGS      =
# the time a make pipeline of the profile as shipped takes (printed before it starts)
PL_EXPECTED_TIME = about 27-33 min on a 2-core machine, measured; longer beside other work
# EXECUTOR=slurm: the resources of one training task (pipeline/slurm.sh);
# a DRMM training of this profile took 10-11 min with 2 threads on the 2-core development machine
SLURM_CPUS     = 2
SLURM_MEM      = 2G
SLURM_TIME     = 2:00:00
