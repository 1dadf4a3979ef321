"""The promotion board opened in a real browser: Debian's Chromium, headless, driven by Playwright's Python
package through `executable_path` (Playwright's own browser download is not used). After a small real flow on
the emulator: no console error, the matrix cells hold the sha12 and versions that run, a blocked gate shows
its reason, the SVG has one mark per ledger record; a screenshot goes to dist/board.png.

Without a browser the test is skipped with the line that installs one, except under CI=true: CI never skips.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from helpers import REPO

INSTALL = "apt-get install chromium (Debian/Ubuntu; as root, or with sudo) and pip install -e '.[dev]'"


def _chromium() -> str:
    found = os.environ.get("PIPELINE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.sync_api  # noqa: F401 (is it installed?)
    except ImportError:
        found = None
    if found:
        return found
    message = f"no Chromium/Playwright for the board's browser test: {INSTALL}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: CI never skips this test)")
    pytest.skip(message)


def test_the_board_in_chromium(world, built, built2):
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    world.stage(built)
    world.ok("promote", "--to", "dev")
    world.ok("promote", "--to", "test")
    digest2 = world.stage(built2)
    world.ok("promote", "--to", "dev", "--artifact", digest2)
    world.edit("test.yml", """\
        account: "222222222222"
        gates: {requires: dev, freeze: ["Mon 00:00-Thu 00:00", "Thu 00:00-Mon 00:00"]}
        """)
    page_path = world.envdir.parent / "dist" / "board.html"
    world.ok("board", "--out", str(page_path))
    versions = {env: world.live(env, account)["Version"] for env, account in
                (("dev", "111111111111"), ("test", "222222222222"))}
    records = {env: len(world.ledger(env)) for env in ("dev", "test", "prod")}
    problems: list[str] = []
    shot = REPO / "dist" / "board.png"
    shot.parent.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.goto(Path(page_path).as_uri())
            cell = {env: page.locator(f'td.cell[data-env="{env}"]') for env in ("dev", "test", "prod")}
            assert cell["dev"].locator(".sha").inner_text() == digest2[:12]
            assert cell["test"].locator(".sha").inner_text() == built[1].sha256[:12]
            assert cell["dev"].locator(".version").inner_text() == versions["dev"]
            assert cell["test"].locator(".version").inner_text() == versions["test"]
            assert cell["prod"].locator(".state").inner_text() == "no release yet"
            gate = page.locator('section.stage[data-env="test"] li.gate[data-gate="freeze"]')
            assert gate.is_visible() and "frozen until" in gate.inner_text()
            assert "blocked by freeze" in page.locator('section.stage[data-env="test"] .next-text').inner_text()
            prod = page.locator('section.stage[data-env="prod"]')
            assert "waiting for approval" in prod.inner_text()
            assert prod.locator('li.gate[data-gate="approval"]').count() == 1
            for env, count in records.items():
                assert page.locator(f'svg.timeline[data-env="{env}"] g.mark').count() == count
                assert page.locator(f'table.records[data-env="{env}"] tbody tr').count() == max(count, 1)
            title = page.locator('svg.timeline[data-env="dev"] g.mark').nth(1).locator("title").text_content()
            assert title and "took " in title and "by pipeline-promoter/" in title
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert problems == []
    assert shot.stat().st_size > 10_000
