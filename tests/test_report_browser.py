"""The HTML report and backtest in a real headless Chromium (Debian's ``chromium``).

Each page is loaded from a file, as a user opens it: no console error, no request but
the file itself (the page is self-contained), every chart drawn with as many visible
marks as its figures call for (counted from the JSON report, not from the page), and
printable (Chromium prints it to a PDF). A screenshot is written as a test artefact;
with ``CSRULES_DOCS_SCREENSHOT=1`` it also replaces docs/images/report.png.

Skipped with the reason when Chromium is not installed; under ``CI=true`` that is a
failure (``.ci/run`` installs it).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import Browser, chromium, chromium_path, screenshot
from tests.conftest import REFERENCE, REPO, in_ci, run_cli

AS_OF = "2026-11-01T00:00:00Z"
RUNS = ("2026-10-25T00:00:00Z", "2026-10-28T00:00:00Z", "2026-10-30T06:00:00Z", AS_OF)
DOCS_IMAGE = REPO / "docs" / "images" / "report.png"

COUNT_MARKS = """JSON.stringify([...document.querySelectorAll('figure.chart')].map(f => ({
  chart: f.dataset.chart,
  declared: Number(f.dataset.marks),
  drawn: [...f.querySelectorAll('.mark')].filter(e => {
    const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; }).length,
})))"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    binary = chromium_path()
    if binary is None:
        reason = "Chromium is not installed (apt-get install chromium): the HTML report is not checked in a browser"
        if in_ci():
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    with chromium(binary) as opened:
        yield opened


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The reference playbooks after four applied runs: the HTML report and its JSON, and
    a backtest of the sample history (HTML and JSON)."""
    root = tmp_path_factory.mktemp("browser") / "playbooks"
    shutil.copytree(
        REFERENCE, root, ignore=shutil.ignore_patterns(".csrules", "out", "__pycache__")
    )
    for as_of in RUNS:
        assert run_cli("apply", "--playbooks", str(root), "--as-of", as_of).exit_code == 0
    html = root.parent / "report.html"
    args = ("report", "--playbooks", str(root), "--as-of", AS_OF)
    assert run_cli(*args, "--format", "html", "--output", str(html)).exit_code == 0
    report = run_cli(*args, "--format", "json").json()
    history = root.parent / "history"
    subprocess.run(
        [
            sys.executable,
            str(REFERENCE / "data" / "history.py"),
            "-o",
            str(history),
            "--accounts",
            "120",
        ],
        check=True,
        capture_output=True,
    )
    backtest_html = root.parent / "backtest.html"
    bargs = ("backtest", "--playbooks", str(root), "--history", str(history), "--bootstrap", "50")
    assert run_cli(*bargs, "--format", "html", "--output", str(backtest_html)).exit_code == 0
    backtest = run_cli(*bargs, "--format", "json").json()
    return {"report": (html, report), "backtest": (backtest_html, backtest)}


def _positive(values: list[Any]) -> int:
    return sum(1 for v in values if v is not None and v > 0)


def expected_report_marks(report: dict[str, Any]) -> dict[str, int]:
    """How many marks each chart must draw, from the JSON figures."""
    p = report["portfolio"]
    state = report["state"]
    timing = [t for t in state["time_to_action"] if t["cases_opened"]]
    total = "first_true_to_first_delivery"
    return {
        "bands-by-tier": _positive([b["accounts"] for t in p["tiers"] for b in t["bands"]]),
        "arr-by-tier": _positive([t["arr"] for t in p["tiers"]]),
        "barrier-mix": _positive(
            [row[b] for row in p["barriers_by_tier"] for b in row if b != "tier"]
        ),
        "score-distribution": _positive([b["accounts"] for b in p["scores"]["bins"]]),
        "renewals": _positive([b["arr"] for b in p["renewals"]["bands"]]),
        "case-ageing": _positive(
            [
                b[k]
                for b in state["cases"]["by_age"]
                for k in ("within_sla", "past_sla", "no_sla", "acknowledged")
            ]
        ),
        "time-to-action": sum(
            (t[total]["p50_hours"] is not None) + (t[total]["p90_hours"] is not None)
            for t in timing
        ),
        "score-trend": sum(
            (r["mean"] is not None) + (r["p50"] is not None) + (r["p10"] is not None)
            for r in state["score_trend"]
        ),
    }


def expected_backtest_marks(result: dict[str, Any]) -> dict[str, int]:
    return {
        "churn-by-band": _positive([b["churn_rate"] for b in result["bands"]]),
        "lift-by-band": _positive([b["lift"] for b in result["bands"]]),
        "roc": len(result["roc"]),
        "measure-auc": _positive([m["auc"] for m in result["measures"]]),
        "measure-drop": _positive([m["drop"] for m in result["measures"]]),
        "calibration": _positive([c["churn_rate"] for c in result["calibration"]]),
    }


def _load(browser: Browser, path: Path) -> list[dict[str, Any]]:
    browser.navigate(path.as_uri())
    charts: list[dict[str, Any]] = json.loads(browser.evaluate(COUNT_MARKS))
    assert browser.errors() == []
    assert set(browser.requests()) == {path.as_uri()}, "the page loaded something besides itself"
    return charts


def test_the_html_report_renders_offline_with_every_chart_mark(
    browser: Browser, pages: dict[str, Any], tmp_path: Path
) -> None:
    html, report = pages["report"]
    charts = _load(browser, html)
    expected = expected_report_marks(report)
    assert {c["chart"]: c["drawn"] for c in charts} == expected
    assert all(c["drawn"] == c["declared"] for c in charts)
    assert all(n > 0 for n in expected.values())  # the fixture exercises every chart
    text = browser.evaluate("document.body.innerText")
    assert "38 of 87 accounts of the dedicated tier 'high_touch' have no csm" in text
    assert f"{100 * report['revenue']['nrr']:.1f}%" in text
    shot = tmp_path / "report.png"
    screenshot(browser, shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"\nscreenshot: {shot}")
    if os.environ.get("CSRULES_DOCS_SCREENSHOT") == "1":
        DOCS_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_IMAGE)


def test_the_html_report_prints(browser: Browser, pages: dict[str, Any]) -> None:
    html, _ = pages["report"]
    browser.navigate(html.as_uri())
    pdf = base64.b64decode(browser.call("Page.printToPDF", printBackground=True)["data"])
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page>>") + pdf.count(b"/Type/Page") >= 1


def test_the_html_backtest_renders_offline_with_every_chart_mark(
    browser: Browser, pages: dict[str, Any], tmp_path: Path
) -> None:
    html, result = pages["backtest"]
    charts = _load(browser, html)
    expected = expected_backtest_marks(result)
    assert {c["chart"]: c["drawn"] for c in charts} == expected
    assert all(c["drawn"] == c["declared"] for c in charts)
    screenshot(browser, tmp_path / "backtest.png")
