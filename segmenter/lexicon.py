"""Words of customer tables: how column names are written and what their words mean.

Data only, read by :mod:`segmenter.meanings`: abbreviations found in real exports
("Mnt", "Num", "TRX", "PRC"), the words that give a column its role, the everyday words
people use for a subject, and the lexicon that splits glued names ("Kidhome"). Nothing
here is tied to one table; every entry is a general word of customer data.
"""
from __future__ import annotations

from types import MappingProxyType

#: Abbreviations and spellings -> the words they stand for (applied to lower-case tokens).
ABBREVIATIONS = MappingProxyType({
    "mnt": "amount", "amt": "amount", "num": "number", "no": "number", "nr": "number", "qty": "quantity",
    "cnt": "count", "trx": "transactions", "txn": "transactions", "txns": "transactions", "freq": "frequency",
    "avg": "average", "pct": "percent", "prc": "percent", "perc": "percent", "dt": "date", "yr": "year",
    "yrs": "years", "cmp": "campaign", "prods": "products", "prod": "product", "cust": "customer",
    "acct": "account", "bal": "balance", "tot": "total", "dob": "birthdate", "addr": "address",
    "tel": "telephone", "mth": "month", "mths": "months", "mon": "month", "wk": "week", "oneoff": "one-off",
    "installments": "instalments", "installment": "instalment", "catalogue": "catalog", "exp": "experience",
    "yob": "birthyear", "zip": "zipcode", "pc": "postcode", "kids": "kid", "teens": "teen", "sms": "sms",
})

#: Glued words split by the lexicon below ("Kidhome" -> kid home, "WebVisits" is camel case already).
SPLIT_LEXICON = frozenset("""
kid kids teen teens child children home house hold household family web visit visits month months
online store catalog deal deals purchase purchases amount number total spend spent income year years
birth day days date customer client member account balance credit limit cash advance payment payments
minimum full one off installment instalment frequency order orders value score spending annual age
gender marital status education profession work experience size var response accepted campaign
complain complaint recency tenure last since signup join joined product products wine wines fruit
fruits meat fish sweet sweets gold app mobile email phone zip post code postal first last name
sur ever married graduated graduate average mean share rate percent ratio discount coupon promo
""".split())

#: Tokens that name an existing label or outcome column (kept out of the features).
OUTCOME_WORDS = frozenset({"segmentation", "segment", "cluster", "label", "target", "class", "churn", "churned",
                           "response", "outcome", "converted", "conversion", "attrition", "exited", "y",
                           "persona"})
#: Tokens of columns that hold personal data (never a feature, never shown).
PERSONAL_WORDS = frozenset({"email", "mail", "phone", "telephone", "fax", "cell", "address", "street", "zipcode",
                            "postcode", "postal", "ssn", "passport", "iban", "surname", "firstname", "lastname",
                            "fullname", "name", "birthdate", "birthday", "ip", "licence", "license", "password"})
#: Personal only when the values look like it (a "mobile" flag is not a phone number).
PERSONAL_IF_VALUES = frozenset({"mobile", "contact", "cellphone"})

#: Words that set a column's role, checked in this order (first role whose words appear wins).
ROLE_WORDS: tuple[tuple[str, frozenset], ...] = (
    ("birth_year", frozenset({"birthyear", "born"})),
    ("age", frozenset({"age"})),
    ("income", frozenset({"income", "salary", "earnings", "wage", "wages"})),
    ("recency", frozenset({"recency", "inactive", "dormant", "lapsed"})),
    ("tenure", frozenset({"tenure", "seniority", "signup", "joined", "registration", "enrolled", "enrollment",
                          "onboarded"})),
    ("household", frozenset({"kid", "kids", "child", "children", "teen", "teens", "teenager", "teenagers",
                             "family", "household", "dependents", "dependants", "baby", "babies"})),
    ("campaign", frozenset({"accepted", "campaign", "campaigns", "responded"})),
    ("complaint", frozenset({"complain", "complained", "complaint", "complaints"})),
    ("experience", frozenset({"experience"})),
    ("frequency", frozenset({"frequency", "frequently"})),
    ("share", frozenset({"share", "percent", "percentage", "ratio", "rate", "proportion", "fraction"})),
    ("score", frozenset({"score", "rating", "satisfaction", "nps", "csat"})),
    ("count", frozenset({"number", "count", "transactions", "orders", "visits", "quantity", "items", "times",
                         "trips", "logins", "sessions", "calls", "returns", "refunds", "complaints_count"})),
    ("money", frozenset({"amount", "spend", "spent", "spending", "revenue", "sales", "value", "price", "cost",
                         "balance", "payment", "payments", "purchases", "purchase", "cash", "advance", "limit",
                         "credit", "bill", "fee", "fees", "clv", "ltv", "monetary", "gmv", "basket", "aov",
                         "profit", "margin", "deposit", "deposits", "loan", "debt", "spendings"})),
    ("demographic", frozenset({"gender", "sex", "marital", "married", "education", "graduated", "graduate",
                               "degree", "profession", "occupation", "job", "region", "country", "city",
                               "state", "area", "location", "language", "generation", "nationality"})),
    ("channel", frozenset({"channel", "device", "platform", "source"})),
)

