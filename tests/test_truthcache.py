"""The truth prepared once per hidden data and challenge (issue 10): same scores, read once."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from runner.errors import DataError
from runner.models import MetricSpec, PredictionColumn, SplitSpec
from runner.scoring import read_truth, score_predictions
from runner.truthcache import prepared_truth
from tests.test_scoring import _binary_case, _challenge

PROBA = (PredictionColumn("malignant", "probability"),)
METRICS = [MetricSpec("roc_auc"), MetricSpec("log_loss"), MetricSpec("accuracy")]


def test_prepared_truth_scores_exactly_like_the_csv_and_is_read_once(tmp_path: Path) -> None:
    _binary_case(tmp_path, n=3000)
    challenge = _challenge(tmp_path, PROBA, METRICS)
    expected = score_predictions(challenge, read_truth(tmp_path / "truth.csv", challenge),
                                 tmp_path / "pred.csv")  # fmt: skip
    folder = tmp_path / "prepared"
    first = prepared_truth(tmp_path / "truth.csv", challenge, folder)
    assert first.index is not None  # the shuffled file goes through the hash join
    assert score_predictions(challenge, first, tmp_path / "pred.csv") == expected
    (tmp_path / "truth.csv").write_text("id,malignant,split\nnot,read,again\n")
    again = prepared_truth(tmp_path / "truth.csv", challenge, folder)
    assert score_predictions(challenge, again, tmp_path / "pred.csv") == expected
    assert again.table.equals(first.table)
    assert [p.name for p in folder.iterdir()] == [p.name for p in folder.iterdir() if p.is_dir()]


def test_a_changed_split_rule_prepares_its_own_truth(tmp_path: Path) -> None:
    _binary_case(tmp_path, n=300)
    by_column = _challenge(tmp_path, PROBA, METRICS)
    by_fraction = replace(by_column, split=SplitSpec(column=None, public_fraction=0.5, seed=3))
    folder = tmp_path / "prepared"
    column_masks = prepared_truth(tmp_path / "truth.csv", by_column, folder).masks
    fraction_masks = prepared_truth(tmp_path / "truth.csv", by_fraction, folder).masks
    assert len(list(folder.iterdir())) == 2
    assert int(column_masks["public"].sum()) == 100
    assert int(fraction_masks["public"].sum()) == 150


def test_a_damaged_prepared_truth_is_prepared_again(tmp_path: Path) -> None:
    _binary_case(tmp_path, n=300)
    challenge = _challenge(tmp_path, PROBA, METRICS)
    folder = tmp_path / "prepared"
    prepared_truth(tmp_path / "truth.csv", challenge, folder)
    (entry,) = folder.iterdir()
    (entry / "truth.arrow").write_bytes(b"not arrow")
    truth = prepared_truth(tmp_path / "truth.csv", challenge, folder)
    assert truth.table.equals(read_truth(tmp_path / "truth.csv", challenge).table)
    assert (entry / "truth.arrow").read_bytes() != b"not arrow"


def test_bad_truth_is_still_the_maintainers_error_and_nothing_is_kept(tmp_path: Path) -> None:
    (tmp_path / "truth.csv").write_text("id,malignant,split\na,1,public\na,0,private\n")
    challenge = _challenge(tmp_path, PROBA, METRICS)
    with pytest.raises(DataError, match="repeats 1 id"):
        prepared_truth(tmp_path / "truth.csv", challenge, tmp_path / "prepared")
    assert not (tmp_path / "prepared").exists()


def test_without_a_folder_the_truth_is_read_each_time(tmp_path: Path) -> None:
    _binary_case(tmp_path, n=300)
    challenge = _challenge(tmp_path, PROBA, METRICS)
    truth = prepared_truth(tmp_path / "truth.csv", challenge, None)
    assert truth.index is None  # one use: pyarrow's index_in is cheaper than building
    assert np.array_equal(truth.masks["public"], np.arange(300) % 3 == 0)


def test_an_evaluation_prepares_the_truth_in_the_cache_entry_once(tmp_path: Path) -> None:
    from tests.test_evaluation import REPO, run

    root = tmp_path / "repo"
    for part in ("challenges", "submissions"):
        shutil.copytree(REPO / part, root / part)
    shutil.copy(REPO / "teams.yaml", root / "teams.yaml")
    first = run(root, "breast-cancer", "mona", "mean-radius").result
    (prepared,) = (root / ".cache").glob("*/prepared/*/truth.arrow")
    stamp = os.stat(prepared).st_mtime_ns
    again = run(root, "breast-cancer", "mona", "mean-radius", force=True).result
    assert os.stat(prepared).st_mtime_ns == stamp  # loaded, not written again
    assert (first.status, again.scores) == ("scored", first.scores)
    assert not list((root / ".cache").glob("*/inputs/**/prepared"))  # never under /input


def test_a_directory_of_hidden_data_gets_its_truth_prepared_once_per_content(
    tmp_path: Path,
) -> None:
    """Like an archive's: the second scoring loads the prepared truth; an edited truth.csv
    (a new content fingerprint) is prepared again and scores differently."""
    from runner.data import open_hidden
    from runner.loader import load_repo
    from tests.test_evaluation import REPO, run

    root = tmp_path / "repo"
    for part in ("challenges", "submissions"):
        shutil.copytree(REPO / part, root / part)
    shutil.copy(REPO / "teams.yaml", root / "teams.yaml")
    unpacked = open_hidden(load_repo(root).challenges["breast-cancer"], cache_dir=tmp_path / "c")
    plain = tmp_path / "plain"
    shutil.copytree(unpacked.inputs, plain / "inputs")
    shutil.copy(unpacked.truth, plain / "truth.csv")

    def evaluate() -> object:
        return run(root, "breast-cancer", "mona", "mean-radius", data_dir=plain, force=True)

    first = evaluate().result
    (prepared,) = (root / ".cache" / "directories").glob("*/prepared/*/truth.arrow")
    stamp = os.stat(prepared).st_mtime_ns
    again = evaluate().result
    assert os.stat(prepared).st_mtime_ns == stamp  # loaded, not prepared again
    assert (first.status, again.scores) == ("scored", first.scores)
    assert again.provenance.data_sha256 == first.provenance.data_sha256

    header, *rows = (plain / "truth.csv").read_text().splitlines()
    assert header.split(",")[1] == "malignant"
    flipped = []
    for row in rows:
        cells = row.split(",")
        cells[1] = "1" if cells[1] == "0" else "0"
        flipped.append(",".join(cells))
    (plain / "truth.csv").write_text("\n".join([header, *flipped]) + "\n")
    changed = evaluate().result
    assert changed.provenance.data_sha256 != first.provenance.data_sha256
    assert len(list((root / ".cache" / "directories").glob("*/prepared/*/truth.arrow"))) == 2
    assert changed.scores["public"]["roc_auc"].value == pytest.approx(
        1 - first.scores["public"]["roc_auc"].value
    )
