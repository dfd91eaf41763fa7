"""Checks for drill d2: correctness, compilation, the >= 10x speed-up at 2048, and the report."""

import json

import jax
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from mlcourse.matmul.reference import course_reference_matmul
from mlcourse.matmul.report import REQUIRED_REPORT_FIELDS, REQUIRED_ROW_FIELDS, write_report
from mlcourse.timing import matmul_gflops, measure

BACKENDS = {"reference", "numpy-blas", "jax-jit"}


def random_pair(rng, m, k, n):
    return rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32)


@pytest.fixture(scope="module")
def small_report(drill):
    """One run of the learner's benchmark at small sizes, shared by the report checks."""
    return drill.module("bench").run_benchmark(sizes=(64, 128), repeats=3, reference_repeats=2)


@pytest.mark.points(1)
@pytest.mark.parametrize("shape", [(3, 4, 5), (128, 64, 32), (256, 256, 256)])
def test_matmul_matches_numpy(drill, shape):
    """matmul(a, b) equals NumPy's a @ b (allclose) and returns a JAX array."""
    a, b = random_pair(np.random.default_rng(1), *shape)
    result = drill.module("matmul").matmul(a, b)
    assert isinstance(result, jax.Array), "matmul must return a JAX array (use jax.numpy inside it)"
    np.testing.assert_allclose(np.asarray(result), a @ b, rtol=1e-4, atol=1e-4, err_msg="matmul(a, b) must equal a @ b")


@pytest.mark.points(1)
def test_matmul_is_jit_compiled(drill):
    """matmul is wrapped in jax.jit, so XLA compiles it once per shape."""
    matmul = drill.module("matmul").matmul
    assert hasattr(matmul, "lower"), "decorate matmul with @jax.jit"
    a, b = random_pair(np.random.default_rng(2), 8, 8, 8)
    compiled = matmul.lower(a, b).compile()
    np.testing.assert_allclose(np.asarray(compiled(a, b)), a @ b, rtol=1e-4, atol=1e-4)


@pytest.mark.points(1)
def test_reference_is_correct_and_does_not_use_blas(drill):
    """reference_matmul equals a @ b, returns NumPy, and is far slower than one-thread BLAS (it must not call it)."""
    reference = drill.module("matmul").reference_matmul
    a, b = random_pair(np.random.default_rng(3), 37, 19, 23)
    result = reference(a, b)
    assert isinstance(result, np.ndarray), "reference_matmul must stay in NumPy (no JAX, no compilation)"
    np.testing.assert_allclose(result, a @ b, rtol=1e-4, atol=1e-4, err_msg="reference_matmul(a, b) must equal a @ b")
    a, b = random_pair(np.random.default_rng(4), 512, 512, 512)
    with threadpool_limits(limits=1, user_api="blas"):  # multi-threaded BLAS's pace swings with the machine's load
        ratio = measure(reference, a, b, repeats=3).min_s / measure(np.matmul, a, b, repeats=3).min_s
    assert ratio > 3, f"reference_matmul is only {ratio:.1f}x slower than BLAS: use np.einsum(..., optimize=False)"


@pytest.mark.points(3)
@pytest.mark.benchmark
def test_speedup_at_least_10x_at_2048(drill, report_metric):
    """At 2048 x 2048 float32, the jitted matmul is correct and >= 10x faster than the course's non-BLAS reference.

    The check times the learner's matmul, the course's own reference and BLAS in one run, so a
    deliberately slow reference of the learner's own cannot inflate the speed-up.
    """
    matmul = drill.module("matmul").matmul
    a, b = random_pair(np.random.default_rng(5), 2048, 2048, 2048)
    expected = a @ b
    product = np.asarray(matmul(a, b))
    error = float(np.abs(product - expected).max() / np.abs(expected).max())
    assert error < 1e-4, f"matmul(a, b) at 2048 x 2048 is not a @ b (largest relative error {error:.2g})"
    compiled = measure(matmul, a, b, repeats=5)
    blas = measure(np.matmul, a, b, repeats=3)
    reference = measure(course_reference_matmul, a, b, repeats=1, warmup=0)
    speedup = reference.min_s / compiled.min_s
    report_metric("jit_gflops_2048", matmul_gflops(2048, compiled.min_s), "GFLOP/s")
    report_metric("blas_gflops_2048", matmul_gflops(2048, blas.min_s), "GFLOP/s")
    report_metric("reference_gflops_2048", matmul_gflops(2048, reference.min_s), "GFLOP/s")
    report_metric("speedup_2048", speedup, "x")
    assert speedup >= 10, (
        f"jit matmul is {speedup:.1f}x faster than the course's non-BLAS reference at 2048 (BLAS: "
        f"{reference.min_s / blas.min_s:.1f}x); it must be >= 10x: decorate matmul with jax.jit and use jnp.matmul"
    )


