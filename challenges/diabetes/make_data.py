"""Regenerate the diabetes example from the data bundled in scikit-learn (fixed seed).

``python challenges/diabetes/make_data.py``. Like the breast-cancer example: public files and
submissions are reproducible, the encrypted archive is fresh each time and its sha256 in
challenge.yaml is updated. The public/private split is a seeded fraction (challenge.yaml
``split.public_fraction``), so truth.csv has no split column.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor

SEED = 20261123
HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SUBMISSIONS = REPO / "submissions" / "diabetes"
sys.path.insert(0, str(REPO))

from runner.data import ensure_demo_key, pack  # noqa: E402


def write_csv(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, float_format="%.6g", lineterminator="\n")


def main() -> None:
    recipient = ensure_demo_key(HERE / "demo-key.txt")
    data = load_diabetes(as_frame=True, scaled=False)
    df = data.data.copy()
    features = list(df.columns)
    df.insert(0, "id", [f"db-{i:03d}" for i in range(len(df))])
    df["progression"] = data.target
    order = np.random.default_rng(SEED).permutation(len(df))
    train, test = df.iloc[np.sort(order[:300])], df.iloc[np.sort(order[300:])]

    public = HERE / "public"
    write_csv(train, public / "train.csv")
    write_csv(test[["id", *features]], public / "test.csv")
    write_csv(
        test[["id"]].assign(progression=float(train["progression"].mean())),
        public / "sample_submission.csv",
    )
    write_csv(train.head(20)[["id", *features]], public / "sample-inputs" / "test.csv")

    ridge = Ridge(alpha=1.0).fit(train[features], train["progression"])
    write_csv(
        test[["id"]].assign(progression=ridge.predict(test[features])),
        SUBMISSIONS / "octocat" / "ridge.csv",
    )
    knn = KNeighborsRegressor(n_neighbors=15).fit(train[features], train["progression"])
    write_csv(
        test[["id"]].assign(progression=knn.predict(test[features])),
        SUBMISSIONS / "ml-lab" / "knn.csv",
    )
    write_csv(
        test[["id"]].assign(progression=float(train["progression"].mean())),
        SUBMISSIONS / "demo-maintainer" / "mean.csv",
    )

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_csv(test[["id", *features]], folder / "inputs" / "test.csv")
        write_csv(test[["id", "progression"]], folder / "truth.csv")
        sha = pack(folder, [recipient], HERE / "hidden.tar.age")
    path = HERE / "challenge.yaml"
    path.write_text(re.sub(r"sha256: [0-9a-f]{64}", f"sha256: {sha}", path.read_text()))
    print(f"train {len(train)} rows, test {len(test)} rows; hidden.tar.age sha256 {sha}")


if __name__ == "__main__":
    main()
