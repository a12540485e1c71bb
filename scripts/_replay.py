"""What the old script files still run: recorded commands (metrics.json "command", the .sh files)
name `python scripts/<file>.py ARGS`, and each such file now runs its package's module with ARGS
from the repository root's packages (PYTHONPATH, so relative paths in ARGS keep their meaning)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def replay(module: str, *command: str) -> None:
    """Replace this process by `python -m module *command *sys.argv[1:]`."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    os.execve(sys.executable, [sys.executable, "-m", module, *command, *sys.argv[1:]],
              dict(os.environ, PYTHONPATH=path))
