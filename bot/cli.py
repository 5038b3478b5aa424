"""The `coach` command: chat in the terminal, check dialogue files, export or erase a user."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.errors import CoachError, UnknownDialogue
from bot.loader import Catalog, default_dialogues_dir, load_catalog
from bot.text import json_escaped

if TYPE_CHECKING:
    from storage.store import Store

DEFAULT_DB = "coach.db"
DEFAULT_SAFETY_CORPUS = "tests/safety/corpus.yaml"
#: The floor tests/test_safety_corpus.py holds every category to.
SAFETY_MIN_RECALL = 0.90
SAFETY_MAX_FALSE = 0.05


def _db_path(args: argparse.Namespace) -> str:
    return args.db or os.environ.get("COACH_DB") or DEFAULT_DB


def _dialogues_dir(args: argparse.Namespace) -> Path:
    named = getattr(args, "dialogues", None) or os.environ.get("COACH_DIALOGUES")
    return Path(named) if named else default_dialogues_dir()


def _user(args: argparse.Namespace) -> str:
    return args.user or os.environ.get("COACH_USER") or getpass.getuser()


def _report_problems(catalog: Catalog, stream: TextIO | None = None) -> None:
    for problem in catalog.problems:
        print(f"coach: dialogue not loaded: {problem}", file=stream or sys.stderr)


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.channels.terminal import TerminalChat
    from bot.engine import Engine, EngineSettings
    from storage.store import Store

    catalog = load_catalog(_dialogues_dir(args))
    _report_problems(catalog)
    store = Store(_db_path(args))
    settings = EngineSettings(idle_after=dt.timedelta(days=args.idle_days))
    engine = Engine(store, catalog, settings=settings)
    name = _user(args)
    chat = TerminalChat(engine, f"terminal:{name}", display_name=name, json_mode=args.json)
    try:
        return chat.run()
    finally:
        store.close()


def cmd_slack(args: argparse.Namespace) -> int:
    from bot.channels.slack.app import SlackCoach
    from bot.channels.slack.server import run_http, run_socket_mode, settings_from_env
    from bot.engine import Engine, EngineSettings
    from storage.store import Store

    settings = settings_from_env()
    directory = _dialogues_dir(args)
    db_path = _db_path(args)
    idle = EngineSettings(idle_after=dt.timedelta(days=args.idle_days))

    def make_coach() -> SlackCoach:
        from bot.reloading import DialogueWatcher

        catalog = load_catalog(directory)
        _report_problems(catalog)
        engine = Engine(Store(db_path), catalog, settings=idle)
        DialogueWatcher(engine, directory).start()  # edits are picked up without a restart
        return SlackCoach(engine, settings)

    # Fail now, with a clear message, if the safety screen or the database is unusable:
    # HTTP mode builds the coach inside gunicorn's worker, where a refusal would be lost.
    load_catalog(directory).require_safety()
    Store(db_path).close()
    if settings.app_token:
        print("coach: connecting to Slack in Socket Mode", file=sys.stderr)
        run_socket_mode(make_coach())
    else:
        print(
            f"coach: serving Slack on http://{args.host}:{args.port}/slack/events", file=sys.stderr
        )
        run_http(make_coach, host=args.host, port=args.port)
    return 0


def cmd_slack_purge(args: argparse.Namespace) -> int:
    """Erase now the data of every person of one Slack workspace (after it removed the
    coach, or on its admin's request), without waiting for the grace period."""
    from bot.channels.slack.removals import erase_workspace, team_prefix

    team = args.team.strip()
    if not team or not team.replace("_", "").isalnum():
        raise CoachError(f"{args.team!r} is not a Slack team id (they look like T0123ABCD).")
    store = _existing_store(args)
    try:
        prefix = team_prefix(team)
        people = len(store.users_with_prefix(prefix))
        if not args.yes:
            print(
                f"This erases every conversation and next step of the {people} people of "
                f"workspace {team}. Run again with --yes to confirm.",
                file=sys.stderr,
            )
            return 1
        erased = erase_workspace(store, prefix, store.erase_user)
    finally:
        store.close()
    print(f"Erased all data of {erased} people of workspace {team}.")
    return 0


def cmd_dialogues_validate(args: argparse.Namespace) -> int:
    from bot.compiler import compile_dialogue
    from bot.loader import load_dialogue_file

    if args.files:
        catalog = Catalog()
        for name in args.files:
            try:
                loaded = load_dialogue_file(Path(name))
                catalog.dialogues[loaded.dialogue.id] = loaded
            except CoachError as exc:
                catalog.problems.append(exc)  # type: ignore[arg-type]
    else:
        catalog = load_catalog(_dialogues_dir(args))
    for loaded in catalog.dialogues.values():
        compile_dialogue(loaded)
        d = loaded.dialogue
        print(
            f"ok   {loaded.path}: {d.id} v{d.version}, {len(d.steps)} steps, "
            f"{len(d.recommendations)} recommendations"
        )
    for problem in catalog.problems:
        print(f"FAIL {problem}")
    return 1 if catalog.problems else 0


def cmd_dialogues_list(args: argparse.Namespace) -> int:
    catalog = load_catalog(_dialogues_dir(args))
    for loaded in sorted(catalog.dialogues.values(), key=lambda x: x.dialogue.id):
        d = loaded.dialogue
        flag = "" if d.listed else " (not in menu)"
        print(f"{d.id:<12} v{d.version}  {d.title}{flag}")
    _report_problems(catalog)
    return 1 if catalog.problems else 0


def cmd_dialogues_graph(args: argparse.Namespace) -> int:
    from bot.compiler import compile_dialogue
    from bot.diagram import mermaid

    catalog = load_catalog(_dialogues_dir(args))
    try:
        loaded = catalog.get(args.id)
    except UnknownDialogue as exc:
        raise CoachError(str(exc)) from None
    print(mermaid(compile_dialogue(loaded).machine_class))
    return 0


def cmd_dialogues_schema(args: argparse.Namespace) -> int:
    from bot.schema import Dialogue

    text = json.dumps(Dialogue.model_json_schema(), indent=2, ensure_ascii=False) + "\n"
    target = Path(args.output)
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            print(f"{target} is out of date: run `coach dialogues schema`", file=sys.stderr)
            return 1
        print(f"{target} is up to date")
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


def cmd_dialogues_safety_eval(args: argparse.Namespace) -> int:
    from bot.safety_eval import detector_classifier, evaluate, format_report, load_corpus

    config = load_catalog(_dialogues_dir(args)).require_safety()
    corpora = [Path(p) for p in args.corpus] or [Path(DEFAULT_SAFETY_CORPUS)]
    below: list[str] = []
    for path in corpora:
        report = evaluate(load_corpus(path), detector_classifier(config), config)
        print(f"== {path}")
        print(format_report(report))
        below += [f"{path}: {p}" for p in report.below(SAFETY_MIN_RECALL, SAFETY_MAX_FALSE)]
    for problem in below:
        print(f"BELOW {problem}")
    return 1 if below else 0


def _existing_store(args: argparse.Namespace) -> Store:
    """The store export and forget read: it must exist already (a typo must not make one)."""
    from storage.store import Store

    path = Path(_db_path(args)).expanduser()
    if path.is_dir():
        raise CoachError(
            f"{path} is a folder, not a conversation store: give the store's file with "
            "--db PATH or COACH_DB."
        )
    if not path.exists():
        raise CoachError(
            f"There is no conversation store at {path}: check --db PATH or COACH_DB "
            f"(`coach chat` keeps conversations in ./{DEFAULT_DB} unless told otherwise)."
        )
    return Store(path)


def _stored_user(store: Store, args: argparse.Namespace) -> str:
    user = f"terminal:{_user(args)}"
    if not store.knows_user(user):
        raise CoachError(
            f"Nothing is stored about {user} in {store.path}: check the name given with "
            "--user (default: your login name)."
        )
    return user


def cmd_export(args: argparse.Namespace) -> int:
    store = _existing_store(args)
    data = store.export_user(_stored_user(store, args))
    print(json_escaped(json.dumps(data, indent=2, ensure_ascii=False)))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    """Figures only, never who or what: how often each safety signal was answered."""
    store = _existing_store(args)
    counts = store.safety_counts()
    if not counts:
        print("No safety signals have been answered.")
        return 0
    print(f"{'category':<20} {'level':<8} {'times':>6}")
    for category, level, times in counts:
        print(f"{category:<20} {level:<8} {times:>6}")
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    store = _existing_store(args)
    user = _stored_user(store, args)
    if not args.yes:
        print(
            f"This erases every conversation and next step of {user}. "
            "Run again with --yes to confirm.",
            file=sys.stderr,
        )
        return 1
    store.erase_user(user)
    print(f"Erased all data of {user}.")
    return 0


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _coach(store: Store, name: str) -> int:
    found = store.coach_named(name)
    if found is None:
        raise CoachError(
            f"There is no coach called {name!r} in {store.path}: see `coach users list`."
        )
    return found.id


def _coach_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > 60:
        raise CoachError("A coach's name must be 1 to 60 characters.")
    return name


def cmd_users_add_coach(args: argparse.Namespace) -> int:
    """A new coach; their token is printed once and stored only as a hash."""
    from storage.sharing import hash_token, new_token
    from storage.store import Store

    name = _coach_name(args.name)
    token = new_token()
    store = Store(_db_path(args))
    try:
        with store.transaction():
            if store.coach_named(name) is not None:
                raise CoachError(f"There is already a coach called {name!r}: pick another name.")
            store.add_coach(name, hash_token(token), _now())
    finally:
        store.close()
    print(f"Added coach {name}. Their token (shown only this once; give it to them privately):")
    print(token)
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    store = _existing_store(args)
    coaches = store.coaches()
    if not coaches:
        print("No coaches yet: add one with `coach users add-coach NAME`.")
        return 0
    for coach in coaches:
        print(f"{coach.name}\tcoach\tadded {coach.created_at[:10]}")
    return 0


def cmd_users_remove(args: argparse.Namespace) -> int:
    store = _existing_store(args)
    with store.transaction():
        store.remove_coach(_coach(store, args.name))
    print(f"Removed coach {args.name}, and every share with them.")
    return 0


def cmd_users_rotate_token(args: argparse.Namespace) -> int:
    from storage.sharing import hash_token, new_token

    store = _existing_store(args)
    token = new_token()
    with store.transaction():
        store.set_coach_token(_coach(store, args.name), hash_token(token), _now())
    print(f"New token for {args.name} (the old one no longer works; shown only this once):")
    print(token)
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    """The coaches' review page, on 127.0.0.1 only."""
    from bot.review.server import run

    if not 1 <= args.port <= 65535:
        raise CoachError("--port must be from 1 to 65535.")
    rubric = Path(args.rubric) if args.rubric else None
    found = _existing_store(args)  # a mistyped --db gets one line, never a new empty store
    found.close()
    return run(found.path, _dialogues_dir(args), args.port, rubric)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coach", description="Influence Coach: coaching on power and influence."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def with_db(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", help=f"SQLite file (default: $COACH_DB or ./{DEFAULT_DB})")

    def with_user(p: argparse.ArgumentParser) -> None:
        p.add_argument("--user", help="who is chatting (default: your login name)")

    def with_dialogues(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dialogues", help="folder of dialogue YAML (default: ./dialogues)")

    chat = sub.add_parser("chat", help="chat with the coach in this terminal")
    with_db(chat)
    with_user(chat)
    with_dialogues(chat)
    chat.add_argument("--json", action="store_true", help="speak JSON lines (for programs)")
    chat.add_argument(
        "--idle-days", type=float, default=7.0, help="recap after this many idle days (7)"
    )
    chat.set_defaults(func=cmd_chat)

    slack = sub.add_parser(
        "slack",
        help="run the Slack app (Socket Mode if SLACK_APP_TOKEN is set, else HTTP)",
        description="Needs SLACK_BOT_TOKEN, and SLACK_APP_TOKEN (Socket Mode) or "
        "SLACK_SIGNING_SECRET (HTTP mode). SLACK_API_URL points at another Web API "
        "(GovSlack). See README.md for setting up the app from slack/manifest.yaml.",
    )
    with_db(slack)
    with_dialogues(slack)
    slack.add_argument("--host", default="127.0.0.1", help="HTTP mode: address (127.0.0.1)")
    slack.add_argument("--port", type=int, default=3000, help="HTTP mode: port (3000)")
    slack.add_argument("--idle-days", type=float, default=7.0)
    slack.set_defaults(func=cmd_slack)
    slack_sub = slack.add_subparsers(dest="slack_action")
    purge = slack_sub.add_parser(
        "purge",
        help="erase now every person's data of one workspace (e.g. one that removed the app)",
    )
    with_db(purge)
    purge.add_argument("--team", required=True, help="the workspace's Slack team id (T…)")
    purge.add_argument("--yes", action="store_true", help="confirm the erasure")
    purge.set_defaults(func=cmd_slack_purge)

    dialogues = sub.add_parser("dialogues", help="check and inspect dialogue files")
    dsub = dialogues.add_subparsers(dest="action", required=True)
    validate = dsub.add_parser("validate", help="check dialogue files; exit 1 on any problem")
    validate.add_argument("files", nargs="*", help="files to check (default: the whole folder)")
    with_dialogues(validate)
    validate.set_defaults(func=cmd_dialogues_validate)
    listing = dsub.add_parser("list", help="list the dialogues that load")
    with_dialogues(listing)
    listing.set_defaults(func=cmd_dialogues_list)
    graph = dsub.add_parser("graph", help="print a dialogue's flow as a Mermaid diagram")
    graph.add_argument("id")
    with_dialogues(graph)
    graph.set_defaults(func=cmd_dialogues_graph)
    safety_eval = dsub.add_parser(
        "safety-eval",
        help="recall and false alarms of safety.yaml on labelled sentences",
        description="Runs each sentence of each corpus (YAML: `sentences: [{text, expect}]`) "
        "through the safety screen, prints recall and false alarms per category and level "
        "and every sentence it got wrong; exits 1 if a category is below 90% recall or "
        "above 5% false alarms.",
    )
    safety_eval.add_argument("corpus", nargs="*", help=f"default: {DEFAULT_SAFETY_CORPUS}")
    with_dialogues(safety_eval)
    safety_eval.set_defaults(func=cmd_dialogues_safety_eval)
    schema = dsub.add_parser("schema", help="write the JSON Schema editors use")
    schema.add_argument("--output", default="dialogues/schema.json")
    schema.add_argument("--check", action="store_true", help="only check it is up to date")
    schema.set_defaults(func=cmd_dialogues_schema)

    stats = sub.add_parser(
        "stats", help="how often each safety signal was answered (figures only, no text)"
    )
    with_db(stats)
    stats.set_defaults(func=cmd_stats)

    export = sub.add_parser("export", help="print everything stored about you, as JSON")
    with_db(export)
    with_user(export)
    export.set_defaults(func=cmd_export)
    forget = sub.add_parser("forget", help="erase everything stored about you")
    with_db(forget)
    with_user(forget)
    forget.add_argument("--yes", action="store_true", help="confirm the erasure")
    forget.set_defaults(func=cmd_forget)

    users = sub.add_parser("users", help="manage coaches (never transcripts)")
    usub = users.add_subparsers(dest="action", required=True)
    add_coach = usub.add_parser("add-coach", help="add a coach; prints their token once")
    add_coach.add_argument("name")
    with_db(add_coach)
    add_coach.set_defaults(func=cmd_users_add_coach)
    users_list = usub.add_parser("list", help="list the coaches")
    with_db(users_list)
    users_list.set_defaults(func=cmd_users_list)
    remove = usub.add_parser("remove", help="remove a coach and every share with them")
    remove.add_argument("name")
    with_db(remove)
    remove.set_defaults(func=cmd_users_remove)
    rotate = usub.add_parser("rotate-token", help="give a coach a new token (the old one stops)")
    rotate.add_argument("name")
    with_db(rotate)
    rotate.set_defaults(func=cmd_users_rotate_token)

    review = sub.add_parser(
        "review", help="serve the coaches' review page on 127.0.0.1 (what was shared only)"
    )
    with_db(review)
    with_dialogues(review)
    review.add_argument("--port", type=int, default=8400, help="port on 127.0.0.1 (8400)")
    review.add_argument("--rubric", help="YAML file of review tags (default: the built-in one)")
    review.set_defaults(func=cmd_review)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=os.environ.get("COACH_LOG_LEVEL", "ERROR").upper(),
        format="coach %(levelname)s %(name)s: %(message)s",
    )
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CoachError as exc:
        print(f"coach: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
