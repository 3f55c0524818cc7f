"""The Dask path gives the same labels and statistics as the in-memory path.

A small LocalCluster (one in-process worker, two threads) is started by the tests and
always closed; the fitted models are small so the whole module runs in seconds.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from segmenter import distributed as dist
from segmenter.demo import make_demo_customers
from segmenter.errors import ColumnError, DataError, FileFormatError, ParameterError
from segmenter.model import CustomerSegmenter
from segmenter.profile import profile_segments
from segmenter.schema import apply_schema

pytestmark = pytest.mark.heavy  # a Dask cluster
FAST = {"seed": 0, "stability_runs": 0, "compare": False}
EXACT = ("mean", "std", "min", "max")


@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None,
                      death_timeout="30s") as local:
        yield local


@pytest.fixture(scope="module")
def training():
    return make_demo_customers(3000, seed=0).table


@pytest.fixture(scope="module")
def models(training):
    return {a: CustomerSegmenter(algorithm=a, **FAST).fit(training) for a in ("kmeans", "hdbscan")}


@pytest.fixture(scope="module")
def new_customers():
    return make_demo_customers(7000, seed=11).table


def write_dataset(table: pd.DataFrame, folder, parts: int = 4):
    folder.mkdir()
    for i, chunk in enumerate(np.array_split(np.arange(len(table)), parts)):
        table.iloc[chunk].to_parquet(folder / f"customers-{i}.parquet", index=False)
    return folder


def in_memory(model, table):
    labels = model.assign(table)
    profile = profile_segments(apply_schema(table, model.schema_), labels["segment"].to_numpy(),
                               list(model.preprocessor_.numeric), list(model.preprocessor_.categorical))
    return labels, profile


@pytest.mark.parametrize("algorithm", ["kmeans", "hdbscan"])
def test_dask_assigns_the_same_labels_as_in_memory(cluster, models, new_customers, tmp_path, algorithm):
    model = models[algorithm]
    source = write_dataset(new_customers, tmp_path / "in")
    seen = []
    out = dist.assign_parquet_dataset(model, model.report_, source, tmp_path / "out",
                                      scheduler=cluster.scheduler_address,
                                      progress=lambda f, m: seen.append((f, m)))
    got = pd.read_parquet(out)
    expected, _ = in_memory(model, new_customers)
    assert list(got.columns) == ["customer_id", "segment", "segment_name", "probability"]
    np.testing.assert_array_equal(got["customer_id"].to_numpy(), expected["id"].to_numpy())
    np.testing.assert_array_equal(got["segment"].to_numpy(), expected["segment"].to_numpy())
    np.testing.assert_allclose(got["probability"].to_numpy(), expected["probability"].to_numpy())
    assert got["segment_name"].tolist() == [model.report_.names[s] for s in got["segment"]]
    assert sorted(p.name for p in out.glob("part.*.parquet")) == [f"part.{i:05d}.parquet" for i in range(4)]
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert sum("parts)" in m for _, m in seen) == 4


@pytest.mark.parametrize("algorithm", ["kmeans", "hdbscan"])
def test_dask_statistics_equal_the_in_memory_profile(cluster, models, new_customers, tmp_path, algorithm):
    model = models[algorithm]
    out = dist.assign_parquet_dataset(model, model.report_, write_dataset(new_customers, tmp_path / "in"),
                                      tmp_path / "out", scheduler=cluster.scheduler_address)
    stats = dist.read_statistics(out)
    _, profile = in_memory(model, new_customers)
    features = apply_schema(new_customers, model.schema_)
    labels = model.assign(new_customers)["segment"].to_numpy()
    assert stats["rows"] == len(new_customers)
    assert set(stats["segments"]) == {str(s) for s in profile["segments"]}
    for sid, seg in stats["segments"].items():
        mine = profile["segments"][int(sid)]
        assert seg["size"] == mine["size"] and seg["share"] == pytest.approx(mine["share"])
        assert seg["name"] == model.report_.names[int(sid)]
        for column, values in seg["numeric"].items():
            theirs = mine["numeric"][column]
            for stat in EXACT:
                assert values[stat] == pytest.approx(theirs[stat], rel=1e-9, abs=1e-12, nan_ok=True), (sid, column, stat)
            assert values["missing_share"] == pytest.approx(theirs["missing_share"], abs=1e-12)
            x = features[column].to_numpy()[labels == int(sid)]
            x = x[np.isfinite(x)]
            for name, q in (("q1", 0.25), ("median", 0.5), ("q3", 0.75)):
                low, high = np.quantile(x, [max(q - 0.005, 0), min(q + 0.005, 1)])
                assert low - 1e-9 <= values[name] <= high + 1e-9, (sid, column, name)
        for column, shares in seg["categorical"].items():
            expected = {k: v for k, v in mine["categorical"][column].items() if v > 0}
            assert shares == pytest.approx(expected)
    for column, values in stats["overall"]["numeric"].items():
        for stat in EXACT:
            assert values[stat] == pytest.approx(profile["overall"]["numeric"][column][stat], rel=1e-9)
    assert stats["overall"]["categorical"] == pytest.approx(
        {c: pytest.approx(v) for c, v in profile["overall"]["categorical"].items()})
    assert "approximate" in stats["note"].lower() and stats["approximate"] == ["q1", "median", "q3"]


def test_statistics_function_on_a_dask_frame(models, new_customers):
    import dask
    import dask.dataframe as dd

    model = models["kmeans"]
    numeric, categorical = list(model.preprocessor_.numeric), list(model.preprocessor_.categorical)
    frame = apply_schema(new_customers, model.schema_)
    frame[dist.SEGMENT] = model.assign(new_customers)["segment"].to_numpy()
    with dask.config.set(scheduler="synchronous"):
        stats = dist.segment_statistics_dask(dd.from_pandas(frame, npartitions=5), numeric, categorical)
    profile = profile_segments(frame, frame[dist.SEGMENT].to_numpy(), numeric, categorical)
    for sid, seg in stats["segments"].items():
        for column in numeric:
            for stat in EXACT:
                assert seg["numeric"][column][stat] == pytest.approx(
                    profile["segments"][int(sid)]["numeric"][column][stat], rel=1e-9)


def test_rows_are_numbered_across_parts_without_an_id_column(cluster, training, new_customers, tmp_path):
    no_id = training.drop(columns=["customer_id"])
    model = CustomerSegmenter(algorithm="kmeans", k=6, **FAST).fit(no_id)
    table = new_customers.drop(columns=["customer_id"])
    out = dist.assign_parquet_dataset(model, model.report_, write_dataset(table, tmp_path / "in", parts=3),
                                      tmp_path / "out", scheduler=cluster.scheduler_address)
    got = pd.read_parquet(out)
    np.testing.assert_array_equal(got["row"].to_numpy(), np.arange(len(table)))
    np.testing.assert_array_equal(got["segment"].to_numpy(), model.assign(table)["segment"].to_numpy())


def test_a_second_run_replaces_the_earlier_output(cluster, models, new_customers, tmp_path):
    model = models["kmeans"]
    out = tmp_path / "out"
    dist.assign_parquet_dataset(model, model.report_, write_dataset(new_customers, tmp_path / "a", parts=5),
                                out, scheduler=cluster.scheduler_address)
    dist.assign_parquet_dataset(model, model.report_, write_dataset(new_customers.iloc[:100], tmp_path / "b", parts=2),
                                out, scheduler=cluster.scheduler_address)
    assert len(list(out.glob("part.*.parquet"))) == 2 and len(pd.read_parquet(out)) == 100
    assert json.loads((out / dist.STATISTICS_FILE).read_text())["rows"] == 100
    assert not list(tmp_path.glob(".partial-*"))


def test_assign_file_uses_the_dask_engine(cluster, training, new_customers, tmp_path):
    from explainers.analysis import analyse, assign_file, write_run

    run = tmp_path / "run"
    write_run(analyse(training, algorithm="kmeans", k=6, **FAST), run)
    out = assign_file(run, str(write_dataset(new_customers.iloc[:1500], tmp_path / "in", parts=2)),
                      tmp_path / "out", engine="dask", scheduler=cluster.scheduler_address)
    got = pd.read_parquet(out)
    assert len(got) == 1500 and set(got["segment"]) <= set(range(1, 7))


def test_bad_inputs_get_plain_errors(cluster, models, new_customers, tmp_path):
    model = models["kmeans"]
    with pytest.raises(FileFormatError, match="does not exist"):
        dist.assign_parquet_dataset(model, model.report_, tmp_path / "nowhere", tmp_path / "o1")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("hello")
    with pytest.raises(FileFormatError, match="no .parquet files"):
        dist.assign_parquet_dataset(model, model.report_, empty, tmp_path / "o2")
    source = write_dataset(new_customers.iloc[:200], tmp_path / "in", parts=2)
    with pytest.raises(DataError, match="already holds other files"):
        dist.assign_parquet_dataset(model, model.report_, source, empty)
    lacking = write_dataset(new_customers.iloc[:200].drop(columns=["age"]), tmp_path / "lacking", parts=2)
    with pytest.raises(ColumnError, match="age"):
        dist.assign_parquet_dataset(model, model.report_, lacking, tmp_path / "o3",
                                    scheduler=cluster.scheduler_address)
    assert not (tmp_path / "o3").exists()


def test_unreachable_scheduler_is_a_plain_error():
    with pytest.raises(ParameterError, match="Could not reach the Dask scheduler"):
        with dist.dask_client("tcp://127.0.0.1:9", timeout="1s"):
            pass


def test_quantile_sketches_are_exact_when_small_and_close_when_merged():
    rng = np.random.default_rng(0)
    small = [np.sort(rng.normal(size=n)) for n in (1, 7, 300, 500)]
    merged = dist._merge([dist._cut(x) for x in small])
    everything = np.concatenate(small)
    for q in (0.25, 0.5, 0.75):
        assert dist._quantile(merged, q) == pytest.approx(np.quantile(everything, q), abs=1e-12)
    big = [np.sort(rng.lognormal(3, 1, size=rng.integers(2000, 30000))) for _ in range(40)]
    level = [dist._cut(x) for x in big]
    while len(level) > 1:  # the same tree as on the cluster
        level = [dist._merge(level[i:i + dist.SPLIT_EVERY]) for i in range(0, len(level), dist.SPLIT_EVERY)]
    everything = np.concatenate(big)
    for q in (0.25, 0.5, 0.75):
        low, high = np.quantile(everything, [q - 0.003, q + 0.003])  # 0.1% per merge level, 2 levels
        assert low <= dist._quantile(level[0], q) <= high
    ties = dist._merge([dist._cut(np.sort(rng.integers(20, 70, 5000).astype(float))) for _ in range(3)])
    assert dist._quantile(ties, 0.5) == np.round(dist._quantile(ties, 0.5))  # integer ages stay integers


def test_an_empty_first_part_still_reads_back(cluster, models, new_customers, tmp_path):
    model = models["hdbscan"]
    source = tmp_path / "in"
    source.mkdir()
    new_customers.iloc[:0].to_parquet(source / "a-empty.parquet", index=False)  # Spark writes these
    new_customers.iloc[:300].to_parquet(source / "b.parquet", index=False)
    out = dist.assign_parquet_dataset(model, model.report_, source, tmp_path / "out",
                                      scheduler=cluster.scheduler_address)
    got = pd.read_parquet(out)
    expected = model.assign(new_customers.iloc[:300])
    np.testing.assert_array_equal(got["segment"].to_numpy(), expected["segment"].to_numpy())
    assert got["customer_id"].tolist() == expected["id"].tolist()


def test_std_of_near_constant_columns_is_exact():
    import dask
    import dask.dataframe as dd

    frame = pd.DataFrame({"flat": np.full(500, 123456.7), "tiny": 123456.7 + np.arange(500) * 1e-6,
                          dist.SEGMENT: np.repeat(np.array([1, 2], dtype=np.int32), 250)})
    with dask.config.set(scheduler="synchronous"):
        stats = dist.segment_statistics_dask(dd.from_pandas(frame, npartitions=4), ["flat", "tiny"], [])
    for sid in (1, 2):
        part = frame[frame[dist.SEGMENT] == sid]
        assert stats["segments"][sid]["numeric"]["flat"]["std"] == pytest.approx(0.0, abs=1e-9)
        assert stats["segments"][sid]["numeric"]["tiny"]["std"] == pytest.approx(part["tiny"].std(), rel=1e-6)
    assert stats["overall"]["numeric"]["tiny"]["std"] == pytest.approx(frame["tiny"].std(), rel=1e-6)


def test_new_noise_is_named_unassigned_even_when_the_fit_had_none(cluster, models, new_customers, tmp_path):
    from explainers.analysis import assign_table

    model = models["hdbscan"]
    report = model.report_.replace(segments=[s for s in model.report_.segments if s.id != -1])
    far = new_customers.iloc[:200].copy()
    far[["annual_spend", "orders_per_year", "avg_order_value"]] *= 1000  # nowhere near any segment
    in_memory = assign_table(model, far, report)
    assert (in_memory["segment"] == -1).any()
    assert set(in_memory.loc[in_memory["segment"] == -1, "segment_name"]) == {"Unassigned"}
    source = tmp_path / "in"
    source.mkdir()
    far.to_parquet(source / "far.parquet", index=False)
    got = pd.read_parquet(dist.assign_parquet_dataset(model, report, source, tmp_path / "out",
                                                      scheduler=cluster.scheduler_address))
    assert got["segment_name"].tolist() == in_memory["segment_name"].tolist()
