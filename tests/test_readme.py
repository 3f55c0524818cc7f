"""Every command of the README's "Command line" and "Beyond one machine" blocks runs as written.

Each section's ``bash`` blocks run line by line in a fresh temporary folder (the README's
commands make their own input files with ``cli.py demo``), through ``cli.main`` with the
line's own arguments, so a command works here exactly when it works in a terminal: same
parser, same exit code. ``python cli.py --help`` and a bad path are also run as real
subprocesses in ``test_cli.py``. The line with ``--scheduler tcp://...`` is skipped: it needs
a running Dask cluster at that address. The Python example of "Chat about the segments" runs
on the ``out/`` folder the "Command line" block wrote.
"""
from __future__ import annotations

import re
import shlex

import pytest

import cli
from conftest import ROOT

README = ROOT / "README.md"
SECTIONS = ("## Command line", "### Beyond one machine")
PYTHON_EXAMPLE = "## Chat about the segments"  # reads the out/ folder of "Command line"
NEEDS_A_CLUSTER = "--scheduler tcp://"


def section(text: str, heading: str) -> str:
    """The README text under the heading starting with ``heading``, up to the next heading
    of the same or a higher level."""
    level = len(heading.split()[0])
    start = re.search(rf"^{re.escape(heading)}.*$", text, flags=re.M)
    assert start, f"README.md has no heading {heading!r}"
    rest = text[start.end():]
    end = re.search(rf"^#{{1,{level}}} ", rest, flags=re.M)
    return rest[:end.start()] if end else rest


def blocks(heading: str, language: str) -> list[str]:
    """The section's fenced code blocks in ``language``."""
    return re.findall(rf"```{language}\n(.*?)```", section(README.read_text(encoding="utf-8"), heading), re.S)


def commands(heading: str) -> list[str]:
    """The command lines of the section's fenced ``bash`` blocks."""
    return [line.strip() for block in blocks(heading, "bash") for line in block.splitlines() if line.strip()]


def test_the_sections_hold_the_commands():
    for heading in SECTIONS:
        lines = commands(heading)
        assert lines, f"no bash block under {heading!r}"
        assert all(line.startswith("python cli.py ") for line in lines), lines


@pytest.mark.heavy
@pytest.mark.parametrize("heading", SECTIONS, ids=["command-line", "beyond-one-machine"])
def test_readme_commands_run_as_written(heading, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ran = 0
    for line in commands(heading):
        if NEEDS_A_CLUSTER in line:
            continue  # a real cluster at that address; the local-cluster line above covers the code
        argv = shlex.split(line, comments=True)
        assert argv[:2] == ["python", "cli.py"], line
        code = cli.main(argv[2:])
        out, err = capsys.readouterr()
        assert code == 0, f"{line}\n{err}"
        assert "**" not in out, f"Markdown reached the terminal: {out}"
        ran += 1
    assert ran >= 3
    if heading == SECTIONS[0]:
        examples = blocks(PYTHON_EXAMPLE, "python")
        assert examples, f"no python block under {PYTHON_EXAMPLE!r}"
        for example in examples:
            exec(compile(example, "README.md", "exec"), {"__name__": "readme_example"})
        assert "segment" in capsys.readouterr().out.lower(), "the example printed no answer"
