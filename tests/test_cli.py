"""The CLI end to end: run, assign, explain, ask, demo; exit codes and messages on bad input.

Most commands run through ``cli.main`` in this process (:func:`in_process`: same parser, same
code); bad input, ``--help`` and a wrong path also run as real ``python cli.py`` processes
(:func:`cli`), for the exit code, the one stderr line and what gets imported.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from cli import main as cli_main
from conftest import ROOT, shared_csvs
from segmenter.demo import make_demo_customers


def cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """``python cli.py ARGS`` in a real process: for exit codes, stderr and import costs."""
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def in_process(*args: str) -> subprocess.CompletedProcess:
    """``cli.main(ARGS)`` in this process, with its exit code and output (same parser, same code
    paths as ``cli``, without paying for the library's import again)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = cli_main(list(args))
    return subprocess.CompletedProcess(["cli.py", *args], code, stdout.getvalue(), stderr.getvalue())


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    result = in_process("run", "demo", "--algorithm", "kmeans", "--out", str(out), "--quiet")
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
    result = in_process("assign", str(demo_run), str(path), "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assigned = pd.read_csv(out)
    assert len(assigned) == 400
    assert adjusted_rand_score(new.persona, assigned["segment"]) >= 0.9
    names = json.loads((demo_run / "report.json").read_text())["segments"]
    assert set(assigned["segment_name"]) <= {s["name"] for s in names}


def test_explain_and_ask(demo_run):
    customer = pd.read_csv(demo_run / "assignments.csv")["customer_id"].iloc[7]
    result = in_process("explain", str(demo_run), customer)
    assert result.returncode == 0, result.stderr
    assert customer in result.stdout
    result = in_process("ask", str(demo_run), "how many segments are there?")
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
    result = in_process("run", "demo", "--algorithm", "kmeans", "--k", "6", "--sample-size", "1000",
                 "--stratify", "region", "--map", "pca", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["params"]["stratify"] == "region" and report["params"]["fit_sample_size"] == 1000
    assert report["projection"]["method"] == "pca"
    assert sum(s["size"] for s in report["segments"]) == 5000  # every row assigned, not only the sample
    result = in_process("run", "demo", "--stratify", "customer_id", "--out", str(tmp_path / "o"), "--quiet")
    assert result.returncode == 2 and "different values" in result.stderr


def test_missing_file_and_bad_option_values(tmp_path):
    result = in_process("run", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o"), "--quiet")
    assert result.returncode == 2 and result.stderr.startswith("error: ")
    result = in_process("run", "demo", "--k", "1", "--out", str(tmp_path / "o"), "--quiet")
    assert result.returncode == 2 and "number of segments" in result.stderr
    result = in_process("run", "demo", "--exclude", "no_such_column", "--out", str(tmp_path / "o"), "--quiet")
    assert result.returncode == 2 and "no_such_column" in result.stderr
    result = in_process("assign", str(tmp_path), "demo.csv", "--out", str(tmp_path / "x.csv"))
    assert result.returncode == 2 and "report.json" in result.stderr


@pytest.mark.heavy
@pytest.mark.skipif(not shared_csvs(), reason="../shared/data is not present")
@pytest.mark.parametrize("path", shared_csvs(), ids=lambda p: p.name)
def test_cli_on_real_datasets(path, tmp_path):
    result = in_process("run", str(path), "--out", str(tmp_path), "--quiet")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["n_rows"] == len(pd.read_csv(path, sep=None, engine="python"))
    assert len([s for s in report["segments"] if s["id"] != -1]) >= 2
    assert report["id_column"] is not None
    assert report["id_column"] not in report["features"]
    assert sum(s["size"] for s in report["segments"]) == report["n_rows"]
    assert (tmp_path / "personas.html").stat().st_size > 1000


HEAVY_MODULES = ("sklearn", "shap", "lightgbm", "plotly", "gradio", "hdbscan", "dask")


def test_help_and_a_wrong_path_answer_without_loading_the_library(tmp_path):
    """A real process: ``--help`` and a missing input come back before any heavy import."""
    probe = ("import sys, cli\n"
             "codes = [cli.main(['run', 'missing.csv', '--out', 'o']), cli.main(['explain', 'nowhere', 'C1'])]\n"
             f"print(codes, sorted(m for m in {HEAVY_MODULES + ('pandas',)!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert result.stdout.strip() == "[2, 2] []", result.stdout + result.stderr
    assert "'missing.csv' was not found" in result.stderr and "has no report.json" in result.stderr
    probe = "import sys, segmenter.errors, segmenter.load, segmenter.paths\n" \
            f"print(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
    result = cli("--help")
    assert result.returncode == 0 and "demo" in result.stdout and "run" in result.stdout


def test_plain_text_for_the_terminal():
    from cli import plain_text
    from explainers.format import md_escape

    text = "**Bargain Hunters** (segment 1) has *1,234* customers.\n\n- `age`: [see](http://x) 42"
    assert plain_text(text) == "Bargain Hunters (segment 1) has 1,234 customers.\n\n- age: see 42"
    hostile = "**x**_y_ <b>&amp; [a](b) 2*3*4 \\"
    assert plain_text(f"Segment **{md_escape(hostile)}**") == f"Segment {hostile}"
    assert plain_text("## Heading\nsnake_case_name and 2 * 3") == "Heading\nsnake_case_name and 2 * 3"


def test_progress_labels_are_not_cut(capsys):
    from cli import progress_bar

    label = "Measuring the other algorithms for comparison on every row"
    with progress_bar() as progress:
        progress(0.5, label)
    assert label in capsys.readouterr().err


def test_demo_writes_the_sample_files(tmp_path, capsys):
    from cli import main

    code = main(["demo", "--out", str(tmp_path / "demo.parquet"), "--rows", "300", "--new-customers",
                 str(tmp_path / "new.csv"), "--parquet-dir", str(tmp_path / "parts")])
    assert code == 0 and "wrote" in capsys.readouterr().out
    table = pd.read_parquet(tmp_path / "demo.parquet")
    assert len(table) == 300 and table.equals(make_demo_customers(300).table)
    new = pd.read_csv(tmp_path / "new.csv")
    assert len(new) == 500 and not set(new["customer_id"]) & set(table["customer_id"])
    parts = sorted((tmp_path / "parts").glob("*.parquet"))
    assert len(parts) == 4 and sum(len(pd.read_parquet(p)) for p in parts) == 4000
    assert main(["demo", "--out", str(tmp_path / "demo.txt")]) == 2
    assert "should end in .csv or .parquet" in capsys.readouterr().err


def test_assign_leaves_out_bad_rows_lists_them_and_exits_3(demo_run, tmp_path):
    """One customer with an amount below zero or an age of 'abc' no longer fails (or silently
    changes) the whole batch: the others are assigned, the bad ones listed in a file."""
    new = make_demo_customers(60, seed=9).table.astype(object)
    new.loc[2, "annual_spend"] = "-40"
    new.loc[5, "age"] = "abc"
    path = tmp_path / "new.csv"
    new.to_csv(path, index=False)
    out = tmp_path / "assigned.csv"
    result = in_process("assign", str(demo_run), str(path), "--out", str(out), "--quiet")
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("warning: 2 of 60 customers were not assigned: row 3 (")
    assigned = pd.read_csv(out, dtype={"customer_id": str})
    assert len(assigned) == 58 and new.loc[2, "customer_id"] not in set(assigned["customer_id"])
    problems = pd.read_csv(tmp_path / "assigned.problems.csv")
    assert problems[["row", "column"]].values.tolist() == [[3, "annual_spend"], [6, "age"]]
    assert problems["problem"].tolist()[1] == "'abc' is not a number"
    new.loc[[2, 5], ["annual_spend", "age"]] = [["40", "40"], ["41", "41"]]
    new.to_csv(path, index=False)
    assert in_process("assign", str(demo_run), str(path), "--out", str(out), "--quiet").returncode == 0
    assert not (tmp_path / "assigned.problems.csv").exists()  # not left over from the run before


def test_comparison_runs_only_with_compare(demo_run, tmp_path):
    """Without --compare the report says the comparison was not run and holds none; with it,
    every algorithm is in it."""
    report = json.loads((demo_run / "report.json").read_text())
    assert report["params"]["comparison"] == "not run (pass --compare)"
    assert report["comparison"] == []
    out = tmp_path / "compared"
    result = in_process("run", "demo", "--algorithm", "kmeans", "--k", "6", "--compare", "--out", str(out),
                        "--quiet")
    assert result.returncode == 0, result.stderr
    assert "not run" not in result.stdout
    report = json.loads((out / "report.json").read_text())
    assert [c["algorithm"] for c in report["comparison"]] == ["kmeans", "hdbscan", "gmm", "agglomerative"]
    assert report["params"]["comparison"].startswith("run: 4 algorithms")
