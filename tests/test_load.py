"""Loading CSV/TSV, Parquet and Excel tables, and every way a file can be wrong."""
from __future__ import annotations

import gzip
import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from segmenter.errors import (
    DataError, DuplicateColumnsError, EmptyFileError, EncodingError, FileFormatError, TooLargeError,
)
from segmenter.load import LoadLimits, load_table


def small_table(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [f"C{i}" for i in range(n)],
        "age": [20 + i for i in range(n)],
        "spend": [10.5 * i for i in range(n)],
        "city": ["New York", "Zürich", "Paris"] * (n // 3) + ["Rome"] * (n % 3),
    })


@pytest.mark.parametrize("sep", [",", ";", "|", "\t"])
def test_csv_each_delimiter(tmp_path, sep):
    expected = small_table()
    path = tmp_path / "customers.csv"
    path.write_text(expected.to_csv(index=False, sep=sep), encoding="utf-8")
    df = load_table(path)
    assert list(df.columns) == ["customer_id", "age", "spend", "city"]
    assert df["city"].tolist() == expected["city"].tolist()
    assert df["spend"].tolist() == expected["spend"].tolist()


def test_tsv_and_txt_extensions(tmp_path):
    text = small_table().to_csv(index=False, sep="\t")
    (tmp_path / "a.tsv").write_text(text, encoding="utf-8")
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    assert load_table(tmp_path / "a.tsv").shape == (6, 4)
    assert load_table(str(tmp_path / "a.txt")).shape == (6, 4)


