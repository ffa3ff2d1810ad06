"""Linear probes on every block of a frozen network (Alain and Bengio, 2018), as the study
used them to see how much each block of a PhiNet adds (probe loss falling with depth).."""
