"""The report runner (helpers.report) on the fixture notebooks in tests/fixtures/notebooks.

``01_ok`` declares typed parameters, echoes what it received into its results and
writes a figure and a table; ``02_fails`` raises ValueError in its cell 3.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from helpers import paths, report

try:
    import fcntl
except ImportError:  # Windows: no shared run, each worker makes its own
    fcntl = None  # type: ignore[assignment]
from helpers.report import ParamWarning, ReportError, load_params, run_report

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
# Meant to send the tests sharing the CLI run to one xdist worker; see cli_run.
CLI_GROUP = pytest.mark.xdist_group("report_cli_run")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "helpers.report", "--notebooks-dir", str(FIXTURES), *args],
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


def _received(folder: Path, notebook: str = "01_ok") -> dict[str, Any]:
    return json.loads((folder / "results.json").read_text(encoding="utf-8"))[notebook]["received"]


# ------------------------------------------------------------ one full CLI run


@pytest.fixture(scope="session")
def cli_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Both fixture notebooks, in parallel, with YAML and command-line parameters.

    MPLBACKEND=Agg in the caller's environment must not strip the figures. The run
    happens once per test session: under pytest-xdist the first worker runs it and the
    others reuse its folder (xdist_group does not group tests with pytest 9.2 and
    xdist 3.8, which set a node id attribute that pytest no longer reads).
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER") and fcntl is not None:
        base = base.parent  # the session's folder, shared by all workers
    tmp = base / "report_cli_run"
    with open(base / "report_cli_run.lock", "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        record = tmp / "proc.json"
        if not record.exists():
            tmp.mkdir(exist_ok=True)
            params = tmp / "week.yaml"
            params.write_text(
                "data: data/smoke\nseed: 3\nflag: yes\nratio: 2\nnotebooks:\n  01: {n_points: '12'}\n",
                encoding="utf-8",
            )
            env = {**os.environ, "MPLBACKEND": "Agg"}
            proc = _cli(
                "--params", str(params), "--out", str(tmp / "reports"), "--jobs", "2",
                "-p", "code", "007", "--data", "some/export.csv", "--no-progress",
                env=env,
            )  # fmt: skip
            record.write_text(
                json.dumps({"rc": proc.returncode, "out": proc.stdout, "err": proc.stderr}),
                encoding="utf-8",
            )
    saved = json.loads(record.read_text(encoding="utf-8"))
    proc = subprocess.CompletedProcess([], saved["rc"], saved["out"], saved["err"])
    runs = list((tmp / "reports").iterdir())
    assert len(runs) == 1, (proc.stdout, proc.stderr)
    return proc, runs[0]


@pytest.mark.notebook
@CLI_GROUP
def test_failing_notebook_exit_status_and_message(cli_run: tuple[Any, Path]) -> None:
    proc, folder = cli_run
    assert proc.returncode == 1, proc.stderr
    line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("FAILED 02_fails"))
    assert "cell 3" in line and "boom = 1" in line, line
    assert "ValueError" in line and "column clicks is missing" in line, line
    assert "Traceback" not in proc.stderr
    assert "without encryption" not in proc.stderr  # ipykernel's TCP warning is silenced
    assert proc.stdout.strip().splitlines()[-1] == str(folder / "index.html")


@pytest.mark.notebook
@CLI_GROUP
def test_failed_notebook_kept_for_inspection(cli_run: tuple[Any, Path]) -> None:
    _, folder = cli_run
    executed = nbformat.read(folder / "02_fails.ipynb", as_version=4)
    errors = [
        o
        for c in executed.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert errors and errors[0].ename == "ValueError"
    assert "column clicks is missing" in (folder / "02_fails.html").read_text(encoding="utf-8")
    # What the failing notebook wrote before failing is kept, what came after never ran.
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert results["02_fails"] == {"before_failure": True}
    assert results["_run"]["status"] == "failed"
    assert results["_run"]["notebooks"]["02_fails"]["status"] == "failed"
    assert results["_run"]["notebooks"]["01_ok"]["status"] == "ok"


@pytest.mark.notebook
@CLI_GROUP
def test_other_notebooks_outputs_kept(cli_run: tuple[Any, Path]) -> None:
    _, folder = cli_run
    for rel in (
        "01_ok.ipynb",
        "01_ok.html",
        "figures/01_ok__line.png",
        "tables/01_ok__points.csv",
        "results/01_ok.json",
        "results.json",
        "params.yaml",
        "index.html",
    ):
        assert (folder / rel).is_file(), f"missing {rel}"
    assert (folder / "figures/01_ok__line.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    points = (folder / "tables/01_ok__points.csv").read_text(encoding="utf-8-sig").splitlines()
    assert points[0] == "x,y" and len(points) == 1 + 12


@pytest.mark.notebook
@CLI_GROUP
def test_executed_notebook_shows_figures(cli_run: tuple[Any, Path]) -> None:
    """The MPLBACKEND trap: with Agg forced into the kernel, display() shows nothing."""
    _, folder = cli_run
    executed = nbformat.read(folder / "01_ok.ipynb", as_version=4)
    mimes = {
        m
        for c in executed.cells
        if c.cell_type == "code"
        for o in c.outputs
        for m in o.get("data", {})
    }
    assert "image/png" in mimes


@pytest.mark.notebook
@CLI_GROUP
def test_html_is_code_free(cli_run: tuple[Any, Path]) -> None:
    _, folder = cli_run
    html = (folder / "01_ok.html").read_text(encoding="utf-8")
    assert "CODE_MARKER_7f3a" not in html
    assert "ReportOutputs(" not in html
    assert "FIXTURE_PROSE_MARKER" in html  # prose stays
    assert "data:image/png;base64" in html  # figures stay


@pytest.mark.notebook
@CLI_GROUP
def test_index_does_not_claim_success(cli_run: tuple[Any, Path]) -> None:
    _, folder = cli_run
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "FAILED" in index.split("<h2>")[0]  # in the banner, before any section
    assert "ran successfully" not in index
    for href in ("01_ok.html", "01_ok.ipynb", "02_fails.html", "02_fails.ipynb", "results.json"):
        assert f'href="{href}"' in index
    assert 'src="figures/01_ok__line.png"' in index
    assert 'href="tables/01_ok__points.csv"' in index
    assert "column clicks is missing" in index


@pytest.mark.notebook
@CLI_GROUP
def test_parameter_types_from_yaml_and_cli(cli_run: tuple[Any, Path]) -> None:
    _, folder = cli_run
    got = _received(folder)
    assert got["code"] == "007"  # -p text stays text
    assert got["flag"] is True  # YAML yes -> bool parameter
    assert got["n_points"] == 12  # quoted '12' under notebooks: 01 -> int parameter
    assert got["ratio"] == 2.0  # YAML int -> float parameter
    assert got["seed"] == 3
    assert got["data"] == "some/export.csv"  # --data beats the YAML
    assert got["site"] == "US"  # the notebook's default
    types = json.loads((folder / "results.json").read_text(encoding="utf-8"))["01_ok"]["types"]
    assert types == {
        "data": "str", "seed": "int", "code": "str", "flag": "bool",
        "n_points": "int", "ratio": "float", "site": "str",
    }  # fmt: skip
    effective = yaml.safe_load((folder / "params.yaml").read_text(encoding="utf-8"))
    assert effective["notebooks"]["01_ok"]["code"] == "007"
    assert effective["notebooks"]["01_ok"]["n_points"] == 12


# ------------------------------------------------------------- API: --each


@pytest.mark.notebook
def test_each_makes_one_report_per_value_and_precedence(tmp_path: Path) -> None:
    params = tmp_path / "p.yaml"
    params.write_text(
        "data: data/smoke\nratio: 1.0\nn_points: 3\nsite: XX\nnot_a_param: 1\n"
        'notebooks:\n  "01": {n_points: 4, ratio: 3.0}\n  01_ok: {n_points: 5}\n',
        encoding="utf-8",
    )
    with pytest.warns(ParamWarning, match="not_a_param"):
        result = run_report(
            params,
            only="01",
            out=tmp_path / "out",
            each={"site": ["US", "UK"]},
            overrides={"n_points": "6"},
            notebooks_dir=FIXTURES,
            jobs=1,  # the CLI fixture covers the process pool
            progress=False,
        )
    assert result.ok, result.failure_messages()
    assert [r.label for r in result.reports] == ["site-US", "site-UK"]
    for rep, site in zip(result.reports, ["US", "UK"], strict=True):
        assert rep.folder.parent == result.folder and rep.folder.name == f"site-{site}"
        got = _received(rep.folder)
        assert got["site"] == site  # --each beats YAML common
        assert got["n_points"] == 6  # -p beats YAML per-notebook (stem beats prefix)
        assert got["ratio"] == 3.0  # YAML per-notebook beats YAML common
        assert (rep.folder / "figures" / "01_ok__line.png").is_file()
        assert (rep.folder / "index.html").is_file()
    top = (result.folder / "index.html").read_text(encoding="utf-8")
    assert 'href="site-US/index.html"' in top and 'href="site-UK/index.html"' in top
    assert "FAILED" not in top


def test_stem_key_beats_prefix_key(tmp_path: Path) -> None:
    params = tmp_path / "p.yaml"
    params.write_text(
        'notebooks:\n  "01": {n_points: 4}\n  01_ok: {n_points: 5}\n', encoding="utf-8"
    )
    loaded = load_params(params)
    assert set(loaded.notebooks) == {"01", "01_ok"}


# ------------------------------------------------------ never overwrite a run


@pytest.mark.notebook
def test_never_overwrites_existing_run_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixed = _dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=_dt.UTC)
    monkeypatch.setattr(report, "_utcnow", lambda: fixed)
    existing = tmp_path / "20260102-030405_defaults"
    existing.mkdir()
    (existing / "index.html").write_text("earlier run", encoding="utf-8")
    result = run_report(only="01", out=tmp_path, notebooks_dir=FIXTURES, progress=False)
    assert result.ok, result.failure_messages()
    assert result.folder == tmp_path / "20260102-030405_defaults-2"
    assert (existing / "index.html").read_text(encoding="utf-8") == "earlier run"
    assert sorted(p.name for p in existing.iterdir()) == ["index.html"]


def test_new_folder_adds_suffix(tmp_path: Path) -> None:
    first = report._new_folder(tmp_path, "run")
    second = report._new_folder(tmp_path, "run")
    third = report._new_folder(tmp_path, "run")
    assert [first.name, second.name, third.name] == ["run", "run-2", "run-3"]


# ------------------------------------------------ clear errors, no traceback


def test_unknown_only_lists_available(capsys: pytest.CaptureFixture[str]) -> None:
    status = report.main(["--notebooks-dir", str(FIXTURES), "--only", "07", "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2
    assert "07" in err and "01_ok" in err and "02_fails" in err


def test_unknown_only_cli_has_no_traceback() -> None:
    proc = _cli("--only", "1,99")
    assert proc.returncode == 2
    assert "99" in proc.stderr and "01_ok, 02_fails" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_params_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert report.main(["--params", "params/no_such_file.yaml", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "no_such_file.yaml" in err and "smoke.yaml" in err and "Traceback" not in err


def test_bad_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [a\nseed: 1\n", encoding="utf-8")
    assert report.main(["--params", str(bad), "--notebooks-dir", str(FIXTURES)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "not valid YAML" in err and "line" in err


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    dup = tmp_path / "dup.yaml"
    dup.write_text("seed: 1\nseed: 2\n", encoding="utf-8")
    with pytest.raises(ReportError, match="'seed' appears twice"):
        load_params(dup)


def test_bool_where_text_asks_to_quote(tmp_path: Path) -> None:
    p = tmp_path / "p.yaml"
    p.write_text("code: no\n", encoding="utf-8")
    with pytest.raises(ReportError, match=r'quote it: code: "no"'):
        run_report(p, notebooks_dir=FIXTURES, out=tmp_path, progress=False)
    assert not any(tmp_path.glob("2*")), "no run folder for a run that never started"


def test_bad_number_names_parameter_and_notebook(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"'n_points' for notebook 01_ok .*'abc' is not a number"):
        run_report(overrides={"n_points": "abc"}, notebooks_dir=FIXTURES, out=tmp_path)


# --------------------------------------------------------- type conversion


def _decl(kind: str, optional: bool = False) -> report._Declared:
    return report._Declared("x", kind, kind, optional, "None", "")


@pytest.mark.parametrize(
    ("yaml_text", "kind", "expected"),
    [
        ("x: 007", "str", "007"),  # YAML would read an int (octal 7)
        ("x: 1e3", "str", "1e3"),
        ("x: 2024-01-31", "str", "2024-01-31"),  # YAML would read a date
        ('x: "yes"', "str", "yes"),
        ("x: 010", "int", 10),  # base 10, not YAML 1.1 octal
        ("x: '12'", "int", 12),
        ("x: 3.0", "int", 3),
        ("x: 2", "float", 2.0),
        ("x: yes", "bool", True),
        ("x: off", "bool", False),
        ("x: 'no'", "bool", False),
        ("x: [a, b]", "list", ["a", "b"]),
        ("x: US", "", "US"),
    ],
)
def test_yaml_values_follow_declared_type(
    tmp_path: Path, yaml_text: str, kind: str, expected: Any
) -> None:
    p = tmp_path / "p.yaml"
    p.write_text(yaml_text + "\n", encoding="utf-8")
    value = load_params(p).common["x"]
    got = report._coerce(value, _decl(kind), "nb")
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("007", "str", "007"),
        ("True", "str", "True"),
        ("7", "int", 7),
        ("0.25", "float", 0.25),
        ("yes", "bool", True),
        ("false", "bool", False),
        ("[US, UK]", "list", ["US", "UK"]),
        ("7", "", "7"),  # unknown type: command-line text stays text
    ],
)
def test_cli_values_stay_text_unless_declared(text: str, kind: str, expected: Any) -> None:
    got = report._coerce(report._Value(text, "-p", text=text), _decl(kind), "nb")
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(("text", "kind"), [("maybe", "bool"), ("1.5", "int"), ("x", "float")])
def test_cli_values_that_do_not_fit_raise(text: str, kind: str) -> None:
    with pytest.raises(ReportError, match="Fix:"):
        report._coerce(report._Value(text, "-p", text=text), _decl(kind), "nb")


def test_yaml_bool_for_number_raises(tmp_path: Path) -> None:
    p = tmp_path / "p.yaml"
    p.write_text("x: yes\n", encoding="utf-8")
    with pytest.raises(ReportError, match="boolean"):
        report._coerce(load_params(p).common["x"], _decl("int"), "nb")


def test_empty_value_needs_optional(tmp_path: Path) -> None:
    p = tmp_path / "p.yaml"
    p.write_text("x:\n", encoding="utf-8")
    value = load_params(p).common["x"]
    assert report._coerce(value, _decl("int", optional=True), "nb") is None
    with pytest.raises(ReportError, match="empty"):
        report._coerce(value, _decl("int"), "nb")


def test_declared_parameters_reads_what_papermill_misses(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell(
            'data: str = "x"  # a "quoted" word in the comment\n'
            "limit: int | None = None\n"
            "alpha = 0.05\n"
            "sites: list[str] = ['US']",
            metadata={"tags": ["parameters"]},
        )
    ]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    got = report.declared_parameters(path)
    assert {k: (v.kind, v.optional) for k, v in got.items()} == {
        "data": ("str", False),
        "limit": ("int", True),
        "alpha": ("float", False),
        "sites": ("list", False),
    }


def test_select_notebooks_by_prefix_and_stem() -> None:
    nbs = report.discover_notebooks(FIXTURES)
    assert [p.stem for p in report.select_notebooks(nbs, "02,1")] == ["01_ok", "02_fails"]
    assert [p.stem for p in report.select_notebooks(nbs, ["01_ok"])] == ["01_ok"]
    assert report.select_notebooks(nbs, None) == nbs


def test_help_documents_every_flag() -> None:
    text = report._build_parser().format_help()
    for flag in (
        "--params",
        "--data",
        "--only",
        "--out",
        "--each",
        "-p",
        "--jobs",
        "--notebooks-dir",
    ):
        assert flag in text


def test_list_shows_notebooks_and_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert report.main(["--notebooks-dir", str(FIXTURES), "--list"]) == 0
    out = capsys.readouterr().out
    assert "01_ok" in out and "02_fails" in out
    assert 'code: str = "abc"' in out and "a yes/no parameter" in out


def test_parse_each_specs() -> None:
    got = report._parse_each(["site=US, UK", "tier=nano,micro,mid"])
    assert {k: [v.value for v in vals] for k, vals in got.items()} == {
        "site": ["US", "UK"],
        "tier": ["nano", "micro", "mid"],
    }
    for bad in ("site", "site=", "=US"):
        with pytest.raises(ReportError, match="key=value1,value2"):
            report._parse_each([bad])
