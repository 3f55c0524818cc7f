"""``constraints.txt``: the exact versions of everything ``requirements.txt`` pulls in, as tested.

``requirements.txt`` holds compatible ranges and starts with ``-c constraints.txt``, so the Space,
the Dockerfile and ``pip install -r requirements.txt`` all get the versions the suite passed with.
To move to new versions: install them, run the suite, then write the lock again from that
environment with ``python tests/lockfile.py`` (``tests/test_requirements.py`` checks the two
files agree, and that the suite runs on exactly the pinned versions).
"""
from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements.txt"
CONSTRAINTS = ROOT / "constraints.txt"
HEADER = """\
# The versions the test suite passed with, for everything requirements.txt pulls in on Linux
# (Python 3.11). requirements.txt applies them with -c; regenerate with: python tests/lockfile.py
"""


def requirement_lines(path: Path) -> list[str]:
    """Requirement strings of a requirements file (comments, blank lines and -r/-c options left out)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line and not line.startswith(("#", "-")):
            out.append(line)
    return out


def requirements(path: Path = REQUIREMENTS) -> list[Requirement]:
    return [Requirement(line) for line in requirement_lines(path)]


def pins(path: Path = CONSTRAINTS) -> dict[str, str]:
    """{canonical name: version} of a constraints file."""
    out = {}
    for line in requirement_lines(path):
        name, _, version = line.partition("==")
        out[canonicalize_name(name)] = version.strip()
    return out


def closure(reqs: list[Requirement]) -> dict[str, str]:
    """{canonical name: installed version} of ``reqs`` and everything they depend on here."""
    found: dict[str, str] = {}
    todo = [(r, frozenset(r.extras)) for r in reqs]
    seen: set[tuple[str, frozenset]] = set()
    while todo:
        req, extras = todo.pop()
        name = canonicalize_name(req.name)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        dist = metadata.distribution(req.name)  # PackageNotFoundError: not installed
        found[name] = dist.version
        for text in dist.requires or []:
            sub = Requirement(text)
            wanted = [{"extra": e} for e in extras] or [{"extra": ""}]
            if sub.marker is None or any(sub.marker.evaluate(env) for env in wanted):
                todo.append((sub, frozenset(sub.extras)))
    return found


def write(path: Path = CONSTRAINTS) -> Path:
    """Write the installed versions of requirements.txt's closure as ``name==version`` lines."""
    versions = closure(requirements())
    lines = [f"{metadata.distribution(n).metadata['Name']}=={v}" for n, v in sorted(versions.items())]
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write()} ({len(pins())} pins)")
    sys.exit(0)
