"""The review page over HTTP (Starlette's test client): one access check on every route, consent
on every read, CSRF on every form, security headers, and 4xx (never 500) for bad requests."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from hashlib import sha256
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from review_support import (
    ADMIN_TOKEN,
    ALICE,
    CHRIS_TOKEN,
    DANA_TOKEN,
    NOW,
    SLOTS,
    Clock,
    Seeded,
    conversation,
    csrf_of,
    seed,
)
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.testclient import TestClient

from bot.loader import Catalog
from bot.review import auth
from bot.review.access import PUBLIC, protect, unchecked_routes
from bot.review.app import create_app
from bot.review.web import HERE, HTMX
from storage.sharing import hash_token, token_lookup
from storage.store import Store


@pytest.fixture
def seeded(store: Store) -> Seeded:
    return seed(store)


@pytest.fixture
def clock() -> Clock:  # type: ignore[override]
    return Clock()


@pytest.fixture
def app(store: Store, catalog: Catalog, seeded: Seeded, clock: Clock) -> Iterator[Starlette]:
    auth.forget_failures()
    yield create_app(store, catalog, clock=clock, session_hours=8)
    auth.forget_failures()


def login(client: TestClient, token: str = CHRIS_TOKEN) -> int:
    page = client.get("/login")
    answer = client.post("/login", data={"token": token, "csrf_token": csrf_of(page.text)})
    return answer.status_code


def client_of(app: Starlette) -> TestClient:
    """A browser without JavaScript: it keeps cookies and does not follow redirects."""
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def chris(app: Starlette) -> TestClient:
    client = client_of(app)
    assert login(client) == 303
    return client


def form_token(client: TestClient, conversation_id: int) -> str:
    return csrf_of(client.get(f"/c/{conversation_id}").text)


# == one access check, failing closed ===================================================


def example_urls(app: Starlette, conversation_id: int = 1) -> list[tuple[str, str]]:
    """(method, url) for every route of the app but the public ones, with ids filled in."""
    found = []
    for route in app.routes:
        if not isinstance(route, Route) or route.name in PUBLIC:
            continue
        values = {arg: conversation_id for arg in route.param_convertors}
        url = app.url_path_for(route.name, **values)
        for method in sorted((route.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, str(url)))
    return found


def test_every_route_but_login_refuses_someone_not_signed_in(
    app: Starlette, seeded: Seeded
) -> None:
    urls = example_urls(app, seeded.shared)
    assert len(urls) >= 8, urls  # the inbox, CSV, a conversation, its export, three forms…
    client = client_of(app)
    for method, url in urls:
        answer = client.request(method, url)
        assert answer.status_code in (303, 403), (method, url, answer.status_code)
        if answer.status_code == 303:
            assert answer.headers["Location"].endswith("/login")
        assert "library" not in answer.text, (method, url)


def test_the_public_routes_are_the_login_page_and_the_static_files_only(app: Starlette) -> None:
    public = {getattr(r, "name", None) for r in app.routes} & PUBLIC
    assert public == {"auth.login", "static"}
    (static,) = [r for r in app.routes if isinstance(r, Mount)]
    assert static.name == "static", "a mounted app but the static files would dodge the check"


def test_every_route_but_the_public_ones_goes_through_the_access_check(app: Starlette) -> None:
    assert unchecked_routes(app.routes) == []


def test_a_route_added_without_the_access_check_is_caught(app: Starlette) -> None:
    async def leaky(request: object) -> None:
        raise AssertionError("never called")

    routes = [*app.routes, Route("/leak/{conversation_id:int}", leaky, name="review.leak")]
    assert [getattr(r, "name", None) for r in unchecked_routes(routes)] == ["review.leak"]


def test_every_conversation_route_answers_404_for_one_not_shared_with_this_coach(
    chris: TestClient, app: Starlette, seeded: Seeded
) -> None:
    token = form_token(chris, seeded.shared)
    for conversation_id in (seeded.private, seeded.bob_shared, 999, 2**70):
        for method, url in example_urls(app, conversation_id):
            if "/c/" not in url:
                continue
            data = {"csrf_token": token, "text": "n", "reviewed": "yes", "tag": "follow up",
                    "later": "yes", "flagged": "yes", "seq": "1"}  # fmt: skip
            answer = chris.request(method, url, data=data)
            assert answer.status_code == 404, (method, url, answer.status_code)
    assert Store.notes(chris.app.state.store, seeded.chris, seeded.private) == []


# == logging in =========================================================================


def test_a_wrong_or_empty_token_is_refused_and_each_token_signs_in_its_own_coach(
    app: Starlette,
) -> None:
    client = client_of(app)
    assert login(client, token="wrong") == 401
    assert login(client, token="") == 401
    assert login(client, token=CHRIS_TOKEN[:-1]) == 401
    assert client.get("/").status_code == 303
    assert login(client, token=DANA_TOKEN) == 303
    assert "Signed in as Dana" in client.get("/").text
    assert login(client_of(app), token=CHRIS_TOKEN) == 303


def test_login_is_rate_limited(app: Starlette) -> None:
    client = client_of(app)
    for _ in range(auth.MAX_FAILURES):
        assert login(client, token="wrong") == 401
    assert login(client) == 429, "even the right token waits once the limit is reached"


def test_a_rotated_token_ends_the_session_and_no_longer_logs_in(
    chris: TestClient, store: Store, seeded: Seeded, app: Starlette
) -> None:
    assert chris.get("/").status_code == 200
    with store.transaction():
        new = "new-token-abcdefghijkl"
        store.set_coach_token(seeded.chris, hash_token(new), "2026-11-24", token_lookup(new))
    assert chris.get("/").status_code == 303
    assert login(client_of(app)) == 401
    assert login(client_of(app), token="new-token-abcdefghijkl") == 303


def test_a_session_expires(chris: TestClient, clock: Clock) -> None:
    import datetime as dt

    clock.now += dt.timedelta(hours=7, minutes=59)
    assert chris.get("/").status_code == 200
    clock.now += dt.timedelta(minutes=2)
    assert chris.get("/").status_code == 303


def test_logout_ends_the_session(chris: TestClient, seeded: Seeded) -> None:
    token = form_token(chris, seeded.shared)
    assert chris.post("/logout", data={"csrf_token": token}).status_code == 303
    assert chris.get("/").status_code == 303


def test_a_removed_coach_is_signed_out(chris: TestClient, store: Store, seeded: Seeded) -> None:
    with store.transaction():
        store.remove_coach(seeded.chris)
    assert chris.get("/").status_code == 303


# == consent ============================================================================


def test_the_inbox_lists_what_is_shared_with_this_coach_only(
    chris: TestClient, seeded: Seeded
) -> None:
    page = chris.get("/").text
    assert f"/c/{seeded.shared}" in page
    assert f"/c/{seeded.private}" not in page
    assert f"/c/{seeded.bob_shared}" not in page
    assert "Alice" in page and "libraries team" in page


def test_unshare_takes_it_away_on_the_next_request(
    chris: TestClient, store: Store, seeded: Seeded
) -> None:
    assert chris.get(f"/c/{seeded.shared}").status_code == 200
    with store.transaction():
        store.revoke_shares(ALICE, None, NOW)
    assert f"/c/{seeded.shared}" not in chris.get("/").text
    assert chris.get(f"/c/{seeded.shared}").status_code == 404
    assert chris.get(f"/c/{seeded.shared}/export.md").status_code == 404
    found = chris.get("/?q=lanternfish").text
    assert "<mark>" not in found and f"/c/{seeded.shared}" not in found
    assert chris.get("/inbox.csv").text.count("\n") == 1  # the header only


def test_search_finds_shared_words_only_with_escaped_highlighted_snippets(
    chris: TestClient, seeded: Seeded
) -> None:
    page = chris.get("/?q=lanternfish").text
    assert "<mark>lanternfish</mark>" in page
    assert "private lanternfish secret" not in page and "secret" not in page
    assert "bob&#39;s" not in page and "bob's" not in page
    assert "<script>" not in page and "<img" not in page
    assert "&lt;a href=&#34;javascript:alert(2)&#34;&gt;" in page


@pytest.mark.parametrize("query", ['"', "NOT", "a OR", "*", "lantern*", "NEAR(", "'; --", "ü"])
def test_any_search_is_answered_without_error(chris: TestClient, query: str) -> None:
    assert chris.get("/", params={"q": query}).status_code == 200


def test_a_search_of_another_coach_does_not_find_what_chris_sees(app: Starlette) -> None:
    dana = client_of(app)
    assert login(dana, DANA_TOKEN) == 303
    page = dana.get("/?q=library").text
    assert "/c/1" not in page and "corrected summary" not in page


# == one conversation ===================================================================


def test_a_conversation_reads_summary_first_then_diagnosis_chart_steps_and_transcript(
    chris: TestClient, seeded: Seeded
) -> None:
    page = chris.get(f"/c/{seeded.shared}").text
    order = [
        page.index("My corrected summary"),
        page.index("The diagnosis"),
        page.index('<svg class="asymmetry now"'),
        page.index("Brief a councillor"),
        page.index("Transcript"),
    ]
    assert order == sorted(order)
    assert page.count('class="theirs"') == 5  # four dimensions and the legend
    assert "Safety interruption: bullying (concern)" in page
    assert "SAFETY WORDS" not in page, "the safety message's words are not shown"
    assert "I&#39;m being bullied" in page, "the coachee's words are"


def test_what_a_coachee_typed_renders_inert(chris: TestClient, seeded: Seeded) -> None:
    page = chris.get(f"/c/{seeded.shared}").text
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert 'href="javascript:' not in page
    assert "&lt;script&gt;alert" in page


def test_a_long_transcript_comes_in_pages(store: Store, catalog: Catalog, tmp_path: Path) -> None:
    other = Store(tmp_path / "long.db")
    seeded = seed(other, messages=250)
    client = client_of(create_app(other, catalog, clock=Clock()))
    assert login(client) == 303
    first = client.get(f"/c/{seeded.shared}").text
    assert "page 1 of 3" in first and "line 99 about" in first and "line 100 about" not in first
    last = client.get(f"/c/{seeded.shared}?page=3").text
    assert "line 249 about" in last and "page 3 of 3" in last
    assert client.get(f"/c/{seeded.shared}?page=99").status_code == 200  # the last page
    other.close()


def test_notes_reviewed_and_tags_are_kept_and_exported(
    chris: TestClient, seeded: Seeded, store: Store
) -> None:
    cid = seeded.shared
    token = form_token(chris, cid)
    note = "She <b>named</b> the gap; ask about allies"
    assert (
        chris.post(f"/c/{cid}/notes", data={"csrf_token": token, "text": note}).status_code == 303
    )
    assert (
        chris.post(f"/c/{cid}/reviewed", data={"csrf_token": token, "reviewed": "yes"}).status_code
        == 303
    )
    tags = {"csrf_token": token, "tag": ["found a coalition", "named the asymmetry"]}
    assert chris.post(f"/c/{cid}/tags", data=tags).status_code == 303

    page = chris.get(f"/c/{cid}").text
    assert "She &lt;b&gt;named&lt;/b&gt; the gap" in page
    assert "Mark not reviewed" in page
    marks = store.review_of(seeded.chris, cid)
    assert marks.reviewed and marks.tags == ("named the asymmetry", "found a coalition")

    markdown = chris.get(f"/c/{cid}/export.md")
    assert markdown.headers["Content-Type"].startswith("text/markdown")
    assert "private notes (never shown to the coachee)" in markdown.text
    assert note in markdown.text and "SAFETY WORDS" not in markdown.text
    assert "My corrected summary" in markdown.text
    assert "| position | 5 | 1 |" in markdown.text

    rows = list(csv.DictReader(io.StringIO(chris.get("/inbox.csv").text)))
    assert len(rows) == 1 and rows[0]["reviewed"] == "yes"
    assert rows[0]["tags"] == "named the asymmetry; found a coalition"
    assert chris.get("/?reviewed=no").text.count("/c/") == 0
    assert f"/c/{cid}" in chris.get("/?reviewed=yes&tag=found+a+coalition").text
    assert "never shown" not in str(store.export_user(ALICE))


def seqs(store: Store, conversation_id: int) -> list[int]:
    return [line.seq for line in store.transcript(conversation_id, offset=0, limit=-1)]


def test_a_note_on_one_message_is_shown_under_it_and_kept_in_both_exports(
    chris: TestClient, seeded: Seeded, store: Store
) -> None:
    cid, seq = seeded.shared, seqs(store, seeded.shared)[2]
    form = chris.get(f"/c/{cid}?note_on={seq}").text
    assert f'name="seq" value="{seq}"' in form and f"On message {seq}" in form
    note = {"csrf_token": csrf_of(form), "text": "Here she <i>names</i> the gap", "seq": str(seq)}
    answer = chris.post(f"/c/{cid}/notes", data=note)
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"#m-{seq}")

    page = chris.get(f"/c/{cid}").text
    line = page[page.index(f'id="m-{seq}"') : page.index(f'id="m-{seq + 1}"')]
    assert "Your note: Here she &lt;i&gt;names&lt;/i&gt; the gap" in line
    assert f"on message {seq}" in page

    data = json.loads(chris.get(f"/c/{cid}/export.json").text)
    private = data["private_notes"]
    assert private["never_shown_to_the_coachee"] is True
    assert [(n["text"], n["message_seq"]) for n in private["notes"]] == [
        ("Here she <i>names</i> the gap", seq)
    ]
    assert "Here she <i>names</i> the gap" in chris.get(f"/c/{cid}/export.md").text
    assert "names" not in str(store.export_user(ALICE))


def test_a_note_on_a_message_of_another_conversation_is_refused(
    chris: TestClient, seeded: Seeded, store: Store
) -> None:
    token = form_token(chris, seeded.shared)
    elsewhere = seqs(store, seeded.private)[0]  # alice's, but not shared
    for seq, status in ((str(elsewhere), 404), ("999999", 404), ("x", 400), ("-1", 400)):
        data = {"csrf_token": token, "text": "n", "seq": seq}
        assert chris.post(f"/c/{seeded.shared}/notes", data=data).status_code == status, seq
    assert chris.get(f"/c/{seeded.shared}?note_on={elsewhere}").status_code == 404
    assert store.notes(seeded.chris, seeded.shared) == []


def test_the_json_export_has_the_conversation_without_the_safety_words(
    chris: TestClient, seeded: Seeded
) -> None:
    answer = chris.get(f"/c/{seeded.shared}/export.json")
    assert answer.headers["Content-Type"].startswith("application/json")
    assert "attachment" in answer.headers["Content-Disposition"]
    data = json.loads(answer.text)
    assert data["summary"] == "My corrected summary: the library matters"
    assert data["asymmetry"][0] == {"dimension": "resources", "theirs": 5, "coachee": 2}
    assert data["next_steps"][0]["title"] == "Brief a councillor"
    assert data["safety_interruptions"][0]["category"] == "bullying"
    said = [m["text"] for m in data["transcript"]]
    assert "I'm being bullied, lanternfish" in said
    assert not any("SAFETY WORDS" in t for t in said)
    assert "private lanternfish secret" not in answer.text  # another conversation's


def test_the_notes_page_lists_a_coachs_notes_on_what_is_shared_now(
    chris: TestClient, seeded: Seeded, store: Store
) -> None:
    token = form_token(chris, seeded.shared)
    chris.post(f"/c/{seeded.shared}/notes", data={"csrf_token": token, "text": "ask about allies"})
    with store.transaction():
        store.add_note(seeded.dana, seeded.bob_shared, "Dana's own note on bob", NOW)

    everyone = chris.get("/notes").text
    assert "ask about allies" in everyone and "Dana&#39;s own note" not in everyone
    assert "ask about allies" in chris.get(f"/notes?coachee={ALICE}").text
    assert chris.get("/notes?coachee=terminal:bob").status_code == 404  # shares nothing
    assert chris.get("/notes?coachee=terminal:nobody").status_code == 404

    with store.transaction():
        store.revoke_shares(ALICE, None, NOW)
    assert "ask about allies" not in chris.get("/notes").text
    assert chris.get(f"/notes?coachee={ALICE}").status_code == 404


def test_saved_filters_are_each_coachs_own(
    app: Starlette, chris: TestClient, seeded: Seeded
) -> None:
    token = csrf_of(chris.get("/").text)
    kept = {"csrf_token": token, "name": "To read", "reviewed": "no", "q": "lanternfish"}
    answer = chris.post("/filters", data=kept)
    assert answer.status_code == 303 and "reviewed=no" in answer.headers["Location"]
    inbox = chris.get("/").text
    assert ">To read</a>" in inbox and "/?q=lanternfish&amp;reviewed=no" in inbox
    assert f"/c/{seeded.shared}" in chris.get("/?q=lanternfish&reviewed=no").text

    bad = {"csrf_token": token, "name": "Broken", "reviewed": "maybe"}
    assert chris.post("/filters", data=bad).status_code == 400
    assert chris.post("/filters", data={"csrf_token": token, "name": " "}).status_code == 400

    dana = client_of(app)
    assert login(dana, DANA_TOKEN) == 303
    dana_page = dana.get("/").text
    assert "To read" not in dana_page
    (saved,) = Store.saved_filters(app.state.store, seeded.chris)
    delete = f"/filters/{saved.id}/delete"
    assert dana.post(delete, data={"csrf_token": csrf_of(dana_page)}).status_code == 404
    assert chris.post(delete, data={"csrf_token": token}).status_code == 303
    assert "To read" not in chris.get("/").text


def test_save_for_later_and_flags_are_kept_filtered_and_exported(
    chris: TestClient, seeded: Seeded, store: Store
) -> None:
    cid, seq = seeded.shared, seqs(store, seeded.shared)[1]
    token = form_token(chris, cid)
    assert (
        chris.post(f"/c/{cid}/later", data={"csrf_token": token, "later": "yes"}).status_code == 303
    )
    flag = {"csrf_token": token, "seq": str(seq), "flagged": "yes"}
    answer = chris.post(f"/c/{cid}/flags", data=flag)
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"#m-{seq}")

    page = chris.get(f"/c/{cid}").text
    assert "Saved for later." in page and "Not for later" in page
    line = page[page.index(f'id="m-{seq}"') : page.index(f'id="m-{seq + 1}"')]
    assert "⚑ Flagged" in line and "Unflag" in line
    assert f"/c/{cid}" in chris.get("/?later=yes").text
    assert f"/c/{cid}" not in chris.get("/?later=no").text
    (row,) = csv.DictReader(io.StringIO(chris.get("/inbox.csv").text))
    assert row["saved_for_later"] == "yes"
    data = json.loads(chris.get(f"/c/{cid}/export.json").text)
    assert data["saved_for_later"] is True and data["flagged_messages"] == [seq]
    assert "⚑ flagged by you" in chris.get(f"/c/{cid}/export.md").text

    elsewhere = seqs(store, seeded.private)[0]
    for bad, status in ((str(elsewhere), 404), ("x", 400), ("", 400)):
        data = {"csrf_token": token, "seq": bad, "flagged": "yes"}
        assert chris.post(f"/c/{cid}/flags", data=data).status_code == status, bad
    assert (
        chris.post(f"/c/{cid}/later", data={"csrf_token": token, "later": "?"}).status_code == 400
    )
    flag["flagged"] = "no"
    assert chris.post(f"/c/{cid}/flags", data=flag).status_code == 303
    assert store.review_of(seeded.chris, cid).flagged == ()
    assert "flagged" not in str(store.export_user(ALICE))


# == the admin's figures =================================================================


def test_an_admin_sees_figures_and_never_a_conversation(
    app: Starlette, seeded: Seeded, store: Store
) -> None:
    with store.transaction():  # even a share with an admin, however it got there, shows nothing
        store.share(ALICE, seeded.admin, seeded.shared, NOW)
    admin = client_of(app)
    assert login(admin, ADMIN_TOKEN) == 303
    assert admin.get("/").headers["Location"].endswith("/admin")
    page = admin.get("/admin").text
    assert "<td>diagnose</td><td>3</td><td>3</td>" in page  # started, finished
    assert "<td>bullying</td><td>concern</td><td>1</td>" in page
    assert "<td>open</td><td>1</td><td>100%</td>" in page
    said = [r[0] for r in store.db.execute("SELECT text FROM messages")]
    for words in [*said, "Alice", "alice", "libraries team", "My corrected summary"]:
        assert escape(words) not in page, words
    for method, url in example_urls(app, seeded.shared):
        if "/c/" in url:
            answer = admin.request(method, url, data={"csrf_token": csrf_of(page)})
            assert answer.status_code == 404, (method, url)
    assert admin.get("/inbox.csv").text.count("\r\n") == 1  # the header only
    assert "library" not in admin.get("/notes").text
    assert store.shared_conversations_for(seeded.admin) == []


def test_a_coach_gets_404_for_the_admin_page(chris: TestClient) -> None:
    assert chris.get("/admin").status_code == 404


def test_filters_by_dialogue_and_dates(chris: TestClient, seeded: Seeded) -> None:
    assert f"/c/{seeded.shared}" in chris.get("/?dialogue=diagnose&since=2026-11-20").text
    assert f"/c/{seeded.shared}" not in chris.get("/?since=2026-11-21").text
    assert f"/c/{seeded.shared}" not in chris.get("/?until=2026-11-19").text
    assert f"/c/{seeded.shared}" not in chris.get("/?dialogue=revisit").text


# == CSRF, headers, bad requests ========================================================


def test_a_form_without_its_csrf_token_is_refused(chris: TestClient, seeded: Seeded) -> None:
    cid = seeded.shared
    assert chris.post(f"/c/{cid}/notes", data={"text": "hello"}).status_code == 400
    assert (
        chris.post(f"/c/{cid}/notes", data={"text": "x", "csrf_token": "forged"}).status_code == 400
    )
    assert chris.post("/logout").status_code == 400
    assert chris.get(f"/c/{cid}").text.count("hello") == 0


def test_every_form_route_refuses_a_post_without_its_csrf_token(
    app: Starlette, chris: TestClient, seeded: Seeded, store: Store
) -> None:
    posts = [url for method, url in example_urls(app, seeded.shared) if method == "POST"]
    assert len(posts) >= 8, posts  # notes, flags, reviewed, later, tags, filters, logout…
    form = {"text": "forged", "reviewed": "yes", "later": "yes", "tag": "follow up",
            "flagged": "yes", "seq": "1", "name": "Forged"}  # fmt: skip
    for url in posts:
        assert chris.post(url, data=form).status_code == 400, url
    assert chris.get("/").status_code == 200, "still signed in: logout was refused too"
    assert store.notes(seeded.chris, seeded.shared) == []
    assert store.saved_filters(seeded.chris) == []


def test_a_mounted_app_but_the_static_files_cannot_be_added(app: Starlette) -> None:
    with pytest.raises(TypeError, match="cannot go through the access check"):
        protect([Mount("/files", StaticFiles(directory=HERE / "static"), name="files")])


def test_login_without_a_csrf_token_is_refused(app: Starlette) -> None:
    client = client_of(app)
    answer = client.post("/login", data={"token": CHRIS_TOKEN})
    assert answer.status_code == 400


def test_every_response_has_the_security_headers(chris: TestClient, seeded: Seeded) -> None:
    for url in (
        "/login",
        "/",
        f"/c/{seeded.shared}",
        "/inbox.csv",
        "/nope",
        f"/c/{seeded.private}",
    ):
        headers = chris.get(url).headers
        assert "script-src 'self';" in headers["Content-Security-Policy"]
        assert "unsafe" not in headers["Content-Security-Policy"]
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_the_session_cookie_is_http_only_and_strict(app: Starlette) -> None:
    client = client_of(app)
    page = client.get("/login")
    answer = client.post("/login", data={"token": CHRIS_TOKEN, "csrf_token": csrf_of(page.text)})
    cookie = answer.headers["Set-Cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=28800" in cookie


def test_the_vendored_htmx_is_the_pinned_release() -> None:
    """htmx is served from this package, never a CDN: the file is the release it says it is."""
    assert HTMX == "htmx-2.0.11.min.js"
    digest = sha256((HERE / "static" / HTMX).read_bytes()).hexdigest()
    assert digest == "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


def test_the_inbox_loads_htmx_from_this_server_and_the_other_pages_no_script(
    chris: TestClient, seeded: Seeded
) -> None:
    inbox = chris.get("/").text
    assert inbox.count("<script") == 1 and f'<script src="/static/{HTMX}" defer>' in inbox
    served = chris.get(f"/static/{HTMX}")
    assert served.status_code == 200 and "javascript" in served.headers["Content-Type"]
    assert "<script" not in chris.get(f"/c/{seeded.shared}").text


def test_htmx_gets_the_results_alone_and_a_browser_without_it_the_whole_page(
    chris: TestClient,
) -> None:
    typed = chris.get("/?q=lanternfish", headers={"HX-Request": "true"}).text
    assert "<mark>lanternfish</mark>" in typed and "<html" not in typed
    assert 'class="filters"' not in typed, "the search box is left alone as the coach types"
    # What acts on the results comes with them, so it keeps the search just typed.
    assert 'href="/inbox.csv?q=lanternfish"' in typed
    assert '<input type="hidden" name="q" value="lanternfish">' in typed
    plain = chris.get("/?q=lanternfish").text
    assert "<mark>lanternfish</mark>" in plain and '<div id="results"' in plain
    back = chris.get(
        "/?q=lanternfish", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in back.text, "going back restores the whole page"
    assert "private lanternfish secret" not in typed + plain


@pytest.mark.parametrize(
    "url",
    [
        "/?reviewed=maybe",
        "/?since=yesterday",
        "/?until=2026-13-45",
        "/?limit=abc",
        "/?limit=0",
        "/?tag=not-a-tag",
        "/?q=" + "x" * 300,
        "/c/1?page=abc",
        "/c/1?page=%C2%B2",
        "/?limit=%C2%B2",
        "/c/1?page=-1",
        "/c/abc",
        "/c/1.5",
        "/inbox.csv?since=%ff%fe",
        "/?q=%ff%fe%00",
        "/nope",
    ],
)
def test_malformed_requests_get_a_4xx(chris: TestClient, url: str) -> None:
    answer = chris.get(url)
    assert 400 <= answer.status_code < 500, (url, answer.status_code)


def test_malformed_forms_get_a_4xx(chris: TestClient, seeded: Seeded) -> None:
    cid = seeded.shared
    token = form_token(chris, cid)
    cases = [
        ({"csrf_token": token, "text": ""}, "notes"),
        ({"csrf_token": token, "text": "x" * 6000}, "notes"),
        ({"csrf_token": token, "reviewed": "perhaps"}, "reviewed"),
        ({"csrf_token": token, "tag": "<script>"}, "tags"),
    ]
    for data, action in cases:
        assert chris.post(f"/c/{cid}/{action}", data=data).status_code == 400, (data, action)
    big = chris.post(f"/c/{cid}/notes", data={"csrf_token": token, "text": "x" * 100_000})
    assert big.status_code == 413
    chunked = chris.post(
        f"/c/{cid}/notes",
        content=iter([b"csrf_token=" + token.encode() + b"&text=", b"x" * 100_000]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert chunked.status_code == 413
    odd = chris.post(
        f"/c/{cid}/notes",
        content=b"csrf_token=%ff&text=%ff%00",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert odd.status_code == 400
    wrong = chris.post(
        f"/c/{cid}/notes", content="{}", headers={"Content-Type": "application/json"}
    )
    assert wrong.status_code == 400
    assert chris.put(f"/c/{cid}/notes").status_code == 405


def test_a_refused_request_beside_the_login_form_leaves_its_csrf_token_working(
    app: Starlette,
) -> None:
    """A browser asks for /favicon.ico while the login form is open: refusing that request
    must not throw away the form's CSRF token."""
    client = client_of(app)
    token = csrf_of(client.get("/login").text)
    assert client.get("/favicon.ico").status_code == 404
    answer = client.post("/login", data={"token": CHRIS_TOKEN, "csrf_token": token})
    assert answer.status_code == 303


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    key=st.sampled_from(["q", "dialogue", "reviewed", "tag", "since", "until", "limit", "page"]),
    value=st.text(max_size=40),
    path=st.sampled_from(["/", "/inbox.csv", "/c/1", "/c/1/export.md"]),
)
def test_no_query_string_makes_a_500(chris: TestClient, key: str, value: str, path: str) -> None:
    assert chris.get(path, params={key: value}).status_code < 500


