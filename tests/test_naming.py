"""Persona names: deterministic, unique, readable, and plain text even from hostile columns."""
from __future__ import annotations

import dataclasses
import unicodedata

import numpy as np
import pytest
from jinja2 import Environment, StrictUndefined

from explainers.drivers import explain_segments
from explainers.naming import describe_feature, humanise, name_segments, trait
from segmenter.demo import PERSONAS, make_demo_customers
from segmenter.export import customers_frame
from segmenter.model import CustomerSegmenter
from segmenter.report import MAX_NAME_LENGTH, NOISE_NAME
from segmenter.schema import apply_schema

#: A word each planted persona's name must contain (from its strongest planted driver).
EXPECTED_WORDS = {
    "Loyal Big Spenders": ("Spend", "Frequent", "Loyalty"),
    "Bargain Hunters": ("Discount",),
    "Lapsed Customers": ("Lapsed",),
    "App-First Young Shoppers": ("Young", "Online", "App"),
    "Premium Occasional Buyers": ("Big-Basket", "Full-Price"),
    "In-Store Traditionalists": ("Senior", "In-Store", "Store"),
}


def _explain(model, table):
    customers = customers_frame(model.report_, apply_schema(table, model.schema_))
    return customers, explain_segments(model.report_, model, customers, seed=0)[0]


@pytest.fixture(scope="module")
def kmeans_named(kmeans_model, demo):
    customers, report = _explain(kmeans_model, demo.table)
    return customers, report, name_segments(report)


@pytest.fixture(scope="module")
def hdbscan_named(hdbscan_model, demo):
    customers, report = _explain(hdbscan_model, demo.table)
    return customers, report, name_segments(report)


def _plain_text(name: str) -> bool:
    return bool(name) and name == " ".join(name.split()) and len(name) <= MAX_NAME_LENGTH and not any(
        unicodedata.category(ch) in ("Cc", "Cf") for ch in name)


@pytest.mark.parametrize("which", ["kmeans_named", "hdbscan_named"])
def test_demo_names_are_readable_unique_and_deterministic(which, request, demo):
    customers, explained, named = request.getfixturevalue(which)
    names = named.names
    print(f"\n[{named.algorithm}] names: {names}")
    assert name_segments(explained).names == names  # deterministic
    real = [names[s.id] for s in named.real_segments]
    assert len({n.lower() for n in real}) == len(real)
    assert all(_plain_text(n) for n in names.values())
    if any(s.is_noise for s in named.segments):
        assert names[-1] == NOISE_NAME
    labels = customers["__segment__"].to_numpy()
    for i, persona in enumerate(PERSONAS):
        own = labels[(demo.persona == i) & (labels >= 0)]
        name = names[int(np.bincount(own).argmax())]
        assert any(word in name for word in EXPECTED_WORDS[persona.name]), (persona.name, name)


def test_drivers_and_statistics_are_kept(kmeans_named):
    _, explained, named = kmeans_named
    for before, after in zip(explained.segments, named.segments):
        assert before.drivers == after.drivers and before.size == after.size


def test_vocabulary():
    assert trait("annual_spend", "higher")[0] == "High-Spend"
    assert trait("days_since_last_order", "higher")[0] == "Lapsed"
    assert trait("days_since_last_order", "lower")[0] == "Recent"
    assert trait("avg_order_value", "lower")[0] == "Low-Basket"
    assert trait("orders_per_year", "lower")[0] == "Occasional"
    assert trait("age", "lower")[0] == "Young"
    assert trait("usage_minutes", "higher")[0] == "High Usage Minutes"  # "age" is a whole word only
    assert trait("couponRate", "higher")[0] == "Discount-Driven"
    assert trait("preferred_channel", "higher", "in store")[0] == "In-Store-Preferring"
    assert trait("zorblax_index", "lower")[0] == "Low Zorblax Index"


