"""Write docker compose's secret files (mode 0600 in a 0700 `secrets/`, gitignored), each generated once:

    python -m scripts.compose_secrets      # then `docker compose up`

- `secrets/redis_password`: Redis's `requirepass`; the service and the exporter read it through REDIS_PASSWORD_FILE.
- `secrets/versions_api_token`: the bearer token of `PUT /api/v1/models/{model_name}/versions`; the service reads it
  through VERSIONS_API_TOKEN_FILE. Use it with `curl -H "Authorization: Bearer $(cat secrets/versions_api_token)"`.
- `secrets/grafana_admin_password`: Grafana's admin password (GF_SECURITY_ADMIN_PASSWORD__FILE); GRAFANA_ADMIN_PASSWORD
  from the environment or `.env` if set, else random. Print it with `cat secrets/grafana_admin_password`.

An existing file is kept (delete it to rotate the secret, then `docker compose up -d --force-recreate`).
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from scripts.render_alertmanager import load_dotenv
from scripts.servers import ROOT, ensure_secret, write_private


def write_secrets(folder: Path, environ: dict[str, str]) -> dict[str, Path]:
    """The compose secrets in `folder`: generated when missing, kept otherwise, always mode 0600."""
    grafana = folder / "grafana_admin_password"
    chosen = environ.get("GRAFANA_ADMIN_PASSWORD", "").strip()
    if chosen and not grafana.exists():
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
        write_private(grafana, chosen)
    return {"redis_password": ensure_secret(folder / "redis_password"),
            "versions_api_token": ensure_secret(folder / "versions_api_token"),
            "grafana_admin_password": ensure_secret(grafana)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=ROOT / "secrets", help="where to write them (default: secrets/)")
    args = parser.parse_args()
    environ = {**load_dotenv(ROOT / ".env"), **os.environ}
    for name, path in write_secrets(args.dir, environ).items():
        print(f"{name}: {path} (mode {path.stat().st_mode & 0o777:o})")


if __name__ == "__main__":
    main()
