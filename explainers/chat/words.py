"""Word lists of the question grammar (what is asked, how), kept apart from the logic.

Column and level words are not here: they come from each report's column meanings
(:mod:`explainers.chat.vocabulary`). These lists hold the words every question shares:
segment words, statistics, ranking, comparing, counting, conditions and filler.
"""
from __future__ import annotations

from types import MappingProxyType

SEGMENT_WORDS = frozenset({"segment", "segments", "seg", "segs", "group", "groups", "cluster", "clusters",
                           "persona", "personas", "grp", "bucket", "buckets", "tribe", "tribes"})
UNASSIGNED_WORDS = frozenset({"unassigned", "noise", "outlier", "outliers", "unclustered", "leftover",
                              "leftovers", "unclassified", "misfits", "notinany", "ungrouped"})
PRONOUNS = frozenset({"they", "them", "their", "theirs", "those", "these", "it", "its", "this", "that"})
OTHER_WORDS = frozenset({"other"})
EVERYONE_WORDS = frozenset({"everyone", "everybody", "overall", "rest", "others", "baseline", "whole",
                            "population", "all", "general", "average", "total", "company", "base"})
STATISTICS = MappingProxyType({
    "mean": "mean", "average": "mean", "avg": "mean", "averages": "mean", "averaged": "mean",
    "median": "median", "middle": "median", "typical": "median", "typically": "median",
    "min": "min", "minimum": "min", "lowest": "min", "smallest": "min", "least": "min", "fewest": "min",
    "youngest": "min", "earliest": "min",
    "max": "max", "maximum": "max", "highest": "max", "largest": "max", "biggest": "max", "most": "max",
    "greatest": "max", "top": "max", "oldest": "max", "latest": "max",
    "quartile": "quartiles", "quartiles": "quartiles", "iqr": "quartiles", "interquartile": "quartiles",
    "range": "range", "std": "std", "deviation": "std", "spread": "std", "variance": "std",
    "variation": "std", "variability": "std",
    "total": "total", "sum": "total", "combined": "total", "altogether": "total", "overall_total": "total",
    "share": "share", "percent": "share", "percentage": "share", "proportion": "share", "fraction": "share",
    "pct": "share", "%": "share", "ratio": "share", "rate": "share", "rates": "share",
    "split": "distribution", "breakdown": "distribution", "distribution": "distribution", "mix": "distribution",
    "composition": "distribution", "makeup": "distribution",
})
RANK_HIGH = frozenset({"highest", "most", "largest", "biggest", "greatest", "top", "maximum", "max", "best", "longest",
                       "oldest", "heaviest", "richest", "wealthiest", "more", "higher", "bigger", "larger",
                       "older", "earliest"})
RANK_LOW = frozenset({"lowest", "least", "smallest", "fewest", "minimum", "min", "bottom", "youngest", "shortest",
                      "worst", "less", "fewer", "lower", "smaller", "cheapest", "poorest", "younger", "newest",
                      "latest"})
#: Superlatives and comparatives that also name a column's role (oldest -> age).
ROLE_DIRECTIONS = MappingProxyType({
    "oldest": ("age", "highest"), "older": ("age", "highest"), "youngest": ("age", "lowest"),
    "younger": ("age", "lowest"), "richest": ("income", "highest"), "wealthiest": ("income", "highest"),
    "poorest": ("income", "lowest"), "affluent": ("income", "highest"),
})
SIZE_EXTREME_HIGH = frozenset({"largest", "biggest", "most", "bigger", "larger"})
SIZE_EXTREME_LOW = frozenset({"smallest", "fewest", "least", "smaller"})
WHICH = frozenset({"which", "who", "whom", "whose", "what"})
SIZE_WORDS = frozenset({"size", "sizes", "big", "large", "small", "sized", "populated", "headcount", "bigger",
                        "smaller", "larger"})
DESCRIBE = frozenset({"describe", "description", "tell", "define", "defines", "defined", "defining",
                      "characterize", "characterise", "characteristics", "characteristic", "profile",
                      "traits", "trait", "drives", "drivers", "driver", "driving", "special", "unique",
                      "distinguish", "distinguishes", "distinctive", "makes", "explain", "persona",
                      "about", "like", "sets", "apart", "stand", "stands", "key", "features", "portrait",
                      "summarize", "summarise", "summary", "who", "detail", "details", "picture", "sketch"})
COMPARE = frozenset({"compare", "compared", "comparison", "comparing", "versus", "vs", "difference",
                     "differences", "differ", "differs", "different", "contrast", "against", "relative"})
OVERVIEW = frozenset({"overview", "summary", "summarize", "summarise", "summarized", "list", "landscape",
                      "allsegments", "segmentation", "found", "names"})
QUALITY = frozenset({"quality", "reliable", "reliability", "trust", "trustworthy", "silhouette", "stable",
                     "stability", "robust", "robustness", "fidelity", "separated", "separation", "accuracy",
                     "accurate", "confidence", "confident", "valid", "validity", "sound", "solid",
                     "meaningful", "believe", "certain", "enough"})
