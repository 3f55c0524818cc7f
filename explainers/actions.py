"""Suggested marketing actions from transparent rules over a segment's traits.

Every rule is declared as data in :data:`ACTION_RULES`: which column-name tokens it looks
for, in which direction, and the action it suggests. Rules are generic (``discount``,
``coupon`` and ``promo`` columns all count as discounts), never tied to one table. A
condition holds when the report's statistics show a clear difference: a numeric or yes/no
column with a standardised effect size of at least :data:`MIN_EFFECT` (or at most
``-MIN_EFFECT``), or a categorical level over-represented by :data:`MIN_LIFT`. Each
suggestion cites the numbers that triggered it.
"""
from __future__ import annotations

from dataclasses import dataclass

from .format import TraitRow, fmt_count, fmt_pct, has_phrase, trait_row, trait_text

#: Smallest |Cohen's d| that counts as "clearly higher/lower" for a rule.
MIN_EFFECT = 0.5
#: A categorical level must be this many times as common as overall (and reach MIN_LEVEL_SHARE).
MIN_LIFT = 1.5
MIN_LEVEL_SHARE = 0.25
#: At most this many suggestions per segment, in rule order.
MAX_ACTIONS = 4


@dataclass(frozen=True)
class Condition:
    """A column whose name contains one of ``phrases`` is clearly ``direction`` than average.

    With ``levels``, the column is categorical and one of its levels matching ``levels``
    is over-represented ("higher") or under-represented ("lower").
    """

    phrases: tuple[str, ...]
    direction: str  # "higher" or "lower"
    levels: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActionRule:
    """One rule: ``when`` in plain words, the conditions, and the suggested ``action``.

    All of ``all_of`` must hold, at least one of ``any_of`` (when given), and none of
    ``none_of``.
    """

    id: str
    when: str
    action: str
    all_of: tuple[Condition, ...] = ()
    any_of: tuple[Condition, ...] = ()
    none_of: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class SuggestedAction:
    """A suggestion and the trait(s) behind it (plain text; escape on output)."""

    text: str
    because: str
    rule_id: str = ""


SPEND = ("spend", "spent", "revenue", "sales", "monetary", "clv", "ltv", "total_amount",
         "purchase_amount", "amount_spent")
LOYALTY = ("loyalty", "member", "membership", "vip", "subscriber", "subscription", "premium_member")
DISCOUNT = ("discount", "coupon", "promo", "promotion", "voucher", "deal", "deals", "markdown")
RECENCY = ("days_since", "recency", "since_last", "inactive", "lapsed", "churn")
FREQUENCY = ("orders", "order_count", "frequency", "visits", "purchases", "transactions")
ORDER_VALUE = ("order_value", "basket", "aov", "ticket_size", "avg_price", "average_price")
AGE = ("age",)
APP = ("app", "mobile", "app_user")
ONLINE = ("online", "web", "digital", "ecommerce", "e_commerce")
CHANNEL = ("channel", "preferred_channel", "shop_type", "store_type")
RETURNS = ("returns", "returned", "refund", "refunds", "return_rate")

ACTION_RULES: tuple[ActionRule, ...] = (
    ActionRule("vip", "spend and loyalty membership are both clearly higher than average",
               "Offer a VIP programme: early access, exclusive previews and personal service.",
               all_of=(Condition(SPEND, "higher"), Condition(LOYALTY, "higher"))),
    ActionRule("grow_high_value", "spend is clearly higher but loyalty membership is not",
               "Invite them to the loyalty programme and reward continued high spend.",
               all_of=(Condition(SPEND, "higher"),), none_of=(Condition(LOYALTY, "higher"),)),
    ActionRule("price_led", "discount or coupon use is clearly higher than average",
               "Target with price-led offers; protect margin with minimum-spend thresholds.",
               all_of=(Condition(DISCOUNT, "higher"),)),
    ActionRule("premium", "order value is clearly higher and discount use is not",
               "Lead with premium ranges, bundles and full-price newness rather than discounts.",
               all_of=(Condition(ORDER_VALUE, "higher"),), none_of=(Condition(DISCOUNT, "higher"),)),
    ActionRule("win_back", "time since the last purchase is clearly longer than average",
               "Run a win-back campaign: a personal 'we miss you' message with a time-limited incentive.",
               all_of=(Condition(RECENCY, "higher"),)),
    ActionRule("repeat_nudge", "purchase frequency is clearly lower, without a long absence",
               "Nudge repeat purchases with reminders and replenishment offers.",
               all_of=(Condition(FREQUENCY, "lower"),), none_of=(Condition(RECENCY, "higher"),)),
    ActionRule("app_first", "customers are clearly younger and use the app or online more",
               "Use app-first push notifications and in-app offers.",
               all_of=(Condition(AGE, "lower"),),
               any_of=(Condition(APP, "higher"), Condition(CHANNEL, "higher", ("app", "mobile")),
                       Condition(ONLINE, "higher"))),
    ActionRule("returns", "returns are clearly higher than average",
               "Review sizing guides and product information for what they buy; returns erode margin.",
               all_of=(Condition(RETURNS, "higher"),)),
    ActionRule("in_store", "online shopping is clearly lower or the store channel clearly preferred",
               "Invite them to in-store events and make in-store service the hook.",
               any_of=(Condition(ONLINE, "lower"),
                       Condition(CHANNEL, "higher", ("store", "shop", "offline", "in_store", "retail")))),
    ActionRule("digital", "online shopping is clearly higher than average",
               "Personalise email and web journeys; test online-exclusive offers.",
               all_of=(Condition(ONLINE, "higher"),), none_of=(Condition(AGE, "lower"),)),
)