#: Channel subjects: the words that mark one and the everyday words people use for it.
CHANNELS = MappingProxyType({
    "web": (frozenset({"web", "online", "internet", "website", "ecommerce", "digital"}),
            ("web", "website", "online", "internet", "site", "ecommerce", "e-commerce")),
    "store": (frozenset({"store", "shop", "instore", "retail", "offline", "branch"}),
              ("store", "stores", "shop", "in-store", "instore", "in person", "physical")),
    "catalog": (frozenset({"catalog"}), ("catalog", "catalogue", "mail order", "catalogs")),
    "app": (frozenset({"app"}), ("app", "apps", "mobile app", "phone app")),
})
#: Words that mark buying at a discount.
DEAL_WORDS = frozenset({"deal", "deals", "discount", "discounts", "coupon", "coupons", "promo", "promotion",
                        "voucher", "vouchers", "markdown"})

#: Everyday words for subjects that appear in column names (name word -> what people also say).
SUBJECT_SYNONYMS = MappingProxyType({
    "wines": ("wine", "wines", "vino"), "wine": ("wine", "wines"),
    "fruits": ("fruit", "fruits"), "fruit": ("fruit", "fruits"),
    "meat": ("meat", "meats"), "fish": ("fish", "seafood"),
    "sweet": ("sweets", "sweet", "candy", "candies", "desserts", "confectionery"),
    "sweets": ("sweets", "sweet", "candy", "candies", "desserts"),
    "gold": ("gold", "jewellery", "jewelry", "gold products"),
    "kid": ("kid", "kids", "child", "children", "small children", "young children", "toddlers"),
    "teen": ("teen", "teens", "teenager", "teenagers", "adolescents", "teenage kids"),
    "cash": ("cash",), "advance": ("advance", "advances", "cash advance", "cash advances"),
    "credit": ("credit",), "limit": ("limit", "credit limit", "credit line"),
    "balance": ("balance", "balances", "outstanding balance"),
    "payments": ("payment", "payments", "repayments", "paid back"),
    "deals": ("deal", "deals", "discount", "discounts", "coupon", "coupons", "promotion", "promotions",
              "sale items", "bargains"),
    "family": ("family", "fam", "household", "people at home", "family size", "household size"),
    "married": ("married", "marriage", "spouse"), "graduated": ("graduated", "graduate", "degree", "college"),
    "experience": ("experience", "work experience", "years of experience", "career"),
    "profession": ("profession", "job", "occupation", "work", "career", "line of work"),
    "education": ("education", "degree", "schooling", "qualification", "studies"),
    "gender": ("gender", "sex", "men", "women", "male", "female"),
    "marital": ("marital", "married", "relationship", "single", "divorced", "partner"),
    "complain": ("complain", "complained", "complaint", "complaints", "unhappy"),
    "income": ("income", "earn", "earns", "earning", "earnings", "salary", "rich", "richest", "wealthy",
               "wealthiest", "affluent", "poor", "poorest", "wealth", "make", "makes"),
    "age": ("age", "old", "older", "oldest", "young", "younger", "youngest", "aged", "years old", "elderly",
            "senior", "seniors"),
})

