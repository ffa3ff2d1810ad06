"""Training-side code: the PyTorch PhiNet and what trains it (torch is imported by the modules, not here)."""
