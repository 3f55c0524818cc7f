"""Schema inference rules, user overrides, apply_schema on new data, and real tables."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmenter.demo import make_demo_customers
from segmenter.errors import ColumnError, NoFeaturesError, TooFewRowsError
from segmenter.load import load_table
from segmenter.schema import ColumnInfo, Schema, apply_schema, customer_ids, infer_schema
from segmenter.schema import _is_id_name

N = 40
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def base(n: int = N) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"spend": rng.normal(100, 20, n).round(2), "visits": rng.integers(0, 30, n)})


def reason(schema: Schema, name: str) -> str:
    return schema.column(name).reason


# ----------------------------------------------------------------------------- ids
@pytest.mark.parametrize("name", ["id", "ID", "customer_id", "CustomerID", "CUST_ID", "client_no",
                                  "user_key", "Member Number", "accountCode", "customerid"])
def test_id_like_names(name):
    assert _is_id_name(name)


@pytest.mark.parametrize("name", ["age", "zip_code", "product_id_count", "customer_number_of_orders",
                                  "video", "idle_days", "customer_age"])
def test_not_id_like_names(name):
    assert not _is_id_name(name)


def test_named_id_column_is_found_and_never_a_feature():
    df = base().assign(CustomerID=[f"X{i}" for i in range(N)])
    schema = infer_schema(df)
    assert schema.id_column == "CustomerID"
    assert schema.kind_of("CustomerID") == "id"
    assert "CustomerID" not in schema.features


def test_running_index_is_an_id_unless_a_named_id_exists():
    df = base().assign(row=np.arange(1, N + 1)[::-1])
    schema = infer_schema(df)
    assert schema.id_column == "row"
    assert "counts the rows" in reason(schema, "row")
    df["customer_id"] = [f"C{i}" for i in range(N)]
    schema = infer_schema(df)
    assert schema.id_column == "customer_id"
    assert schema.kind_of("row") == "excluded"
    assert "running row number" in reason(schema, "row")


def test_unique_text_that_is_not_id_named_is_free_text():
    df = base().assign(notes=[f"called {i} times, wants a callback" for i in range(N)])
    schema = infer_schema(df)
    assert schema.id_column is None
    assert reason(schema, "notes") == "free text / unique per row"


def test_email_addresses_are_personal_data_never_the_id():
    df = base().assign(contact=[f"p{i}@mail.com" for i in range(N)])
    schema = infer_schema(df)
    assert schema.id_column is None
    assert schema.kind_of("contact") == "excluded"
    assert "personal data" in reason(schema, "contact") and "e-mail" in reason(schema, "contact")


def test_id_column_argument_is_checked():
    df = base().assign(code=[f"K{i}" for i in range(N)], region=["a", "b"] * (N // 2))
    assert infer_schema(df, id_column="code").id_column == "code"
    with pytest.raises(ColumnError, match=r"'nope'.*available columns are \['spend', 'visits', 'code', 'region'\]"):
        infer_schema(df, id_column="nope")
    with pytest.raises(ColumnError, match="'region' cannot be the ID column"):
        infer_schema(df, id_column="region")


# ----------------------------------------------------------------------------- kinds
def test_numeric_including_numbers_stored_as_text():
    df = base().assign(income=["1,234.5", "$12", "7"] * (N // 3) + ["8"] * (N % 3))
    schema = infer_schema(df)
    assert schema.numeric == ["spend", "visits", "income"]
    x = apply_schema(df, schema)
    assert x["income"].iloc[:3].tolist() == [1234.5, 12.0, 7.0]
    assert x.dtypes.eq(np.float64).all()


def test_semicolon_csv_with_decimal_commas_is_numeric(tmp_path):
    path = tmp_path / "eu.csv"
    rows = "".join(f"{i};{i},5;Köln\n" for i in range(N))
    path.write_bytes(("nr;umsatz;stadt\n" + rows).encode("cp1252"))
    df = load_table(path)
    schema = infer_schema(df)
    assert schema.kind_of("umsatz") == "numeric"
    assert apply_schema(df, schema)["umsatz"].iloc[:2].tolist() == [0.5, 1.5]


def test_month_first_dates_when_day_first_cannot_parse():
    df = base().assign(joined=["12/31/2020", "01/15/2021", "02/28/2021", "03/01/2021"] * (N // 4))
    schema = infer_schema(df)
    assert schema.column("joined").date_format == "%m/%d/%Y"
    assert apply_schema(df, schema)["joined"].iloc[3] == 0.0


@pytest.mark.parametrize("values, true_value", [
    (["Yes", "no", "no", "YES"], "yes"),
    (["y", "N", "n", "y"], "y"),
    ([1, 0, 0, 1], None),
    ([True, False, False, True], None),
])
def test_booleans(values, true_value):
    df = base().assign(flag=values * (N // 4))
    schema = infer_schema(df)
    info = schema.column("flag")
    assert info.kind == "boolean"
    assert info.true_value == true_value
    assert apply_schema(df, schema)["flag"].iloc[:4].tolist() == [1.0, 0.0, 0.0, 1.0]


def test_two_valued_numbers_are_boolean():
    df = base().assign(tier=[3, 11] * (N // 2))
    info = infer_schema(df).column("tier")
    assert info.kind == "boolean" and info.true_value == "11"


def test_categorical_with_rare_levels_folded_into_other():
    values = ["web"] * 120 + ["store"] * 70 + ["app"] * 8 + ["fax", "pigeon"]
    df = base(200).assign(channel=values)
    schema = infer_schema(df)
    info = schema.column("channel")
    assert info.kind == "categorical"
    assert info.levels == ("web", "store", "app")
    assert "'Other'" in info.reason
    out = apply_schema(df, schema)["channel"]
    assert out.dtype == object
    assert out.iloc[-2:].tolist() == ["Other", "Other"]
    assert out.iloc[0] == "web"


def test_too_many_levels_is_excluded():
    df = base(200).assign(city=[f"city{i % 50}" for i in range(200)])
    info = infer_schema(df).column("city")
    assert info.kind == "excluded"
    assert info.reason == "free text or too many distinct values (50)"


def test_dates_as_day_month_year_text_become_days_since():
    dates = ["04-09-2012", "21-08-2013", "10-01-2014", ""] * (N // 4)
    df = base().assign(joined=dates)
    schema = infer_schema(df)
    info = schema.column("joined")
    assert info.kind == "datetime"
    assert info.date_format == "%d-%m-%Y"
    assert schema.reference_date == "2014-01-10"
    assert info.missing_share == pytest.approx(0.25)
    days = apply_schema(df, schema)["joined"]
    expected = (pd.Timestamp("2014-01-10") - pd.Timestamp("2012-09-04")).days
    assert days.iloc[0] == expected
    assert days.iloc[2] == 0.0
    assert np.isnan(days.iloc[3])


def test_datetime_dtype_and_reference_is_latest_date():
    df = base().assign(a=pd.date_range("2020-01-01", periods=N, freq="D"),
                       b=pd.date_range("2021-01-01", periods=N, freq="D"))
    schema = infer_schema(df)
    assert schema.datetime == ["a", "b"]
    assert schema.reference_date == (pd.Timestamp("2021-01-01") + pd.Timedelta(days=N - 1)).date().isoformat()


def test_exclusions_with_reasons():
    df = base()
    df["const"] = 3
    df["sparse"] = [1.5, 2.5] + [np.nan] * (N - 2)
    df["empty"] = np.nan
    df["infinite"] = np.inf
    df["spend_copy"] = df["spend"]
    df["sparse_text"] = ["a"] * 6 + [None] * (N - 6)
    schema = infer_schema(df)
    assert reason(schema, "const") == "has the same value in every row"
    assert reason(schema, "sparse") == "is 95% empty"
    assert reason(schema, "sparse_text") == "is 85% empty"
    assert reason(schema, "empty") == "has no usable values"
    assert reason(schema, "infinite").startswith("has no usable values")
    assert reason(schema, "spend_copy") == "duplicates column 'spend'"
    assert schema.features == ["spend", "visits"]
    assert {e["column"] for e in schema.excluded} == {"const", "sparse", "empty", "infinite",
                                                      "spend_copy", "sparse_text"}


def test_inf_counts_as_missing():
    df = base().assign(ratio=[np.inf, 1.0, 2.0, 3.0] * (N // 4))
    schema = infer_schema(df)
    assert schema.column("ratio").missing_share == pytest.approx(0.25)
    assert np.isnan(apply_schema(df, schema)["ratio"].iloc[0])


# ----------------------------------------------------------------------------- user overrides
def test_types_override_and_forced_type_beats_exclusion():
    df = base().assign(zip=[10115, 20095, 80331, 50667] * (N // 4), const=1, empty=np.nan)
    schema = infer_schema(df, types={"zip": "categorical", "const": "numeric"})
    assert schema.column("zip").kind == "categorical"
    assert schema.column("zip").levels == ("10115", "20095", "50667", "80331")
    assert schema.kind_of("const") == "numeric"
    assert "set by you" in reason(schema, "const")
    assert infer_schema(df, types={"empty": "numeric"}).column("empty").reason == "has no usable values"
    assert apply_schema(df, schema)["zip"].iloc[0] == "10115"


def test_bad_forced_types():
    df = base().assign(label=["abc", "12", "13", "14"] * (N // 4), tier=["a", "b", "c", "d"] * (N // 4))
    with pytest.raises(ColumnError, match=r"'label' cannot be read as numbers.*'abc'"):
        infer_schema(df, types={"label": "numeric"})
    with pytest.raises(ColumnError, match=r"'tier' cannot be a yes/no column: it has 4 different values"):
        infer_schema(df, types={"tier": "boolean"})
    with pytest.raises(ColumnError, match=r"'tier' cannot be read as dates"):
        infer_schema(df, types={"tier": "datetime"})
    with pytest.raises(ColumnError, match="choose one of"):
        infer_schema(df, types={"tier": "text"})
    with pytest.raises(ColumnError, match=r"\['nope'\]"):
        infer_schema(df, types={"nope": "numeric"})


def test_forced_boolean_and_datetime_on_other_values():
    df = base().assign(sex=["F", "M", "M", "M"] * (N // 4), year=[1957, 1960, 1971, 1988] * (N // 4))
    schema = infer_schema(df, types={"sex": "boolean", "year": "datetime"})
    assert schema.column("sex").true_value == "f"  # the rarer value means yes
    assert schema.reference_date == "1988-01-01"
    out = apply_schema(df, schema)
    assert out["sex"].iloc[:2].tolist() == [1.0, 0.0]
    assert out["year"].iloc[3] == 0.0


def test_exclude_and_features():
    df = base().assign(region=["n", "s"] * (N // 2), customer_id=[f"C{i}" for i in range(N)])
    schema = infer_schema(df, exclude=["visits"])
    assert reason(schema, "visits") == "excluded by you"
    schema = infer_schema(df, features=["spend", "region"])
    assert schema.features == ["spend", "region"]
    assert reason(schema, "visits") == "not in your chosen features"
    assert schema.id_column == "customer_id"
    with pytest.raises(ColumnError, match=r"\['age', 'sex'\].*available columns are"):
        infer_schema(df, features=["spend", "age", "sex"])
    with pytest.raises(ColumnError, match=r"\['nope'\]"):
        infer_schema(df, exclude=["nope"])


# ----------------------------------------------------------------------------- table-level errors
def test_too_few_rows():
    with pytest.raises(TooFewRowsError, match="the table has 8 rows; segmentation needs at least 20"):
        infer_schema(base(8))


def test_no_features_names_the_reasons():
    df = pd.DataFrame({"customer_id": [f"C{i}" for i in range(N)], "const": 1, "empty": np.nan})
    with pytest.raises(NoFeaturesError, match=r"'const' has the same value in every row.*'empty' has no usable"):
        infer_schema(df)


# ----------------------------------------------------------------------------- round trip & apply
def test_schema_dict_round_trip_is_exact():
    df = base().assign(joined=["04-09-2012", "21-08-2013"] * (N // 2), yn=["yes", "no"] * (N // 2),
                       channel=["web", "app", "store", "web"] * (N // 4), customer_id=range(100, 100 + N))
    schema = infer_schema(df, types={"visits": "categorical"})
    data = json.loads(json.dumps(schema.to_dict()))
    again = Schema.from_dict(data)
    assert again.columns == schema.columns
    assert again.to_dict() == schema.to_dict()
    assert (again.id_column, again.reference_date) == (schema.id_column, schema.reference_date)
    assert isinstance(again.columns[0], ColumnInfo) and isinstance(again.columns[0].levels, tuple)
    pd.testing.assert_frame_equal(apply_schema(df, again), apply_schema(df, schema))


def test_apply_schema_on_new_data():
    df = base().assign(channel=["web", "app"] * (N // 2), joined=["2020-01-05", "2019-12-31"] * (N // 2),
                       customer_id=[f"C{i}" for i in range(N)])
    schema = infer_schema(df)
    new = pd.DataFrame({"extra": [1, 2, 3], "customer_id": ["N1", "N2", "N3"], "spend": ["5", None, "7"],
                        "visits": [1, 2, 3], "channel": ["web", "phone", None],
                        "joined": ["2020-01-01", "bad", None]})
    out = apply_schema(new, schema)
    assert list(out.columns) == schema.features == ["spend", "visits", "channel", "joined"]
    assert out["channel"].iloc[:2].tolist() == ["web", "Other"] and pd.isna(out["channel"].iloc[2])
    assert out["spend"].iloc[0] == 5.0 and np.isnan(out["spend"].iloc[1])
    assert out["joined"].iloc[0] == 4.0 and out["joined"].iloc[1:].isna().all()
    assert customer_ids(new, schema).tolist() == ["N1", "N2", "N3"]
    with pytest.raises(ColumnError, match=r"^This table lacks a column the segments were made from: 'visits'\. Add it"):
        apply_schema(new.drop(columns="visits"), schema)


def test_customer_ids_without_id_column_are_row_numbers():
    df = base()
    schema = infer_schema(df)
    assert schema.id_column is None
    assert customer_ids(df, schema).tolist() == list(range(N))


def test_apply_schema_is_row_wise_on_a_big_table():
    """Speed is measured in bench/; here: a stacked table gives the stacked result."""
    demo = make_demo_customers(2000).table
    schema = infer_schema(demo)
    big = pd.concat([demo] * 150, ignore_index=True)  # 300,000 rows
    out = apply_schema(big, schema)
    assert out.shape == (300_000, len(schema.features))
    expected = pd.concat([apply_schema(demo, schema)] * 150, ignore_index=True)
    pd.testing.assert_frame_equal(out, expected)


# ----------------------------------------------------------------------------- demo and real data
def test_demo_table_schema():
    schema = infer_schema(make_demo_customers(2000).table)
    assert schema.id_column == "customer_id"
    assert schema.datetime == ["signup_date"]
    assert schema.boolean == ["app_user", "loyalty_member", "newsletter_opt_in"]
    assert schema.categorical == ["gender", "region", "preferred_channel"]
    assert schema.numeric == ["age", "annual_spend", "orders_per_year", "avg_order_value", "days_since_last_order",
                              "online_share", "discount_share", "returns_per_year", "household_size"]
    assert schema.excluded == []


def shared_csvs() -> list[Path]:
    return sorted(SHARED_DATA.glob("*.csv")) if SHARED_DATA.is_dir() else []


@pytest.mark.parametrize("path", shared_csvs() or [None], ids=lambda p: p.name if p else "absent")
def test_shared_tables_load_and_infer(path):
    if path is None:
        pytest.skip(f"no shared data at {SHARED_DATA}")
    df = load_table(path)
    schema = infer_schema(df)
    assert schema.features
    out = apply_schema(df, schema)
    assert out.shape == (len(df), len(schema.features))


def test_shared_marketing_campaign_and_cc_general():
    if not (SHARED_DATA / "marketing_campaign.csv").is_file() or not (SHARED_DATA / "cc_general.csv").is_file():
        pytest.skip(f"no shared data at {SHARED_DATA}")
    mc = load_table(SHARED_DATA / "marketing_campaign.csv")
    assert mc.shape == (2240, 29)
    schema = infer_schema(mc)
    assert schema.id_column == "ID"
    assert schema.kind_of("Dt_Customer") == "datetime"
    assert reason(schema, "Z_CostContact") == "has the same value in every row"
    assert schema.kind_of("Z_Revenue") == "excluded"
    assert schema.kind_of("Income") == "numeric"
    assert schema.kind_of("Response") == "profile"  # the campaign outcome: shown per segment, not a feature
    assert "outcome" in reason(schema, "Response")
    assert set(schema.column("Marital_Status").levels) >= {"Married", "Single"}
    cc = load_table(SHARED_DATA / "cc_general.csv")
    assert infer_schema(cc).id_column == "CUST_ID"