def test_a_revisit_shows_then_beside_now_from_its_own_slots(
    app: Starlette, chris: TestClient, seeded: Seeded, store: Store
) -> None:
    then = {"id": seeded.private, "date": "2026-10-01", "their_resources": 5, "my_resources": 1}
    slots = {**SLOTS, "then": then, "my_resources": 3}
    with store.transaction():
        revisit = conversation(store, ALICE, "2026-11-22T12:00:00+00:00", slots)
        store.share(ALICE, seeded.chris, revisit, NOW)
    page = chris.get(f"/c/{revisit}").text
    assert page.index('<svg class="asymmetry then"') < page.index('<svg class="asymmetry now"')
    assert "Then (2026-10-01)" in page
    then_chart = page[page.index('class="asymmetry then"') : page.index("</svg>")]
    assert "The coachee's: 1" in then_chart and "Theirs: 5" in then_chart
    data = json.loads(chris.get(f"/c/{revisit}/export.json").text)
    assert data["asymmetry_then"] == [{"dimension": "resources", "theirs": 5, "coachee": 1}]
    assert data["asymmetry"][0] == {"dimension": "resources", "theirs": 5, "coachee": 3}
    markdown = chris.get(f"/c/{revisit}/export.md").text
    assert "| resources | 5 | 3 | 5 | 1 |" in markdown
    assert "| expertise | 4 | 3 | | |" in markdown
    assert 'class="asymmetry then"' not in chris.get(f"/c/{seeded.shared}").text
