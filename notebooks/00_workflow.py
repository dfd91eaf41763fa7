# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 · The workflow: JupyterLab like Livebook, from notebook to module, calling the model service
#
# **Prerequisites:** none: Python, a terminal and git. In the learners' bundle section 7 calls your own drill
# d1_sentiment_api: it stops there with a message until that drill is finished; the sections before it need
# no drill. **Time:** about an hour in all: about half an hour to
# read the lesson and run its cells (the cells run in under a minute), and about half an hour for the
# exercises. **Prepares:** no drill and no points; it is the loop every drill is worked in, and it calls
# drill d1's API as a client.
#
# **Learning objectives.** After this notebook you can
#
# 1. prototype in a notebook the way the Elixir phase does in Livebook: load a CSV (Polars), write a compiled
#    function (`jax.jit`), wrap it in a small serving object;
# 2. move that code into a module and keep working on it from the notebook with `%autoreload`;
# 3. test the module with pytest, from the notebook and from a terminal;
# 4. pair the notebook with a plain-text script (jupytext) so that reviews read a diff of code, not of JSON;
# 5. call the course's model service (drill d1's API) with a plain `httpx` call.
#
# Livebook's loop is *iterate in a notebook, load data, prototype a compiled function, wrap it in a serving,
# then export to app code*. Every step has a JupyterLab counterpart; this notebook walks the loop once.

# %% [markdown]
# ## 1. Load data
#
# Polars is the course's Explorer. The penguins CSV ships in `data/` (see `data/README.md` for its source).

# %%
import shutil
import sys
from pathlib import Path

import polars as pl

from mlcourse.paths import BUILD_DIR, DATA_DIR

penguins = pl.read_csv(DATA_DIR / "penguins.csv", null_values="NA").drop_nulls(["bill_length_mm", "flipper_length_mm"])
print(penguins.shape)
penguins.head(3)

# %% [markdown]
# ## 2. Prototype a compiled function
#
# A prototype should be small and pure: arrays in, arrays out, no hidden state. `jax.jit` traces it once per
# input shape and compiles it with XLA (Nx.Defn with EXLA). Here: z-scores of two columns, then a linear score.

# %%
import jax
import jax.numpy as jnp
import numpy as np

features = penguins.select("bill_length_mm", "flipper_length_mm").to_numpy().astype(np.float32)
mean, scale = features.mean(axis=0), features.std(axis=0)


@jax.jit
def score(x, mean, scale, weights):
    return ((x - mean) / scale) @ weights


weights = jnp.array([0.5, 1.0])
print(score(features[:3], mean, scale, weights))

# %% [markdown]
# ## 3. Wrap it in a serving object
#
# A serving object (Nx.Serving, or the batched serving of drill d1) owns what the function needs (here the
# statistics and the weights) and takes a *list* in and gives a list of the same length out, so that a caller
# can batch.

# %%
class PenguinServing:
    def __init__(self, mean, scale, weights):
        self.mean, self.scale, self.weights = mean, scale, weights

    def predict_batch(self, rows: list[dict]) -> list[str]:
        x = np.array([[row["bill_length_mm"], row["flipper_length_mm"]] for row in rows], dtype=np.float32)
        scores = score(x, self.mean, self.scale, self.weights)
        return ["large" if s > 0 else "small" for s in np.asarray(scores)]


serving = PenguinServing(mean, scale, weights)
serving.predict_batch(penguins.head(4).to_dicts())

# %% [markdown]
# ## 4. Move the code into a module, and keep iterating
#
# A notebook is a good place to find the code, a bad place to keep it: it cannot be imported, tested or
# reviewed as code. So once the prototype works, move it into a module. Here the module goes to a folder under
# `build/` (your own project would use its package); `%autoreload 2` re-imports changed modules before each
# cell, so you edit the file and go on using it here without restarting the kernel.

# %%
workshop = BUILD_DIR / "workflow"
shutil.rmtree(workshop, ignore_errors=True)
workshop.mkdir(parents=True)
sys.path.insert(0, str(workshop))

# %%
# %%writefile ../build/workflow/penguin_serving.py
"""The penguin prototype of notebook 00, moved out of the notebook."""

import jax
import numpy as np


