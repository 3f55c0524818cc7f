"""New customers checked row by row: bad rows reported in plain words, good rows assigned."""
from __future__ import annotations

import pandas as pd
import pytest

from segmenter.demo import make_demo_customers


@pytest.fixture(scope="module")
def fitted():
    from segmenter.model import CustomerSegmenter

    table = make_demo_customers(1500, seed=0).table
    return CustomerSegmenter(algorithm="kmeans", k=4, seed=0, stability_runs=0, compare=False).fit(table)


def new_customers(n: int = 40) -> pd.DataFrame:
    return make_demo_customers(n, seed=4, first_id=500000).table.astype(object)


def test_bad_rows_are_reported_and_the_good_rows_assigned(fitted):
    from explainers.analysis import assign_checked

    table = new_customers()
    bad = {1: ("age", "abc", "'abc' is not a number"),
           3: ("annual_spend", "-5", "'-5' is below zero, but annual_spend had no values below zero"),
           5: ("avg_order_value", "1e308", "'1e308' is far too large to be a customer's value"),
           7: ("region", "Mars", "'Mars' was not seen in region when the segments were made (known: "),
           9: ("online_share", "90", "'90' is above 1, but online_share is a share written from 0 to 1 "
                                     "(write 0.9 or 90%)"),
           11: ("app_user", "maybe", "'maybe' is not yes or no")}
    for row, (column, value, _) in bad.items():
        table.loc[row, column] = value
    result, check = assign_checked(fitted, table, fitted.report_)
    assert check.n_rows == 40 and check.n_refused == len(bad) == len(check.problems)
    assert len(result) == 40 - len(bad)
    ids = table["customer_id"].astype(str)
    assert result["customer_id"].tolist() == [ids[i] for i in range(40) if i not in bad]
    for problem in check.problems:
        column, _, words = bad[problem.row]
        assert problem.column == column and problem.problem.startswith(words), problem
        assert problem.customer == f"row {problem.row + 1} ({ids[problem.row]})"
    summary = check.summary()
    assert summary.startswith("6 of 40 customers were not assigned: row 2 (") and "[" not in summary


def test_a_percent_on_a_0_1_share_is_read_as_a_share(fitted):
    from explainers.analysis import assign_checked

    table = new_customers(10)
    as_share = table.copy()
    as_share.loc[:, "online_share"] = ["0.9"] * 10
    table.loc[:, "online_share"] = ["90%"] * 10
    with_percent, check = assign_checked(fitted, table, fitted.report_)
    assert not check.problems
    assert with_percent["segment"].tolist() == assign_checked(fitted, as_share, fitted.report_)[0]["segment"].tolist()
    assert check.table["online_share"].tolist() == [0.9] * 10


def test_clean_new_customers_pass_and_a_table_of_only_bad_rows_says_why(fitted):
    from explainers.analysis import assign_checked
    from segmenter.errors import ColumnError, DataError

    clean = make_demo_customers(500, seed=1, first_id=200000).table
    result, check = assign_checked(fitted, clean, fitted.report_)
    assert not check.problems and len(result) == 500
    one = new_customers(1)
    one.loc[0, "age"] = "abc"
    with pytest.raises(DataError, match=r"^The customer was not assigned: row 1 \(.*\), age: 'abc' is not a number"):
        assign_checked(fitted, one, fitted.report_)
    with pytest.raises(ColumnError) as caught:
        assign_checked(fitted, clean.drop(columns=["age", "region"]), fitted.report_)
    assert str(caught.value) == ("This table lacks columns the segments were made from: 'age', 'region'. "
                                 "Add them with the same names and try again.")
