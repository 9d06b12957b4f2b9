"""Data code shared by I3D and ECO-lite. Nothing here imports MindSpore or knows about networks."""
