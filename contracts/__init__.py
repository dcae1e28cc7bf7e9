"""Contracts between the running parts: the monitoring policy, ports, metric names, model versions (the schema, Redis
layout, reference profile and tasks are the publishing client's: drift_client/)."""
