"""Find, and on CI install, the Chromium that the browser tests drive (no bash needed).

The browser tests use a Chromium that is already on the machine: the one named by the
``SEGMENT_CHROMIUM`` environment variable (exactly that path), else ``/usr/bin/chromium`` or a
``chromium`` / ``chromium-browser`` on the PATH. Playwright's own browser download does not
work everywhere, so we never rely on it.

* Without ``CI=true`` a missing Chromium only skips the browser tests, with the reason.
* With ``CI=true`` the browser tests are required: a missing Chromium is installed from
  Debian (``apt-get update`` then ``apt-get install chromium``) when we are root on a machine
  with apt-get, and anything else fails loudly with what to do.

``tests/conftest.py`` calls :func:`browser_or_reason` once per session, only when a browser
test runs. ``python tests/browser_setup.py`` does the CI install by hand.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ENV_VAR = "SEGMENT_CHROMIUM"
DEBIAN_PATH = Path("/usr/bin/chromium")
PATH_NAMES = ("chromium", "chromium-browser")
APT_TIMEOUT = 900  # seconds for apt-get update + install on a slow mirror


class BrowserSetupError(RuntimeError):
    """CI needs Chromium and it could not be found or installed."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def find_chromium() -> Path | None:
    """The Chromium to drive, or None; ``SEGMENT_CHROMIUM`` (if set) is the only candidate."""
    named = os.environ.get(ENV_VAR)
    if named:
        return Path(named) if Path(named).is_file() else None
    if DEBIAN_PATH.is_file():
        return DEBIAN_PATH
    found = next((shutil.which(name) for name in PATH_NAMES if shutil.which(name)), None)
    return Path(found) if found else None


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def install_debian_chromium() -> None:
    """``apt-get update`` and ``apt-get install chromium`` (root on Debian/Ubuntu only)."""
    if os.environ.get(ENV_VAR):
        raise BrowserSetupError(f"{ENV_VAR}={os.environ[ENV_VAR]} does not exist; point it at a Chromium "
                                f"binary or unset it to use {DEBIAN_PATH}.")
    if not _is_root() or shutil.which("apt-get") is None:
        raise BrowserSetupError(
            f"CI=true needs Chromium for the browser tests and none was found ({DEBIAN_PATH} or "
            f"{' / '.join(PATH_NAMES)} on the PATH). Install it (Debian/Ubuntu: 'sudo apt-get install "
            f"chromium') or set {ENV_VAR} to a Chromium binary; without CI=true the browser tests skip.")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=APT_TIMEOUT)
        if done.returncode != 0:
            raise BrowserSetupError(f"'{' '.join(command)}' failed (exit {done.returncode}): "
                                    f"{(done.stderr or done.stdout).strip()[-800:]}")


def browser_or_reason(ci: bool | None = None) -> tuple[Path | None, str]:
    """(Chromium path, "") when the browser tests can run, else (None, why they skip).

    Raises :class:`BrowserSetupError` on CI when Chromium or Playwright cannot be had.
    """
    ci = in_ci() if ci is None else ci
    path = find_chromium()
    if path is None and ci:
        install_debian_chromium()
        path = find_chromium()
        if path is None:
            raise BrowserSetupError(f"apt-get installed chromium but {DEBIAN_PATH} is still missing.")
    if path is None:
        where = os.environ.get(ENV_VAR) or f"{DEBIAN_PATH} or {' / '.join(PATH_NAMES)} on the PATH"
        return None, (f"no Chromium found ({where}); browser tests run when one is installed, and are "
                      "required with CI=true (which installs Debian's chromium as root)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        if ci:
            raise BrowserSetupError("CI=true needs Playwright: pip install -r requirements-dev.txt") from exc
        return None, "Playwright is not installed (pip install -r requirements-dev.txt)"
    return path, ""


def main() -> int:
    try:
        path, reason = browser_or_reason(ci=True)
    except BrowserSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
