"""The CLI end to end: run, assign, explain, ask; exit codes and messages on bad input."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from conftest import ROOT, shared_csvs
from segmenter.demo import make_demo_customers


def cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    result = cli("run", "demo", "--algorithm", "kmeans", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    return out


def test_run_demo_writes_every_file(demo_run):
    for name in ("report.json", "assignments.csv", "customers.parquet", "model.skops",
                 "personas.html", "personas.md"):
        assert (demo_run / name).is_file(), name
    report = json.loads((demo_run / "report.json").read_text())
    assert report["n_rows"] == 5000 and report["algorithm"] == "kmeans"
    assert 0 <= report["explanation"]["surrogate_fidelity"] <= 1
    assert all(seg["drivers"] for seg in report["segments"] if seg["id"] != -1)
    assignments = pd.read_csv(demo_run / "assignments.csv")
    assert list(assignments.columns) == ["customer_id", "segment", "segment_name", "probability"]
    truth = make_demo_customers().persona
    assert adjusted_rand_score(truth, assignments["segment"]) >= 0.9


def test_assign_new_customers_with_a_saved_run(demo_run, tmp_path):
    new = make_demo_customers(400, seed=9)
    path = tmp_path / "new.csv"
    new.table.to_csv(path, index=False)
    out = tmp_path / "assigned.csv"
    result = cli("assign", str(demo_run), str(path), "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assigned = pd.read_csv(out)
    assert len(assigned) == 400
    assert adjusted_rand_score(new.persona, assigned["segment"]) >= 0.9
    names = json.loads((demo_run / "report.json").read_text())["segments"]
    assert set(assigned["segment_name"]) <= {s["name"] for s in names}


def test_explain_and_ask(demo_run):
    customer = pd.read_csv(demo_run / "assignments.csv")["customer_id"].iloc[7]
    result = cli("explain", str(demo_run), customer)
    assert result.returncode == 0, result.stderr
    assert customer in result.stdout
    result = cli("ask", str(demo_run), "how many segments are there?")
    assert result.returncode == 0, result.stderr
    n_segments = len([s for s in json.loads((demo_run / "report.json").read_text())["segments"]
                      if s["id"] != -1])
    assert str(n_segments) in result.stdout


@pytest.mark.parametrize("content, expected", [
    (b"", "empty"),
    (b"a,b,c\n", "no rows"),
    (bytes(range(256)) * 40, "text table"),
], ids=["empty", "header-only", "binary"])
def test_bad_input_exits_2_with_one_line(tmp_path, content, expected):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    out = tmp_path / "out"
    result = cli("run", str(path), "--out", str(out), "--quiet")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists(), "nothing half-written"


def test_stratified_sample_size_reaches_the_report(tmp_path):
    out = tmp_path / "run"
    result = cli("run", "demo", "--algorithm", "kmeans", "--k", "6", "--sample-size", "1000",
                 "--stratify", "region", "--map", "pca", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["params"]["stratify"] == "region" and report["params"]["fit_sample_size"] == 1000
    assert report["projection"]["method"] == "pca"
    assert sum(s["size"] for s in report["segments"]) == 5000  # every row assigned, not only the sample
    result = cli("run", "demo", "--stratify", "customer_id", "--out", str(tmp_path / "o"), "--quiet")
    assert result.returncode == 2 and "different values" in result.stderr


def test_missing_file_and_bad_option_values(tmp_path):
    result = cli("run", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o"), "--quiet")
    assert result.returncode == 2 and result.stderr.startswith("error: ")
    result = cli("run", "demo", "--k", "1", "--out", str(tmp_path / "o"), "--quiet")
    assert result.returncode == 2 and "number of segments" in result.stderr
    result = cli("run", "demo", "--exclude", "no_such_column", "--out", str(tmp_path / "o"), "--quiet")
    assert result.returncode == 2 and "no_such_column" in result.stderr
    result = cli("assign", str(tmp_path), "demo.csv", "--out", str(tmp_path / "x.csv"))
    assert result.returncode == 2 and "report.json" in result.stderr


@pytest.mark.skipif(not shared_csvs(), reason="../shared/data is not present")
@pytest.mark.parametrize("path", shared_csvs(), ids=lambda p: p.name)
def test_cli_on_real_datasets(path, tmp_path):
    result = cli("run", str(path), "--out", str(tmp_path), "--quiet")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["n_rows"] == len(pd.read_csv(path, sep=None, engine="python"))
    assert len([s for s in report["segments"] if s["id"] != -1]) >= 2
    assert report["id_column"] is not None
    assert report["id_column"] not in report["features"]
    assert sum(s["size"] for s in report["segments"]) == report["n_rows"]
    assert (tmp_path / "personas.html").stat().st_size > 1000
