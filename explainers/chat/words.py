"""Word lists of the question grammar (what operation is asked for), kept apart from the logic."""
from __future__ import annotations

from types import MappingProxyType

SEGMENT_WORDS = frozenset({"segment", "segments", "seg", "segs", "group", "groups", "cluster", "clusters",
                           "persona", "personas", "grp", "bucket", "buckets", "tribe", "tribes"})
UNASSIGNED_WORDS = frozenset({"unassigned", "noise", "outlier", "outliers", "unclustered", "leftover",
                              "leftovers", "unclassified", "misfits"})
EVERYONE_WORDS = frozenset({"everyone", "everybody", "overall", "rest", "others", "baseline", "whole",
                            "population", "average", "all", "other", "general"})
PRONOUNS = frozenset({"they", "them", "their", "theirs", "those", "these", "this", "that", "it", "its",
                      "same", "there"})
STATISTICS = MappingProxyType({
    "mean": "mean", "average": "mean", "avg": "mean", "averages": "mean",
    "median": "median", "middle": "median", "typical": "median", "typically": "median",
    "min": "min", "minimum": "min", "lowest": "min", "smallest": "min", "least": "min", "fewest": "min",
    "max": "max", "maximum": "max", "highest": "max", "largest": "max", "biggest": "max", "most": "max",
    "greatest": "max", "top": "max",
    "quartile": "quartiles", "quartiles": "quartiles", "iqr": "quartiles", "interquartile": "quartiles",
    "range": "range", "std": "std", "deviation": "std", "spread": "std", "variance": "std",
    "variation": "std", "variability": "std",
    "total": "total", "sum": "total", "combined": "total", "altogether": "total",
    "share": "share", "percent": "share", "percentage": "share", "proportion": "share",
    "fraction": "share", "pct": "share", "%": "share", "ratio": "share",
})
RANK_HIGH = frozenset({"highest", "most", "largest", "biggest", "greatest", "top", "maximum", "max", "best", "longest",
                       "oldest", "heaviest", "richest", "more", "higher", "bigger", "larger"})
RANK_LOW = frozenset({"lowest", "least", "smallest", "fewest", "minimum", "min", "bottom", "youngest", "shortest",
                      "worst", "less", "fewer", "lower", "smaller", "cheapest"})
#: Words that name both a feature (age) and a direction.
DIRECTIONAL = MappingProxyType({"oldest": "highest", "older": "highest", "youngest": "lowest", "younger": "lowest"})
SIZE_EXTREME_HIGH = frozenset({"largest", "biggest", "most"})
SIZE_EXTREME_LOW = frozenset({"smallest", "fewest", "least"})
WHICH = frozenset({"which", "who", "whom", "whose"})
SIZE_WORDS = frozenset({"size", "sizes", "big", "large", "small", "sized", "populated", "members",
                        "headcount"})
DESCRIBE = frozenset({"describe", "description", "tell", "define", "defines", "defined", "defining",
                      "characterize", "characterise", "characteristics", "characteristic", "profile",
                      "traits", "trait", "drives", "drivers", "driver", "driving", "special", "unique",
                      "distinguish", "distinguishes", "distinctive", "makes", "explain", "persona",
                      "about", "like", "who", "sets", "apart", "stand", "stands", "key", "features",
                      "typical", "portrait"})
COMPARE = frozenset({"compare", "compared", "comparison", "comparing", "versus", "vs", "difference",
                     "differences", "differ", "differs", "different", "contrast", "against", "relative"})
OVERVIEW = frozenset({"overview", "summary", "summarize", "summarise", "summarized", "list", "breakdown",
                      "found", "names", "segmentation", "landscape"})
QUALITY = frozenset({"quality", "reliable", "reliability", "trust", "trustworthy", "silhouette", "stable",
                     "stability", "robust", "robustness", "fidelity", "separated", "separation", "accuracy",
                     "accurate", "confidence", "confident", "valid", "validity", "sound", "solid",
                     "meaningful", "believe"})
QUALITY_SOFT = frozenset({"good", "well", "sure"})
ACTIONS = frozenset({"action", "actions", "recommend", "recommendation", "recommendations", "suggest",
                     "suggestion", "suggestions", "campaign", "campaigns", "market", "marketing", "target",
                     "targeting", "offer", "offers", "retain", "retention", "strategy", "strategies",
                     "engage", "engagement", "upsell", "activate", "approach", "tactics", "ideas", "idea",
                     "should", "plan", "playbook", "nurture", "win"})
HELP = frozenset({"help", "hello", "hi", "hey", "examples", "example", "start", "capabilities"})
COUNT_WORDS = frozenset({"many", "count", "number", "howmany"})
FOLLOW_STARTS = frozenset({"and", "also", "now", "then", "same", "plus", "ok", "okay", "what", "how"})
NEGATIONS = frozenset({"not", "non", "no", "without", "never"})

#: Words that carry no topic: a question made only of these, operation words, segment
#: references and column words is understood; any other word means "not in this data".
FILLERS = frozenset("""
a an the of in on at to for from by with within into onto per as is are was were be been being am do does
did doing done have has had having i me my mine we us our ours you your yours he she him her his hers it its
they them their theirs this that these those there here what which who whom whose when where why how
can could would should shall may might must will let lets please pls plz thanks thank you kindly just
really actually currently typically usually generally roughly approximately about around nearly almost
exactly precisely overall so very quite rather much many more most less least few fewer some any all
each every both either neither one ones other others another than then also too again still yet only
even same such own if or and but not no nor yes ok okay right well now tell show give find see know
want need like get gets got make makes made let say says said mean means look looking looks seem seems
compute calculate work out figure list name named called call shows showing tell me info information
details detail data table dataset numbers number stats statistics stat value values figure figures
customer customers client clients people person persons shopper shoppers buyer buyers user users member
members folks guys individuals population audience base our my their your its group groups segment
segments cluster clusters kind kinds type types sort sorts part portion way ways thing things lot lots
regarding concerning respect terms term fall falls belong belongs belonging sit sits placed put land
lands live lives being among between across inside within vs versus typical typically roughly
use uses using used shop shops shopping prefer prefers preferring
have has own owns hold holds sign signed come comes tend tends tending usually normally often
currently nowadays today amount level levels rate rates score scores big small large size sized
high low higher lower highest lowest top bottom best worst biggest smallest largest most least
percentage percent share proportion fraction ratio count total sum average mean median mid middle
minimum maximum min max range spread deviation standard variance quartile quartiles iqr
describe description summary summarize summarise overview compare comparison difference differ
differs different similar similarity versus against relative contrast explain explanation why
reason reasons because due cause causes drives drive driver drivers driving factor factors
answer question questions ask asking asked respond response usage consumption long time times else
whats hows whos wheres thats theres lets im ive id youre theyre ago back items item products product
goods things stuff exist exists existing available identified discovered created detected mix split
distribution composition makeup breakdown kind overall contain contains containing take taking model
active activity engaged common popular usual dominant main
""".split())
