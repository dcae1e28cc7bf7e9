"""What a request may cost before it is refused, and the routes the service knows (for metric labels)."""
from __future__ import annotations

import os

# A full batch (100 transactions, 128-character ids, pretty-printed) is about 70 KB: 256 KiB leaves room
# and bounds what one request can make a worker parse and hold.
MAX_BODY_BYTES = int(os.environ.get("SERVICE_MAX_BODY_BYTES", 256 * 1024))

# Paths whose requests are labelled by their path in BentoML's request metrics; any other path is labelled
# UNMATCHED_ENDPOINT so that random URLs cannot create new series.
INFRASTRUCTURE_PATHS = frozenset({"/", "/metrics", "/healthz", "/livez", "/readyz", "/docs", "/docs.json",
                                  "/schema.json", "/health", "/api/v1/model"})
UNMATCHED_ENDPOINT = "unmatched"
