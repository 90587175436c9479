# Profile long: the default profile's data, network and settings trained four
# times as long (32 epochs), for the comparison the paper's Table 5 makes:
# DRMM +KL+NN against the CNN.  Measured (reports/synthetic-long/, room2
# scene): 64 min 28 s beside other experiments (the DRMM 55 min, the CNN 29
# min beside it); DRMM +KL+NN 20.76% against the CNN's 28.32% (23.54% and
# 26.22% after the default 8 epochs), the DRMM's held-out LRC / mean(I^2)
# down to 0.49 (0.996 after 8 epochs).  On the clutter scene, 51 min idle:
# 66.3% against 60.6%.  Add the other models with MODELS="drmm drmm+nn
# drmm+kl drmm+kl+nn cnn" (three more DRMM runs of about 35-55 min each).

include pipeline/profiles/default.mk

EPOCHS         = 32
MODELS         = drmm+kl+nn cnn
# the time a make pipeline of the profile as shipped takes (printed before it starts)
PL_EXPECTED_TIME = about 50-65 min on a 2-core machine, measured
# EXECUTOR=slurm: the resources of one training task (pipeline/slurm.sh);
# four times the default profile's epochs
SLURM_CPUS     = 2
SLURM_MEM      = 2G
SLURM_TIME     = 6:00:00
