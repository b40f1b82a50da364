"""Training loop, checkpoints."""
