"""Why customers are in their segments: SHAP values of a LightGBM surrogate.

A gradient-boosted classifier (the *surrogate*) learns to predict each customer's
segment from the preprocessed features; how well it does on held-out customers is the
*fidelity* of the explanation. TreeSHAP (LightGBM's exact implementation, the one
``shap.TreeExplainer`` uses for LightGBM models) splits every prediction into per-feature
contributions, which are summed back to the user's original columns
(one-hot levels of a categorical column add up). A segment's drivers are the columns
that most move its own customers towards it, cross-checked against the model-free
effect sizes of the profile. The Unassigned group (noise) gets no drivers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.metrics import accuracy_score, f1_score

from segmenter.algorithms import NOISE, stratified_sample_rows
from segmenter.constants import LOW_FIDELITY
from segmenter.errors import ModelFileError, ParameterError
from segmenter.report import NOISE_NAME, SegmentationReport

#: Surrogate settings: small, deterministic trees; feature subsampling spreads credit over
#: redundant columns, so a segment's second and third traits are not hidden by its first.
#: One thread: on a busy 2-core machine LightGBM's 2 OpenMP threads wait on each other and a
#: 0.2 s fit took 9-45 s (measured); one thread costs ~0.05 s when the machine is idle.
SURROGATE_PARAMS = {"n_estimators": 150, "num_leaves": 15, "learning_rate": 0.1,
                    "colsample_bytree": 0.5, "min_child_samples": 10, "max_bin": 63,
                    "n_jobs": 1, "verbose": -1, "deterministic": True, "force_col_wise": True}
MAX_TRAIN_ROWS = 20_000  # rows sampled (stratified by segment) to train and test the surrogate
TEST_SHARE = 0.25  # held out to measure fidelity
#: Rows whose SHAP values are computed (TreeSHAP costs ~0.7 ms a row on 6 segments). Against
#: 2,000 rows, measured on the demo and the four real tables: every name and every top driver
#: the same, 2 of 27 segments with their 2nd and 3rd drivers swapped or a different 3rd.
MAX_EXPLAIN_ROWS = 1_000
MIN_EXPLAIN_PER_SEGMENT = 50  # ... with at least this many per segment (or all of a tiny one)

# Which columns count as drivers of a segment (shares of the segment's total mean |SHAP|).
MIN_DRIVER_SHARE = 0.03  # never a driver below this share
WEAK_EFFECT = 0.2  # |Cohen's d| under which a column ...
WEAK_EFFECT_MIN_SHARE = 0.10  # ... needs at least this share to stay a driver
MIN_LEVEL_SHARE = 0.05  # a categorical driver's level must hold this share of the segment
CHECKED_TOP = 3  # top drivers / profile features cross-checked ...
AGREEMENT_WINDOW = 5  # ... against the other ranking's top 5


class BoosterClassifier:
    """A LightGBM surrogate rebuilt from its model text, with the LGBMClassifier calls we use.

    Model files hold the text (``booster_.model_to_string()``) rather than a LightGBM object,
    whose constructor a tampered file could call with its own arguments (``model_file=`` reads
    any local file); loading builds only this, with ``lightgbm.Booster(model_str=...)``.
    """

    def __init__(self, model_text: str, classes) -> None:
        from lightgbm import Booster

        self.booster_ = Booster(model_str=str(model_text))
        self.classes_ = np.asarray(classes)
        n_models = self.booster_.num_model_per_iteration()
        if len(self.classes_) < 2 or n_models != (1 if len(self.classes_) == 2 else len(self.classes_)):
            raise ValueError(f"{len(self.classes_)} classes for a booster with {n_models} outputs per round")

    def predict(self, X, raw_score: bool = False) -> np.ndarray:
        """Raw scores (log-odds) with ``raw_score``, else the most likely class."""
        if raw_score:
            return np.asarray(self.booster_.predict(X, raw_score=True))
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def predict_proba(self, X) -> np.ndarray:
        proba = np.asarray(self.booster_.predict(X))
        return np.column_stack([1.0 - proba, proba]) if proba.ndim == 1 else proba


@dataclass(frozen=True, eq=False)
class Surrogate:
    """The fitted LightGBM surrogate and the map from its inputs back to table columns."""

    model: LGBMClassifier | BoosterClassifier  # the second once read back from a model file
    classes: list  # segment ids in the model's class order (-1 = Unassigned, when present)
    feature_names: list  # preprocessor output names
    feature_map: list  # (original_column, level or None) per preprocessor output column

    def margins(self, X: np.ndarray) -> np.ndarray:
        """Raw scores (log-odds), shape (rows, classes); binary models give (-m, m)."""
        raw = np.asarray(self.model.predict(X, raw_score=True))
        return np.column_stack([-raw, raw]) if raw.ndim == 1 else raw

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict_proba(X))

    def shap_values(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """SHAP values of shape (rows, columns, classes) and the expected value per class.

        Exact TreeSHAP (path-dependent) as LightGBM computes it (``pred_contrib``): the numbers
        ``shap.TreeExplainer`` returns for a LightGBM model, which calls this same routine
        (checked equal in tests/test_drivers.py), without importing shap or building an
        explainer (0.3 s + 0.25 s per run, and per customer after a model is loaded).
        ``values[i, :, k].sum() + expected[k] == margins(X)[i, k]`` (additivity).
        """
        contrib = np.asarray(self.model.booster_.predict(np.asarray(X, dtype=float), pred_contrib=True),
                             dtype=float)
        n_columns = len(self.feature_names)
        if len(self.classes) == 2:  # binary LightGBM: one log-odds output for classes[1]
            one = contrib.reshape(len(contrib), n_columns + 1)
            values = np.stack([-one[:, :-1], one[:, :-1]], axis=-1)
            bias = one[:, -1]
            expected = np.array([-bias[0], bias[0]]) if len(bias) else np.zeros(2)
            return values, expected
        per_class = contrib.reshape(len(contrib), len(self.classes), n_columns + 1)
        values = per_class[:, :, :-1].transpose(0, 2, 1)
        expected = per_class[0, :, -1] if len(per_class) else np.zeros(len(self.classes))
        return np.ascontiguousarray(values), np.asarray(expected, dtype=float)

    def column_index(self) -> dict:
        """Original column -> indices of its preprocessor output columns."""
        out: dict = {}
        for i, (column, _level) in enumerate(self.feature_map):
            out.setdefault(column, []).append(i)
        return out

    def to_extras(self) -> dict:
        """Content for a model file's extras: plain lists, strings and the model text as bytes
        (no LightGBM object: see :class:`BoosterClassifier`)."""
        return {"surrogate": {"model_text": self.model.booster_.model_to_string().encode("utf-8"),
                              "classes": [int(c) for c in self.classes],
                              "feature_names": [str(n) for n in self.feature_names],
                              "feature_map": [[str(c), None if lvl is None else str(lvl)]
                                              for c, lvl in self.feature_map]}}

    @classmethod
    def from_extras(cls, extras: dict) -> "Surrogate":
        from lightgbm.basic import LightGBMError

        try:
            d = extras["surrogate"]
            text, classes = d["model_text"], [int(c) for c in d["classes"]]
            if not isinstance(text, bytes):
                raise TypeError(f"model text is {type(text).__name__}")
            feature_names = [str(n) for n in d["feature_names"]]
            feature_map = [(str(c), None if lvl is None else str(lvl)) for c, lvl in d["feature_map"]]
            model = BoosterClassifier(text.decode("utf-8"), classes)
            if model.booster_.num_feature() != len(feature_names) or len(feature_map) != len(feature_names):
                raise ValueError("the feature lists do not match the model")
            return cls(model=model, classes=classes, feature_names=feature_names, feature_map=feature_map)
        except (KeyError, IndexError, AttributeError, TypeError, ValueError, UnicodeDecodeError, LightGBMError) as exc:
            raise ModelFileError("The explanation model stored in the model file is damaged or missing; "
                                 "run the segmentation again to rebuild it.") from exc


def _split(labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train/test positions; a label with a single row stays in train."""
    rng = np.random.default_rng(seed + 1)
    train, test = [], []
    for label in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == label))
        n_test = int(np.floor(len(rows) * TEST_SHARE))
        test.append(rows[:n_test])
        train.append(rows[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def fit_surrogate(X: np.ndarray, y: np.ndarray, feature_names: list, feature_map: list,
                  seed: int = 0) -> Surrogate:
    """Fit the LightGBM surrogate on a preprocessed matrix and segment labels."""
    model = LGBMClassifier(random_state=seed, **SURROGATE_PARAMS)
    model.fit(X, y)
    return Surrogate(model=model, classes=[int(c) for c in model.classes_],
                     feature_names=list(feature_names), feature_map=[tuple(m) for m in feature_map])


def per_column(values: np.ndarray, surrogate: Surrogate, columns: list) -> np.ndarray:
    """Sum the last-but-one axis of SHAP ``values`` (..., transformed columns) per original column."""
    index = surrogate.column_index()
    return np.stack([values[:, index[c]].sum(axis=1) if c in index else np.zeros(len(values))
                     for c in columns], axis=1)


def _fidelity(surrogate: Surrogate, X: np.ndarray, y: np.ndarray) -> tuple[float, float, dict]:
    """Held-out accuracy, macro-F1 over every group (Unassigned included) and F1 per segment id."""
    if not len(y):  # too few rows to hold any out: no honest fidelity, so call it zero
        return 0.0, 0.0, {}
    predicted = surrogate.model.predict(X)
    labels = sorted(set(y.tolist()))
    f1 = f1_score(y, predicted, labels=labels, average=None, zero_division=0)
    per_class = {str(label): round(float(v), 4) for label, v in zip(labels, f1)}
    return float(accuracy_score(y, predicted)), float(np.mean(f1)), per_class


# ------------------------------------------------------------------ segment drivers
def _effect(segment, feature: str) -> float:
    stats = segment.numeric.get(feature)
    if stats is not None:
        return abs(stats.get("effect_size") or 0.0)
    entry = next((d for d in segment.distinguishing if d["feature"] == feature), None)
    return abs(entry["effect_size"]) if entry else 0.0


def _direction(segment, feature: str) -> dict:
    """{"direction": ...} for a numeric-like column, plus "level" for a categorical one."""
    stats = segment.numeric.get(feature)
    if stats is not None:
        mean, rest = stats.get("mean"), stats.get("rest_mean")
        if mean is None or rest is None:
            return {"direction": "higher" if (stats.get("effect_size") or 0) > 0 else "lower"}
        return {"direction": "higher" if mean > rest else "lower"}
    shares = segment.categorical.get(feature, {})
    lifts = segment.categorical_lift.get(feature, {})
    candidates = [lvl for lvl, share in shares.items()
                  if share >= MIN_LEVEL_SHARE and lvl in lifts and lvl != "(missing)"]
    level = max(candidates, key=lambda lvl: (lifts[lvl], shares[lvl], lvl)) if candidates else \
        max(shares, key=lambda lvl: (shares[lvl], lvl), default=None)
    return {"direction": "higher", **({"level": str(level)} if level is not None else {})}


def _segment_drivers(segment, mean_abs: np.ndarray, columns: list) -> tuple[list, list]:
    """Drivers of one segment and its disagreements with the profile's ranking."""
    total = float(mean_abs.sum())
    shares = mean_abs / total if total > 0 else np.zeros_like(mean_abs)
    order = sorted(range(len(columns)), key=lambda i: (-mean_abs[i], columns[i]))
    shap_rank = {columns[i]: r + 1 for r, i in enumerate(order)}
    profile = [d["feature"] for d in segment.distinguishing]
    profile_rank = {f: r + 1 for r, f in enumerate(profile)}
    drivers = []
    for i in order:
        share, feature = float(shares[i]), columns[i]
        if share < MIN_DRIVER_SHARE or (_effect(segment, feature) < WEAK_EFFECT and share < WEAK_EFFECT_MIN_SHARE):
            continue
        drivers.append({"feature": feature, "importance": round(share, 4),
                        "shap_mean_abs": round(float(mean_abs[i]), 6), **_direction(segment, feature),
                        "agrees_with_profile": True})
    disagreements = []
    top_drivers = [d["feature"] for d in drivers[:AGREEMENT_WINDOW]]
    for d in drivers[:CHECKED_TOP]:
        if profile_rank.get(d["feature"], AGREEMENT_WINDOW + 1) > AGREEMENT_WINDOW:
            d["agrees_with_profile"] = False
            disagreements.append({"segment": segment.id, "feature": d["feature"],
                                  "shap_rank": shap_rank[d["feature"]],
                                  "profile_rank": profile_rank.get(d["feature"])})
    for feature in profile[:CHECKED_TOP]:
        if feature not in top_drivers:
            disagreements.append({"segment": segment.id, "feature": feature,
                                  "shap_rank": shap_rank.get(feature), "profile_rank": profile_rank[feature]})
    return drivers, disagreements


def explain_segments(report: SegmentationReport, segmenter, customers: pd.DataFrame, seed: int = 0,
                     max_rows: int = MAX_TRAIN_ROWS) -> tuple[SegmentationReport, Surrogate | None]:
    """Fill every segment's drivers and the report's explanation; return a new report.

    Parameters
    ----------
    report : the segmentation to explain (not changed).
    segmenter : the fitted ``CustomerSegmenter`` (its ``preprocessor_`` builds the inputs).
    customers : validated feature columns with ``__id__`` and ``__segment__``.
    seed : random seed of sampling and of the surrogate.
    max_rows : rows sampled (stratified by segment) to train and test the surrogate.

    Returns
    -------
    (report, surrogate); the surrogate is None when there are fewer than two groups.
    """
    labels_all = customers["__segment__"].to_numpy().astype(int)
    if len(np.unique(labels_all)) < 2:
        explanation = {"method": None, "surrogate_fidelity": None,
                       "reason": "There is only one group of customers, so there is nothing to tell apart."}
        return report.replace(explanation=explanation), None
    pre = segmenter.preprocessor_
    rows = stratified_sample_rows(labels_all, max_rows, seed, min_per_group=1)
    X = pre.transform(customers.iloc[rows][report.features])
    y = labels_all[rows]
    train, test = _split(y, seed)
    surrogate = fit_surrogate(X[train], y[train], pre.feature_names_out_, pre.feature_map_, seed)
    accuracy, macro_f1, per_class = _fidelity(surrogate, X[test], y[test])

    explain = stratified_sample_rows(y, MAX_EXPLAIN_ROWS, seed + 2, MIN_EXPLAIN_PER_SEGMENT)
    values, _expected = surrogate.shap_values(X[explain])
    y_explain = y[explain]
    columns = list(report.features)
    updates, disagreements = {}, []
    for segment in report.segments:
        if segment.is_noise or segment.id not in surrogate.classes:
            updates[segment.id] = {"drivers": []}
            continue
        k = surrogate.classes.index(segment.id)
        own = values[y_explain == segment.id, :, k]
        mean_abs = np.abs(per_column(own, surrogate, columns)).mean(axis=0) if len(own) else np.zeros(len(columns))
        drivers, disagree = _segment_drivers(segment, mean_abs, columns)
        flags = [f for f in segment.flags if f != "driver_disagreement"]
        if disagree:
            flags.append("driver_disagreement")
        updates[segment.id] = {"drivers": drivers, "flags": flags}
        disagreements += disagree

    # Fidelity of what is explained: macro-F1 over the real segments. Unassigned customers
    # are not explained as a persona and have no shape a tree can learn; the all-groups
    # figure is kept beside it. Misclassified noise still lowers the segments' precision.
    explained = [v for k, v in per_class.items() if int(k) != NOISE]
    fidelity = float(np.mean(explained)) if explained else macro_f1
    explanation = {
        "method": "shap_tree_surrogate", "surrogate": "lightgbm",
        "surrogate_fidelity": round(fidelity, 4),
        "fidelity_definition": "held-out macro-F1 of the surrogate over the segments it explains",
        "accuracy": round(accuracy, 4), "macro_f1_all_groups": round(macro_f1, 4),
        "f1_by_segment": per_class, "rows_trained": int(len(train)), "rows_tested": int(len(test)),
        "rows_explained": int(len(explain)), "low_fidelity": bool(fidelity < LOW_FIDELITY),
        "disagreements": disagreements,
    }
    return report.with_segment_updates(updates).replace(explanation=explanation), surrogate


# ------------------------------------------------------------------ one customer
@dataclass(frozen=True, eq=False)
class LocalExplanation:
    """Why one customer is in their segment (or, for Unassigned, near which one)."""

    customer_id: str
    segment_id: int
    segment_name: str
    probability: float | None  # membership strength from the segmentation (0..1)
    contributions: list  # [{feature, level?, value, segment_typical, overall_typical, shap, direction}]
    fidelity: float | None  # surrogate macro-F1 on held-out customers
    is_noise: bool
    explained_segment_id: int  # the segment the contributions point towards (nearest one for noise)
    explained_segment_name: str

    @property
    def low_fidelity(self) -> bool:
        return self.fidelity is None or self.fidelity < LOW_FIDELITY


def _plain(value):
    """A table value as a plain Python number/str, or None when missing."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or pd.isna(value):
        return None
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


def _typical(stats: dict | None, shares: dict | None):
    if stats is not None:
        return stats.get("median")
    if shares:
        return max(shares, key=lambda lvl: (shares[lvl], lvl))
    return None


def explain_customer(report: SegmentationReport, surrogate: Surrogate | None, segmenter,
                     customers: pd.DataFrame, customer_id: str, top: int = 5) -> LocalExplanation:
    """Contributions of one customer's columns to their segment (SHAP of the surrogate).

    Raises
    ------
    ParameterError : the id is not in the table, or the run has no explanation model.
    """
    key = str(customer_id)
    matches = np.flatnonzero(customers["__id__"].astype(str).to_numpy() == key)
    if not len(matches):
        raise ParameterError(f"No customer with id '{key[:80]}' in this table. Check the id; ids are "
                             f"taken from the '{report.id_column or 'row number'}' column.")
    if surrogate is None:
        raise ParameterError("This run has no explanation model (it has fewer than two groups of "
                             "customers), so single customers cannot be explained.")
    pos = int(matches[0])
    row = customers.iloc[[pos]]
    segment_id = int(row["__segment__"].iloc[0])
    X = segmenter.preprocessor_.transform(row[report.features])
    is_noise = segment_id == NOISE
    target = segment_id
    if is_noise or target not in surrogate.classes:
        proba = surrogate.predict_proba(X)[0]
        real = [i for i, c in enumerate(surrogate.classes) if c != NOISE]
        target = surrogate.classes[max(real, key=lambda i: proba[i])]
    values, _expected = surrogate.shap_values(X)
    k = surrogate.classes.index(target)
    columns = list(report.features)
    shap_by_column = per_column(values[:, :, k], surrogate, columns)[0]

    assignments = report.assignments
    probability = None
    if pos < len(assignments) and str(assignments["id"].iloc[pos]) == key:
        probability = _plain(float(assignments["probability"].iloc[pos]))
    seg_target = report.segment(target)
    contributions = []
    for j in sorted(range(len(columns)), key=lambda j: (-abs(shap_by_column[j]), columns[j]))[:top]:
        feature = columns[j]
        value = _plain(row[feature].iloc[0])
        entry = {"feature": feature, "value": value,
                 "segment_typical": _typical(seg_target.numeric.get(feature), seg_target.categorical.get(feature)),
                 "overall_typical": _typical(report.overall["numeric"].get(feature),
                                             report.overall["categorical"].get(feature)),
                 "shap": round(float(shap_by_column[j]), 6),
                 "direction": "pushes towards" if shap_by_column[j] > 0 else "pushes away"}
        if report.feature_types.get(feature) == "categorical":
            entry["level"] = None if value is None else str(value)
        contributions.append(entry)
    fidelity = report.explanation.get("surrogate_fidelity")
    return LocalExplanation(
        customer_id=key, segment_id=segment_id,
        segment_name=report.segment(segment_id).name if not is_noise else NOISE_NAME,
        probability=probability, contributions=contributions,
        fidelity=None if fidelity is None else float(fidelity), is_noise=is_noise,
        explained_segment_id=int(target), explained_segment_name=seg_target.name)


__all__ = ["Surrogate", "LocalExplanation", "explain_segments", "explain_customer", "fit_surrogate",
           "per_column", "LOW_FIDELITY"]
