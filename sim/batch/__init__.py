"""Batches of runs: sweeps (run keys, workers, backends) and the staffing optimiser."""
