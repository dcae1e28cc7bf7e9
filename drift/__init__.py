"""The judgement core: windows and their counts, drift tests, statistics, performance estimation (CBPE), realized
performance metrics, champion/challenger comparison and the snapshot of one window. Pure: it imports nothing of
this repository but `contracts/`, and no Redis, HTTP or serving library (pyproject.toml, [tool.importlinter]).
The exporter, the offline report, training and the benchmarks all judge through it."""
