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
    from bot.safety_eval import Rate
    from bot.schema import SafetyConfig
    from storage.store import Store

DEFAULT_DB = "coach.db"
DEFAULT_SAFETY_CORPUS = "tests/safety/corpus.yaml"
#: Every labelled file here is what the safety model learns from.
SAFETY_CORPUS_DIR = "tests/safety"
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
    from bot.channels.terminal import HeldNotices, TerminalChat
    from bot.engine import Engine, EngineSettings
    from bot.reloading import DialogueWatcher
    from storage.store import Store

    directory = _dialogues_dir(args)
    catalog = load_catalog(directory)
    _report_problems(catalog)
    store = Store(_db_path(args))
    settings = EngineSettings(idle_after=dt.timedelta(days=args.idle_days))
    engine = Engine(store, catalog, settings=settings)
    name = _user(args)
    chat = TerminalChat(engine, f"terminal:{name}", display_name=name, json_mode=args.json)
    root = logging.getLogger()
    on_stderr = root.handlers[:]
    if chat.interactive:  # stderr is the screen they type on: hold log lines for a clean moment
        chat.notices = HeldNotices()
        root.handlers = [chat.notices]
    watcher = DialogueWatcher(engine, directory)
    if directory.is_dir():
        watcher.start()  # an edited dialogue is picked up at the next turn, without a restart
    try:
        return chat.run()
    finally:
        root.handlers = on_stderr
        if watcher.is_alive():
            watcher.stop()
            watcher.join(2)  # a watch still running as the interpreter exits aborts it
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
        if settings.distributed:
            print(
                f"coach: 'Add to Slack' at http://{args.host}:{args.port}/slack/install",
                file=sys.stderr,
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
    from bot.validation import validate

    report = validate([Path(name) for name in args.files], _dialogues_dir(args))
    print(report.json() if args.format == "json" else report.text())
    return 1 if report.errors else 0


def cmd_dialogues_status(args: argparse.Namespace) -> int:
    from bot.dialogue_status import status_lines

    lines, refused = status_lines(_dialogues_dir(args))
    print("\n".join(lines))
    return 1 if refused else 0


def cmd_dialogues_history(args: argparse.Namespace) -> int:
    from bot.dialogue_status import history_lines

    print("\n".join(history_lines(_existing_store(args), args.id)))
    return 0


def cmd_dialogues_diff(args: argparse.Namespace) -> int:
    from bot.dialogue_status import diff_lines

    lines = diff_lines(_existing_store(args), args.id, args.old, args.new)
    print("\n".join(lines) if lines else f"{args.old} and {args.new} have the same source")
    return 0


def _clean_catalog(directory: Path) -> Catalog | None:
    """Every dialogue of `directory`, or None (with the problems said) if any fails."""
    catalog = load_catalog(directory)
    if catalog.problems:
        _report_problems(catalog)
        print("coach: fix these first (`coach dialogues validate`)", file=sys.stderr)
        return None
    return catalog


def cmd_dialogues_lock(args: argparse.Namespace) -> int:
    from bot.validation import write_lock

    directory = _dialogues_dir(args)
    catalog = _clean_catalog(directory)
    if catalog is None:
        return 1
    path = write_lock(directory, catalog.dialogues.values())
    print(
        f"wrote {path}: "
        + ", ".join(f"{d.dialogue.id} v{d.dialogue.version}" for d in catalog.dialogues.values())
    )
    return 0


def cmd_dialogues_test(args: argparse.Namespace) -> int:
    from bot.coverage import coverage
    from bot.scripts import Trace, run_file, script_files

    directory = _dialogues_dir(args)
    catalog = _clean_catalog(directory)
    if catalog is None:
        return 1
    trace = Trace(catalog)
    files = script_files([Path(p) for p in args.scripts], directory)
    if not files:
        print(f"coach: no scripts found (looked in {directory / 'tests'})", file=sys.stderr)
        return 1
    failed = tests = 0
    broken = 0
    for path in files:
        try:
            failures, count = run_file(path, catalog, trace)
        except CoachError as exc:  # a script that cannot be read: said, and the rest run
            print(f"{exc}")
            broken += 1
            continue
        tests += count
        failed += len(failures)
        for failure in failures:
            print(failure)
    print(
        f"{tests - failed} of {tests} test(s) passed in {len(files)} file(s)"
        + (f"; {broken} file(s) could not be run" if broken else "")
    )
    if args.coverage:
        for dialogue_id in sorted(catalog.dialogues):
            untested, taken, links = coverage(catalog.dialogues[dialogue_id], trace)
            share = f"{100 * taken // links}%" if links else "no links"
            print(f"\n{dialogue_id}: {taken} of {links} links taken ({share})")
            for line in untested:
                print(f"  {line}")
    return 1 if failed or broken else 0


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
    from bot.flowchart import dot_source, render_svg
    from bot.loader import load_dialogue_file, load_for_drawing

    named = Path(args.id)
    if named.suffix in (".yaml", ".yml"):  # a file, drawn even if it does not validate
        dialogue = load_for_drawing(named)
        loaded = load_dialogue_file(named) if args.format == "mermaid" else None
    else:
        try:
            loaded = load_catalog(_dialogues_dir(args)).get(args.id)
        except UnknownDialogue as exc:
            raise CoachError(str(exc)) from None
        dialogue = loaded.dialogue
    if args.format == "mermaid":
        assert loaded is not None
        print(mermaid(compile_dialogue(loaded).machine_class))
    elif args.format == "dot":
        print(dot_source(dialogue), end="")
    else:
        target = Path(args.output or f"{dialogue.id}.svg")
        target.write_bytes(render_svg(dot_source(dialogue)))
        print(f"wrote {target}")
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


def _safety_corpora(named: list[str]) -> list[Path]:
    """The labelled files named, or every one in tests/safety/."""
    if named:
        return [Path(p) for p in named]
    found = sorted(Path(SAFETY_CORPUS_DIR).glob("*.yaml"))
    if not found:
        raise CoachError(
            f"No labelled sentences in {SAFETY_CORPUS_DIR}/: name the files to use "
            "(YAML: `sentences: [{text, expect}]`)."
        )
    return found


def cmd_dialogues_safety_eval(args: argparse.Namespace) -> int:
    from bot.safety import SafetyDetector
    from bot.safety_eval import evaluate, format_report, load_corpus

    config = load_catalog(_dialogues_dir(args)).require_safety()
    corpora = [Path(p) for p in args.corpus] or [Path(DEFAULT_SAFETY_CORPUS)]
    if args.cross:
        return _safety_cross(config, _safety_corpora(args.corpus))
    screen = SafetyDetector(config, model=None if args.rules_only else "config").screen
    below: list[str] = []
    for path in corpora:
        report = evaluate(load_corpus(path), screen, config)
        print(f"== {path}")
        print(format_report(report))
        below += [f"{path}: {p}" for p in report.below(SAFETY_MIN_RECALL, SAFETY_MAX_FALSE)]
    for problem in below:
        print(f"BELOW {problem}")
    return 1 if below else 0


def _safety_cross(config: SafetyConfig, corpora: list[Path]) -> int:
    """Each file measured by a model that never learned from it (and by the rules alone)."""
    from bot.safety import SafetyDetector
    from bot.safety_eval import evaluate, format_report, load_corpus
    from bot.safety_training import train_files

    root = Path.cwd()
    summary = []
    for path in corpora:
        others = [p for p in corpora if p != path]
        model = train_files(config, others, root)
        examples = load_corpus(path)
        print(f"== {path}: the rules alone")
        rules = evaluate(examples, SafetyDetector(config, model=None).screen, config)
        print(format_report(rules, mistakes=False))
        print(f"== {path}: rules and a model trained on the {len(others)} other files")
        both = evaluate(examples, SafetyDetector(config, model=model).screen, config)
        print(format_report(both))
        ordinary = [e.text for e in examples if e.expect == "none"]
        alarms = [
            _percent_of(sum(screen(text).alert is not None for text in ordinary), len(ordinary))
            for screen in (
                SafetyDetector(config, model=None).screen,
                SafetyDetector(config, model=model).screen,
            )
        ]
        summary.append((path.name, rules, both, alarms))
    print("\nEach file unseen by the model (rules alone → rules and model):")
    print(f"{'file':<22} {'danger caught':>22} {'concern caught':>22} {'ordinary alarmed':>22}")
    for name, rules, both, alarms in summary:
        cells = []
        for level in ("level danger", "level concern"):
            before = next(r for r in rules.levels if r.id == level).recall
            after = next(r for r in both.levels if r.id == level).recall
            cells.append(f"{_percent(before)} → {_percent(after)}")
        cells.append(" → ".join(alarms))
        print(f"{name:<22} {cells[0]:>22} {cells[1]:>22} {cells[2]:>22}")
    return 0


def _percent(rate: Rate) -> str:
    return _percent_of(rate.hits, rate.total)


def _percent_of(hits: int, total: int) -> str:
    return f"{100 * hits / total:.1f}%" if total else "-"


def cmd_dialogues_safety_train(args: argparse.Namespace) -> int:
    from bot.loader import load_safety
    from bot.safety_model import load_model
    from bot.safety_training import train_files, write_model

    config = load_safety(_dialogues_dir(args) / "safety.yaml", with_model=False)
    corpora = _safety_corpora(args.corpus)
    target = Path(args.output) if args.output else None
    if target is None:
        if config.model is None:
            raise CoachError(
                "safety.yaml has no `model:` section naming the file to write: add "
                "`model: {file: safety_model.json}` or give --output."
            )
        target = _dialogues_dir(args) / config.model.file
    model = train_files(config, corpora, Path.cwd())
    write_model(model, target)
    load_model(target)  # what was written can be read back
    total = sum(t.sentences for t in model.trained_on)
    print(
        f"wrote {target}: learned from {total} sentences in {len(corpora)} files "
        f"({len(model.alert.features)} words and pairs of words)"
    )
    return 0


def cmd_dialogues_safety_explain(args: argparse.Namespace) -> int:
    """What the screen makes of one message: the rule that matched, or the model's words."""
    from bot.safety import SafetyDetector

    config = load_catalog(_dialogues_dir(args)).require_safety()
    detector = SafetyDetector(config)
    text = " ".join(args.text)
    rules = SafetyDetector(config, model=None).screen(text)
    for signal in (rules.alert, *rules.notes):
        if signal is not None:
            print(f"rules: {signal.category.id} ({signal.level}) by {signal.rule}")
    verdict = detector.verdict(text)
    if verdict is not None:
        settings = config.model
        at = settings.alert_at if settings is not None else 0.0
        heard = "raises" if verdict.probability >= at else "stays below"
        print(
            f"model: {verdict.probability:.2f} {heard} {at:.2f}; leans to {verdict.category}; "
            f"words: {verdict.describe().partition(': ')[2] or 'none known'}"
        )
    screening = detector.screen(text)
    alert = screening.alert
    print(f"answer: {alert.category.id} ({alert.level})" if alert else "answer: no alert")
    return 0


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
    scrubbed = store.erase_user(user)
    print(f"Erased all data of {user}.")
    _warn_unscrubbed(store, scrubbed)
    return 0


def _warn_unscrubbed(store: Store, scrubbed: bool) -> None:
    if not scrubbed:
        print(
            f"coach: another program was reading {store.path}, so the erased words may stay "
            f"in {store.path}-wal until it stops: run `coach db prune` again then.",
            file=sys.stderr,
        )


#: `--older-than`: a number of days, weeks or years.
_UNITS = {"d": 1, "w": 7, "y": 365}


def _days(text: str) -> int:
    number, unit = text.strip()[:-1], text.strip()[-1:].lower()
    if unit not in _UNITS or not number.isdecimal() or not 1 <= int(number) <= 100_000:
        raise CoachError(
            f"--older-than {text!r}: give a number of days, weeks or years, like 365d, 8w or 2y."
        )
    return int(number) * _UNITS[unit]


def cmd_db_prune(args: argparse.Namespace) -> int:
    """Delete conversations past the retention period, with their notes and shares."""
    days = _days(args.older_than)
    store = _existing_store(args)
    cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat()
    conversations, messages = store.prunable(cutoff)
    what = (
        f"{conversations} conversation{'' if conversations == 1 else 's'} and {messages} "
        f"message{'' if messages == 1 else 's'} last active before {cutoff[:10]}"
    )
    if not args.yes:
        print(
            f"This deletes {what}, with their next steps, shares, summaries and coaches' "
            "notes, for good. Run again with --yes to confirm.",
            file=sys.stderr,
        )
        return 1
    pruned = store.prune_before(cutoff)
    print(
        f"Deleted {pruned.conversations} conversation{'' if pruned.conversations == 1 else 's'}"
        f" and {pruned.messages} message{'' if pruned.messages == 1 else 's'} last active "
        f"before {cutoff[:10]}."
    )
    _warn_unscrubbed(store, pruned.scrubbed)
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
    return _add_account(args, "coach")


def cmd_users_add_admin(args: argparse.Namespace) -> int:
    """A new admin: aggregate figures on the review page, never a conversation."""
    return _add_account(args, "admin")


def _add_account(args: argparse.Namespace, role: str) -> int:
    from storage.sharing import hash_token, new_token, token_lookup
    from storage.store import Store

    name = _coach_name(args.name)
    token = new_token()
    store = Store(_db_path(args))
    try:
        with store.transaction():
            if store.coach_named(name) is not None:
                raise CoachError(
                    f"There is already a coach or admin called {name!r}: pick another name."
                )
            store.add_coach(name, hash_token(token), _now(), token_lookup(token), role)
    finally:
        store.close()
    print(f"Added {role} {name}. Their token (shown only this once; give it to them privately):")
    print(token)
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    store = _existing_store(args)
    accounts = store.accounts()
    if not accounts:
        print("No coaches yet: add one with `coach users add-coach NAME`.")
        return 0
    for account in accounts:
        print(f"{account.name}\t{account.role}\tadded {account.created_at[:10]}")
    return 0


def cmd_users_remove(args: argparse.Namespace) -> int:
    store = _existing_store(args)
    with store.transaction():
        store.remove_coach(_coach(store, args.name))
    print(f"Removed coach {args.name}, and every share with them.")
    return 0


def cmd_users_rotate_token(args: argparse.Namespace) -> int:
    from storage.sharing import hash_token, new_token, token_lookup

    store = _existing_store(args)
    token = new_token()
    with store.transaction():
        store.set_coach_token(
            _coach(store, args.name), hash_token(token), _now(), token_lookup(token)
        )
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


def cmd_transcripts(args: argparse.Namespace) -> int:
    """What is shared with a coach, in the terminal, by the review page's own rule."""
    from bot.review import terminal

    if args.action == "list" and not 1 <= args.limit <= 1000:
        raise CoachError("--limit must be from 1 to 1000.")
    store = _existing_store(args)
    coach = terminal.sign_in(store, args.coach)
    if args.action == "list":
        print(terminal.listing(store, coach, args.limit))
        return 0
    catalog = load_catalog(_dialogues_dir(args))
    kind = "md" if args.action == "show" else args.format
    print(terminal.export(store, catalog, coach, args.id, kind))
    return 0


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
    validate = dsub.add_parser(
        "validate",
        help="check dialogue files, safety.yaml and the rubric; exit 1 on any error",
        description="Reports every problem at once, one a line: file:line:col: severity: "
        "message. Errors stop a file from loading; warnings do not.",
    )
    validate.add_argument(
        "files", nargs="*", help="files or folders to check (default: the whole folder)"
    )
    validate.add_argument("--format", choices=("text", "json"), default="text")
    with_dialogues(validate)
    validate.set_defaults(func=cmd_dialogues_validate)
    lock = dsub.add_parser(
        "lock",
        help="record each dialogue's version and content in versions.lock",
        description="validate warns when a dialogue's content changed but its `version` "
        "did not; run this once an edit (with its raised version) is ready.",
    )
    with_dialogues(lock)
    lock.set_defaults(func=cmd_dialogues_lock)
    test = dsub.add_parser(
        "test",
        help="run conversation scripts (dialogues/tests/*.yaml) against the real engine",
        description="Each test is a conversation on a temporary database with a fake clock; "
        "a failure prints the script's file:line, what was expected and what the coach said. "
        "Exit 1 on any failure.",
    )
    test.add_argument("scripts", nargs="*", help="script files or folders (default: tests/)")
    test.add_argument(
        "--coverage",
        action="store_true",
        help="name the steps, links, recommendations and insights no script exercised",
    )
    with_dialogues(test)
    test.set_defaults(func=cmd_dialogues_test)
    status = dsub.add_parser(
        "status",
        help="what a running coach serves, and each file it refuses with file:line:col",
        description="A running `coach chat` or `coach slack` reloads the folder whenever a "
        "file is saved, with the same checks as this: a refused file leaves the last good "
        "version serving. Exit 1 if any file is refused.",
    )
    with_dialogues(status)
    status.set_defaults(func=cmd_dialogues_status)
    history = dsub.add_parser(
        "history",
        help="the versions of a dialogue conversations ran on, with dates and counts",
    )
    history.add_argument("id", help="a dialogue id")
    with_db(history)
    history.set_defaults(func=cmd_dialogues_history)
    diff = dsub.add_parser("diff", help="what changed between two stored versions of a dialogue")
    diff.add_argument("id", help="a dialogue id")
    diff.add_argument("old", help="a version (6 or v6) or a digest, as `history` lists them")
    diff.add_argument("new", help="another version or digest")
    with_db(diff)
    diff.set_defaults(func=cmd_dialogues_diff)
    listing = dsub.add_parser("list", help="list the dialogues that load")
    with_dialogues(listing)
    listing.set_defaults(func=cmd_dialogues_list)
    graph = dsub.add_parser(
        "graph",
        help="a dialogue's flow: Mermaid text, Graphviz DOT, or an SVG drawn by Graphviz",
        description="ID is a loaded dialogue, or a .yaml file (drawn with --format svg or dot "
        "even when it does not validate, its unreachable steps coloured).",
    )
    graph.add_argument("id", help="a dialogue id, or the path of a dialogue file")
    graph.add_argument("--format", choices=("mermaid", "svg", "dot"), default="mermaid")
    graph.add_argument("--output", help="with --format svg: the file to write (default ID.svg)")
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
    safety_eval.add_argument(
        "--rules-only", action="store_true", help="the rules without the trained model"
    )
    safety_eval.add_argument(
        "--cross",
        action="store_true",
        help=f"each file (default: every one in {SAFETY_CORPUS_DIR}/) measured by a model "
        "trained on the others: how it does on sentences it never saw (needs the train extra)",
    )
    with_dialogues(safety_eval)
    safety_eval.set_defaults(func=cmd_dialogues_safety_eval)
    safety_train = dsub.add_parser(
        "safety-train",
        help="train the safety model on labelled sentences (needs the train extra)",
        description="Learns, from every labelled sentence, which words lean towards danger "
        "or distress, and writes the model safety.yaml names under `model:`. Run it after "
        f"adding sentences to {SAFETY_CORPUS_DIR}/; the same sentences give the same file.",
    )
    safety_train.add_argument(
        "corpus", nargs="*", help=f"default: every file in {SAFETY_CORPUS_DIR}/"
    )
    safety_train.add_argument("--output", help="default: the file safety.yaml names")
    with_dialogues(safety_train)
    safety_train.set_defaults(func=cmd_dialogues_safety_train)
    safety_explain = dsub.add_parser(
        "safety-explain",
        help="why the safety screen answers a message as it does",
        description="Prints the rule that matched, the model's probability and the words "
        "that weighed most, and the answer the coach gives.",
    )
    safety_explain.add_argument("text", nargs="+", help="the message, in quotes")
    with_dialogues(safety_explain)
    safety_explain.set_defaults(func=cmd_dialogues_safety_explain)
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

    db = sub.add_parser("db", help="look after the conversation store")
    dbsub = db.add_subparsers(dest="action", required=True)
    prune = dbsub.add_parser("prune", help="delete conversations past a retention period, for good")
    prune.add_argument(
        "--older-than", required=True, help="last active longer ago than this: 365d, 8w, 2y"
    )
    prune.add_argument("--yes", action="store_true", help="confirm the deletion")
    with_db(prune)
    prune.set_defaults(func=cmd_db_prune)

    users = sub.add_parser("users", help="manage coaches (never transcripts)")
    usub = users.add_subparsers(dest="action", required=True)
    add_coach = usub.add_parser("add-coach", help="add a coach; prints their token once")
    add_coach.add_argument("name")
    with_db(add_coach)
    add_coach.set_defaults(func=cmd_users_add_coach)
    add_admin = usub.add_parser(
        "add-admin", help="add an admin (figures only, never transcripts); prints their token once"
    )
    add_admin.add_argument("name")
    with_db(add_admin)
    add_admin.set_defaults(func=cmd_users_add_admin)
    users_list = usub.add_parser("list", help="list the coaches and admins")
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

    transcripts = sub.add_parser(
        "transcripts", help="read what coachees shared with you, as on the review page"
    )
    tsub = transcripts.add_subparsers(dest="action", required=True)
    t_list = tsub.add_parser("list", help="the conversations shared with you, newest first")
    t_list.add_argument("--limit", type=int, default=100, help="at most this many, 1 to 1000")
    t_show = tsub.add_parser("show", help="one shared conversation, as Markdown")
    t_export = tsub.add_parser("export", help="one shared conversation, as Markdown or JSON")
    t_export.add_argument("--format", choices=("md", "json"), default="md")
    for t in (t_list, t_show, t_export):
        t.add_argument("--coach", required=True, help="your name (your token: COACH_TOKEN)")
        with_db(t)
        t.set_defaults(func=cmd_transcripts)
    for t in (t_show, t_export):
        t.add_argument("id", type=int, help="the conversation's id (see `list`)")
        with_dialogues(t)

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
    except BrokenPipeError:
        # The reader went away (`coach dialogues safety-eval | head`): stop quietly, as other
        # command-line tools do, and keep Python from complaining again when it flushes stdout.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    raise SystemExit(main())