#: Words people use for a column of a role, whatever its name.
ROLE_SYNONYMS = MappingProxyType({
    "frequency": ("often", "frequently", "howoften", "regularly", "frequency", "how often"),
    "recency": ("recently", "recent", "lapsed", "inactive", "days since", "last purchase", "last bought"),
    "tenure": ("tenure", "how long", "howlong", "loyal", "customer since", "member since", "joined"),
    "outcome": ("responded", "responders", "response", "converted", "outcome"),
    "campaign": ("campaign", "campaigns", "responded", "accepted", "offer"),
    "complaint": ("complained", "complaints", "complaint", "complain"),
    "experience": ("experience", "experienced", "career"),
    "full_payment": ("payinfull", "full payers", "full"),
})

def _single_words(groups) -> frozenset:
    return frozenset(w for g in groups for w in g if " " not in w)


#: Words that name a customer attribute on some table: on a table without it they are unknown words,
#: never a typo of another word ("kids" on a table with no kids column is not "kinds").
CONCEPT_WORDS = SPLIT_LEXICON | _single_words(SUBJECT_SYNONYMS.values()) | _single_words(ROLE_SYNONYMS.values())


#: Verbs for money that is spent (a "balance" or a "limit" is not spent).
SPEND_VERBS = ("spend", "spends", "spent", "spending", "buy", "buys", "bought", "buying", "purchase",
               "purchases", "purchased", "purchasing")
BUY_VERBS = ("buy", "buys", "bought", "buying", "purchase", "purchases", "purchased", "order", "orders",
             "ordered", "shop", "shops", "shopped")
#: Count words that are buying ("orders per year" says how often they buy).
BUYING_WORDS = frozenset({"purchases", "purchase", "orders", "order", "transactions", "trips"})
#: Words for the value of one order.
BASKET_WORDS = ("basket", "baskets", "basket size", "ticket", "order value", "per order", "aov")
#: Columns that say where someone lives, and the verbs for it ("lives in the South").
PLACE_WORDS = frozenset({"region", "city", "state", "country", "location", "area", "province", "county", "town",
                         "district", "territory"})
LIVE_VERBS = ("live", "lives", "living", "located", "based")
#: Money words that are not spending: held, owed or allowed.
NOT_SPENT = frozenset({"balance", "limit", "credit", "deposit", "deposits", "loan", "debt", "income", "salary",
                       "minimum", "payments", "payment"})

#: Level words of categorical columns that read as plain nouns or adjectives in a name.
LEVEL_NAME_WORDS = MappingProxyType({
    "male": "Men", "m": "Men", "man": "Men", "men": "Men", "female": "Women", "f": "Women", "woman": "Women",
    "women": "Women", "married": "Married", "single": "Single", "divorced": "Divorced", "widow": "Widowed",
    "widowed": "Widowed", "together": "Cohabiting", "phd": "PhD-Holding", "master": "Master's-Educated",
    "graduation": "Graduate", "basic": "Basic-Education", "2n cycle": "Second-Cycle",
    "artist": "Artists", "healthcare": "Healthcare Workers", "entertainment": "Entertainment Workers",
    "doctor": "Doctors", "engineer": "Engineers", "lawyer": "Lawyers", "executive": "Executives",
    "marketing": "Marketing Professionals", "homemaker": "Homemakers", "retired": "Retirees",
    "student": "Students", "unemployed": "Job-Seeking",
})
#: The describing-word form of a level noun, used when the name already has its noun
#: ("Male Big Spenders", not "Men Big Spenders").
NOUN_ADJECTIVES = MappingProxyType({
    "Men": "Male", "Women": "Female", "Artists": "Artist", "Doctors": "Doctor", "Engineers": "Engineer",
    "Lawyers": "Lawyer", "Executives": "Executive", "Homemakers": "Homemaker", "Retirees": "Retired",
    "Students": "Student", "Healthcare Workers": "Healthcare", "Entertainment Workers": "Entertainment",
    "Marketing Professionals": "Marketing",
})

#: Ordered levels of a scale written in words, low to high.
ORDINAL_LEVELS = (("low", "average", "high"), ("low", "medium", "high"), ("none", "low", "medium", "high"),
                  ("bronze", "silver", "gold"), ("bronze", "silver", "gold", "platinum"))
