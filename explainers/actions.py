"""Suggested marketing actions from transparent rules over column roles, never column words.

Every rule is data in :data:`ACTION_RULES`: conditions on a column's *meaning* (its role,
such as recency or income, or a tag such as spend, deal or channel:web; see
:mod:`segmenter.meanings`), a direction, and the action. Because rules read meanings, they
fit any customer table whose columns have those roles ("Recency", "days_since_last_order"
and a corrected "weeks_idle" all mean recency). A condition holds when the report's numbers
show a clear difference: a numeric or yes/no column with a standardised effect size of at
least :data:`MIN_EFFECT` (or at most ``-MIN_EFFECT``) and a real gap, a category level with
a clear majority, or a label/outcome column (such as a campaign response) over-represented
by :data:`MIN_LIFT`. Evidence that goes both ways (web visits lower, web purchases higher)
suggests nothing. Each suggestion cites the numbers that triggered it. A segment close to
average on everything is told so; "none fits" only comes when the table has no column with
an actionable role, and then it says which columns would help.
"""
from __future__ import annotations

from dataclasses import dataclass

from segmenter.lexicon import CHANNELS
from segmenter.meanings import ColumnMeaning, meanings_from_dict, ordinal_order

from .format import TraitRow, fmt_count, fmt_pct, trait_row, trait_text
from .naming import real_gap

#: Smallest |Cohen's d| that counts as "clearly higher/lower" for a rule.
MIN_EFFECT = 0.5
#: A yes share of an outcome column must be this many times the overall share (and reach MIN_LEVEL_SHARE).
MIN_LIFT = 1.5
MIN_LEVEL_SHARE = 0.25
#: A category's level must hold this share of the segment to count.
MAJORITY = 0.6
#: At most this many suggestions per segment, in rule order.
MAX_ACTIONS = 4
#: Roles and tags a rule can act on; a table with none of them gets "add such columns".
ACTIONABLE = frozenset({"money", "income", "count", "frequency", "share", "recency", "tenure", "campaign",
                        "complaint", "household", "score", "outcome"})


@dataclass(frozen=True)
class Condition:
    """Columns with one of ``roles`` (or carrying one of ``tags``) are clearly ``direction``.

    ``tags`` and ``roles`` combine with OR; ``without`` excludes columns carrying a tag;
    ``levels`` names category levels ("High" of an ordinal score, "yes" of an outcome).
    """

    direction: str  # "higher" or "lower"
    roles: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    without: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()

    def matches(self, meaning: ColumnMeaning) -> bool:
        if any(meaning.has_tag(t) for t in self.without):
            return False
        return meaning.role in self.roles or any(meaning.has_tag(t) for t in self.tags)


@dataclass(frozen=True)
class ActionRule:
    """One rule: ``when`` in plain words, the conditions, and the suggested ``action``.

    All of ``all_of`` must hold, at least one of ``any_of`` (when given), and none of ``none_of``.
    """

    id: str
    when: str
    action: str
    all_of: tuple[Condition, ...] = ()
    any_of: tuple[Condition, ...] = ()
    none_of: tuple[Condition, ...] = ()
    needs: tuple[str, ...] = ()  # tags some column of the table must carry (a loyalty programme exists)


@dataclass(frozen=True)
class SuggestedAction:
    """A suggestion and the trait(s) behind it (plain text; escape on output)."""

    text: str
    because: str
    rule_id: str = ""


SPEND = Condition("higher", tags=("spend",))
#: How often they buy, read from purchase counts that are not a channel's, a deal's or an instalment's
#: (fewer store purchases is a channel mix, more deal purchases is price sensitivity).
NOT_FREQUENCY = ("deal", "instalment", *(f"channel:{c}" for c in CHANNELS))
SPEND_SCORE = Condition("higher", roles=("score",), levels=("high",))
LOYALTY = Condition("higher", tags=("loyalty",))
RESPONDS = Condition("higher", roles=("campaign", "outcome"), levels=("yes", "1", "true"))
WEB, STORE = Condition("higher", tags=("channel:web",)), Condition("higher", tags=("channel:store",))
CATALOG = Condition("higher", tags=("channel:catalog",))

