# Profile long: the default profile's data, network and settings trained four
# times as long (32 epochs), for the comparison the paper's Table 5 makes:
# DRMM +KL+NN against the CNN.  With the default profile's budget the two end
# within two points of each other; this profile measures whether a longer
# training separates them.  Time: about 50 min on a 2-core machine with the
# SkylakeX kernel (the DRMM run; the CNN trains beside it), measured in
# README.md ("The pipeline").  Add the other models with
# MODELS="drmm drmm+nn drmm+kl drmm+kl+nn cnn" (about 2.5 h).

include pipeline/profiles/default.mk

EPOCHS         = 32
MODELS         = drmm+kl+nn cnn