def test_humanise_and_describe_feature():
    assert humanise("annual_spend") == "Annual Spend"
    assert humanise("avgOrderValue") == "Avg Order Value"
    assert humanise("CLV_score") == "CLV Score"
    assert humanise("CASH_ADVANCE") == "Cash Advance" and humanise("PURCHASES_TRX") == "Purchases TRX"
    assert describe_feature("CASH_ADVANCE", "higher") == "higher cash advance"
    assert humanise("\x00\n\t") == "Unnamed Column"
    assert describe_feature("annual_spend", "higher") == "higher annual spend"
    assert describe_feature("preferred_channel", "higher", "store") == "mostly 'store' preferred channel"
    assert describe_feature("CLV_score", "lower") == "lower CLV score"


def _with_drivers(report, drivers_by_id: dict):
    return report.with_segment_updates({sid: {"drivers": d} for sid, d in drivers_by_id.items()})


def test_clashing_names_get_a_third_trait_or_a_number(kmeans_named):
    _, explained, _ = kmeans_named
    same = [{"feature": "annual_spend", "direction": "higher"},
            {"feature": "orders_per_year", "direction": "higher"}]
    report = _with_drivers(explained, {
        1: same + [{"feature": "loyalty_member", "direction": "higher"}],
        2: same + [{"feature": "age", "direction": "lower"}],
        3: same, 4: same})
    names = name_segments(report).names
    print(f"\nclashing drivers -> {names}")
    assert len({n.lower() for n in names.values()}) == len(names)
    assert names[1] == "High-Spend Frequent Loyalty Members"
    assert names[2] == "Young High-Spend Frequent Buyers"
    assert names[3] == "High-Spend Frequent Buyers"
    assert names[4] == "High-Spend Frequent Buyers (2)"


def test_no_drivers_falls_back_to_segment_number(kmeans_named):
    _, explained, _ = kmeans_named
    segments = [dataclasses.replace(s, drivers=[], distinguishing=[]) for s in explained.segments]
    names = name_segments(explained.replace(segments=segments)).names
    assert names == {s.id: f"Segment {s.id}" for s in explained.segments}


def test_hostile_driver_text_stays_plain(kmeans_named):
    _, explained, _ = kmeans_named
    hostile = [{"feature": "<script>alert(1)</script>", "direction": "higher"},
               {"feature": "{{7*7}}\x00\u202e\n" + "x" * 200, "direction": "lower"}]
    named = name_segments(_with_drivers(explained, {1: hostile}))
    name = named.names[1]
    print(f"\nhostile drivers -> {name!r}")
    assert _plain_text(name)
    assert name.startswith("High <script>alert(1)</script> Low {{7*7}}") and name.endswith(" Customers")
    html = Environment(autoescape=True, undefined=StrictUndefined).from_string("<h2>{{ n }}</h2>").render(n=name)
    assert "<script>" not in html and "{{7*7}}" in html and "49" not in html


@pytest.fixture(scope="module")
def hostile_run():
    """A real run on a table whose column names and levels are hostile."""
    demo = make_demo_customers(1500, seed=3)
    table = demo.table.rename(columns={"discount_share": "<script>alert(1)</script>",
                                       "annual_spend": "{{7*7}}", "preferred_channel": "=cmd()\x07"})
    table["=cmd()\x07"] = table["=cmd()\x07"].replace({"store": "{% raw %}<img src=x onerror=alert(1)>"})
    model = CustomerSegmenter(algorithm="kmeans", k=6, seed=0, stability_runs=0, compare=False).fit(table)
    return name_segments(_explain(model, table)[1])


def test_hostile_table_names_are_plain_text(hostile_run):
    names = hostile_run.names
    print(f"\nhostile table names: {names}")
    assert len({n.lower() for n in names.values()}) == len(names)
    assert all(_plain_text(n) for n in names.values())
    env = Environment(autoescape=True, undefined=StrictUndefined)
    for name in names.values():
        html = env.from_string("{{ n }}").render(n=name)
        assert "<script" not in html and "<img" not in html and "49" not in html