ACTION_RULES: tuple[ActionRule, ...] = (
    ActionRule("win_back", "time since the last purchase is clearly longer than average",
               "Run a win-back campaign: a personal 'we miss you' message with a time-limited incentive.",
               all_of=(Condition("higher", roles=("recency",)),)),
    ActionRule("vip", "spend is clearly higher than average",
               "Treat them as VIPs: early access, exclusive previews and personal service; protect this revenue.",
               any_of=(SPEND, SPEND_SCORE)),
    ActionRule("loyalty_invite", "spend is clearly higher but loyalty membership is not",
               "Invite them to the loyalty programme and reward continued high spend.",
               all_of=(SPEND,), none_of=(LOYALTY,), needs=("loyalty",)),
    ActionRule("target_campaigns", "they accept or respond to campaigns clearly more often",
               "Put them first in the next campaign: they answer offers more than anyone.",
               any_of=(RESPONDS,)),
    ActionRule("price_led", "purchases on discount or with deals are clearly more frequent",
               "Target with price-led offers and bundles; protect margin with minimum-spend thresholds.",
               all_of=(Condition("higher", tags=("deal",)),)),
    ActionRule("premium", "income or order value is clearly higher while discount use is not",
               "Lead with premium ranges and full-price newness rather than discounts.",
               any_of=(Condition("higher", roles=("income",)), Condition("higher", tags=("basket",))),
               none_of=(Condition("higher", tags=("deal",)),)),
    ActionRule("value_range", "income is clearly lower than average",
               "Lead with value ranges, multi-buy savings and payment flexibility.",
               all_of=(Condition("lower", roles=("income",)),)),
    ActionRule("grow_spend", "spend is clearly lower without a long absence",
               "Grow their spend: cross-sell the categories others buy, with a first-order incentive.",
               any_of=(Condition("lower", tags=("spend",)), Condition("lower", roles=("score",), levels=("low",))),
               none_of=(Condition("higher", roles=("recency",)),)),
    ActionRule("repeat_nudge", "they buy clearly less often, without a long absence",
               "Nudge repeat purchases with reminders and replenishment offers.",
               all_of=(Condition("lower", tags=("buying",), without=NOT_FREQUENCY),),
               none_of=(Condition("higher", roles=("recency",)), Condition("lower", tags=("spend",)))),
    ActionRule("reward_frequency", "they buy clearly more often than average",
               "Reward their frequency: points on every purchase and a surprise thank-you.",
               all_of=(Condition("higher", tags=("buying",), without=NOT_FREQUENCY),), none_of=(SPEND,)),
    ActionRule("onboarding", "they joined clearly more recently than average",
               "Onboard them: a welcome series that shows the range and a second-purchase offer.",
               all_of=(Condition("lower", roles=("tenure",)),)),
    ActionRule("anniversary", "they have been customers clearly longer than average",
               "Recognise their loyalty: anniversary rewards and early access to new products.",
               all_of=(Condition("higher", roles=("tenure",)),)),
    # one channel's advice only when the other channels are not clearly higher too (buying more
    # everywhere is frequency, not a channel preference)
    ActionRule("web", "they buy or browse online clearly more than average, and not in the other channels",
               "Personalise email and web journeys; test online-exclusive offers.",
               any_of=(WEB,), none_of=(STORE, CATALOG)),
    ActionRule("in_store", "they buy in store clearly more (or online clearly less) than average",
               "Invite them to in-store events and make in-store service the hook.",
               any_of=(STORE, Condition("lower", tags=("channel:web",))), none_of=(WEB, CATALOG)),
    ActionRule("catalog", "they buy from the catalog clearly more than average, and not in the other channels",
               "Keep them in catalogue mailings and add a personalised insert.",
               any_of=(CATALOG,), none_of=(WEB, STORE)),
    ActionRule("app_first", "they use the app clearly more than average",
               "Use app-first push notifications and in-app offers.",
               any_of=(Condition("higher", tags=("channel:app",)),)),
    ActionRule("older_audience", "they are clearly older than average",
               "Speak to an older audience: clear, benefit-led messages and personal service by phone or in store.",
               any_of=(Condition("higher", roles=("age",)), Condition("lower", roles=("birth_year",)))),
    ActionRule("younger_audience", "they are clearly younger than average",
               "Reach them where younger customers are: social media, mobile-first offers and creator partnerships.",
               any_of=(Condition("lower", roles=("age",)), Condition("higher", roles=("birth_year",)))),
    ActionRule("families", "they have clearly more children at home than average",
               "Lead with family bundles and child-friendly ranges.",
               any_of=(Condition("higher", roles=("household",)),)),
    ActionRule("service_recovery", "they complained clearly more often",
               "Follow up on their complaints personally before any sales message.",
               all_of=(Condition("higher", roles=("complaint",)),)),
    ActionRule("returns", "returns are clearly higher than average",
               "Review sizing guides and product information for what they buy; returns erode margin.",
               all_of=(Condition("higher", tags=("returns",)),)),
    ActionRule("cash_advance", "cash advances are clearly higher than average",
               "Offer lower-cost credit such as an instalment plan or a balance transfer; cash advances are "
               "costly for them.", any_of=(Condition("higher", tags=("cash_advance",)),)),
    ActionRule("instalments", "instalment purchases are clearly higher than average",
               "Promote instalment offers on bigger purchases.",
               any_of=(Condition("higher", tags=("instalment",)),)),
    ActionRule("pay_in_full", "they clearly more often pay their balance in full",
               "Reward full payers with cashback or a rewards card; they are low-risk.",
               any_of=(Condition("higher", tags=("full_payment",)),)),
)

