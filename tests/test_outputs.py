"""ReportOutputs, JSON conversion and the versions footer."""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers import charts
from helpers.outputs import ReportOutputs, excel_safe, to_jsonable, versions_table


def test_to_jsonable_handles_numpy_pandas_and_nan() -> None:
    value = {
        "a": np.int64(3),
        "b": np.float32(0.5),
        "c": float("nan"),
        "d": np.array([1.0, math.inf]),
        "e": pd.Series({"x": 1}),
        "f": pd.Timestamp("2026-05-04"),
        "g": pd.NA,
    }
    out = to_jsonable(value)
    assert json.loads(json.dumps(out)) == {
        "a": 3,
        "b": 0.5,
        "c": None,
        "d": [1.0, None],
        "e": {"x": 1},
        "f": "2026-05-04T00:00:00",
        "g": None,
    }


def test_report_outputs_write_figure_table_and_results(tmp_path: Path) -> None:
    out = ReportOutputs(tmp_path, notebook="99_test")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    number = fig.number
    png = out.figure(fig, "line", show=False)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert number not in plt.get_fignums()  # closed, so the inline backend does not show it twice
    csv = out.table(pd.DataFrame({"creator": ["@anna", "=HYPERLINK(1)"], "clicks": [-3, 4]}), "t")
    raw = csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    back = pd.read_csv(csv, encoding="utf-8-sig")
    assert back["creator"].tolist() == ["'@anna", "'=HYPERLINK(1)"]
    assert back["clicks"].tolist() == [-3, 4]  # numbers stay numbers
    out.results["n"] = np.int64(7)
    res = out.write_results()
    assert json.loads(res.read_text(encoding="utf-8")) == {"n": 7}


def test_excel_safe_leaves_numbers_and_plain_text() -> None:
    df = pd.DataFrame({"t": ["beauty", "+1", " -x", None], "v": [1.5, -2.0, 0.0, 3.0]})
    safe = excel_safe(df)
    assert safe["t"].tolist()[:3] == ["beauty", "'+1", "' -x"]
    assert safe["v"].tolist() == df["v"].tolist()
    assert df["t"].iloc[1] == "+1"  # input untouched


def test_versions_table_names_the_libraries() -> None:
    table = versions_table()
    assert {"python", "pandas", "statsmodels", "linkstar-kit", "git commit"} <= set(
        table["component"]
    )


def test_chart_names_are_unique_and_all_callable() -> None:
    assert len(charts.__all__) == len(set(charts.__all__))
    functions = [n for n in charts.__all__ if n.lower() == n]
    assert functions and all(callable(getattr(charts, n)) for n in functions)
