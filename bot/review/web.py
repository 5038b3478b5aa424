"""What every page module needs from Starlette, said once: the templates (autoescaped, with
`url_for`, `csrf_token` and the signed-in coach), rendering, redirects and refusals.

`url_for` works as the templates were written for it: the route's path parameters fill the
path and any other given value becomes the query string, so a link keeps its filters."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NoReturn
from urllib.parse import urlencode

from jinja2 import pass_context
from starlette.datastructures import ImmutableMultiDict
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, NoMatchFound, Route
from starlette.templating import Jinja2Templates
from starlette_wtf import csrf_token

HERE = Path(__file__).resolve().parent
#: The vendored htmx (search-as-you-type), pinned: its checksum is tested.
HTMX = "htmx-2.0.11.min.js"


def _signed_in(request: Request) -> dict[str, Any]:
    """`g.coach` in the templates: the coach the access check let through (None on the
    login and error pages of someone not signed in)."""
    return {"g": SimpleNamespace(coach=getattr(request.state, "coach", None)), "htmx": HTMX}


templates = Jinja2Templates(directory=HERE / "templates", context_processors=[_signed_in])


def url_for(request: Request, name: str, **values: Any) -> str:
    """The path of the route called `name` (e.g. `review.conversation`): the values its path
    takes fill it, the others (None left out) become the query string; `static` takes
    `filename`. Routes are found by name in a table made once (a page links a hundred
    times; Starlette's own look-up walks every route each time)."""
    if name == "static":
        values["path"] = values.pop("filename")
    route = _by_name(request.app).get(name)
    if route is None:
        raise NoMatchFound(name, values)
    params = set(route.param_convertors) | ({"path"} if isinstance(route, Mount) else set())
    path = route.url_path_for(name, **{k: v for k, v in values.items() if k in params})
    query = [(k, v) for k, v in values.items() if k not in params and v is not None]
    return str(path) + ("?" + urlencode(query) if query else "")


def _by_name(app: Any) -> dict[str, Route | Mount]:
    table: dict[str, Route | Mount] | None = getattr(app.state, "routes_by_name", None)
    if table is None:
        table = {r.name: r for r in app.routes if isinstance(r, (Route, Mount)) and r.name}
        app.state.routes_by_name = table
    return table


@pass_context
def _url_for(context: dict[str, Any], name: str, **values: Any) -> str:
    return url_for(context["request"], name, **values)


@pass_context
def _csrf_token(context: dict[str, Any]) -> str:
    token: str = csrf_token(context["request"])
    return token


templates.env.globals.update(url_for=_url_for, csrf_token=_csrf_token)


def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    return templates.TemplateResponse(request, name, context, status_code=status)


def redirect(url: str) -> RedirectResponse:
    """See Other: after a form, the browser GETs the page it lands on."""
    return RedirectResponse(url, status_code=303)


def abort(status: int, message: str | None = None) -> NoReturn:
    """Refuse the request; the app's error page says `message` (for a 400) or the status."""
    raise HTTPException(status, message)


Endpoint = Callable[[Request], Any]


async def form_fields(request: Request) -> ImmutableMultiDict[str, str]:
    """The posted form's text fields; 400 for a form that sends a file, which none asks for."""
    form = await request.form()
    fields = form.multi_items()
    if any(not isinstance(value, str) for _, value in fields):
        abort(400, "this form takes no files")
    return ImmutableMultiDict([(key, str(value)) for key, value in fields])
