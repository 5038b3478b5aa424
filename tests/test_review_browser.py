"""The review page in a real headless browser: Debian's chromium driven by Playwright (which
downloads no browser this way). Log in, search (as you type, with htmx, and by the form
without JavaScript), open a transcript, add a note and a tag,
export; the page is screenshotted and no console error is allowed."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_server import ReviewProcess, started
from review_support import ADMIN_TOKEN, CHRIS_TOKEN

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed: pip install -e '.[dev]'"
)
if shutil.which(CHROMIUM) is None:
    pytest.skip(
        f"no {CHROMIUM}: the browser tests need Debian's chromium (`make test` installs it "
        "when run as root; otherwise `sudo apt-get install -y chromium`)",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewProcess]:
    process = started(tmp_path_factory.mktemp("review-browser"))
    yield process
    process.stop()


@pytest.fixture(scope="module")
def browser(server: ReviewProcess) -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


def test_a_coach_logs_in_searches_reads_annotates_and_exports(
    server: ReviewProcess, browser: object, tmp_path: Path
) -> None:
    context = browser.new_context(accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(server.base + "/")
        assert page.url.endswith("/login")
        page.fill("input[name=token]", CHRIS_TOKEN)
        page.click("form.login button[type=submit]")
        page.wait_for_load_state()
        assert page.url == server.base + "/", page.content()
        assert page.locator("table.inbox a", has_text="Alice").count() == 1

        # Search as you type: the results change in place (the page is not reloaded: what
        # this page's window held is still there) and the address keeps the search.
        page.evaluate("window.stillThisPage = true")
        page.locator("input[name=q]").press_sequentially("lanternfish", delay=40)
        page.locator(".snippet mark").first.wait_for()
        assert page.locator(".snippet mark").first.inner_text() == "lanternfish"
        assert page.evaluate("window.stillThisPage") is True
        page.wait_for_url("**/?q=lanternfish*")
        assert "q=lanternfish" in (page.get_attribute("text=Export as CSV", "href") or "")
        assert page.input_value("form.save-filter input[name=q]") == "lanternfish"
        page.fill("input[name=q]", "nothingsaidthis")
        page.locator("#results .empty").wait_for()
        assert page.locator("table.inbox").count() == 0
        assert page.evaluate("window.stillThisPage") is True

        page.fill("input[name=q]", "lanternfish")
        page.click("form.filters button[type=submit]")
        page.wait_for_load_state()
        marks = page.locator(".snippet mark")
        assert marks.count() >= 1 and marks.first.inner_text() == "lanternfish"
        assert "secret" not in page.content()  # another conversation's words

        page.locator("table.inbox a", has_text="Alice").click()
        page.wait_for_load_state()
        assert page.locator("section.summary").inner_text().count("My corrected summary") == 1
        assert page.locator("svg.asymmetry rect.theirs").count() == 5
        assert page.locator(".line.safety").count() == 1
        # What the coachee typed is text on the page, not markup that ran.
        assert page.locator("main script, main img").count() == 0
        assert (
            "<script>alert('x')</script>"
            in page.locator(".line.coachee .said").all_inner_texts()[-2]
        )

        page.fill("textarea[name=text]", "Named the gap; ask about allies next time")
        page.click("form.note-form button[type=submit]")
        page.wait_for_load_state()
        page.check("input[name=tag][value='found a coalition']")
        page.click("form.tags button[type=submit]")
        page.wait_for_load_state()
        assert (
            page.locator(".notes .note").inner_text() == "Named the gap; ask about allies next time"
        )
        assert page.locator("input[name=tag][value='found a coalition']").is_checked()

        shot = tmp_path / "conversation.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        assert page.locator("svg.asymmetry").is_visible()
        assert page.locator(".notes .note").is_visible()

        with page.expect_download() as download:
            page.click("text=Export as Markdown")
        saved = tmp_path / "conversation.md"
        download.value.save_as(saved)
        exported = saved.read_text()
        assert "Named the gap" in exported and "never shown to the coachee" in exported

        # A note on one message: its link opens the form pinned to it; the note shows under it.
        page.locator(".line.coachee .note-on").first.click()
        page.wait_for_load_state()
        page.fill("textarea[name=text]", "This is where she names it")
        page.click("form.note-form button[type=submit]")
        page.wait_for_load_state()
        assert (
            page.locator(".line.coachee .message-note")
            .first.inner_text()
            .endswith("This is where she names it")
        )
        page.locator(".line.coachee form.flag button").first.click()
        page.wait_for_load_state()
        assert page.locator(".line.is-flagged").count() == 1
        page.click("form.later button[type=submit]")
        page.wait_for_load_state()
        assert "Saved for later." in page.locator("section.review").inner_text()
        with page.expect_download() as as_json:
            page.click("text=Export as JSON")
        data = json.loads(Path(as_json.value.path()).read_text())
        texts = {n["text"] for n in data["private_notes"]["notes"]}
        assert texts == {"Named the gap; ask about allies next time", "This is where she names it"}

        page.click("header >> text=Your notes")
        page.wait_for_load_state()
        assert page.locator(".all-notes .note").count() == 2

        page.goto(server.base + "/?reviewed=no")
        page.fill("form.save-filter input[name=name]", "Not reviewed")
        page.click("form.save-filter button[type=submit]")
        page.wait_for_load_state()
        page.goto(server.base + "/")
        page.click(".saved >> text=Not reviewed")
        page.wait_for_load_state()
        assert page.url.endswith("/?reviewed=no")

        page.goto(server.base + "/")
        with page.expect_download() as listed:
            page.click("text=Export as CSV")
        rows = Path(listed.value.path()).read_text().strip().splitlines()
        assert len(rows) == 2 and "found a coalition" in rows[1]

        page.click("header button[type=submit]")  # log out
        page.wait_for_url(server.base + "/login")
        assert problems == [], problems
    finally:
        context.close()


def test_without_javascript_the_search_form_still_submits(
    server: ReviewProcess, browser: object
) -> None:
    context = browser.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        page.goto(server.base + "/login")
        page.fill("input[name=token]", CHRIS_TOKEN)
        page.click("form.login button[type=submit]")
        page.wait_for_url(server.base + "/")
        page.fill("input[name=q]", "lanternfish")
        page.press("input[name=q]", "Enter")
        page.wait_for_url("**/?q=lanternfish*")
        assert page.locator(".snippet mark").first.inner_text() == "lanternfish"
        assert page.locator("header .who").inner_text() == "Signed in as Chris Lee"
    finally:
        context.close()


def test_an_admin_logs_in_to_the_figures_and_sees_no_conversation(
    server: ReviewProcess, browser: object
) -> None:
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        page.goto(server.base + "/")
        page.fill("input[name=token]", ADMIN_TOKEN)
        page.click("form.login button[type=submit]")
        page.wait_for_url(server.base + "/admin")
        assert page.locator("section.dialogues td", has_text="diagnose").count() == 1
        assert page.locator("section.safety td", has_text="bullying").count() == 1
        text = page.locator("main").inner_text()
        assert "lanternfish" not in text and "Alice" not in text
        page.goto(server.base + "/c/1")
        assert page.locator("h1").inner_text() == "404"
        assert problems == [page_error for page_error in problems if "404" in page_error]
    finally:
        context.close()
