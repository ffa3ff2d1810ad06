"""Exact cost model of a PhiNet (pure Python + numpy; never imports torch)."""
