"""Type-check the dashboards against Grafana's published schema (the @grafana/schema npm package) with `tsc --strict`.

    python -m grafana.typecheck              # check grafana/dashboards/*.json; exit 1 naming each failing panel
    python -m grafana.typecheck --install    # only install the pinned npm packages (what `make install` runs)

Each dashboard becomes one TypeScript file: every panel a constant typed with its panel kind's `Options` and
`FieldConfig` (from `@grafana/schema/dist/esm/raw/composable/<kind>/panelcfg/x/*_types.gen`), the rest typed
`Dashboard`. The packages are pinned in grafana/npm/ and installed with `npm ci` into .cache/grafana-schema/
(untracked), again only when the lock file changes.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PINS = ROOT / "grafana" / "npm"
CACHE = ROOT / ".cache" / "grafana-schema"
DASHBOARDS = ROOT / "grafana" / "dashboards"
PANELCFG = "@grafana/schema/dist/esm/raw/composable"

# Grafana's types use TypeScript enums (BigValueColorMode.Background) where the JSON holds strings ("background"):
# Json<T> turns every string enum into the union of its values, field by field, and keeps optional and required
# keys as the schema has them. PanelOf types `options` and `fieldConfig.defaults.custom`, which the dashboard schema
# leaves as Record<string, unknown>, with the panel kind's own types.
PRELUDE = """\
import type { Dashboard, FieldConfig, FieldConfigSource, Panel } from '@grafana/schema';

type Json<T> = T extends string ? `${T}` : T extends number | boolean | null | undefined ? T
  : T extends Array<infer U> ? Array<Json<U>> : T extends object ? { [K in keyof T]: Json<T[K]> } : T;
type NoCustom = Record<string, never>;
type PanelOf<Options, Custom> = Json<Omit<Panel, 'options' | 'fieldConfig'>> & {
  options: Json<Options>;
  fieldConfig: Json<Omit<FieldConfigSource, 'defaults'>> & { defaults: Json<Omit<FieldConfig, 'custom'>> & { custom?: Json<Custom> } };
};
type Board = Json<Omit<Dashboard, 'panels'>> & { panels: Array<Json<Omit<Panel, 'options'>> & { options: object }> };
"""
ERROR = re.compile(r"^(?P<file>[^(\s]+)\((?P<line>\d+),(?P<col>\d+)\): error (?P<message>.*)$")


@dataclass(frozen=True)
class Failure:
    dashboard: str  # file name, e.g. ml-overview.json
    panel: str  # 'panel 3 "Prediction rate" (stat)', or 'dashboard "links"' for a top-level key
    message: str  # tsc's message, continuation lines included

    def __str__(self) -> str:
        return f"{self.dashboard}: {self.panel}: {self.message}"


def lock_digest() -> str:
    return hashlib.sha256((PINS / "package-lock.json").read_bytes() + (PINS / "package.json").read_bytes()).hexdigest()


def npm_available() -> bool:
    return shutil.which("npm") is not None and shutil.which("node") is not None


def install(cache: Path = CACHE) -> Path:
    """`npm ci` the pinned packages into cache unless they are there for this lock file; returns node_modules."""
    stamp = cache / "node_modules" / ".lock-sha256"
    digest = lock_digest()
    if stamp.exists() and stamp.read_text() == digest:
        return cache / "node_modules"
    cache.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(PINS / name, cache / name)
    result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=cache,
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"npm ci in {cache} failed:\n{result.stdout}{result.stderr}")
    stamp.write_text(digest)
    return cache / "node_modules"


def kind_module(kind: str, node_modules: Path) -> tuple[str, bool] | None:
    """The import path of a panel kind's generated types and whether it declares a FieldConfig; None if unknown."""
    folder = node_modules / PANELCFG / kind.replace("-", "") / "panelcfg" / "x"
    found = sorted(folder.glob("*_types.gen.d.ts"))
    if not found:
        return None
    text = found[0].read_text()
    return f"{PANELCFG}/{kind.replace('-', '')}/panelcfg/x/{found[0].name.removesuffix('.d.ts')}", \
        "export interface FieldConfig " in text


def panel_label(panel: dict) -> str:
    return f'panel {panel.get("id")} "{panel.get("title", "")}" ({panel.get("type")})'


