-- Migration 6: what the class contributes to the rendering.  An evaluation
-- of a DRMM also renders every image from its true class and from a wrong
-- class (recon_true, recon_wrong: mean squared error per pixel, like
-- recon_error, which renders from the predicted class), and records xvar,
-- the per-pixel variance of the images about their per-channel means (the
-- error of rendering each channel's mean: recon_error / xvar is free of the
-- input's offset, e.g. under input standardisation).  runs_summary gains
-- test_recon_true, test_recon_wrong and test_xvar.
ALTER TABLE evaluations ADD COLUMN recon_true REAL;
ALTER TABLE evaluations ADD COLUMN recon_wrong REAL;
ALTER TABLE evaluations ADD COLUMN xvar REAL;
