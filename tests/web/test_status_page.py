"""The desk's status page, rendered by a real headless Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

import shutil
import struct
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.ledger import Ledger
from tests.daemon.conftest import Served, serve, settings_for
from tests.daemon.ledger_fill import ROUTE, fill, ticket

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium on PATH: `make test` installs Debian's when run as root "
    "(apt-get install chromium); install it to run the browser tests",
)


@pytest.fixture
def page_served(tmp_path: Path) -> Iterator[Served]:
    with Ledger.open(f"sqlite:///{tmp_path / 'bridge.db'}") as ledger:
        fill(ledger, 40, datetime.now(UTC) - timedelta(days=20))
        ledger.quarantine.add(ROUTE, "sidumas", "SDM-X", "no title", "topik", "{}")
        yield from serve(settings_for(tmp_path, user="desk", password="pw-desk"), ledger)


@pytest.fixture
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def _ink(png: bytes) -> float:
    """The share of pixels that are not white in an 8-bit RGB(A) PNG (Chromium's screenshots)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", png[16:26])
    assert depth == 8 and colour in (2, 6)
    chunks, pos = [], 8
    while pos < len(png):
        (size,) = struct.unpack(">I", png[pos : pos + 4])
        if png[pos + 4 : pos + 8] == b"IDAT":
            chunks.append(png[pos + 8 : pos + 8 + size])
        pos += size + 12
    raw = zlib.decompress(b"".join(chunks))
    channels = 3 if colour == 2 else 4
    stride = width * channels + 1
    previous = bytearray(stride - 1)
    inked = 0
    for row in range(height):
        kind, line = raw[row * stride], bytearray(raw[row * stride + 1 : (row + 1) * stride])
        for i in range(len(line)):  # undo the PNG row filter
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + best) & 255
        inked += sum(1 for x in range(0, len(line), channels) if min(line[x : x + 3]) < 200)
        previous = line
    return inked / (width * height)


def test_the_page_renders_routes_set_aside_and_deadlines_in_english(
    page_served: Served, browser: object, tmp_path: Path
) -> None:
    """Chromium shows the route, the set-aside field with what to do, and overdue tickets."""
    context = browser.new_context(  # type: ignore[attr-defined]
        http_credentials={"username": "desk", "password": "pw-desk"},
        viewport={"width": 1000, "height": 900},
    )
    page = context.new_page()
    answer = page.goto(page_served.url + "/status?lang=en")
    assert answer is not None and answer.status == 200
    headings = page.locator("h2").all_inner_texts()
    assert "Routes" in headings and "Complaints near or past their deadline" in headings
    assert ROUTE in page.locator("table").first.inner_text()
    assert "bridge quarantine retry" in page.inner_text("body")
    assert page.get_by_text("OVERDUE").first.is_visible()
    assert ticket(1) in page.inner_text("body")
    shot = page.screenshot(full_page=False, path=str(tmp_path / "status.png"))
    blank = context.new_page()
    blank.set_content("<html><body></body></html>")
    assert _ink(blank.screenshot()) < 0.001
    assert _ink(shot) > 0.01, "the screenshot is (almost) blank: the page did not render"


def test_the_page_speaks_bahasa_indonesia_when_the_browser_asks(
    page_served: Served, browser: object
) -> None:
    """With Accept-Language id-ID the page is in Bahasa Indonesia; its link switches back."""
    context = browser.new_context(  # type: ignore[attr-defined]
        http_credentials={"username": "desk", "password": "pw-desk"}, locale="id-ID"
    )
    page = context.new_page()
    page.goto(page_served.url + "/status")
    assert page.locator("html").get_attribute("lang") == "id"
    assert "Pengaduan yang mendekati atau melewati tenggat" in page.inner_text("body")
    page.get_by_role("link", name="English").click()
    assert page.locator("h1").inner_text() == "Complaint bridge status"


def test_the_page_asks_for_a_login_when_basic_auth_is_set(
    page_served: Served, browser: object
) -> None:
    """Without credentials the browser's request gets a 401 challenge, and no content."""
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    # Headless Chromium aborts a navigation that meets a login prompt it cannot show
    # (net::ERR_INVALID_AUTH_CREDENTIALS): the failed navigation proves no page was shown.
    with pytest.raises(playwright.Error, match="AUTH"):
        page.goto(page_served.url + "/status")
    answer = context.request.get(page_served.url + "/status")
    assert answer.status == 401 and "Basic" in answer.headers["www-authenticate"]
    assert ticket(1) not in answer.text()
