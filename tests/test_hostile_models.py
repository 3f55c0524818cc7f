"""Hostile model files: types built with a tampered file's arguments, huge members, wrong shapes.

A tampered file must change nothing on disk (listings of the temp dir, its parent and the
working directory before and after), read no other file, and fail with ModelFileError.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmenter.errors import ModelFileError
from segmenter.persist import TRUSTED_TYPES, load_model, save_model
from tests.hostile import (built_with, first_node, listing, padded_model_file, tampered_model_file, timed)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A saved HDBSCAN model with its LightGBM surrogate, and the table it was fitted on."""
    from explainers.drivers import explain_segments
    from segmenter.demo import make_demo_customers
    from segmenter.export import customers_frame
    from segmenter.model import CustomerSegmenter
    from segmenter.schema import apply_schema

    table = make_demo_customers(1500, seed=5).table
    model = CustomerSegmenter(algorithm="hdbscan", seed=0, compare=False, stability_runs=0).fit(table)
    customers = customers_frame(model.report_, apply_schema(table, model.schema_))
    _, surrogate = explain_segments(model.report_, model, customers, seed=0)
    path = save_model(model, tmp_path_factory.mktemp("model") / "model.skops", extras=surrogate.to_extras())
    return path, model, surrogate, table, customers


def unchanged_disk(tmp_path, monkeypatch):
    """Run the load in an empty working directory inside ``tmp_path``; return the listing function."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return lambda: (listing(tmp_path), listing(tmp_path.parent, recursive=False), listing(cwd))


@pytest.mark.parametrize("where", ["absolute", "relative", "sibling"])
def test_a_tampered_file_that_builds_a_disk_cache_changes_nothing_on_disk(saved, tmp_path, monkeypatch, where):
    snapshot = unchanged_disk(tmp_path, monkeypatch)
    target = {"absolute": str(tmp_path / "victim" / "cache"), "relative": "cache",
              "sibling": str(tmp_path.parent / f"{tmp_path.name}-cache")}[where]
    evil = tampered_model_file(saved[0], tmp_path / "evil.skops",
                               extras={"cache": built_with("joblib.memory", "Memory", target)})
    before = snapshot()
    try:
        load_model(evil)
        refusal = None
    except ModelFileError as exc:
        refusal = str(exc)
    after = snapshot()
    assert after == before, [sorted(set(a) - set(b)) for a, b in zip(after, before)]
    assert refusal is not None and "joblib.memory.Memory" in refusal and "not loaded" in refusal


def test_a_tampered_file_cannot_make_lightgbm_read_a_local_file(saved, tmp_path, monkeypatch):
    import lightgbm

    local = tmp_path / "someone-elses-model.txt"
    saved[2].model.booster_.save_model(str(local))
    calls = []
    real_init = lightgbm.basic.Booster.__init__

    def spy(self, *args, **kwargs):
        calls.append((args, kwargs))
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(lightgbm.basic.Booster, "__init__", spy)
    for module, cls in (("lightgbm.basic", "Booster"), ("lightgbm.sklearn", "LGBMClassifier")):
        evil = tampered_model_file(saved[0], tmp_path / f"{cls}.skops",
                                   extras={"reader": built_with(module, cls, None, None, str(local))})
        with pytest.raises(ModelFileError, match="no longer loads"):
            load_model(evil)
    assert calls == []  # nothing from the file was handed to LightGBM


def test_model_files_hold_only_types_without_side_effects(saved, tmp_path):
    import skops.io as sio

    assert not {t for t in TRUSTED_TYPES if t.startswith(("joblib", "lightgbm"))}
    path, model, surrogate, table, customers = saved
    assert set(sio.get_untrusted_types(file=path)) <= TRUSTED_TYPES
    loaded, extras = load_model(path)
    assert model.fit_.model.model.memory is not None  # the fitted model itself is left as it was
    assert loaded.fit_.model.model.memory.location is None
    new = table.sample(200, random_state=2)
    pd.testing.assert_frame_equal(loaded.assign(new), model.assign(new))

    from explainers.drivers import Surrogate

    again = Surrogate.from_extras(extras)
    X = model.preprocessor_.transform(customers.iloc[:300][model.schema_.features])
    assert np.array_equal(again.predict_proba(X), surrogate.predict_proba(X))
    assert np.array_equal(again.model.predict(X), surrogate.model.predict(X))
    assert np.allclose(again.margins(X), surrogate.margins(X))
    values, expected = again.shap_values(X[:50])
    assert np.allclose(values.sum(axis=1) + expected, again.margins(X[:50]), atol=1e-6)


def test_a_small_file_with_a_huge_description_is_refused_before_it_is_read(saved, tmp_path):
    import tracemalloc

    from segmenter.persist import MAX_DESCRIPTION_BYTES

    evil = padded_model_file(saved[0], tmp_path / "padded.skops", MAX_DESCRIPTION_BYTES + 8 * 2**20)
    assert evil.stat().st_size < 6 * 2**20
    tracemalloc.start()
    try:
        with timed(60) as t, pytest.raises(ModelFileError, match=r"unpack to .* description to 40 MB.*at most 32 MB"):
            load_model(evil)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert t.seconds < 1.0 and peak < 20 * 2**20, (t.seconds, peak)  # before: 4 s and 500 MB, 10x for 400 MB


def test_a_declared_size_past_the_limit_is_refused_from_the_zip_directory(saved, tmp_path):
    import struct
    import zipfile

    data = bytearray(saved[0].read_bytes())
    with zipfile.ZipFile(saved[0]) as archive:
        name = next(i.filename for i in archive.infolist() if i.filename.endswith(".npy")).encode()
    entry = data.find(b"PK\x01\x02")  # central directory: signature, ..., size at +24, name at +46
    while data[entry + 46:entry + 46 + len(name)] != name:
        entry = data.find(b"PK\x01\x02", entry + 4)
    struct.pack_into("<I", data, entry + 24, 3 * 2**30)  # claims 3 GB once unpacked
    evil = tmp_path / "declared.skops"
    evil.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"would unpack to 3,07\d MB .* at most 2 GB"):
        load_model(evil)


def _run_dir(saved, tmp_path):
    from explainers.analysis import analyse, write_run

    table = saved[3]
    run = tmp_path / "run"
    write_run(analyse(table.iloc[:600], algorithm="kmeans", k=3, seed=0, compare=False, stability_runs=0), run)
    return run


@pytest.mark.parametrize("extras", ["ndarray", "text", "list"])
def test_a_model_whose_extras_are_not_a_mapping_is_a_model_file_error(saved, tmp_path, extras):
    from explainers.analysis import load_run

    run = _run_dir(saved, tmp_path)
    node = {"ndarray": first_node(run / "model.skops", "NdArrayNode"),
            "text": {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
                     "content": '"surrogate"', "is_json": True, "__id__": 3},
            "list": {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode", "__id__": 4,
                     "content": [{"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
                                  "content": '"surrogate"', "is_json": True, "__id__": 5}]}}[extras]
    good = run / "model.skops"
    bad = tampered_model_file(good, tmp_path / "bad.skops", replace={"extras": node})
    bad.replace(good)
    with pytest.raises(ModelFileError, match="damaged"):
        load_model(good)
    with pytest.raises(ModelFileError):
        load_run(run)

    import cli

    assert cli.main(["ask", str(run), "how big is segment 1?"]) == 2
