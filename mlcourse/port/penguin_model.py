"""A penguin-species classifier saved as plain numbers, never as a pickle.

Train and save (the setup step of drill d4)::

    python -m mlcourse.port.penguin_model [--csv data/penguins.csv] [--out data/models/penguins-logreg.json]

The saved file is JSON: the feature names, the scaler's means and scales, the
logistic regression's coefficients, intercepts and classes. Loading it runs no
code from the file, so a model file can come from anywhere, unlike a pickle.
Inference needs only NumPy: the drill's worker loads it fast on every restart,
without importing scikit-learn or Polars (those are imported by ``train`` only).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlcourse import paths

FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
TARGET = "species"
FORMAT = "mlcourse.port.penguin_model/logreg-v1"
DEFAULT_OUT = paths.MODELS_DIR / "penguins-logreg.json"


class ModelFileError(ValueError):
    """A model file that is not a saved logistic regression of this format."""


@dataclass(frozen=True)
class LogisticModel:
    """Standard scaling then multinomial logistic regression, as arrays."""

    features: tuple[str, ...]
    classes: tuple[str, ...]
    mean: np.ndarray  # (n_features,)
    scale: np.ndarray  # (n_features,)
    coef: np.ndarray  # (n_classes, n_features)
    intercept: np.ndarray  # (n_classes,)
    metrics: dict[str, float]

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        """Class probabilities for a (n_rows, n_features) array, as scikit-learn computes them."""
        logits = ((rows - self.mean) / self.scale) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        return weights / weights.sum(axis=1, keepdims=True)

    def predict(self, features: Sequence[float]) -> dict[str, Any]:
        """One row in, ``{"label": class, "probabilities": {class: p}}`` out (plain types, ready for msgpack)."""
        row = np.asarray(features, dtype=np.float64)
        if row.shape != (len(self.features),) or not np.all(np.isfinite(row)):
            raise ValueError(f"expected {len(self.features)} finite numbers {list(self.features)}, got {features!r}")
        proba = self.predict_proba(row[None, :])[0]
        return {
            "label": self.classes[int(proba.argmax())],
            "probabilities": {name: float(p) for name, p in zip(self.classes, proba, strict=True)},
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "features": list(self.features),
            "classes": list(self.classes),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept.tolist(),
            "metrics": self.metrics,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LogisticModel:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ModelFileError(f"not a {FORMAT} model file")
        try:
            model = cls(
                features=tuple(data["features"]),
                classes=tuple(data["classes"]),
                mean=np.asarray(data["mean"], dtype=np.float64),
                scale=np.asarray(data["scale"], dtype=np.float64),
                coef=np.asarray(data["coef"], dtype=np.float64),
                intercept=np.asarray(data["intercept"], dtype=np.float64),
                metrics=dict(data.get("metrics", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"malformed {FORMAT} model file: {exc}") from exc
        n_classes, n_features = len(model.classes), len(model.features)
        if (
            model.mean.shape != (n_features,)
            or model.scale.shape != (n_features,)
            or model.coef.shape != (n_classes, n_features)
            or model.intercept.shape != (n_classes,)
        ):
            raise ModelFileError(f"array shapes do not match {n_classes} classes x {n_features} features")
        return model


def save_model(model: LogisticModel, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model.to_json(), indent=2) + "\n")
    return path


def load_model(path: str | Path) -> LogisticModel:
    """Read a model saved by :func:`save_model`; raises ModelFileError on anything else."""
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}: not JSON ({exc})") from exc
    return LogisticModel.from_json(data)


def from_estimator(pipeline: Any, metrics: dict[str, float] | None = None) -> LogisticModel:
    """Copy the numbers out of a fitted ``make_pipeline(StandardScaler(), LogisticRegression())``."""
    scaler, logreg = pipeline[0], pipeline[-1]
    if len(logreg.classes_) < 3:
        raise ValueError("only multinomial (3 or more classes) logistic regression is supported")
    return LogisticModel(
        features=tuple(str(name) for name in scaler.feature_names_in_),
        classes=tuple(str(name) for name in logreg.classes_),
        mean=scaler.mean_.copy(),
        scale=scaler.scale_.copy(),
        coef=logreg.coef_.copy(),
        intercept=logreg.intercept_.copy(),
        metrics=dict(metrics or {}),
    )


def load_table(csv_path: Path | None = None) -> tuple[Any, np.ndarray]:
    """The four measurements (a Polars frame, which scikit-learn accepts) and the species; rows with a null dropped."""
    import polars as pl

    frame = pl.read_csv(csv_path or paths.PENGUINS_CSV, null_values="NA").drop_nulls([*FEATURES, TARGET])
    return frame.select(FEATURES), frame[TARGET].to_numpy()


def train(csv_path: Path | None = None, seed: int = 0) -> tuple[Any, LogisticModel]:
    """Fit scaler + logistic regression on 80% of the rows; returns the estimator and its saved form."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, species = load_table(csv_path)
    x_train, x_test, y_train, y_test = train_test_split(
        features, species, test_size=0.2, random_state=seed, stratify=species
    )
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    pipeline.fit(x_train, y_train)
    accuracy = float(pipeline.score(x_test, y_test))
    return pipeline, from_estimator(pipeline, {"test_accuracy": round(accuracy, 4), "train_rows": len(y_train)})


def build(out: Path = DEFAULT_OUT, csv_path: Path | None = None) -> Path:
    """Train and save in one step (the setup command, the d4 checks and the benchmark use it)."""
    _, model = train(csv_path)
    return save_model(model, out)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=None, help="training data (default: data/penguins.csv)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the model JSON")
    args = parser.parse_args(argv)
    path = build(args.out, args.csv)
    accuracy = load_model(path).metrics["test_accuracy"]
    print(f"saved {path} (held-out accuracy {accuracy:.3f}, no pickle)")


if __name__ == "__main__":
    main()