def test_utf8_bom_is_removed_from_first_column(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("name,city\nAnna,Zürich\nBen,Köln\n".encode("utf-8-sig"))
    df = load_table(path)
    assert list(df.columns) == ["name", "city"]
    assert df["city"].tolist() == ["Zürich", "Köln"]


def test_latin1_bytes_are_decoded(tmp_path):
    path = tmp_path / "latin.csv"
    data = "name;city\nAnna;Zürich\nBen;Málaga\n".encode("latin-1")
    path.write_bytes(data)
    df = load_table(path)
    assert df["city"].tolist() == ["Zürich", "Málaga"]
    assert load_table(data, filename="latin.csv")["city"].tolist() == ["Zürich", "Málaga"]


def test_windows_1252_euro_sign(tmp_path):
    path = tmp_path / "cp.csv"
    path.write_bytes("item,price\nmug,5 €\ncup,3 €\n".encode("cp1252"))
    assert load_table(path)["price"].tolist() == ["5 €", "3 €"]


def test_undecodable_text_raises_encoding_error(tmp_path):
    path = tmp_path / "weird.csv"
    path.write_bytes(b"name,city\n" + b"x," + b"\x81\x8d\x8f\x90\x9d" * 20 + b"\n")
    with pytest.raises(EncodingError, match="CSV UTF-8"):
        load_table(path)


def test_quoted_fields_with_delimiters_and_newlines(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_text('id,note,score\n1,"likes red, blue",3\n2,"line one\nline two",4\n3,plain,5\n',
                    encoding="utf-8")
    df = load_table(path)
    assert df.shape == (3, 3)
    assert df["note"].tolist() == ["likes red, blue", "line one\nline two", "plain"]
    assert df["score"].tolist() == [3, 4, 5]


def test_column_names_are_stripped_and_blank_rows_dropped(tmp_path):
    path = tmp_path / "spaces.csv"
    path.write_text(" id , age \n1,30\n,\n2,40\n", encoding="utf-8")
    df = load_table(path)
    assert list(df.columns) == ["id", "age"]
    assert df["age"].tolist() == [30, 40]


def test_excel_sep_hint_line(tmp_path):
    path = tmp_path / "hint.csv"
    path.write_text("sep=;\na;b\n1,5;2\n3,5;4\n", encoding="utf-8")
    df = load_table(path)
    assert list(df.columns) == ["a", "b"]
    assert df["a"].tolist() == ["1,5", "3,5"]


@pytest.mark.parametrize("name", ["t.parquet", "t.pq"])
def test_parquet_round_trip(tmp_path, name):
    expected = small_table()
    expected["joined"] = pd.to_datetime(["2020-01-0%d" % (i + 1) for i in range(6)])
    expected["member"] = [True, False] * 3
    path = tmp_path / name
    expected.to_parquet(path)
    df = load_table(path)
    assert list(df.columns) == list(expected.columns)
    assert df["city"].tolist() == expected["city"].tolist()
    assert df["member"].tolist() == expected["member"].tolist()
    assert pd.api.types.is_datetime64_any_dtype(df["joined"])
    assert load_table(path.read_bytes()).shape == expected.shape  # recognised from its first bytes


def test_xlsx_round_trip(tmp_path):
    expected = small_table()
    expected["joined"] = pd.to_datetime(["2020-01-0%d" % (i + 1) for i in range(6)])
    path = tmp_path / "t.xlsx"
    expected.to_excel(path, index=False)
    df = load_table(path)
    assert list(df.columns) == list(expected.columns)
    assert df["customer_id"].tolist() == expected["customer_id"].tolist()
    assert df["spend"].tolist() == expected["spend"].tolist()
    assert df["city"].tolist() == expected["city"].tolist()
    assert pd.api.types.is_datetime64_any_dtype(df["joined"])
    assert load_table(path.read_bytes(), filename="upload.xlsx").shape == expected.shape


def test_dataframe_passes_through_without_copy():
    df = small_table()
    assert load_table(df) is df


def test_dataframe_checks_still_apply():
    with pytest.raises(EmptyFileError, match="no rows"):
        load_table(small_table().iloc[:0])
    dup = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(DuplicateColumnsError, match="'a'"):
        load_table(dup)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(EmptyFileError, match="the file is empty"):
        load_table(path)
    path.write_bytes(b"\n \n")
    with pytest.raises(EmptyFileError, match="the file is empty"):
        load_table(path)


def test_header_only(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("id,age,city\n", encoding="utf-8")
    with pytest.raises(EmptyFileError, match="has column names but no rows"):
        load_table(path)


def test_binary_garbage_named_csv(tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(b"zz" + np.random.default_rng(0).bytes(5000))
    with pytest.raises(FileFormatError, match="does not look like a text table"):
        load_table(path)


PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)


@pytest.mark.parametrize("name, head, kind", [
    ("screenshot.png", PNG_BYTES, "PNG"), ("table.csv", PNG_BYTES, "PNG"), ("table.xlsx", PNG_BYTES, "PNG"),
    ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(100), "JPEG"),
    ("anim.gif", b"GIF89a" + bytes(100), "GIF"),
    ("pic.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(100), "WebP"),
], ids=["png", "png-named-csv", "png-named-xlsx", "jpeg", "gif", "webp"])
def test_an_image_is_named_as_an_image_whatever_its_name(tmp_path, name, head, kind):
    path = tmp_path / name
    path.write_bytes(head)
    with pytest.raises(FileFormatError) as caught:
        load_table(path)
    assert str(caught.value) == (f"This file looks like an image ({kind}), not a table: upload CSV, "
                                 "Parquet or Excel")


def test_a_csv_whose_header_starts_like_a_bitmap_is_still_a_csv(tmp_path):
    path = tmp_path / "bmi.csv"
    path.write_text("BMI,age\n21.5,30\n25.1,41\n", encoding="utf-8")
    assert list(load_table(path).columns) == ["BMI", "age"]


def test_xlsx_that_is_csv_text(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text(small_table().to_csv(index=False), encoding="utf-8")
    with pytest.raises(FileFormatError, match=r"'fake.xlsx' is not an Excel file: .*text"):
        load_table(path)


def test_zip_that_is_not_a_workbook(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("readme.txt", "hello")
    path = tmp_path / "fake.xlsx"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(FileFormatError, match="not an Excel workbook"):
        load_table(path)


def test_csv_that_is_parquet(tmp_path):
    path = tmp_path / "really_parquet.csv"
    small_table().to_parquet(path)
    with pytest.raises(FileFormatError, match="Parquet"):
        load_table(path)


def test_parquet_that_is_text_and_truncated_parquet(tmp_path):
    path = tmp_path / "t.parquet"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="is not a Parquet file"):
        load_table(path)
    small_table().to_parquet(path)
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(FileFormatError, match="could not be read as a Parquet table"):
        load_table(path)


def test_duplicate_column_names(tmp_path):
    path = tmp_path / "dups.csv"
    path.write_text("id,spend,spend,age, age\n1,2,3,4,5\n", encoding="utf-8")
    with pytest.raises(DuplicateColumnsError, match=r"'spend' \(2 times\).*'age' \(2 times\)"):
        load_table(path)
    xlsx = tmp_path / "dups.xlsx"
    pd.DataFrame([[1, 2, 3]], columns=["id", "x", "x "]).to_excel(xlsx, index=False)
    with pytest.raises(DuplicateColumnsError, match="'x'"):
        load_table(xlsx)
    wide = tmp_path / "wide.csv"  # a header longer than the 64 KB sniffing sample is checked whole
    names = [f"c{i}" for i in range(20_000)]
    wide.write_text(",".join(names) + "\n" + "\n".join(",".join(["1"] * len(names)) for _ in range(3)) + "\n")
    assert load_table(wide, limits=LoadLimits(max_columns=20_000)).shape == (3, 20_000)
    wide.write_text(",".join(names + ["c7"]) + "\n" + ",".join(["1"] * (len(names) + 1)) + "\n")
    with pytest.raises(DuplicateColumnsError, match=r"'c7' \(2 times\)"):
        load_table(wide, limits=LoadLimits(max_columns=20_001))


def test_over_max_bytes(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text(small_table(300).to_csv(index=False), encoding="utf-8")
    with pytest.raises(TooLargeError, match=r"is [0-9.]+ KB; the limit is 1,000 bytes"):
        load_table(path, limits=LoadLimits(max_bytes=1000))
    with pytest.raises(TooLargeError):
        load_table(path.read_bytes(), filename="big.csv", limits=LoadLimits(max_bytes=1000))


def test_over_max_rows_csv(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(small_table(30).to_csv(index=False), encoding="utf-8")
    with pytest.raises(TooLargeError, match=r"has about 30 rows; the limit is 10 — take a sample"):
        load_table(path, limits=LoadLimits(max_rows=10))
    assert len(load_table(path, limits=LoadLimits(max_rows=30))) == 30


def test_over_max_rows_parquet_and_xlsx(tmp_path):
    parquet = tmp_path / "rows.parquet"
    small_table(3000).to_parquet(parquet)
    with pytest.raises(TooLargeError, match=r"has 3,000 rows; the limit is 1,000"):
        load_table(parquet, limits=LoadLimits(max_rows=1000))
    xlsx = tmp_path / "rows.xlsx"
    small_table(30).to_excel(xlsx, index=False)
    with pytest.raises(TooLargeError, match="the limit is 10"):
        load_table(xlsx, limits=LoadLimits(max_rows=10))


def test_parquet_and_xlsx_bombs_are_refused_before_they_fill_memory(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    bomb = pa.table({"customer_id": [f"C{i}" for i in range(40)], "notes": ["a" * 2_000_000] * 40})
    parquet = tmp_path / "bomb.parquet"
    pq.write_table(bomb, parquet, compression="zstd")
    assert parquet.stat().st_size < 100_000  # ~80 MB of text in a few KB
    with pytest.raises(TooLargeError, match=r"once unpacked; the limit is 10.0 MB"):
        load_table(parquet, limits=LoadLimits(max_unpacked_bytes=10 * 2**20))
    xlsx = tmp_path / "bomb.xlsx"
    pd.DataFrame({"customer_id": [f"C{i}" for i in range(200)],  # Excel caps a cell at 32,767 characters
                  "notes": ["b" * 32_000 + str(i) for i in range(200)]}).to_excel(xlsx, index=False)
    assert xlsx.stat().st_size < 100_000
    with pytest.raises(TooLargeError, match=r"once unpacked; the limit is 1.0 MB"):
        load_table(xlsx, limits=LoadLimits(max_unpacked_bytes=2**20))
    # one 256 KB value on 100,000 rows: 250 KB on disk and in its dictionary, 24 GB decoded
    notes = pa.DictionaryArray.from_arrays(pa.array(np.zeros(100_000, dtype=np.int32)), pa.array(["x" * 2**18]))
    repeated = tmp_path / "repeated.parquet"
    pq.write_table(pa.table({"customer_id": [f"C{i}" for i in range(100_000)], "notes": notes}),
                   repeated, compression="zstd", store_schema=False)
    assert str(pq.ParquetFile(repeated).schema_arrow.field("notes").type) == "string"  # plain text to a reader
    with pytest.raises(TooLargeError, match=r"once unpacked; the limit is 512.0 MB"):
        load_table(repeated, limits=LoadLimits(max_unpacked_bytes=512 * 2**20))
    assert pa.default_memory_pool().max_memory() < 2**30  # refused before any batch was decoded
    ok = tmp_path / "ok.parquet"  # ordinary tables are untouched by the check
    small_table(3000).to_parquet(ok)
    pd.testing.assert_frame_equal(load_table(ok, limits=LoadLimits(max_unpacked_bytes=2**20)),
                                  load_table(ok))


def test_compressed_names_are_rejected(tmp_path):
    path = tmp_path / "customers.csv.gz"
    path.write_bytes(gzip.compress(small_table().to_csv(index=False).encode()))
    with pytest.raises(FileFormatError, match="unzip it first"):
        load_table(path)
    gz_named_csv = tmp_path / "customers.csv"
    gz_named_csv.write_bytes(path.read_bytes())
    with pytest.raises(FileFormatError, match="compressed"):
        load_table(gz_named_csv)


def test_ragged_row_gives_line_number(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3,4,5\n6,7\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="line 3 has 3 values but the header has 2 columns"):
        load_table(path)


def test_missing_file_and_unknown_extension(tmp_path):
    with pytest.raises(FileFormatError, match="was not found"):
        load_table(tmp_path / "nope.csv")
    path = tmp_path / "t.json"
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(FileFormatError, match="unsupported file type"):
        load_table(path)


def test_loading_never_writes_files(tmp_path):
    for name, writer in (("a.csv", lambda p: small_table().to_csv(p, index=False)),
                         ("a.parquet", lambda p: small_table().to_parquet(p)),
                         ("a.xlsx", lambda p: small_table().to_excel(p, index=False))):
        writer(tmp_path / name)
    before = sorted(p.name for p in tmp_path.iterdir())
    for name in before:
        load_table(tmp_path / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("payload", [b"\x00\x01\x02" * 50, b"PAR1" + b"\x00" * 50, b"PK\x03\x04broken"])
def test_bad_bytes_without_a_name_raise_data_errors(payload):
    with pytest.raises(DataError):
        load_table(payload)