QUALITY_SOFT = frozenset({"good", "well", "sure", "better"})
ACTIONS = frozenset({"action", "actions", "recommend", "recommended", "recommendation", "recommendations", "suggest",
                     "suggestion", "suggestions", "campaign", "campaigns", "market", "marketing", "target",
                     "targeting", "offer", "offers", "retain", "retention", "strategy", "strategies",
                     "engage", "engagement", "upsell", "activate", "approach", "tactics", "ideas", "idea",
                     "should", "plan", "playbook", "nurture", "win", "steps", "step", "next", "grow"})
HELP = frozenset({"help", "hello", "hi", "hey", "examples", "example", "start", "capabilities"})
DATA_WORDS = frozenset({"columns", "column", "fields", "field", "variables", "variable", "attributes", "data",
                        "information", "info", "features"})
COUNT_WORDS = frozenset({"many", "count", "number", "howmany"})
FOLLOW_STARTS = frozenset({"and", "also", "now", "then", "same", "plus", "ok", "okay", "what", "how"})
NEGATIONS = frozenset({"not", "non", "no", "without", "never", "zero", "none"})
POSSESSION = frozenset({"with", "have", "has", "having", "took", "take", "taken", "any", "own", "owns"})
CAUSAL = frozenset({"cause", "causes", "caused", "causing", "causal", "because", "leads", "lead", "effect",
                    "effects", "impact", "impacts", "influence", "influences", "drive", "result", "results"})
#: Words that ask a question about one customer's personal details, which no answer gives.
PERSON_DETAILS = frozenset({"car", "cars", "drive", "drives", "live", "lives", "name", "named", "called",
                            "address", "phone", "email", "birthday", "job", "wife", "husband", "kids", "children"})

#: Comparison words before a number: (words, op, role the words also name).
COMPARATORS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("no", "less", "than"), ">=", ""), (("not", "less", "than"), ">=", ""),
    (("no", "more", "than"), "<=", ""), (("not", "more", "than"), "<=", ""),
    (("not", "equal", "to"), "!=", ""),
    (("more", "than"), ">", ""), (("greater", "than"), ">", ""), (("higher", "than"), ">", ""),
    (("bigger", "than"), ">", ""), (("larger", "than"), ">", ""), (("older", "than"), ">", "age"),
    (("less", "than"), "<", ""), (("fewer", "than"), "<", ""), (("lower", "than"), "<", ""),
    (("smaller", "than"), "<", ""), (("younger", "than"), "<", "age"),
    (("born", "before"), "<", "birth_year"), (("born", "after"), ">", "birth_year"),
    (("born", "in"), "==", "birth_year"),
    (("at", "least"), ">=", ""), (("at", "most"), "<=", ""), (("up", "to"), "<=", ""),
    (("equal", "to"), "==", ""), (("over",), ">", ""), (("above",), ">", ""), (("exceeding",), ">", ""),
    (("under",), "<", ""), (("below",), "<", ""), (("exactly",), "==", ""), (("equals",), "==", ""),
    (("beyond",), ">", ""), (("aged",), "==", "age"),
    ((">=",), ">=", ""), (("<=",), "<=", ""), ((">",), ">", ""), (("<",), "<", ""), (("==",), "==", ""),
    (("=",), "==", ""), (("!=",), "!=", ""),
    # "bought in the last 30 days": the last purchase is at most 30 days ago
    (("in", "the", "last"), "<=", "recency"), (("in", "the", "past"), "<=", "recency"),
    (("within", "the", "last"), "<=", "recency"), (("within", "the", "past"), "<=", "recency"),
    (("in", "last"), "<=", "recency"), (("within",), "<=", "recency"),
)
#: Words after a number that turn it into a bound: "3 or more", "5 or fewer", "10+".
POSTFIX = MappingProxyType({("or", "more"): ">=", ("or", "above"): ">=", ("or", "over"): ">=", ("plus",): ">=",
                            ("+",): ">=", ("or", "higher"): ">=", ("or", "older"): ">=",
                            ("or", "less"): "<=", ("or", "fewer"): "<=", ("or", "under"): "<=",
                            ("or", "below"): "<=", ("or", "lower"): "<=", ("or", "younger"): "<="})
#: Words that end the search for a condition's column.
STOP_WINDOW = frozenset({"and", "or", "but", "who", "whose", "which", "while", "in", "among", "segment",
                         "group", "cluster", ",", "than", "between", "vs", "versus"})
#: Nouns that say what kind of number a column is: "credit score" is not "credit limit".
COLUMN_NOUNS = frozenset({"score", "rate", "level", "ratio", "index", "rating", "status", "type", "grade", "class",
                          "tier", "band", "category", "history", "value"})
#: Time units said after a number ("12 months", "10+ years", "5 times a month"): part of a condition.
UNIT_WORDS = frozenset({"day", "days", "week", "weeks", "month", "months", "year", "years", "times", "time",
                        "dollars", "euros", "pounds", "bucks", "usd", "eur", "gbp"})
