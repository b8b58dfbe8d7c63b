"""Deterministic orchestrator generators: no I/O, no clocks, no randomness, no SDK imports."""
