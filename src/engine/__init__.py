"""Model-independent machinery: the training loop, train steps, checkpoint files, predictors and the per-stage
drivers that run a model recipe."""
