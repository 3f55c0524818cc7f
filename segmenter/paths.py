"""Checks that a path names what a command needs, before anything heavy is imported.

Standard library only: ``cli.py`` calls these first, so a wrong path is answered at once
(without loading pandas, scikit-learn or SHAP); the loader and the run reader call the same
functions, so the messages are the same wherever the mistake is caught.
"""
from __future__ import annotations

import os
from pathlib import Path

from segmenter.errors import FileFormatError, ModelFileError

#: The report inside a run folder (``cli.py run --out DIR``); see ``explainers.analysis``.
REPORT_FILE = "report.json"


def require_file(source: str | os.PathLike, name: str | None = None) -> Path:
    """The path of an existing file, or a plain "not found" error naming it."""
    path = Path(source)
    if not path.is_file():
        raise FileFormatError(f"'{name or path.name}' was not found: there is no file at {str(path)!r}. "
                              "Check the path and try again.")
    return path


def require_run_dir(run_dir: str | os.PathLike) -> Path:
    """A folder written by ``cli.py run`` (it holds ``report.json``), or a plain error."""
    path = Path(run_dir)
    if not (path / REPORT_FILE).is_file():
        raise ModelFileError(f"'{path}' has no {REPORT_FILE}: run `cli.py run ... --out {path}` first.")
    return path


__all__ = ["REPORT_FILE", "require_file", "require_run_dir"]
