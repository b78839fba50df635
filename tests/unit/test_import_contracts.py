"""The import contracts in .importlinter hold: layers web -> projections -> application -> domain,
and no import cycle anywhere. import-linter reads the package from the files, so web/ and
projections/ are laid inside a copy of src/incidents as an install lays them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PARTS = {"src/incidents": "incidents", "web": "incidents/web", "projections": "incidents/projections"}


def test_the_import_contracts_hold(tmp_path):
    for source, target in PARTS.items():
        for module in (REPO / source).rglob("*.py"):
            if "node_modules" not in module.parts:
                copy = tmp_path / target / module.relative_to(REPO / source)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(module, copy)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), str(REPO / ".importlinter"), "--no-cache"],
        env={**os.environ, "PYTHONPATH": str(tmp_path)}, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout
