"""The drift exporter: rolling Redis windows -> PSI/KS, performance, attribution -> Prometheus."""
