"""The scoring side: training, the BentoML service, the reference profile, sample publishing."""
