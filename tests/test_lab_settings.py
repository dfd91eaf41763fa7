"""JupyterLab opens on the course without the "official Jupyter news" pop-up (config/jupyterlab/overrides.json).

`make lab` installs the override where JupyterLab reads application settings; this checks that
every overridden setting exists in JupyterLab's own schema and takes a value the schema allows,
so a renamed setting cannot silently bring the pop-up back.
"""

import json
import sys
from pathlib import Path

from jupyterlab_server.settings_utils import _get_overrides

from mlcourse.paths import REPO_ROOT

SCHEMAS = Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas"


def test_overrides_turn_news_off_with_values_the_schema_allows():
    overrides, error = _get_overrides(str(REPO_ROOT / "config" / "jupyterlab"))
    assert not error, error
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    for plugin, settings in overrides.items():
        package, name = plugin.split(":")
        schema = json.loads((SCHEMAS / package / f"{name}.json").read_text())["properties"]
        for key, value in settings.items():
            assert key in schema, f"{plugin} has no setting {key!r}"
            allowed = [option["const"] for option in schema[key].get("oneOf", [])] or [value]
            assert value in allowed, f"{plugin}:{key} takes {allowed}, not {value!r}"
