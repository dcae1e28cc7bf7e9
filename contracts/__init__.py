"""Contracts between the running parts: Redis layout, reference profile, metric names."""