NOISE_ACTION_TEXT = ("Review these customers manually: they fit no segment well, so one campaign "
                     "is unlikely to suit them all.")
MAINSTREAM = SuggestedAction(
    "Keep them on the standard programme and test the offers that work for the other segments: "
    "they are close to average on every column.", "no column differs clearly from the average", "mainstream")


def _fallback(report, segment, meanings: dict) -> SuggestedAction:
    """When no rule fits: build on the segment's clearest difference; say when it has none; and say
    which columns would help when the table has no column a rule acts on."""
    actionable = [c for c in report.features if meanings.get(c) is not None and meanings[c].role in ACTIONABLE]
    clear = [d for d in segment.distinguishing if abs(d.get("effect_size") or 0.0) >= MIN_EFFECT]
    for d in clear:
        trait = trait_row(report, segment, d["feature"], d.get("level"))
        if trait is not None:
            return SuggestedAction("Build the offer around what sets them apart, and test it on a sample first.",
                                   trait_text(trait), "build_on_difference")
    if actionable:
        return MAINSTREAM
    return SuggestedAction(
        "None of the action rules fits: this table has no spend, purchase, recency, tenure, channel or campaign "
        "columns. Add such columns (or set their roles in the column meanings) to get specific suggestions.",
        "no column of this table has a role the rules act on", "fallback")


def _numeric_hit(report, segment, column: str, cond: Condition) -> tuple[float, bool]:
    """(signed strength in the condition's direction, clear) for a numeric or yes/no column."""
    stats = segment.numeric.get(column) or {}
    effect = stats.get("effect_size")
    if effect is None:
        return 0.0, False
    signed = effect if cond.direction == "higher" else -effect
    return signed, signed >= MIN_EFFECT and real_gap(stats, report.feature_types.get(column, "numeric"))


def _level_hit(shares: dict, overall: dict, cond: Condition, meaning: ColumnMeaning) -> tuple[str, float] | None:
    """(level, lift) when a wanted level is over-represented: the top of a scale or an outcome's yes."""
    order = ordinal_order(shares)
    wanted = {order[-1]} if order and cond.direction == "higher" else {order[0]} if order else set(cond.levels)
    top = max(shares.values(), default=0.0)
    for level, share in shares.items():
        base = overall.get(level) or 0.0
        if str(level).lower() in wanted and base > 0 and share >= MIN_LEVEL_SHARE:
            lift = share / base
            if order and share < top and share < MAJORITY:
                continue  # on a scale the segment must sit there: 27% 'High' beside 71% 'Average' is no VIP
            if lift >= MIN_LIFT or (order and share >= MAJORITY):
                return level, lift
    return None


