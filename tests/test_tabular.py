"""The tabular helpers: the d3 contract and writer, the shared command line, the CSV generators,
the child-process memory probe and the training-curve plot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from drills.d3_tabular_mlp import prep as d3_starter_prep
from mlcourse.drill_commands.d3_tabular_mlp import main
from mlcourse.paths import REPO_ROOT
from mlcourse.tabular.contract import (
    ID_NAME,
    IDENTIFIER_RULE,
    PREPARED_FILES,
    MissingTargetError,
    NullReport,
    Prepared,
    PrepStats,
    TrainResult,
    summary,
    write_prepared,
)
from mlcourse.tabular.data import make_big_csv, make_classification_csv
from mlcourse.tabular.memory import MeasurementError, measure_peak_memory
from mlcourse.tabular.plot import plot_history

STATS = PrepStats(
    target="kind", classes=("a", "b"), numeric={"size": (2.0, 0.5)}, categorical={"colour": ("blue", "red")}
)


def fake_prepared() -> Prepared:
    rng = np.random.default_rng(0)
    return Prepared(
        stats=STATS,
        x_train=rng.normal(size=(6, 3)).astype(np.float32),
        y_train=np.array([0, 1, 0, 1, 0, 1], dtype=np.int32),
        x_val=rng.normal(size=(2, 3)).astype(np.float32),
        y_val=np.array([1, 0], dtype=np.int32),
        train_rows=np.array([0, 1, 2, 4, 5, 7]),
        val_rows=np.array([3, 6]),
        nulls=NullReport(n_rows=9, n_dropped_rows=1, n_rows_with_nulls=2, null_counts={"kind": 1, "size": 2}),
    )


def fake_train(prepared: Prepared, *, seed: int) -> TrainResult:
    history = [{"loss": 1.0 / epoch, "accuracy": 0.5, "val_loss": 1.2 / epoch, "val_accuracy": 0.5} for epoch in (1, 2)]
    return TrainResult(val_accuracy=0.5, train_seconds=0.01, history=history)


def test_feature_names_put_numeric_first_then_one_hot_levels() -> None:
    assert STATS.feature_names == ("size", "colour=blue", "colour=red")
    assert json.loads(STATS.to_json())["numeric"] == {"size": [2.0, 0.5]}


@pytest.mark.parametrize(
    ("name", "is_identifier"),
    [("id", True), ("row_id", True), ("Sample_ID", True), ("valid", False), ("lipid", False), ("idea", False)],
)
def test_id_name_matches_id_and_names_ending_in_underscore_id(name: str, is_identifier: bool) -> None:
    assert bool(ID_NAME.search(name)) is is_identifier


def test_the_identifier_rule_reads_the_same_in_the_readme_and_the_starter() -> None:
    """One wording: d3's README and the starter's docstring carry IDENTIFIER_RULE (the check's message quotes it)."""
    readme = (REPO_ROOT / "drills" / "d3_tabular_mlp" / "README.md").read_text(encoding="utf-8")
    docstring = d3_starter_prep.identifier_columns.__doc__ or ""
    for where, text in (("README.md", readme), ("identifier_columns' docstring", docstring)):
        assert IDENTIFIER_RULE in " ".join(text.split()), f"d3's {where} words the identifier rule differently"


def test_write_prepared_is_byte_identical_for_the_same_input(tmp_path: Path) -> None:
    first = write_prepared(fake_prepared(), tmp_path / "one")
    second = write_prepared(fake_prepared(), tmp_path / "two")
    assert [path.name for path in first] == list(PREPARED_FILES)
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))
    train = pl.read_csv(tmp_path / "one" / "train.csv")
    assert train.columns == ["row", *STATS.feature_names, "kind"]
    assert train.get_column("row").to_list() == [0, 1, 2, 4, 5, 7]


def test_summary_reports_split_nulls_and_metrics() -> None:
    prepared = fake_prepared()
    before = summary(prepared)
    assert (before["n_train"], before["n_val"], before["n_dropped_rows"]) == (6, 2, 1)
    assert "val_accuracy" not in before and before["dropped_identifiers"] == []
    after = summary(prepared, fake_train(prepared, seed=0))
    assert after["val_accuracy"] == 0.5 and after["epochs"] == 2


def test_cli_prints_json_last_and_saves_the_curve(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        "d3",
        ["any.csv", "--target", "kind", "--out", str(tmp_path)],
        prepare=lambda path, target, **_: fake_prepared(),
        train=fake_train,
    )
    assert status == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["val_accuracy"] == 0.5
    assert (tmp_path / "training_curve.png").stat().st_size > 0


def test_cli_turns_bad_input_into_a_message_and_exit_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(path: Path, target: str, **_: object) -> Prepared:
        raise MissingTargetError(f"no target column {target!r}")

    assert main("d3", ["any.csv", "--target", "nope"], prepare=refuse, train=fake_train) == 2
    assert capsys.readouterr().err.strip() == "python -m d3: error: no target column 'nope'"


def test_classification_csv_is_reproducible_with_nulls(tmp_path: Path) -> None:
    one = make_classification_csv(tmp_path / "one.csv", n_rows=300, seed=3, n_null_targets=4)
    two = make_classification_csv(tmp_path / "two.csv", n_rows=300, seed=3, n_null_targets=4)
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()
    assert one.equals(two)
    assert one.get_column("weather").null_count() == 4
    assert one.drop("weather").null_count().sum_horizontal().item() > 0
    assert set(one.get_column("weather").drop_nulls()) == {"sunny", "rainy", "stormy"}


def test_big_csv_is_written_in_chunks_with_one_header_and_reused(tmp_path: Path) -> None:
    path = make_big_csv(tmp_path / "sales.csv", n_rows=1_000, chunk_rows=300)
    table = pl.read_csv(path)
    assert table.height == 1_000 and table.get_column("sale_id").to_list() == list(range(1_000))
    stamp = path.stat().st_mtime_ns
    assert make_big_csv(path, n_rows=1_000) == path and path.stat().st_mtime_ns == stamp


def test_peak_memory_sees_an_allocation_and_returns_the_result() -> None:
    idle = measure_peak_memory("result = pl.DataFrame({'n': [n]})", n=1)
    busy = measure_peak_memory(
        "import numpy as np\nblock = np.ones(n // 8)\nresult = pl.DataFrame({'n': [block.size]})", n=200 * 2**20
    )
    assert idle.result.item() == 1 and busy.result.item() == 200 * 2**20 // 8
    assert busy.query_mib - idle.query_mib > 150


def test_peak_memory_reports_the_child_error() -> None:
    with pytest.raises(MeasurementError, match="ZeroDivisionError"):
        measure_peak_memory("result = 1 / 0", label="broken")


def test_plot_history_saves_a_png(tmp_path: Path) -> None:
    figure = plot_history(fake_train(fake_prepared(), seed=0).history, "toy", tmp_path / "curve.png")
    assert len(figure.axes) == 2 and (tmp_path / "curve.png").read_bytes()[:4] == b"\x89PNG"
