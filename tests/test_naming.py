"""Persona names: every word backed by the numbers, unique in substance, plain text from hostile tables."""
from __future__ import annotations

import dataclasses
import unicodedata

import numpy as np
import pandas as pd
import pytest
from jinja2 import Environment, StrictUndefined

from explainers.drivers import explain_segments
from explainers.naming import NAME_EFFECT, NAME_LEVEL_SHARE, TYPICAL_NAME, name_segments
from segmenter.demo import PERSONAS, make_demo_customers
from segmenter.export import customers_frame
from segmenter.model import CustomerSegmenter
from segmenter.report import MAX_NAME_LENGTH, NOISE_NAME
from segmenter.schema import apply_schema

#: A word each planted persona's name must contain (from its planted drivers).
EXPECTED_WORDS = {
    "Loyal Big Spenders": ("Big Spenders", "Frequent", "Loyalty"),
    "Bargain Hunters": ("Deal-Seeking", "High-Return", "Small-Basket"),
    "Lapsed Customers": ("Lapsed",),
    "App-First Young Shoppers": ("Young", "Online", "App-First"),
    "Premium Occasional Buyers": ("Big-Basket", "Full-Price"),
    "In-Store Traditionalists": ("Senior", "In-Store", "Offline"),
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
    assert len({frozenset(n.lower().split()) for n in real}) == len(real)  # unique in substance
    assert all(_plain_text(n) for n in names.values())
    if any(s.is_noise for s in named.segments):
        assert names[-1] == NOISE_NAME
    labels = customers["__segment__"].to_numpy()
    for i, persona in enumerate(PERSONAS):
        own = labels[(demo.persona == i) & (labels >= 0)]
        name = names[int(np.bincount(own).argmax())]
        assert any(word in name for word in EXPECTED_WORDS[persona.name]), (persona.name, name)


@pytest.mark.parametrize("which", ["kmeans_named", "hdbscan_named"])
def test_every_name_word_is_backed_by_the_numbers(which, request):
    _, _, named = request.getfixturevalue(which)
    for segment in named.real_segments:
        assert segment.name_traits, segment.name
        for trait in segment.name_traits:
            assert trait["word"] in segment.name
            if trait["direction"] == "level":
                assert segment.categorical[trait["feature"]][trait["level"]] >= NAME_LEVEL_SHARE
                continue
            stats = segment.numeric[trait["feature"]]
            assert abs(stats["effect_size"]) >= NAME_EFFECT or trait.get("tiebreak")
            assert (stats["mean"] > stats["rest_mean"]) == (trait["direction"] == "higher"), trait


def test_drivers_and_statistics_are_kept(kmeans_named):
    _, explained, named = kmeans_named
    for before, after in zip(explained.segments, named.segments):
        assert before.drivers == after.drivers and before.size == after.size


def _flat(report, segment_id: int, keep: dict | None = None):
    """A copy where segment ``segment_id`` differs from everyone only on the columns of ``keep``."""
    segment = report.segment(segment_id)
    numeric = {f: {**s, "effect_size": 0.0, "mean": s["overall_mean"], "rest_mean": s["overall_mean"]}
               for f, s in segment.numeric.items()}
    for f, (effect, mean, rest) in (keep or {}).items():
        numeric[f] = {**numeric[f], "effect_size": effect, "mean": mean, "rest_mean": rest}
    shares = {f: dict((report.overall.get("categorical") or {}).get(f) or {}) for f in segment.categorical}
    return report.with_segment_updates({segment_id: {"numeric": numeric, "categorical": shares,
                                                     "distinguishing": []}})


def test_a_segment_without_clear_differences_is_called_mainstream(kmeans_named):
    _, explained, _ = kmeans_named
    names = name_segments(_flat(explained, 1)).names
    assert names[1] == TYPICAL_NAME


def test_a_word_needs_a_real_gap_as_well_as_an_effect_size(kmeans_named):
    _, explained, _ = kmeans_named
    stats = explained.segment(1).numeric["age"]
    overall = stats["overall_mean"]
    big_gap = name_segments(_flat(explained, 1, {"age": (-1.2, overall - 12, overall + 1)})).names[1]
    tiny_gap = name_segments(_flat(explained, 1, {"age": (-1.2, overall - 0.2, overall)})).names[1]
    assert "Younger" in big_gap or "Young" in big_gap
    assert tiny_gap == TYPICAL_NAME  # "61 vs 61" never names a segment, whatever its effect size


def test_age_words_follow_the_segment_s_age(kmeans_named):
    _, explained, _ = kmeans_named
    young = name_segments(_flat(explained, 1, {"age": (-1.5, 25.0, 46.0)})).names[1]
    fifties = name_segments(_flat(explained, 1, {"age": (0.8, 52.0, 42.0)})).names[1]
    seniors = name_segments(_flat(explained, 1, {"age": (1.5, 68.0, 40.0)})).names[1]
    assert young.startswith("Young ") and fifties.startswith("Older ") and seniors.startswith("Senior ")


def test_category_words_need_a_clear_majority():
    rng = np.random.default_rng(4)
    n = 600
    men = np.r_[np.full(300, "Male"), rng.choice(["Male", "Female"], 300, p=[0.1, 0.9])]
    table = pd.DataFrame({"gender": men, "spend": np.r_[rng.normal(900, 50, 300), rng.normal(300, 50, 300)]})
    report = CustomerSegmenter(algorithm="kmeans", k=2, seed=0, stability_runs=0, compare=False).fit(table).report_
    named = name_segments(report)
    by_spend = sorted(named.real_segments, key=lambda s: -s.numeric["spend"]["mean"])
    assert "Male" in by_spend[0].name.split()  # "Male Big Spenders": the noun's describing form
    assert {"Female", "Women"} & set(by_spend[1].name.split())  # "Low-Spend Women"
    half = CustomerSegmenter(algorithm="kmeans", k=2, seed=0, stability_runs=0, compare=False).fit(
        table.assign(gender=rng.choice(["Male", "Female"], n))).report_
    assert not any(w in name_segments(half).names[s.id].split() for s in half.real_segments
                   for w in ("Men", "Women", "Male", "Female"))


def test_names_that_would_clash_take_their_next_real_difference(kmeans_named):
    _, explained, _ = kmeans_named
    spend = explained.segment(1).numeric["annual_spend"]
    base = spend["overall_mean"]
    both = {"annual_spend": (1.5, 3 * base, base)}
    report = _flat(_flat(explained, 1, {**both, "age": (-0.9, 28.0, 46.0)}), 2,
                   {**both, "days_since_last_order": (1.2, 300.0, 60.0)})
    names = name_segments(report).names
    print(f"\nclash -> {names[1]!r}, {names[2]!r}")
    assert "Big Spenders" in names[1] and "Big Spenders" in names[2]
    assert "Young" in names[1] and "Lapsed" in names[2]
    assert "(" not in names[1] + names[2]


def test_hostile_driver_text_cannot_enter_a_name(kmeans_named):
    _, explained, _ = kmeans_named
    hostile = [{"feature": "<script>alert(1)</script>", "direction": "higher"},
               {"feature": "{{7*7}}\x00\u202e\n" + "x" * 200, "direction": "lower"}]
    named = name_segments(explained.with_segment_updates({1: {"drivers": hostile}}))
    assert "<" not in named.names[1] and "{{" not in named.names[1] and _plain_text(named.names[1])


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
        assert "<script" not in html and "<img" not in html and "49" not in html and "{{" not in name


def test_renamed_segments_keep_their_old_names_as_aliases(kmeans_named):
    _, _, named = kmeans_named
    old = named.segment(2).name
    renamed = named.rename(2, "VIP Club").rename(2, "Gold Club")
    assert renamed.segment(2).name == "Gold Club" and renamed.segment(2).aliases == [old, "VIP Club"]
    again = dataclasses.replace(renamed).rename(2, old)
    assert again.segment(2).aliases == ["VIP Club", "Gold Club"]