def typescript(board: dict, node_modules: Path) -> tuple[str, list[tuple[int, int, str]]]:
    """One dashboard as TypeScript, and (first line, last line, label) for each panel and top-level key."""
    lines = PRELUDE.splitlines()
    panels = board.get("panels", [])
    modules = {kind: kind_module(kind, node_modules) for kind in sorted({p.get("type", "") for p in panels})}
    kinds = [kind for kind, module in modules.items() if module]
    for i, kind in enumerate(kinds):
        lines.append(f"import type * as kind{i} from '{modules[kind][0]}';")
    alias = {kind: f"kind{i}" for i, kind in enumerate(kinds)}
    spans: list[tuple[int, int, str]] = []
    names = []
    for n, panel in enumerate(panels):
        kind = panel.get("type", "")
        if kind in alias:
            typed = f"PanelOf<{alias[kind]}.Options, {alias[kind]}.FieldConfig>" if modules[kind][1] \
                else f"PanelOf<{alias[kind]}.Options, NoCustom>"
        else:  # tsc reports the panel: the string below is no panel type @grafana/schema knows
            typed = "PanelOf<Record<string, unknown>, Record<string, unknown>> & { type: 'a panel type @grafana/schema has' }"
        body = json.dumps(panel, indent=2).splitlines()
        first = len(lines) + 1
        lines += [f"// {json.dumps(panel_label(panel))}", f"const panel{n}: {typed} = {body[0]}", *body[1:-1], f"{body[-1]};"]
        spans.append((first, len(lines), panel_label(panel)))
        names.append(f"panel{n}")
    lines.append("export const dashboard: Board = {")
    for key, value in board.items():
        if key != "panels":  # each top-level key on its own lines, so that an error names the key
            body = f'"{key}": {json.dumps(value, indent=2)},'.splitlines()
            spans.append((len(lines) + 1, len(lines) + len(body), f'dashboard "{key}"'))
            lines += [f"  {line}" for line in body]
    lines += [f'  "panels": [{", ".join(names)}]', "};"]
    return "\n".join(lines) + "\n", spans


def tsc(files: list[Path], node_modules: Path) -> str:
    result = subprocess.run(
        ["node", str(node_modules / "typescript" / "bin" / "tsc"), "--strict", "--noEmit", "--pretty", "false",
         "--target", "es2020", "--module", "commonjs", "--moduleResolution", "node10",
         *map(str, files)],
        capture_output=True, text=True, timeout=300)
    if result.returncode not in (0, 1, 2):
        raise RuntimeError(f"tsc failed to run ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout + result.stderr


def failures(output: str, spans: dict[str, list[tuple[int, int, str]]]) -> list[Failure]:
    """Group tsc's errors (and their indented continuation lines) by dashboard file and panel."""
    found: list[Failure] = []
    for line in output.splitlines():
        match = ERROR.match(line)
        if match:
            name = Path(match["file"]).stem + ".json"
            row = int(match["line"])
            panel = next((label for first, last, label in spans.get(name, []) if first <= row <= last), "dashboard")
            found.append(Failure(name, panel, match["message"]))
        elif found and line.startswith(" "):
            found[-1] = Failure(found[-1].dashboard, found[-1].panel, found[-1].message + "\n" + line)
        elif line.strip():
            found.append(Failure("?", "tsc", line))
    return found


def check(boards: dict[str, dict], node_modules: Path | None = None) -> list[Failure]:
    """Type-check dashboards (file name -> dashboard JSON); an empty list means every panel matches the schema."""
    node_modules = node_modules or install()
    with tempfile.TemporaryDirectory(prefix="check-", dir=node_modules.parent) as tmp:
        spans, files = {}, []
        for name, board in boards.items():
            text, spans[name] = typescript(board, node_modules)
            path = Path(tmp) / (Path(name).stem + ".ts")
            path.write_text(text)
            files.append(path)
        return failures(tsc(files, node_modules), spans)


def committed() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--install", action="store_true", help="only install the pinned npm packages")
    args = parser.parse_args()
    if not npm_available():
        sys.exit("node and npm are needed (apt-get install nodejs npm)")
    if args.install:
        print(install())
        return
    found = check(committed())
    for failure in found:
        print(failure)
    print(f"{len(found)} type errors in {len(committed())} dashboards" if found else "dashboards match @grafana/schema")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
