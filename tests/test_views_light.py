"""Views and the results they read load no docker-py: a message is built without an engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VIEWS = sorted(f"bot.views.{path.stem}" for path in (ROOT / "bot" / "views").glob("*.py")
               if path.stem != "__init__")
LIGHT = ["bot.views", *VIEWS, "bot.engine", "bot.engine.results", "bot.errors"]


@pytest.mark.parametrize("module", LIGHT)
def test_importing_a_view_leaves_docker_unloaded(module: str) -> None:
    probe = f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'docker'))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]", f"{module} loads docker-py: {done.stdout.strip()}"