@jax.jit
def score(x, mean, scale, weights):
    return ((x - mean) / scale) @ weights


class PenguinServing:
    def __init__(self, mean, scale, weights):
        self.mean, self.scale, self.weights = mean, scale, weights

    def predict_batch(self, rows):
        x = np.array([[row["bill_length_mm"], row["flipper_length_mm"]] for row in rows], dtype=np.float32)
        return ["large" if s > 0 else "small" for s in np.asarray(score(x, self.mean, self.scale, self.weights))]

# %%
# %load_ext autoreload
# %autoreload 2
import penguin_serving

penguin_serving.PenguinServing(mean, scale, weights).predict_batch(penguins.head(4).to_dicts())

# %% [markdown]
# Now change the module, as you would in an editor beside the notebook: add an empty-batch guard and a
# `labels` constant. The next cell uses the new code without a restart or a re-import.

# %%
# %%writefile ../build/workflow/penguin_serving.py
"""The penguin prototype of notebook 00, moved out of the notebook."""

import jax
import numpy as np

LABELS = ("small", "large")


@jax.jit
def score(x, mean, scale, weights):
    return ((x - mean) / scale) @ weights


class PenguinServing:
    def __init__(self, mean, scale, weights):
        self.mean, self.scale, self.weights = mean, scale, weights

    def predict_batch(self, rows):
        if not rows:
            return []
        x = np.array([[row["bill_length_mm"], row["flipper_length_mm"]] for row in rows], dtype=np.float32)
        return [LABELS[int(s > 0)] for s in np.asarray(score(x, self.mean, self.scale, self.weights))]

# %%
print(penguin_serving.LABELS, penguin_serving.PenguinServing(mean, scale, weights).predict_batch([]))

# %% [markdown]
# ## 5. Test it with pytest
#
# The module is code, so it gets a test file beside it, and its folder a small pytest configuration (a real
# project has it in its `pyproject.toml`): `pythonpath = ["."]` lets the test import the module. Run the tests
# from the notebook (below, in the kernel's own Python, as a child process) or from a terminal; CI runs the
# same command.

# %%
# %%writefile ../build/workflow/pyproject.toml
[tool.pytest.ini_options]
pythonpath = ["."]

# %%
# %%writefile ../build/workflow/test_penguin_serving.py
import numpy as np

from penguin_serving import PenguinServing


def test_one_label_per_row_and_empty_batches():
    serving = PenguinServing(np.zeros(2, np.float32), np.ones(2, np.float32), np.array([1.0, 1.0], np.float32))
    rows = [{"bill_length_mm": 1.0, "flipper_length_mm": 1.0}, {"bill_length_mm": -1.0, "flipper_length_mm": -1.0}]
    assert serving.predict_batch(rows) == ["large", "small"]
    assert serving.predict_batch([]) == []

# %% tags=["nbval-ignore-output"]
import subprocess

tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "--color=no", "-p", "no:cacheprovider", str(workshop)],
                       cwd=workshop, capture_output=True, text=True, timeout=120)
print(tests.stdout[-300:])

# %%
print("pytest exit status:", tests.returncode)

# %% [markdown]
# ## 6. Pair the notebook with a script (jupytext)
#
# A `.ipynb` file is JSON with outputs in it: a one-line code change shows up in review as a wall of JSON.
# jupytext keeps a plain-text twin of the notebook, in the "percent" format (`# %%` starts a cell), and keeps
# the two in step: this notebook is paired with `notebooks/00_workflow.py`. Reviewers read the `.py` diff;
# the `.ipynb` keeps the outputs. From a terminal:
#
# ```bash
# .venv/bin/jupytext --set-formats ipynb,py:percent notebooks/00_workflow.ipynb   # pair once
# .venv/bin/jupytext --sync notebooks/00_workflow.ipynb                           # after editing either file
# ```
#
# In JupyterLab (with jupytext installed, as here) saving the notebook writes both files. The pairing is
# recorded in the notebook's metadata:

# %%
import json

metadata = json.loads(Path("00_workflow.ipynb").read_text())["metadata"]
print(metadata["jupytext"]["formats"])
print([line for line in Path("00_workflow.py").read_text().splitlines() if line.startswith("# %%")][:3])

