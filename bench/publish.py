"""Write one benchmark's Markdown and rebuild BENCHMARKS.md from every benchmark's latest result.

Each ``bench/bench_*.py`` script calls :func:`publish` at its end; BENCHMARKS.md at the top of
the repository is then the benchmarks' results side by side, each from its own latest run.
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BENCHMARKS = ROOT / "BENCHMARKS.md"
#: Sections in BENCHMARKS.md: result file stem -> the command that rewrites it.
SECTIONS = {
    "cli": "python bench/bench_cli.py --sizes 10000,100000,1000000 --repeats 3 --repeats-large 1",
    "shap": "python bench/bench_shap.py",
    "chat": "python bench/bench_chat.py --sizes 5000 100000",
    "app": "python bench/bench_app.py",
}

HEADER = """# Benchmarks

Performance goals are measured here, never in timed unit tests. Every figure below comes from
the command named above its section, run on a machine like a free Hugging Face Space (2 cores);
ratios compare approaches measured in the same run. Each section is rewritten by its own script
(through `bench/publish.py`); the raw tables also live in `bench/results/`.
"""


def publish(name: str, text: str) -> Path:
    """Save ``text`` as ``bench/results/<name>.md`` and rebuild BENCHMARKS.md; return the latter."""
    if name not in SECTIONS:
        raise ValueError(f"unknown benchmark section {name!r}; add it to SECTIONS")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.md").write_text(text, encoding="utf-8")
    parts = [HEADER]
    for stem, command in SECTIONS.items():
        path = RESULTS / f"{stem}.md"
        body = _demote(path.read_text(encoding="utf-8")) if path.exists() else f"## {stem}\n\n_Not run yet._\n"
        title, _, rest = body.partition("\n")
        parts.append(f"\n{title}\n\nRe-run: `{command}`\n{rest}")
    BENCHMARKS.write_text("".join(parts), encoding="utf-8")
    return BENCHMARKS


def _demote(markdown: str) -> str:
    """Push every heading one level down so each result's title sits under BENCHMARKS.md's."""
    return "\n".join("#" + line if line.startswith("#") else line for line in markdown.splitlines()) + "\n"