@pytest.mark.points(2)
def test_report_written_with_every_field(drill, small_report, tmp_path):
    """The benchmark's report has every field for every size and backend, and is written as Markdown and JSON."""
    missing = [f for f in REQUIRED_REPORT_FIELDS if f not in small_report]
    assert not missing, f"run_benchmark's report lacks {missing}"
    assert small_report["devices"] == [str(d) for d in jax.devices()], "report every device in jax.devices()"
    seen = {(r.get("size"), r.get("backend")) for r in small_report["rows"]}
    assert seen >= {(n, b) for n in (64, 128) for b in BACKENDS}, f"rows for each size and backend {BACKENDS}"
    for row in small_report["rows"]:
        missing = [f for f in REQUIRED_ROW_FIELDS if f not in row]
        assert not missing, f"row {row.get('size')}/{row.get('backend')} lacks {missing}"
        assert all(row[f] > 0 for f in ("first_call_s", "min_s", "median_s", "gflops")), f"non-positive times in {row}"
        assert row["min_s"] <= row["median_s"], f"min above median in {row}"
        assert row["gflops"] == pytest.approx(2 * row["size"] ** 3 / row["median_s"] / 1e9, rel=0.01), (
            "gflops is 2 n^3 / median_s / 1e9"
        )
        ref = next(r for r in small_report["rows"] if r["size"] == row["size"] and r["backend"] == "reference")
        assert row["speedup_vs_reference"] == pytest.approx(ref["median_s"] / row["median_s"], rel=0.01), (
            "speedup_vs_reference is the reference's median over this row's median"
        )
    paths = write_report(small_report, tmp_path)
    assert json.loads(paths["json"].read_text())["rows"], "report.json must hold the rows"
    assert "| 128 | jax-jit |" in paths["md"].read_text()


@pytest.mark.points(1)
def test_compile_time_reported_apart_from_steady_state(drill, small_report):
    """The first jit call (trace + compile) is reported on its own, not mixed into min/median."""
    jit_rows = [r for r in small_report["rows"] if r["backend"] == "jax-jit"]
    for row in jit_rows:
        assert row["first_call_s"] > 3 * row["median_s"], (
            f"at {row['size']} the first jit call ({row['first_call_s'] * 1e3:.2f} ms) should include compilation "
            f"and dwarf the steady state ({row['median_s'] * 1e3:.3f} ms): time the first call separately"
        )


@pytest.mark.points(1)
def test_benchmark_waits_for_results(drill, report_metric):
    """The benchmark's jit timing matches an independent timing that blocks until results are ready."""
    bench, matmul = drill.module("bench"), drill.module("matmul").matmul
    report = bench.run_benchmark(sizes=(1024,), repeats=3, reference_repeats=1)
    learner = next(r for r in report["rows"] if r["backend"] == "jax-jit" and r["device"] == str(jax.devices()[0]))
    a, b = random_pair(np.random.default_rng(6), 1024, 1024, 1024)
    independent = measure(matmul, a, b, repeats=3)
    ratio = learner["median_s"] / independent.median_s
    report_metric("benchmark_vs_independent_1024", ratio, "x")
    assert 0.3 < ratio < 3, (
        f"your benchmark times the 1024 jit matmul at {learner['median_s'] * 1e3:.2f} ms, an independent timing at "
        f"{independent.median_s * 1e3:.2f} ms: wait for results with jax.block_until_ready"
    )
