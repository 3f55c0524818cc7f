"""The set-up the README promises: one test command everywhere, CI running exactly that command."""
from __future__ import annotations

import re

import pytest

import browser_setup
from conftest import ROOT


def readme_block_after(text: str, words: str) -> list[str]:
    """The lines of the first bash block after ``words`` in README.md."""
    start = text.index(words)
    block = re.search(r"```bash\n(.*?)```", text[start:], re.S)
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = readme_block_after(readme, "Install what the tests need")
    assert len(command) == 1 and "pytest" in command[0]
    assert "bash " not in command[0] and "sudo" not in command[0], "the command must run on any OS and user"
    script = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert script[-1] == command[0], "the last line of .ci/run must be the README's test command"


def test_chromium_lookup_honours_the_environment(monkeypatch, tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("")
    monkeypatch.setenv(browser_setup.ENV_VAR, str(fake))
    assert browser_setup.find_chromium() == fake
    monkeypatch.setenv(browser_setup.ENV_VAR, str(tmp_path / "missing"))
    assert browser_setup.find_chromium() is None
    path, reason = browser_setup.browser_or_reason(ci=False)
    assert path is None and "missing" in reason and "CI=true" in reason
    with pytest.raises(browser_setup.BrowserSetupError, match="does not exist"):
        browser_setup.browser_or_reason(ci=True)  # CI never installs behind a named binary


def test_ci_without_root_or_apt_fails_loudly(monkeypatch):
    monkeypatch.delenv(browser_setup.ENV_VAR, raising=False)
    monkeypatch.setattr(browser_setup, "find_chromium", lambda: None)
    monkeypatch.setattr(browser_setup, "_is_root", lambda: False)
    with pytest.raises(browser_setup.BrowserSetupError, match="apt-get install chromium"):
        browser_setup.browser_or_reason(ci=True)
    assert browser_setup.browser_or_reason(ci=False)[0] is None


def test_ci_as_root_installs_with_apt_get_update_first(monkeypatch):
    calls: list[list[str]] = []
    found = iter([None, browser_setup.DEBIAN_PATH])
    monkeypatch.delenv(browser_setup.ENV_VAR, raising=False)
    monkeypatch.setattr(browser_setup, "find_chromium", lambda: next(found))
    monkeypatch.setattr(browser_setup, "_is_root", lambda: True)
    monkeypatch.setattr(browser_setup.shutil, "which", lambda name: f"/usr/bin/{name}")

    class Done:
        returncode, stdout, stderr = 0, "", ""

    monkeypatch.setattr(browser_setup.subprocess, "run", lambda cmd, **kw: calls.append(cmd) or Done())
    path, _ = browser_setup.browser_or_reason(ci=True)
    assert path == browser_setup.DEBIAN_PATH
    assert [c[:2] for c in calls] == [["apt-get", "update"], ["apt-get", "install"]] and "chromium" in calls[1]
