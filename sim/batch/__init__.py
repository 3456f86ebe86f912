"""Batches of runs: sweeps (variants, run keys, worker, backends, store, executor, tables) and
the staffing and shift optimisers; :mod:`sim.batch.options` holds what every batch shares."""
