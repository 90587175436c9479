# Profile paper: the paper's data sizes, networks, label counts and epochs
# (DRMM-SPEC sections 4-8; Table 6 of the semi-supervised DRMM paper), for
# users with days of compute: ConvLarge on the synthetic set (50K + 10K
# images of 32x32, N_L 4K and 50K, Table 5), CIFAR-10 (N_L 4K and 8K) and
# SVHN (N_L 1K, the usual semi-supervised SVHN setting),
# ConvSmall on MNIST and Fashion-MNIST (N_L 50, 100, 1K, Table 1); 500
# epochs, batch 100.  The optimiser stays the project's default (Adam 1e-3
# decayed to 1e-4, as the authors' code); the paper's SGD schedule is
# TRAIN_FLAGS="--optimizer sgd --lr-start 0.2 --lr-end 1e-4".

SEEDS          = 1
EPOCHS         = 500
BATCH          = 100
# every training image trains, as in the paper: no validation split, so the
# report has no held-out curve (VALID=5000 adds one)
VALID          = 0
SYNTH_TRAIN    = 50000
SYNTH_TEST     = 10000
SYNTH_SIZE     = 32
SYNTH_SEED     = 1
TRAIN_LIMIT    = 0
TEST_LIMIT     = 0
DECODE_SAMPLES = 2000
ifneq ($(filter synthetic cifar10 svhn,$(DATASET)),)
ARCH           = archs/convlarge.arch
A_KL           = 0.2
A_NN           = 0.5
else
ARCH           = archs/convsmall.arch
A_KL           = 1
A_NN           = 1
endif
DRMM_FLAGS     = --td-param template --a-rc 10 --unsup-warmup 1
ifeq ($(DATASET),synthetic)
LABELS         = 4000 50000
else ifeq ($(DATASET),cifar10)
LABELS         = 4000 8000
else ifeq ($(DATASET),svhn)
LABELS         = 1000
else
LABELS         = 50 100 1000
endif
TRAIN_FLAGS    =
CNN_FLAGS      =
# the time a make pipeline of the profile as shipped takes (printed before it starts)
PL_EXPECTED_TIME = months on a 2-core machine, estimated
# EXECUTOR=slurm: the resources of one training task (pipeline/slurm.sh);
# ConvLarge: 42.0 min per epoch with 2 threads (make bench), 14.6 days for 500 epochs
SLURM_CPUS     = 2
SLURM_MEM      = 8G
SLURM_TIME     = 16-00:00:00
