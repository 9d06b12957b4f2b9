"""Ahead-of-time compiled CPU kernels that replace slow MindSpore CPU kernels (built by `python -m src.ops.build`)."""