# %% [markdown]
# ## 7. Call the model service
#
# The course's model service is drill d1's sentiment API. `make serve` runs it in a terminal on port 8000;
# here we start the reference server from code, in a child process on a free loopback port, with the fake
# model so that it starts in a second (`fake=False` serves the real MiniLM classifier). A plain `httpx` call:
# post `{"text": ...}`, read `{"label", "score"}`, and look at the status first.

# %%
import httpx

from mlcourse.api.models import FakeCost
from mlcourse.api.process import served
from mlcourse.impl import reference_impl, require_finished

# The reference d1 here; in the learners' bundle your own, once it is finished (until then this stops here).
IMPL = require_finished(reference_impl(), "d1_sentiment_api", needed_by="notebook 00, section 7")
with served(IMPL, fake=FakeCost()) as api, httpx.Client(base_url=api.url, timeout=5) as client:
    for text in ["I love this course", "the lecture was awful", "x" * 3000]:
        reply = client.post("/api/sentiment", json={"text": text})
        body = reply.json()
        print(reply.status_code, body if reply.status_code == 200 else body["error"]["code"])

# %% [markdown]
# The third text is too long: the API refuses it with a 4xx and a JSON message saying why, and the others are
# unaffected. A client that must survive a busy or restarting service (429, 503, `Retry-After`, timeouts,
# deadlines) is the subject of notebook 08 and drill d6.

# %% [markdown]
# ## Exercises
#
# 1. Add a `bill_depth_mm` feature to the prototype: change the function and the serving in the module, and
#    use it from the notebook without restarting the kernel.
# 2. Add a test that `predict_batch` returns one label per row for 1,000 rows, and run it from the notebook.
# 3. Change a line of this notebook, save it in JupyterLab, and look at `git diff notebooks/00_workflow.py`.
# 4. Time `score` on 10,000 rows the first and the second time you call it. Why is the first call slower?
# 5. Call the service with a body that is not JSON. What status and message come back?
#
# <details><summary>Worked answers to the exercises</summary>
#
# 1. Read the third column into `x` in `predict_batch`, give `mean`, `scale` and `weights` a third entry (`features` from three columns), save the module: the next cell that calls `penguin_serving` runs the new code. Objects made before the change keep their old `mean`/`scale` arrays: build a new serving.
# 2. `rows = penguins.sample(1_000, with_replacement=True, seed=0).to_dicts()`; `assert len(serving.predict_batch(rows)) == 1_000`; run the same `subprocess.run([... "pytest" ...])` cell.
# 3. The `.py` diff shows only the changed source lines; the `.ipynb` diff would also show outputs and execution counts.
# 4. The first call traces and compiles for the shape (10000, 2) (tens of ms); the second reuses the compiled program (well under a millisecond of compute). Time with `block_until_ready()` so you do not time only the dispatch.
# 5. A body that is not JSON gets `400` from d1 (and a body sent with another content type `415`), with `{"error": {"code", "message"}}` saying what to send; `422` is kept for valid JSON whose text the model refuses. The server goes on serving.
# </details>

# %% [markdown]
# ## Check yourself
#
# **1. Why move prototype code out of the notebook at all?**
#
# **2. What does `%autoreload 2` do, and what is its limit?**
#
# **3. Why pair a notebook with a percent-format script?**
#
# **4. Why does the first call of a `jax.jit` function take longer than the next ones?**
#
# <details><summary>Worked answers</summary>
#
# **1.** A module can be imported by the application, tested by pytest and reviewed as code; a notebook cell can do none of that, and its result depends on the order cells were run. The notebook stays the place to explore, calling the module.
#
# **2.** Before each cell it re-imports modules whose files changed, and updates their functions and classes in place, so you edit the file and keep your kernel's data. It cannot redo state built from the old code (objects created before the change keep some old behaviour, e.g. data computed in `__init__`); when in doubt, restart.
#
# **3.** The `.ipynb` is JSON with outputs, so its diffs are noisy; the `.py` holds only the cells' source, so a review reads a plain code diff, and tools (linters, grep) work on it. jupytext keeps the two in step.
#
# **4.** The first call with a given input shape and dtype traces the Python function and compiles it with XLA; later calls with the same shapes reuse the compiled program. A new shape compiles again.
#
# </details>
#
