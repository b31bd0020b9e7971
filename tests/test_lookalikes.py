"""Look-alikes of foreign exports load through a data spec (issue 9, item 6).

Each export is generated small and seeded (tests/hostile/lookalikes.py) with a
``data.yaml`` next to it; the tests load the spec with :func:`helpers.load.load_dataset`
and check the columns (nothing invented, extra columns kept) and the row accounting
against the generator's truth. The ``notebook`` tests run the report on the Facebook-
ads look-alike and on a Seller Center folder without its product list.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hostile.lookalikes import (
    FB_AGES,
    ad_log,
    facebook_ads,
    seller_center_without_products,
    video_scrape,
)


def _load(spec: Path, **options: Any) -> Any:
    from helpers.load import load_dataset

    return load_dataset(spec, **options)


def _accounting(res: Any, read: int, kept: int) -> None:
    s = res.summary
    assert (s.rows_read, s.rows_kept, s.rows_rejected) == (read, kept, read - kept)
    assert len(res.data) == kept and len(res.rejected) == read - kept


def _columns(res: Any, present: set[str], absent: set[str]) -> None:
    cols = set(res.data.columns)
    assert present <= cols, f"missing {sorted(present - cols)}; have {sorted(cols)}"
    assert not (absent & cols), f"invented columns {sorted(absent & cols)}"


def test_facebook_ads_through_spec(tmp_path: Path) -> None:
    fb = facebook_ads(tmp_path)
    res = _load(fb.spec)
    _accounting(res, fb.rows, fb.rows)
    assert fb.truth["view_through"] > 0
    assert res.summary.orders_above_clicks_kept == fb.truth["view_through"]
    assert any("orders" in str(n) and "click" in str(n) for n in res.summary.notes)
    _columns(
        res,
        {"content_id", "creator_id", "category", "tier", "impressions", "clicks", "orders"}
        | {"gender", "total_conversions", "spend", "campaign", "source_file", "source_row"},
        {"gmv", "commission_rate", "followers", "date"},  # refunds: 0.0 by contract
    )
    tier = res.data["tier"].dtype
    assert (
        isinstance(tier, pd.CategoricalDtype) and tier.ordered and list(tier.categories) == FB_AGES
    )
    d = res.data
    assert int(d["impressions"].sum()) == fb.truth["impressions"]
    assert int(d["clicks"].sum()) == fb.truth["clicks"]
    assert int(d["orders"].sum()) == fb.truth["orders"]
    assert math.isclose(float(d["spend"].sum()), fb.truth["spend"], rel_tol=1e-9)
    assert set(d["gender"].astype(str)) == {"M", "F"}
    assert d["source_row"].tolist() == list(range(2, fb.rows + 2))


def test_video_scrape_through_spec(tmp_path: Path) -> None:
    vs = video_scrape(tmp_path)
    res = _load(vs.spec)
    _accounting(res, vs.rows, vs.truth["videos"])
    reasons = res.rejected["reason"].astype(str)
    assert reasons.str.startswith("repeated content id").all(), reasons.tolist()
    # The later scrape (more plays) is kept; plays are not double counted.
    assert int(res.data["impressions"].sum()) == vs.truth["kept_plays"]
    assert int(res.data["impressions"].sum()) < vs.truth["all_plays"]
    followers = res.data.groupby("creator_id", observed=True)["followers"].first()
    assert {k: int(v) for k, v in followers.items()} == vs.truth["followers"]
    _columns(res, {"tier", "shares", "scraped_at", "date"}, {"gmv", "commission_rate", "category"})


def test_ad_log_view_through_keep_and_reject(tmp_path: Path) -> None:
    log = ad_log(tmp_path)
    vt = log.truth["view_through"]
    assert 0.04 < vt / log.rows < 0.08
    kept = _load(log.spec)
    _accounting(kept, log.rows, log.rows)
    assert kept.summary.orders_above_clicks_kept == vt
    assert math.isclose(float(kept.data["gmv"].sum()), log.truth["revenue"], rel_tol=1e-9)
    _columns(kept, {"cost", "campaign", "content_id", "creator_id"}, {"commission_rate", "tier"})

    rejected = _load(log.truth["reject_spec"])
    _accounting(rejected, log.rows, log.rows - vt)
    assert rejected.rejected["reason"].astype(str).str.startswith("orders > clicks").all()
    lost = log.truth["revenue"] - float(rejected.data["gmv"].sum())
    assert math.isclose(lost, log.truth["revenue_view_through"], rel_tol=1e-6)


def test_seller_center_without_products_through_spec(tmp_path: Path) -> None:
    sc = seller_center_without_products(tmp_path)
    res = _load(sc.spec)
    _accounting(res, sc.rows, sc.truth["kept"])
    _columns(
        res,
        {"site", "creator_id", "followers", "tier", "impressions", "clicks", "orders", "gmv"},
        {"category", "commission_rate"},
    )
    reasons = res.rejected["reason"].astype(str)
    for kind, n in sc.truth["flawed"].items():
        assert int(reasons.str.contains(kind, regex=False).sum()) == n, (kind, reasons.tolist())
    frame = sc.truth["frame"]
    assert int(res.data["impressions"].sum()) == int(frame["impressions"].sum())
    assert float(res.data["gmv"].sum()) == pytest.approx(float(frame["gmv"].sum()), rel=1e-9)


# ----------------------------------------------------------------- the report


def _status(nb: Any) -> tuple[str, str]:
    text = " ".join(
        str(getattr(nb, k, "") or "") for k in ("message", "skip_reason", "reason", "error")
    )
    return nb.status, text


def _run(spec: Path, out: Path, only: str, **overrides: Any) -> dict[str, tuple[str, str]]:
    from helpers.report import run_report

    result = run_report(
        None, data=str(spec), out=out, only=only, overrides=overrides, jobs=1, progress=False
    )
    assert result.index.exists()
    return {nb.notebook[:2]: _status(nb) for r in result.reports for nb in r.notebooks}


@pytest.mark.notebook
def test_facebook_ads_report(tmp_path: Path) -> None:
    fb = facebook_ads(tmp_path / "data")
    status = _run(
        fb.spec, tmp_path / "out", "01,02,04", formula="C(tier) + C(gender) + C(category)"
    )
    assert {k: s for k, (s, _) in status.items()} == {"01": "ok", "02": "ok", "04": "ok"}, status


@pytest.mark.notebook
def test_seller_center_without_products_report(tmp_path: Path) -> None:
    sc = seller_center_without_products(tmp_path / "data")
    status = _run(sc.spec, tmp_path / "out", "01,02,03,04,05")
    for nb in ("01", "02", "04"):
        assert status[nb][0] == "ok", status
    for nb in ("03", "05"):
        state, text = status[nb]
        assert state == "skipped", status
        assert "category" in text or "commission_rate" in text, status