FALLBACK = SuggestedAction(
    "None of the built-in action rules fits this segment: design the offer around what sets them "
    "apart (above) and test it on a sample first.",
    "none of the action rules matched this segment's traits, or their evidence was mixed", "fallback")
NOISE_ACTION_TEXT = ("Review these customers manually: they fit no segment well, so one campaign "
                     "is unlikely to suit them all.")


def _column_matches(column: str, phrases: tuple[str, ...]) -> bool:
    return any(has_phrase(column, p) for p in phrases)


def _holds(report, segment, cond: Condition) -> tuple[float, TraitRow] | None:
    """The strongest column meeting ``cond`` in ``segment`` as (strength, trait), or None.

    None too when another numeric column of the same kind clearly goes the other way (web
    visits lower but web purchases higher): mixed evidence suggests no action.
    """
    best: tuple[float, TraitRow] | None = None
    contradicted = False
    for column in report.features:
        if not _column_matches(column, cond.phrases):
            continue
        kind = report.feature_types.get(column)
        if kind == "categorical":
            if not cond.levels:
                continue
            shares = segment.categorical.get(column) or {}
            lifts = segment.categorical_lift.get(column) or {}
            for level, lift in lifts.items():
                if not any(has_phrase(level, p) for p in cond.levels):
                    continue
                up = lift >= MIN_LIFT and shares.get(level, 0) >= MIN_LEVEL_SHARE
                down = lift <= 1 / MIN_LIFT
                strength = lift if cond.direction == "higher" else (1 / lift if lift > 0 else 0)
                if (up if cond.direction == "higher" else down):
                    trait = trait_row(report, segment, column, level)
                    if trait and (best is None or strength > best[0]):
                        best = (strength, trait)
            continue
        if cond.levels:
            continue
        effect = (segment.numeric.get(column) or {}).get("effect_size")
        if effect is None:
            continue
        signed = effect if cond.direction == "higher" else -effect
        contradicted |= signed <= -MIN_EFFECT
        if signed >= MIN_EFFECT:
            trait = trait_row(report, segment, column)
            if trait and (best is None or signed > best[0]):
                best = (signed, trait)
    return None if contradicted else best


def rule_matches(report, segment, rule: ActionRule) -> list[TraitRow] | None:
    """The traits that satisfy ``rule`` for ``segment`` (None when the rule does not hold)."""
    cited: list[TraitRow] = []
    for cond in rule.all_of:
        hit = _holds(report, segment, cond)
        if hit is None:
            return None
        cited.append(hit[1])
    if rule.any_of:
        hits = [h for h in (_holds(report, segment, c) for c in rule.any_of) if h is not None]
        if not hits:
            return None
        cited.append(max(hits, key=lambda h: h[0])[1])
    if any(_holds(report, segment, c) is not None for c in rule.none_of):
        return None
    return cited


def suggest_actions(report, segment_id: int) -> list[SuggestedAction]:
    """Suggested marketing actions for one segment, each citing the traits behind it.

    Parameters
    ----------
    report : a SegmentationReport.
    segment_id : the segment's id (-1 for Unassigned, which only gets "review manually").

    Returns
    -------
    Up to :data:`MAX_ACTIONS` suggestions in :data:`ACTION_RULES` order; a fallback
    suggestion when no rule matches.
    """
    segment = report.segment(segment_id)
    if segment.is_noise:
        because = (f"{fmt_count(segment.size)} customers, {fmt_pct(segment.share)} of all, "
                   "fit no segment well")
        return [SuggestedAction(NOISE_ACTION_TEXT, because, "review_manually")]
    out: list[SuggestedAction] = []
    for rule in ACTION_RULES:
        cited = rule_matches(report, segment, rule)
        if cited is None:
            continue
        seen: list[str] = []
        for trait in cited:
            text = trait_text(trait)
            if text not in seen:
                seen.append(text)
        out.append(SuggestedAction(rule.action, "; ".join(seen), rule.id))
        if len(out) == MAX_ACTIONS:
            break
    return out or [FALLBACK]


__all__ = ["ACTION_RULES", "ActionRule", "Condition", "SuggestedAction", "suggest_actions",
           "rule_matches", "MIN_EFFECT", "MIN_LIFT"]
