"""Regenerate the breast-cancer example from the Wisconsin data bundled in scikit-learn.

Run from anywhere: ``python challenges/breast-cancer/make_data.py``. Everything but the age
encryption is reproducible (fixed seed): public/ and the example submissions come out
byte-identical; hidden.tar.age is re-encrypted (age uses a fresh random key each time), and
its sha256 in challenge.yaml is updated to match. Needs scikit-learn (a dev dependency).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

SEED = 20261122
HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SUBMISSIONS = REPO / "submissions" / "breast-cancer"
sys.path.insert(0, str(REPO))

from runner.data import ensure_demo_key, pack  # noqa: E402


def frame() -> pd.DataFrame:
    data = load_breast_cancer(as_frame=True)
    features = data.data.rename(columns=lambda c: c.replace(" ", "_"))
    features.insert(0, "id", [f"bc-{i:04d}" for i in range(len(features))])
    features["malignant"] = 1 - data.target  # scikit-learn codes malignant as 0
    return features


def split(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = np.random.default_rng(SEED).permutation(len(df))
    train, test = df.iloc[np.sort(order[:341])], df.iloc[np.sort(order[341:])].copy()
    marks = np.array(["public", "private"] * (len(test) // 2 + 1))[: len(test)]
    test["split"] = np.random.default_rng(SEED + 1).permutation(marks)
    return train, test


def write_csv(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, float_format="%.6g", lineterminator="\n")


def write_public(train: pd.DataFrame, test: pd.DataFrame, features: list[str]) -> None:
    public = HERE / "public"
    write_csv(train, public / "train.csv")
    write_csv(test[["id", *features]], public / "test.csv")
    write_csv(test[["id"]].assign(malignant=0.5), public / "sample_submission.csv")
    sample = train.head(20)[["id", *features]]  # public rows shaped like the hidden inputs
    write_csv(sample, public / "sample-inputs" / "test.csv")


def write_hidden(test: pd.DataFrame, features: list[str], recipient: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_csv(test[["id", *features]], folder / "inputs" / "test.csv")
        write_csv(test[["id", "malignant", "split"]], folder / "truth.csv")
        return pack(folder, [recipient], HERE / "hidden.tar.age")


def standardise(train: pd.DataFrame, features: list[str]):
    mean, std = train[features].mean(), train[features].std()
    return (lambda df: ((df[features] - mean) / std).to_numpy()), mean, std


def write_submissions(train: pd.DataFrame, test: pd.DataFrame, features: list[str]) -> None:
    scale, mean, std = standardise(train, features)
    model = LogisticRegression(C=0.5, max_iter=5000).fit(scale(train), train["malignant"])
    proba = model.predict_proba(scale(test))[:, 1]
    write_csv(test[["id"]].assign(malignant=proba), SUBMISSIONS / "octocat" / "logreg.csv")
    radius = (test["mean_radius"] - mean["mean_radius"]) / std["mean_radius"]
    write_csv(
        test[["id"]].assign(malignant=1 / (1 + np.exp(-2 * radius))),
        SUBMISSIONS / "mona" / "mean-radius.csv",
    )
    prior = float(train["malignant"].mean())
    write_csv(test[["id"]].assign(malignant=prior), SUBMISSIONS / "demo-maintainer" / "prior.csv")
    # The container submission carries a small model; it reads /input/test.csv at run time.
    small = LogisticRegression(C=0.05, max_iter=5000).fit(scale(train), train["malignant"])
    weights = {
        "features": features,
        "mean": [round(float(mean[f]), 10) for f in features],
        "std": [round(float(std[f]), 10) for f in features],
        "coef": [round(float(c), 10) for c in small.coef_[0]],
        "intercept": round(float(small.intercept_[0]), 10),
    }
    target = SUBMISSIONS / "hubot" / "model" / "weights.json"
    target.write_text(json.dumps(weights, indent=1) + "\n")


def update_sha256(sha: str) -> None:
    path = HERE / "challenge.yaml"
    text = re.sub(r"sha256: [0-9a-f]{64}", f"sha256: {sha}", path.read_text())
    path.write_text(text)


def main() -> None:
    recipient = ensure_demo_key(HERE / "demo-key.txt")
    df = frame()
    features = [c for c in df.columns if c not in ("id", "malignant")]
    train, test = split(df)
    write_public(train, test, features)
    write_submissions(train, test, features)
    sha = write_hidden(test, features, recipient)
    update_sha256(sha)
    print(f"train {len(train)} rows, test {len(test)} rows; hidden.tar.age sha256 {sha}")


if __name__ == "__main__":
    main()
