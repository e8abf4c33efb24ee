"""Predictions validation: every bad input gets its exact participant-safe message."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from runner.arrow import as_numpy, from_numpy, label_values, text_array, text_scalar
from runner.errors import PredictionsError
from runner.models import PredictionColumn, PredictionsSpec
from runner.predictions import first_invalid_utf8, read_predictions

PROBA = PredictionsSpec("id", (PredictionColumn("p", "probability"),))
LABELS = PredictionsSpec("id", (PredictionColumn("label", "label", ("cat", "dog")),))
NUMBERS = PredictionsSpec("id", (PredictionColumn("y", "number"),))
TRUTH_IDS = pa.array(["1", "2", "3", "4"])

BAD = {
    "empty": (
        b"",
        "the predictions file is empty; it needs the header line `id,p` and one row per test id",
    ),
    "header_only": (
        b"id,p\n",
        "the predictions file has a header but no rows; write one row per test id (4 rows)",
    ),
    "semicolons": (
        b"id;p\n1;0.5\n",
        "the file uses ';' as the delimiter; separate columns with commas: the header must be "
        "`id,p`",
    ),
    "tabs": (
        b"id\tp\n1\t0.5\n",
        "the file uses a tab as the delimiter; separate columns with commas: the header must be "
        "`id,p`",
    ),
    "no_id_column": (
        b"ID,p\n1,0.5\n",
        "the header has no id column 'id'; the header must be `id,p` (found `ID,p`)",
    ),
    "missing_column": (
        b"id,q\n1,0.5\n",
        "the header lacks column(s) 'p'; the header must be `id,p` (found `id,q`)",
    ),
    "extra_column": (
        b"id,p,q\n1,0.5,1\n",
        "the header has unexpected column(s) 'q'; the header must be `id,p`",
    ),
    "repeated_column": (
        b"id,p,p\n1,0.5,0.5\n",
        "the header repeats column(s) 'p'; the header must be `id,p`",
    ),
    "duplicated_ids": (
        b"id,p\n1,0.1\n2,0.2\n1,0.3\n3,0.1\n4,0.1\n",
        "1 id(s) appear more than once: '1' on lines 2 and 4; write each id exactly once",
    ),
    "float_ids": (
        b"id,p\n1.0,0.1\n2.0,0.2\n3.0,0.3\n4.0,0.4\n",
        "4 id(s) are not in the test set: line 2 (id '1.0'), line 3 (id '2.0'), line 4 "
        "(id '3.0') and 1 more; id '1.0' looks like the id '1' written as a decimal number; "
        "write ids exactly as in the test inputs (read them as text, not as floats)",
    ),
    "spaced_id": (
        b"id,p\n 1,0.1\n2,0.2\n3,0.3\n4,0.4\n",
        "1 id(s) are not in the test set: line 2 (id ' 1'); id ' 1' has surrounding spaces; "
        "write ids exactly as in the test inputs",
    ),
    "extra_id": (
        b"id,p\n1,0.1\n2,0.2\n3,0.3\n4,0.4\nx9,0.5\n",
        "1 id(s) are not in the test set: line 6 (id 'x9'); predict exactly the ids of the "
        "test inputs",
    ),
    "missing_ids": (
        b"id,p\n1,0.1\n2,0.2\n",
        "2 test id(s) have no prediction, e.g. '3', '4'; write one row for every test id",
    ),
    "nan_and_inf": (
        b"id,p\n1,0.1\n2,nan\n3,inf\n4,\n",
        "column 'p' has empty, NaN or infinite values at line 3 (id '2'), line 4 (id '3'), "
        "line 5 (id '4'); every row needs a finite number",
    ),
    "probability_1.2": (
        b"id,p\n1,0.1\n2,1.2\n3,0.3\n4,-0.5\n",
        "column 'p' must hold probabilities between 0 and 1: line 3 (id '2') has 1.2, "
        "line 5 (id '4') has -0.5",
    ),
    "not_a_number": (
        b"id,p\n1,0.1\n2,abc\n3,0.3\n4,1/2\n",
        "column 'p' must hold numbers: line 3 has 'abc', line 5 has '1/2'; write plain decimal "
        "numbers such as 0.25",
    ),
    "non_utf8": (
        b"id,p\n1,0.1\n2,0.2\n3,\xff0.3\n4,0.4\n",
        "the predictions file is not valid UTF-8 (line 4, byte 3); save it as UTF-8 text",
    ),
    "non_utf8_header": (
        b"id,p\xe9\n1,0.1\n",
        "the predictions file is not valid UTF-8 (line 1, byte 5); save it as UTF-8 text",
    ),
    "wrong_field_count": (
        b"id,p\n1,0.1\n2,0.2,9\n3,0.3\n4,0.4\n",
        "CSV rows with the wrong number of fields (2 expected): line 3 has 3 fields; quote "
        "values that contain commas and write one value per column",
    ),
    "ten_million_columns": (
        b"id,p" + b",x" * 10_000_000 + b"\n1,0.5\n",
        "the header line is longer than 65536 bytes (a header with millions of columns?); "
        "the header must be `id,p`",
    ),
}


def _write(tmp_path: Path, data: bytes, name: str = "predictions.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_predictions_get_their_message(tmp_path: Path, case: str) -> None:
    data, message = BAD[case]
    with pytest.raises(PredictionsError) as caught:
        read_predictions(_write(tmp_path, data), PROBA, TRUTH_IDS)
    assert caught.value.message == message
    assert caught.value.path == "predictions.csv"


def test_labels_outside_the_class_set(tmp_path: Path) -> None:
    path = _write(tmp_path, b"id,label\n1,cat\n2,bird\n3,dog\n4,\n")
    with pytest.raises(PredictionsError) as caught:
        read_predictions(path, LABELS, TRUTH_IDS)
    assert caught.value.message == (
        "column 'label' has labels outside 'cat', 'dog': line 3 (id '2'), line 5 (id '4'); "
        "use only those labels"
    )


def test_a_2_gb_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    subprocess.run(["truncate", "-s", "2G", str(path)], check=True)  # sparse: no disk used
    with pytest.raises(PredictionsError) as caught:
        read_predictions(path, PROBA, TRUTH_IDS)
    assert caught.value.message == (
        "the predictions file is 2.0 GB, over the limit of 1.0 GB; write only the columns "
        "`id,p`, one row per test id"
    )


def test_row_and_byte_caps(tmp_path: Path) -> None:
    path = _write(tmp_path, b"id,p\n1,0.1\n2,0.2\n3,0.3\n4,0.4\n")
    with pytest.raises(PredictionsError) as caught:
        read_predictions(path, PROBA, max_rows=3)
    assert caught.value.message == "the predictions file has 4 rows, over the limit of 3"
    with pytest.raises(PredictionsError) as caught:
        read_predictions(path, PROBA, max_bytes=20)
    assert caught.value.message == (
        "the predictions file is 29 bytes, over the limit of 20 bytes; write only the columns "
        "`id,p`, one row per test id"
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PredictionsError) as caught:
        read_predictions(tmp_path / "nope.csv", PROBA)
    assert caught.value.message == "the predictions file does not exist or cannot be read"


def test_rows_come_back_in_truth_order(tmp_path: Path) -> None:
    path = _write(tmp_path, b"id,p\n4,0.4\n2,0.2\n3,0.3\n1,0.1\n")
    predictions = read_predictions(path, PROBA, TRUTH_IDS)
    assert predictions.ids.to_pylist() == ["1", "2", "3", "4"]
    assert predictions.columns["p"].tolist() == [0.1, 0.2, 0.3, 0.4]
    assert predictions.columns["p"].dtype == np.float64
    assert len(predictions) == 4


def test_bom_crlf_and_column_order_are_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path, b"\xef\xbb\xbfp,id\r\n0.1,1\r\n0.2,2\r\n0.3,3\r\n0.4,4\r\n")
    predictions = read_predictions(path, PROBA, TRUTH_IDS)
    assert list(predictions.columns) == ["p"]
    assert predictions.columns["p"].tolist() == [0.1, 0.2, 0.3, 0.4]
    assert list(predictions.to_pandas().columns) == ["id", "p"]


def test_without_truth_rows_keep_file_order_and_duplicates_still_fail(tmp_path: Path) -> None:
    predictions = read_predictions(_write(tmp_path, b"id,y\nb,2.5\na,-1\n"), NUMBERS)
    assert predictions.to_pandas().to_dict("list") == {"id": ["b", "a"], "y": [2.5, -1.0]}
    with pytest.raises(PredictionsError) as caught:
        read_predictions(_write(tmp_path, b"id,y\nb,2.5\na,-1\nb,3\nb,4\nb,5\n"), NUMBERS)
    assert caught.value.message == (
        "1 id(s) appear more than once: 'b' on lines 2 and 4 and 5 ...; write each id exactly once"
    )


def test_quoted_labels_with_commas_parse(tmp_path: Path) -> None:
    spec = PredictionsSpec("id", (PredictionColumn("label", "label"),))
    predictions = read_predictions(_write(tmp_path, b'id,label\n1,"a, b"\n2,c\n'), spec)
    assert predictions.columns["label"].tolist() == ["a, b", "c"]


def test_many_offending_rows_are_summarised(tmp_path: Path) -> None:
    rows = "".join(f"{i},{'nan' if i % 2 else 0.5}\n" for i in range(1, 101))
    ids = [str(i) for i in range(1, 101)]  # a plain sequence of ids works too
    with pytest.raises(PredictionsError) as caught:
        read_predictions(_write(tmp_path, ("id,p\n" + rows).encode()), PROBA, ids)
    assert caught.value.message == (
        "column 'p' has empty, NaN or infinite values at line 2 (id '1'), line 4 (id '3'), "
        "line 6 (id '5') and 47 more; every row needs a finite number"
    )


def test_shuffled_labels_come_back_in_truth_order_and_as_a_pandas_frame(tmp_path: Path) -> None:
    path = _write(tmp_path, b"id,label\n3,dog\n1,cat\n4,cat\n2,dog\n")
    predictions = read_predictions(path, LABELS, TRUTH_IDS)
    assert predictions.ids.to_pylist() == ["1", "2", "3", "4"]
    assert predictions.columns["label"].tolist() == ["cat", "dog", "dog", "cat"]
    frame = predictions.to_pandas()  # what a challenge's own scoring.py receives
    assert frame.to_dict("list") == {
        "id": ["1", "2", "3", "4"],
        "label": ["cat", "dog", "dog", "cat"],
    }
    assert [str(dtype) for dtype in frame.dtypes] == ["str", "str"]


def test_invalid_utf8_found_across_chunk_boundaries(tmp_path: Path) -> None:
    body = b"id,p\n" + b"".join(b"%d,0.5\n" % i for i in range(1_000_000))
    path = _write(tmp_path, body + "7,é\n".encode() + b"8,\xc3\n")
    assert first_invalid_utf8(path) == (1_000_003, 3)


def test_arrow_numpy_helpers_match_pyarrow_on_slices_nulls_and_chunks() -> None:
    numbers = pa.array([1.5, None, -2.0, 4.0, None]).slice(1)  # offset 1 into the buffers
    assert as_numpy(numbers, fill=np.nan).tolist()[1:3] == [-2.0, 4.0]
    assert np.isnan(as_numpy(numbers, fill=np.nan)[[0, 3]]).all()
    flags = pa.array([True, None, False, True, True, False, None, True, False, True]).slice(3)
    assert as_numpy(flags).tolist() == [True, True, False, False, True, False, True]
    assert as_numpy(flags).dtype == bool
    chunked = pa.chunked_array([pa.array([1, 2], pa.int8()), pa.array([3], pa.int8())])
    assert as_numpy(chunked).tolist() == [1, 2, 3] and as_numpy(chunked).dtype == np.int8
    assert as_numpy(pa.array([], pa.int64())).tolist() == []
    rows = np.arange(10, dtype=np.int64)[::3]  # not contiguous
    assert from_numpy(rows).equals(pa.array([0, 3, 6, 9], pa.int64()))
    with pytest.raises(TypeError):
        from_numpy(np.array([True, False]))
    assert text_array(["", "é", "a, b"]).equals(pa.array(["", "é", "a, b"]))
    assert text_scalar("x").equals(pa.scalar("x"))
    labels = label_values(pa.chunked_array([["b", "a"], ["b", ""]]))
    assert labels.tolist() == ["b", "a", "b", ""] and labels.dtype == object


# --- the truth's id index (hash join) ------------------------------------------------------------


def _index_ids() -> list[str]:
    ids = ["", "a", "a\0", "x" * 7, "y" * 8, "z" * 9, "1", "01", "1.0", "q" * 32, "é", "naïve"]
    return ids + [f"row-{i}" for i in range(500)]


def test_the_id_index_locates_a_shuffled_permutation_exactly() -> None:
    from runner.predictions import IdIndex

    ids = _index_ids()
    index = IdIndex.build(text_array(ids))
    order = np.random.default_rng(1).permutation(len(ids))
    located = index.locate(text_array([ids[i] for i in order]))
    assert located.tolist() == order.tolist()


@pytest.mark.parametrize(
    "change",
    [
        lambda ids: [*ids[:-1], "row-9999"],  # an unknown id
        lambda ids: [*ids[:-1], ids[0]],  # a repeated id, one missing
        lambda ids: ids[:-1],  # one missing
        lambda ids: [*ids[:-1], "a" * 33],  # too long for the index: the exact path decides
        lambda ids: [*ids[:-1], "naive"],  # not the same bytes
    ],
)
def test_the_id_index_gives_up_on_anything_but_a_permutation(change) -> None:
    from runner.predictions import IdIndex

    ids = _index_ids()
    assert IdIndex.build(text_array(ids)).locate(text_array(change(ids))) is None


def test_truth_ids_the_index_cannot_hold_take_the_exact_path(tmp_path: Path) -> None:
    from runner.predictions import IdIndex

    assert IdIndex.build(text_array(["1", "x" * 33])) is None
    assert IdIndex.build(text_array(["1", "x" * 32])) is not None


def test_colliding_hashes_still_match_ids_by_their_bytes(tmp_path: Path, monkeypatch) -> None:
    from runner.predictions import IdIndex, index

    truth = text_array(["1", "2", "3", "4", "1\0"])
    monkeypatch.setattr(index, "_hash", lambda words, lengths: np.zeros(len(lengths), np.uint64))
    built = IdIndex.build(truth)  # every id in one probe chain
    assert built.locate(text_array(["2", "1\0", "1", "4", "3"])).tolist() == [1, 4, 0, 3, 2]
    assert built.locate(text_array(["2", "1\0", "1", "4", "5"])) is None
    path = _write(tmp_path, b"id,p\n2,0.2\n1,0.1\n4,0.4\n5,0.3\n1\0,0.5\n")
    with pytest.raises(PredictionsError) as caught:
        read_predictions(path, PROBA, built)
    assert caught.value.message == (
        "1 id(s) are not in the test set: line 5 (id '5'); predict exactly the ids of the test "
        "inputs"
    )