#: Words for the business itself ("the mall overall", "spends on the card"): never a column.
PLACES = frozenset({"mall", "card", "cards", "bank", "company", "business", "brand", "firm", "portfolio",
                    "program", "programme", "shop", "store", "stores", "website", "site", "platform", "us", "here"})
#: Words that say an existing label is meant ("sales segment A").
LABEL_LEADS = frozenset({"sales", "existing", "original", "old", "given", "team", "label", "labelled", "labeled",
                         "marketing", "assigned", "official"})
#: Everyday words for "customers" (never a column).
PEOPLE = frozenset({"customer", "customers", "client", "clients", "people", "person", "persons", "shopper",
                    "shoppers", "buyer", "buyers", "user", "users", "member", "members", "folks", "guys",
                    "individuals", "cardholders", "cardholder", "ppl", "households", "consumers", "consumer",
                    "accounts", "account", "anyone", "anybody", "someone", "everyone", "everybody", "ones", "one",
                    "holders", "holder", "owners", "owner", "spenders", "earners", "ones", "shoppers", "guests",
                    "patrons", "subscribers", "base", "cust", "custs"})

#: Words that carry no topic: a question made only of these, operation words, segment
#: references and column words is understood; any other word means "not in this data".
FILLERS = frozenset("""
a an the of in on at to for from by with within into onto per as is are was were be been being am do does
did doing done have has had having i me my mine we us our ours you your yours he she him her his hers it its
they them their theirs this that these those there here what which who whom whose when where why how
can could would should shall may might must will let lets please pls plz thanks thank kindly just
really actually currently usually generally roughly approximately about around nearly almost
precisely so very quite rather much many more most less least few fewer some any all each every both either
neither other others another than then also too again still yet only even same such own if or and but
not no nor yes ok okay right well now tell show give find see know want need like get gets got make makes
made say says said mean means look looking looks seem seems compute calculate work out figure list name
named called call shows showing info details detail numbers number stats statistics stat value values figure
figures kind kinds type types sort sorts part portion way ways thing things lot lots regarding concerning
respect terms term fall falls belong belongs belonging sit sits placed put land lands being among between
across inside vs versus use uses using used tend tends tending normally often nowadays today level levels
amount score scores big small large size sized high low higher lower highest lowest top bottom best worst
biggest smallest largest percentage percent share proportion fraction ratio count total sum average mean
median mid middle minimum maximum min max range spread deviation standard variance quartile quartiles iqr
answer question questions ask asking asked respond response long time times else whats hows whos wheres
thats theres im ive id youre theyre ago back items item goods stuff exist exists existing available
identified discovered created detected mix split distribution composition makeup breakdown break down membership proportionally relies rely relying
proportionately relatively contain
contains containing take taking model common popular usual dominant main group groups segment segments
cluster clusters seg segs everyone everybody overall quick quickly short brief briefly simple simply
exact exactly specific specifically particular particularly roughly typical typically general overall
currently right now data table dataset database our we us whole entire full etc something anything
everything nothing none much one ones two three four five six seven eight nine ten howmany howmuch
howoften howlong foreach persegment allsegments each every per versus like same similar similarly
in-store there's what's who's give gives gave worth value valued category categories kind bucket
level values option options answer overall_total current latest both each either two
active products product
likely unlikely likelier probable heavy dominated skewed leaning weighted left remaining remain remains
boss manager managers team board ceo cfo cmo colleague colleagues stakeholder stakeholders audience exec execs
presentation slide slides deck memo line lines sentence sentences bullet bullets point points paragraph words
plain english simple layman laymans nutshell carry carries carrying carried hold holds holding keep keeps
""".split())
#: Question words that are neither filler nor a column, but belong to an operation and never
#: make a question unknown: they say what to do, not what to measure.
OPERATION_WORDS = frozenset(set(STATISTICS) | RANK_HIGH | RANK_LOW | SIZE_WORDS | DESCRIBE | COMPARE | OVERVIEW
                            | QUALITY | QUALITY_SOFT | ACTIONS | HELP | COUNT_WORDS | WHICH | PRONOUNS | OTHER_WORDS
                            | DATA_WORDS | NEGATIONS | POSSESSION | SEGMENT_WORDS | UNASSIGNED_WORDS
                            | {w for ws, _, _ in COMPARATORS for w in ws} | {w for ws in POSTFIX for w in ws}
                            | {"rank", "ranking", "sort", "sorted", "ranked", "order", "ordered", "between",
                               "from", "#", "%", "differ", "split", "everything", "assigned", "fit", "fits",
                               "belong", "why", "reason", "put", "placed", "ended", "end", "up", "landed",
                               "bigger", "smaller", "which", "cohort", "cohorts", "persona", "personas",
                               "number", "nr", "num", "no", "id", "then", "first", "last", "again", "+", "$", "€",
                               "£", "always", "every", "ever", "valuable", "profitable", "lucrative", "important",
                               "labels", "label", "only", "many", "too"} | UNIT_WORDS | PLACES | LABEL_LEADS)

__all__ = [name for name in dir() if name.isupper()]
