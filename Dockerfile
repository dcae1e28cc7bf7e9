# One image for the Python parts (service, exporter, load generator), trained at build time.
# (`bentoml build && bentoml containerize` from bentofile.yaml gives a service-only image the same way.)
FROM python:3.11.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 BENTOML_DO_NOT_TRACK=True BENTOML_HOME=/bentoml PYTHONPATH=/app
COPY pyproject.toml ./
COPY transactions ./transactions
COPY contracts ./contracts
COPY bento_service ./bento_service
COPY exporter ./exporter
COPY loadgen ./loadgen
COPY scripts ./scripts
COPY bentofile.yaml README.md ./
COPY docs ./docs
RUN pip install --no-cache-dir . && python -m bento_service.train
EXPOSE 8000 8001 8089
# Loopback unless asked: compose passes --host 0.0.0.0 inside its private network and publishes on 127.0.0.1 only.
CMD ["bentoml", "serve", "--port", "8000", "--host", "127.0.0.1"]