#: What :func:`_holds` returns when columns of one kind go both ways: no evidence either way.
MIXED = "mixed"


def _holds(report, segment, cond: Condition, meanings: dict):
    """The strongest column meeting ``cond`` in ``segment`` as (strength, trait), None, or
    :data:`MIXED` when another numeric column of the same kind clearly goes the other way.
    """
    best: tuple[float, TraitRow] | None = None
    contradicted = False
    overall_cat = report.overall.get("categorical") or {}
    derived = list(getattr(report, "derived_columns", None) or [])
    # spend split over products is judged on its total: more wine but not more in all is no VIP
    total = "spend" in cond.tags and any(meanings.get(c) and meanings[c].has_tag("spend") for c in derived)
    for column in list(report.features) + list(report.profile_columns or []) + derived:
        meaning = meanings.get(column)
        if meaning is None or not cond.matches(meaning) or (total and meaning.has_tag("product")):
            continue
        kind = report.feature_types.get(column, "numeric" if column in derived else "profile")
        if kind in ("categorical", "profile"):
            shares = (segment.categorical if kind == "categorical" else segment.profile).get(column) or {}
            base = (overall_cat if kind == "categorical" else report.overall.get("profile") or {}).get(column) or {}
            hit = _level_hit(shares, base, cond, meaning)
            if hit is not None:
                trait = trait_row(report, segment, column, hit[0])
                if trait and (best is None or hit[1] > best[0]):
                    best = (hit[1], trait)
            continue
        signed, clear = _numeric_hit(report, segment, column, cond)
        contradicted |= signed <= -MIN_EFFECT
        if clear:
            trait = trait_row(report, segment, column)
            if trait and (best is None or signed > best[0]):
                best = (signed, trait)
    return MIXED if contradicted and best is not None else None if contradicted else best


def rule_matches(report, segment, rule: ActionRule, meanings: dict | None = None) -> list[TraitRow] | None:
    """The traits that satisfy ``rule`` for ``segment`` (None when the rule does not hold)."""
    meanings = meanings if meanings is not None else meanings_from_dict(report.meanings)
    cited: list[TraitRow] = []
    for cond in rule.all_of:
        hit = _holds(report, segment, cond, meanings)
        if hit is None or hit == MIXED:
            return None
        cited.append(hit[1])
    if rule.any_of:
        hits = [h for h in (_holds(report, segment, c, meanings) for c in rule.any_of) if h not in (None, MIXED)]
        if not hits:
            return None
        cited.append(max(hits, key=lambda h: h[0])[1])
    # a condition that must not hold blocks the rule when it holds, and when its evidence is mixed
    if any(_holds(report, segment, c, meanings) is not None for c in rule.none_of):
        return None
    return cited


def suggest_actions(report, segment_id: int) -> list[SuggestedAction]:
    """Suggested marketing actions for one segment, each citing the traits behind it.

    Returns up to :data:`MAX_ACTIONS` suggestions in :data:`ACTION_RULES` order; for a segment
    close to average on everything, the "standard programme" suggestion; "none fits" only
    when the table has no column with an actionable role.
    """
    segment = report.segment(segment_id)
    if segment.is_noise:
        because = (f"{fmt_count(segment.size)} customers, {fmt_pct(segment.share)} of all, "
                   "fit no segment well")
        return [SuggestedAction(NOISE_ACTION_TEXT, because, "review_manually")]
    meanings = meanings_from_dict(report.meanings)
    out: list[SuggestedAction] = []
    present = {t for c in report.features if c in meanings for t in meanings[c].tags}
    for rule in ACTION_RULES:
        if not set(rule.needs) <= present:
            continue
        cited = rule_matches(report, segment, rule, meanings)
        if cited is None:
            continue
        texts = list(dict.fromkeys(trait_text(t) for t in cited))
        out.append(SuggestedAction(rule.action, "; ".join(texts), rule.id))
        if len(out) == MAX_ACTIONS:
            break
    return out or [_fallback(report, segment, meanings)]


__all__ = ["ACTION_RULES", "ActionRule", "Condition", "SuggestedAction", "suggest_actions",
           "rule_matches", "MIN_EFFECT", "MIN_LIFT", "MAINSTREAM"]
