"""Special values and thresholds shared across the library, each named once.

Standard library only, so anything may import it. A module that needs one of these imports it
from here instead of typing the value again; change a threshold here and the cards, the
explanations and the app follow. Not yet importing from here: ``algorithms.NOISE``,
``model.UNSTABLE_JACCARD``, the ``"(missing)"`` level in ``profile.py`` and the chat's own bands
(``explainers/chat/stats.py``); ``tests/test_structure.py`` holds the first three equal to these.
"""
from __future__ import annotations

# ----------------------------------------------------------------- special labels and names
#: Segment id of customers who fit no segment well (HDBSCAN noise), kept as their own group.
NOISE = -1
#: What the NOISE group is called everywhere (it cannot be renamed).
NOISE_NAME = "Unassigned"
#: Categorical level that stands for a missing value in segment profiles.
MISSING_LEVEL = "(missing)"

#: Columns of a customers table (validated features plus these), named so they cannot clash
#: with a column of the user's table.
ID_COLUMN = "__id__"  # the customer key, as text
SEGMENT_COLUMN = "__segment__"  # segment id
SEGMENT_NAME_COLUMN = "__segment_name__"  # segment name (Dask partitions)
PROBABILITY_COLUMN = "__probability__"  # how strongly the customer belongs

#: Caveats a segment can carry in ``Segment.flags``.
FLAG_NOISE = "noise"  # the Unassigned group
FLAG_SMALL = "small"  # too few customers to act on
FLAG_UNSTABLE = "unstable"  # stability below UNSTABLE_STABILITY
FLAG_DRIVER_DISAGREEMENT = "driver_disagreement"  # SHAP drivers and effect sizes point different ways

# ----------------------------------------------------------------- thresholds
#: Surrogate macro-F1 on held-out customers below which explanations are flagged as possibly
#: not reflecting the segments.
LOW_FIDELITY = 0.8
#: Stability (ARI across refits on resamples, or a segment's Jaccard) from which segments
#: come back reliably ("high") ...
HIGH_STABILITY = 0.8
#: ... and below which a segment is flagged unstable ("low").
UNSTABLE_STABILITY = 0.6
#: Silhouette (from -1 to 1) from which segments read as strongly / reasonably separated.
STRONG_SILHOUETTE = 0.5
REASONABLE_SILHOUETTE = 0.25

#: (lower bound, word) from the best band down; the last band catches everything below.
SILHOUETTE_BANDS = ((STRONG_SILHOUETTE, "strong"), (REASONABLE_SILHOUETTE, "reasonable"), (0.0, "weak"),
                    (float("-inf"), "overlapping"))
STABILITY_BANDS = ((HIGH_STABILITY, "high"), (UNSTABLE_STABILITY, "moderate"), (float("-inf"), "low"))


def band(value: float | None, bands: tuple) -> str:
    """The word of the first band whose lower bound ``value`` reaches; "unknown" without a value."""
    if value is None or value != value:  # None or NaN
        return "unknown"
    return next(word for bound, word in bands if value >= bound)
