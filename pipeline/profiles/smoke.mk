# Profile smoke: the whole pipeline on tiny sizes, in well under 2 minutes on
# a 2-core machine (tests/test_pipeline.c and CI run it).  Numbers from it
# mean nothing; it checks that every stage runs.  Variables: see
# pipeline/pipeline.mk; any of them can be overridden on the command line.

LABELS         = 100
SEEDS          = 1
EPOCHS         = 1
BATCH          = 100
# the last VALID training images are held out; their error after every epoch
# is the report's held-out curve (train --valid)
VALID          = 100
# ConvSmall; archs/convsmall32.arch is the same network for 32x32 inputs.  The
# pipeline sets the input line to the dataset's shape in any case.
ARCH           = $(if $(filter synthetic cifar10 svhn,$(DATASET)),archs/convsmall32.arch,archs/convsmall.arch)
# synthetic: images rendered (train + test) and their size
SYNTH_TRAIN    = 1000
SYNTH_TEST     = 300
SYNTH_SIZE     = 32
SYNTH_SEED     = 1
# other datasets: the first TRAIN_LIMIT training and TEST_LIMIT test images (0: all)
TRAIN_LIMIT    = 1000
TEST_LIMIT     = 300
DECODE_SAMPLES = 300
# loss weights of the penalised DRMMs (+KL, +NN) and the DRMM's other flags
A_KL           = 1
A_NN           = 1
DRMM_FLAGS     = --td-param template --a-rc 10 --unsup-warmup 1
TRAIN_FLAGS    =
# bin/rmm (the shallow Rendering Mixture Model): a few templates and iterations
RMM_FLAGS      = --components 8 --images 300 --iterations 5
CNN_FLAGS      =
# the report says its numbers mean nothing and draws no verdict (report --no-verdict)
NOT_MEANINGFUL = A smoke run (pipeline/profiles/smoke.mk: 1 epoch on 900 training images) only checks that every stage runs
# the time a make pipeline of the profile as shipped takes (printed before it starts)
PL_EXPECTED_TIME = about 1 min on a 2-core machine
# EXECUTOR=slurm: the resources of one training task (pipeline/slurm.sh);
# a smoke training takes seconds
SLURM_CPUS     = 1
SLURM_MEM      = 1G
SLURM_TIME     = 0:20:00
