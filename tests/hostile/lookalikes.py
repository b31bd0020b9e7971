"""Small, seeded look-alikes of foreign exports, each with the ``data.yaml`` spec that
reads it (issue 9, item 6).

* :func:`facebook_ads` - an ad-platform export (ad_id, xyz_campaign_id,
  fb_campaign_id, age band, gender, interest, Impressions, Clicks, Spent,
  Total_Conversion, Approved_Conversion), with view-through rows where conversions
  exceed clicks, as in the public "sales conversion optimisation" data.
* :func:`video_scrape` - a scrape of videos with follower counts written "1.2M",
  "35.4K", plays and likes, where some videos were scraped twice with different counts.
* :func:`ad_log` - an ad log (creative, ad group, impressions, clicks, conversions,
  revenue, cost) with view-through conversions on some rows.
* :func:`seller_center_without_products` - a Seller Center folder written by
  :func:`helpers.synth.write_exports` with its product list removed.

Each returns a :class:`Lookalike`: the spec path, the truth the loader must recover
(rows, view-through rows, repeated ids, ...) and nothing else.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "FB_AGES",
    "Lookalike",
    "ad_log",
    "facebook_ads",
    "seller_center_without_products",
    "video_scrape",
]

FB_AGES: list[str] = ["30-34", "35-39", "40-44", "45-49"]


@dataclass
class Lookalike:
    """A generated foreign export and what loading it must give."""

    spec: Path
    rows: int
    truth: dict[str, Any] = field(default_factory=dict)


def _write(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def facebook_ads(folder: Path, *, n: int = 240, seed: int = 1) -> Lookalike:
    """A Facebook-ads style export and its spec (age band as an ordered tier)."""
    rng = np.random.default_rng(seed)
    interests = [10, 15, 16, 20, 28, 29]
    rows = []
    view_through = 0
    for i in range(n):
        campaign = (916, 936, 1178)[i % 3]
        age = FB_AGES[(i // 3) % 4]
        gender = "MF"[(i // 12) % 2]
        interest = interests[(i // 24) % len(interests)]
        impressions = int(rng.lognormal(9.5, 0.8)) + 100
        ctr = 0.012 * (1 + 0.15 * FB_AGES.index(age)) * (1.2 if gender == "F" else 1.0)
        clicks = int(rng.binomial(impressions, ctr))
        approved = int(rng.binomial(clicks, 0.08)) if clicks else 0
        if i % 17 == 5:  # view-through: conversions without (enough) clicks
            approved = clicks + 1 + int(rng.integers(0, 2))
            view_through += 1
        total = approved + int(rng.integers(0, 3))
        spent = round(clicks * float(rng.uniform(1.0, 1.8)), 2)
        rows.append(
            [
                708746 + i,
                campaign,
                103916 + i // 4,
                age,
                gender,
                interest,
                impressions,
                clicks,
                spent,
                total,
                approved,
            ]
        )
    header = [
        "ad_id",
        "xyz_campaign_id",
        "fb_campaign_id",
        "age",
        "gender",
        "interest",
        "Impressions",
        "Clicks",
        "Spent",
        "Total_Conversion",
        "Approved_Conversion",
    ]
    _write(folder / "KAG_conversion_data.csv", header, rows)
    spec = folder / "data.yaml"
    spec.write_text(
        "# Facebook-ads look-alike: one row per ad x age band x gender x interest.\n"
        "files: [KAG_conversion_data.csv]\n"
        "site: US\n"
        "currency: USD\n"
        "column_map:\n"
        "  ad_id: content_id\n"
        "  fb_campaign_id: creator_id\n"
        "  interest: category\n"
        "  age: tier\n"
        "  Approved_Conversion: orders\n"
        "  Total_Conversion: total_conversions\n"
        "  Spent: spend\n"
        "  xyz_campaign_id: campaign\n"
        f"tiers: {{labels: {FB_AGES}}}\n"
        "orders_above_clicks: keep\n",
        encoding="utf-8",
    )
    clicks = np.array([r[7] for r in rows])
    return Lookalike(
        spec,
        n,
        {
            "view_through": view_through,
            "impressions": int(sum(r[6] for r in rows)),
            "clicks": int(clicks.sum()),
            "orders": int(sum(r[10] for r in rows)),
            "spend": round(float(sum(r[8] for r in rows)), 2),
        },
    )


def _abbrev(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.1f}M"
    if n >= 10_000:
        return f"{n / 1e3:.1f}K"
    return str(n)


def video_scrape(
    folder: Path, *, n_videos: int = 40, n_repeats: int = 8, seed: int = 2
) -> Lookalike:
    """A video scrape: follower counts as "1.2M" / "35.4K", plays and likes, and
    ``n_repeats`` videos scraped a second time, later, with higher counts."""
    rng = np.random.default_rng(seed)
    followers_of = {
        f"@maker{k}": int(f) for k, f in enumerate([1_200_000, 35_400, 8_100, 512_300, 98_700])
    }
    authors = list(followers_of)
    rows = []
    kept_plays = 0
    for v in range(n_videos):
        author = authors[v % len(authors)]
        plays = int(rng.lognormal(10, 1)) + 50
        likes = int(plays * float(rng.uniform(0.02, 0.12)))
        row = [
            f"72{v:017d}",
            author,
            _abbrev(followers_of[author]),
            plays,
            likes,
            int(likes * 0.1),
            f"2026-10-{v % 28 + 1:02d}",
            "2026-11-01T08:00:00",
        ]
        rows.append(row)
        if v < n_repeats:
            later = list(row)
            later[3] = plays + int(rng.integers(100, 5000))
            later[4] = likes + int(rng.integers(1, 50))
            later[7] = "2026-11-08T08:00:00"
            rows.append(later)
            kept_plays += later[3]
        else:
            kept_plays += plays
    header = [
        "video_id",
        "author_name",
        "author_followers",
        "plays",
        "likes",
        "shares",
        "create_time",
        "scraped_at",
    ]
    _write(folder / "scrape.csv", header, rows)
    spec = folder / "data.yaml"
    spec.write_text(
        "# Video scrape look-alike: plays stand in for impressions, likes for clicks.\n"
        "files: [scrape.csv]\n"
        "site: US\n"
        "column_map:\n"
        "  video_id: content_id\n"
        "  author_name: creator_id\n"
        "  author_followers: followers\n"
        "  plays: impressions\n"
        "  likes: clicks\n"
        "  create_time: date\n",
        encoding="utf-8",
    )
    return Lookalike(
        spec,
        len(rows),
        {
            "videos": n_videos,
            "repeats": n_repeats,
            "kept_plays": kept_plays,
            "all_plays": int(sum(r[3] for r in rows)),
            "followers": followers_of,
        },
    )


def ad_log(folder: Path, *, n: int = 300, seed: int = 3) -> Lookalike:
    """An ad log with view-through conversions (conversions > clicks on ~6 % of rows).

    Writes ``data.yaml`` (``orders_above_clicks: keep``) and ``data_reject.yaml``
    (the default policy) next to ``ad_log.csv``.
    """
    rng = np.random.default_rng(seed)
    rows = []
    view_through = 0
    revenue_vt = 0.0
    for i in range(n):
        impressions = int(rng.integers(500, 20_000))
        clicks = int(rng.binomial(impressions, 0.015))
        conversions = int(rng.binomial(clicks, 0.05))
        if i % 16 == 3:  # seen, not clicked: a few clicks, more conversions
            clicks = int(rng.integers(0, 3))
            conversions = clicks + int(rng.integers(1, 3))
            view_through += 1
        revenue = round(conversions * float(rng.uniform(20, 60)), 2)
        if i % 16 == 3:
            revenue_vt += revenue
        cost = round(clicks * float(rng.uniform(0.3, 0.9)), 2)
        rows.append(
            [
                f"2026-11-{i % 30 + 1:02d}",
                f"camp_{i % 4}",
                f"adgroup_{i % 12}",
                f"cr_{i:04d}",
                impressions,
                clicks,
                conversions,
                f"${revenue:,.2f}",
                f"{cost:.2f}",
            ]
        )
    header = [
        "Date",
        "Campaign",
        "Ad group",
        "Creative ID",
        "Impressions",
        "Clicks",
        "Conversions",
        "Revenue",
        "Cost",
    ]
    _write(folder / "ad_log.csv", header, rows)
    body = (
        "files: [ad_log.csv]\n"
        "site: US\n"
        "column_map:\n"
        "  Creative ID: content_id\n"
        "  Ad group: creator_id\n"
        "  Conversions: orders\n"
        "  Revenue: gmv\n"
    )
    (folder / "data.yaml").write_text(body + "orders_above_clicks: keep\n", encoding="utf-8")
    (folder / "data_reject.yaml").write_text(body, encoding="utf-8")
    revenue_all = sum(float(r[7].strip("$").replace(",", "")) for r in rows)
    return Lookalike(
        folder / "data.yaml",
        n,
        {
            "view_through": view_through,
            "revenue": round(revenue_all, 2),
            "revenue_view_through": round(revenue_vt, 2),
            "reject_spec": folder / "data_reject.yaml",
        },
    )


def seller_center_without_products(folder: Path, *, n_rows: int = 600, seed: int = 4) -> Lookalike:
    """A Seller Center folder (helpers.synth's writer, flawed rows included) without the
    product export, and a spec naming the video and creator files."""
    from helpers import synth

    result = synth.make_affiliate_data(n_rows, seed=seed)
    paths = synth.write_exports(result, folder, language="en", fmt="csv", flawed_rows=True)
    paths["products"].unlink()
    spec = folder / "data.yaml"
    spec.write_text(
        "# Seller Center export without the product list.\n"
        "files:\n"
        f"  - {paths['videos'].name}\n"
        f"  - {{path: {paths['creators'].name}, role: creators}}\n"
        'date_format: "%m/%d/%Y"\n',
        encoding="utf-8",
    )
    flawed = dict(synth.FLAWED_ROWS)
    return Lookalike(
        spec,
        n_rows + sum(flawed.values()),
        {"kept": n_rows, "flawed": flawed, "frame": result.data},
    )
