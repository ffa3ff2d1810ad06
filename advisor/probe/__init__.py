"""Linear probes on every block of a frozen network (Alain and Bengio, 2018; METHOD.md)."""
