"""Column meanings: inferred for every column of the four real tables, checked against a table
written by hand; personal data and IDs found by content; corrections flow into the schema."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from segmenter.errors import ColumnError, ParameterError
from segmenter.load import load_table
from segmenter.meanings import apply_overrides, name_tokens, read_overrides
from segmenter.schema import infer_schema

from conftest import SHARED_DATA

#: (role, unit, label) expected for every column, written by reading SOURCES.md and the headers.
EXPECTED = {
    "mall_customers.csv": {
        "CustomerID": ("id", "", "customer ID"),
        "Gender": ("demographic", "", "gender"),
        "Age": ("age", "years", "age"),
        "Annual Income (k$)": ("income", "k$", "annual income"),
        "Spending Score (1-100)": ("score", "points", "spending score"),
    },
    "cc_general.csv": {
        "CUST_ID": ("id", "", "customer ID"),
        "BALANCE": ("money", "currency", "balance"),
        "BALANCE_FREQUENCY": ("frequency", "%", "balance frequency"),
        "PURCHASES": ("money", "currency", "purchases"),
        "ONEOFF_PURCHASES": ("money", "currency", "one-off purchases"),
        "INSTALLMENTS_PURCHASES": ("money", "currency", "instalment purchases"),
        "CASH_ADVANCE": ("money", "currency", "cash advance"),
        "PURCHASES_FREQUENCY": ("frequency", "%", "purchase frequency"),
        "ONEOFF_PURCHASES_FREQUENCY": ("frequency", "%", "one-off purchase frequency"),
        "PURCHASES_INSTALLMENTS_FREQUENCY": ("frequency", "%", "instalment purchase frequency"),
        "CASH_ADVANCE_FREQUENCY": ("frequency", "%", "cash advance frequency"),
        "CASH_ADVANCE_TRX": ("count", "", "cash advance transactions"),
        "PURCHASES_TRX": ("count", "", "purchase transactions"),
        "CREDIT_LIMIT": ("money", "currency", "credit limit"),
        "PAYMENTS": ("money", "currency", "payments"),
        "MINIMUM_PAYMENTS": ("money", "currency", "minimum payments"),
        "PRC_FULL_PAYMENT": ("share", "%", "share of full payment"),
        "TENURE": ("tenure", "months", "tenure"),
    },
    "marketing_campaign.csv": {
        "ID": ("id", "", "customer ID"),
        "Year_Birth": ("birth_year", "year", "birth year"),
        "Education": ("demographic", "", "education"),
        "Marital_Status": ("demographic", "", "marital status"),
        "Income": ("income", "currency", "income"),
        "Kidhome": ("household", "", "kids at home"),
        "Teenhome": ("household", "", "teenagers at home"),
        "Dt_Customer": ("tenure", "days", "days as a customer"),
        "Recency": ("recency", "days", "days since last purchase"),
        "MntWines": ("money", "currency", "spend on wines"),
        "MntFruits": ("money", "currency", "spend on fruits"),
        "MntMeatProducts": ("money", "currency", "spend on meat products"),
        "MntFishProducts": ("money", "currency", "spend on fish products"),
        "MntSweetProducts": ("money", "currency", "spend on sweet products"),
        "MntGoldProds": ("money", "currency", "spend on gold products"),
        "NumDealsPurchases": ("count", "", "deal purchases"),
        "NumWebPurchases": ("count", "", "web purchases"),
        "NumCatalogPurchases": ("count", "", "catalog purchases"),
        "NumStorePurchases": ("count", "", "store purchases"),
        "NumWebVisitsMonth": ("count", "", "web visits per month"),
        "AcceptedCmp3": ("campaign", "", "accepted campaign 3"),
        "AcceptedCmp4": ("campaign", "", "accepted campaign 4"),
        "AcceptedCmp5": ("campaign", "", "accepted campaign 5"),
        "AcceptedCmp1": ("campaign", "", "accepted campaign 1"),
        "AcceptedCmp2": ("campaign", "", "accepted campaign 2"),
        "Complain": ("complaint", "", "complained"),
        "Z_CostContact": ("money", "currency", "cost contact"),
        "Z_Revenue": ("money", "currency", "revenue"),
        "Response": ("outcome", "", "response to the last campaign"),  # beside the numbered campaigns
    },
    "customer_segmentation_train.csv": {
        "ID": ("id", "", "customer ID"),
        "Gender": ("demographic", "", "gender"),
        "Ever_Married": ("demographic", "", "ever married"),
        "Age": ("age", "years", "age"),
        "Graduated": ("demographic", "", "graduated"),
        "Profession": ("demographic", "", "profession"),
        "Work_Experience": ("experience", "years", "work experience"),
        "Spending_Score": ("score", "", "spending score"),
        "Family_Size": ("household", "", "family size"),
        "Var_1": ("category", "", "var 1"),
        "Segmentation": ("outcome", "", "segmentation"),
    },
}
#: Columns whose reading is a guess the user must be told about.
AMBIGUOUS = {"cc_general.csv": {"TENURE", "CASH_ADVANCE_FREQUENCY"}, "marketing_campaign.csv": {"Recency"},
             "customer_segmentation_train.csv": {"Var_1"}}


@pytest.mark.parametrize("file", sorted(EXPECTED))
def test_meanings_of_every_column_of_the_real_tables(file):
    path = SHARED_DATA / file
    if not path.is_file():
        pytest.skip(f"no shared data at {SHARED_DATA}")
    schema = infer_schema(load_table(path))
    assert set(schema.meanings) == set(EXPECTED[file])
    wrong = {c: (m.role, m.unit, m.label) for c, m in schema.meanings.items() if (m.role, m.unit, m.label)
             != EXPECTED[file][c]}
    assert not wrong, wrong
    stated = {c for c, m in schema.meanings.items() if m.ambiguity}
    assert AMBIGUOUS.get(file, set()) <= stated, stated


def test_words_people_use_are_attached_to_the_columns():
    path = SHARED_DATA / "marketing_campaign.csv"
    if not path.is_file():
        pytest.skip(f"no shared data at {SHARED_DATA}")
    m = infer_schema(load_table(path)).meanings
    assert {"wine", "wines"} <= set(m["MntWines"].words) and "bought" in m["MntWines"].verbs
    assert {"kids", "children"} <= set(m["Kidhome"].words)
    assert {"teenagers", "teens"} <= set(m["Teenhome"].words)
    assert {"website", "online"} <= set(m["NumWebPurchases"].words)
    assert {"richest", "earn"} <= set(m["Income"].words)
    assert m["MntWines"].high == "spends more on wines" and m["Income"].low == "earns less"
    assert m["NumWebPurchases"].channel == "web" and m["NumDealsPurchases"].has_tag("deal")


@pytest.mark.parametrize("name, tokens, hints", [
    ("MntMeatProducts", ["amount", "meat", "products"], []),
    ("NumWebVisitsMonth", ["number", "web", "visits", "month"], []),
    ("Kidhome", ["kid", "home"], []),
    ("CASH_ADVANCE_TRX", ["cash", "advance", "transactions"], []),
    ("Annual Income (k$)", ["annual", "income"], ["k$"]),
    ("Spending Score (1-100)", ["spending", "score"], ["1-100"]),
    ("ONEOFF_PURCHASES", ["one-off", "purchases"], []),
])
def test_name_tokens(name, tokens, hints):
    assert name_tokens(name) == (tokens, hints)


N = 60


def _base() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"spend": rng.gamma(2, 100, N).round(2), "visits": rng.integers(0, 9, N)})


@pytest.mark.parametrize("column, values, why", [
    ("mobile", [7000000000 + 7919 * i for i in range(N)], "phone numbers"),
    ("contact", [f"+44 20 7946 {1000 + i}" for i in range(N)], "phone numbers"),
    ("reach", [f"user{i}@example.org" for i in range(N)], "e-mail"),
    ("holder", [f"{a} {b}" for a, b in zip(["Anna", "Ben", "Cara", "Dan", "Eve", "Finn"] * 10,
                                          [f"Smith{chr(97 + i % 26)}son" for i in range(N)])], "names"),
    ("dob", pd.date_range("1950-01-01", periods=N, freq="97D"), "birth dates"),
    ("zip", [f"{10000 + 37 * i}" for i in range(N)], "personal data"),
])
def test_personal_data_found_by_content_or_name_is_left_out(column, values, why):
    schema = infer_schema(_base().assign(**{column: values}))
    info = schema.column(column)
    assert info.kind == "excluded" and "personal data" in info.reason and why in info.reason, info.reason
    assert schema.meanings[column].role == "personal"
    assert column not in schema.features


@pytest.mark.parametrize("name", ["subscriber_ref", "account", "member", "code"])
def test_code_like_ids_are_the_customer_id_whatever_their_name(name):
    df = _base().assign(**{name: [f"S{105000 + 7 * i}" for i in range(N)]})
    schema = infer_schema(df)
    assert schema.id_column == name, schema.column(name).reason


def test_numeric_ids_under_a_customer_word_are_ids():
    df = _base().assign(account=[100230 + 13 * i for i in range(N)])
    assert infer_schema(df).id_column == "account"


def test_ids_with_surrounding_spaces_are_trimmed_not_collapsed():
    padded = [f" S{105000 + i} " if i % 2 else f"S{105000 + i}" for i in range(N)]
    schema = infer_schema(_base().assign(ref=padded))
    assert schema.id_column == "ref"
    from segmenter.schema import customer_ids

    ids = customer_ids(_base().assign(ref=padded), schema)
    assert ids.iloc[1] == "S105001" and ids.nunique() == N
    clash = [f"S{105000 + i}" for i in range(N - 1)] + [" S105000"]  # the same id once spaces are removed
    assert infer_schema(_base().assign(ref=clash)).id_column != "ref"


def test_outcome_columns_are_profile_only_unless_chosen():
    rng = np.random.default_rng(1)
    df = _base().assign(churn=rng.choice(["yes", "no"], N), cluster=rng.choice(list("ABC"), N))
    schema = infer_schema(df)
    assert schema.kind_of("churn") == "profile" and schema.kind_of("cluster") == "profile"
    assert "churn" not in schema.features and "outcome" in schema.column("churn").reason
    assert infer_schema(df, types={"churn": "boolean"}).kind_of("churn") == "boolean"


def test_user_corrections_replace_the_inferred_meaning():
    df = _base().assign(tenure=np.arange(N) % 12 + 1)
    schema = infer_schema(df, meanings={"tenure": {"unit": "years", "label": "years with us"},
                                        "spend": {"words": ["outlay"]}})
    assert schema.meanings["tenure"].unit == "years" and schema.meanings["tenure"].label == "years with us"
    assert schema.meanings["tenure"].source == "user" and not schema.meanings["tenure"].ambiguity
    assert "outlay" in schema.meanings["spend"].words and "spend" in schema.meanings["spend"].words
    rng = np.random.default_rng(2)
    labelled = df.assign(tier=rng.choice(["gold", "silver", "bronze"], N))
    assert infer_schema(labelled).kind_of("tier") == "categorical"
    assert infer_schema(labelled, meanings={"tier": {"role": "outcome"}}).kind_of("tier") == "profile"
    assert infer_schema(labelled, meanings={"tier": {"role": "personal"}}).kind_of("tier") == "excluded"


@pytest.mark.parametrize("overrides, error, match", [
    ({"nope": {"label": "x"}}, ColumnError, "not in the table"),
    ({"spend": {"role": "wizard"}}, ParameterError, "not a role"),
    ({"spend": {"unit": "parsecs"}}, ParameterError, "not a unit"),
    ({"spend": {"colour": "red"}}, ParameterError, "Unknown field"),
    ({"spend": "money"}, ParameterError, "set of fields"),
])
def test_bad_corrections_are_refused_plainly(overrides, error, match):
    with pytest.raises(error, match=match):
        infer_schema(_base(), meanings=overrides)


def test_corrections_read_from_json_and_yaml(tmp_path):
    (tmp_path / "m.json").write_text(json.dumps({"spend": {"label": "outlay"}}))
    (tmp_path / "m.yaml").write_text("spend:\n  label: outlay\n  unit: $\n")
    assert read_overrides(tmp_path / "m.json") == {"spend": {"label": "outlay"}}
    assert read_overrides(tmp_path / "m.yaml") == {"spend": {"label": "outlay", "unit": "$"}}
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ParameterError, match="could not be read as JSON"):
        read_overrides(tmp_path / "bad.json")


def test_role_change_rederives_phrasing():
    meanings = infer_schema(_base()).meanings
    changed = apply_overrides(meanings, {"visits": {"role": "recency"}})["visits"]
    assert changed.role == "recency" and changed.names["higher"][0] == "Lapsed"
