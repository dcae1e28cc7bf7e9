# One image for the Python parts (service, exporter, load generator, webhook receiver, `drift-monitor`, retraining). It holds no model: docker
# compose's one-shot `train` step (`python -m bento_service.train --if-missing`) trains it once into the `models`
# volume, which the service mounts read-only. (`bentoml build && bentoml containerize` from bentofile.yaml gives a
# service-only image with the model packed in, as the alternative; docs/service-api.md, "Packaging".)
FROM python:3.11.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 BENTOML_DO_NOT_TRACK=True BENTOML_HOME=/bentoml PYTHONPATH=/app
COPY pyproject.toml ./
COPY transactions ./transactions
COPY logins ./logins
COPY contracts ./contracts
COPY drift_client ./drift_client
COPY bento_service ./bento_service
COPY drift ./drift
COPY exporter ./exporter
COPY drift_report ./drift_report
COPY retrain ./retrain
COPY loadgen ./loadgen
COPY scripts ./scripts
COPY bentofile.yaml README.md ./
COPY docs ./docs
RUN pip install --no-cache-dir . \
 && groupadd --system --gid 10001 app && useradd --system --uid 10001 --gid app --home-dir /bentoml --no-create-home app \
 && mkdir -p /bentoml/models /data && chown -R app:app /bentoml /data
# Not root: the app user owns only BENTOML_HOME and /data (named volumes mounted there take this ownership).
USER 10001:10001
EXPOSE 8000 8001 8089
# Loopback unless asked: compose passes --host 0.0.0.0 inside its private network and publishes on 127.0.0.1 only.
CMD ["bentoml", "serve", "--port", "8000", "--host", "127.0.0.1"]
