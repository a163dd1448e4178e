"""The `khanton` command (see api.md). Errors are one line each, never a traceback."""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
import tempfile
from pathlib import Path

from sqlalchemy import make_url

from engine.accounts import TOKEN_DAYS
from engine.errors import InvalidData, InvalidDefinition, KhantonError
from engine.loading import Action, Outcome
from engine.people.audit import Who
from engine.people.office import People
from engine.service import Khanton
from engine.thai_calendar import thai_datetime
from engine.xmlsafe import MAX_DEFINITION_BYTES

from . import mail_cli


def _engine() -> Khanton:
    return Khanton()


def cmd_init(args: argparse.Namespace) -> int:
    khanton = _engine()
    khanton.upgrade_schema()
    print(f"ฐานข้อมูลพร้อมใช้: {make_url(khanton.db.url).render_as_string(hide_password=True)}")
    print(f"กระบวนงานจาก {khanton.processes_dir} แบบฟอร์มจาก {khanton.forms_dir}")
    try:
        outcomes = khanton.load_directory()
    except InvalidDefinition as err:
        for problem in err.problems:
            print(f"{problem.file or err.key}: {problem.describe(with_file=False)}")
        print("ไม่ได้โหลดไฟล์ใดเลย: แก้ไฟล์ตามที่แจ้งแล้วสั่ง khanton init อีกครั้ง")
        return 1
    for outcome in outcomes:
        print(_init_line(outcome))
    return 0


def _init_line(outcome: Outcome) -> str:
    """One line per procedure: what `init` did with its file, and why (in Thai: operators read it)."""
    by = f"{outcome.published_by} เผยแพร่เมื่อ {thai_datetime(outcome.published_at)}" if outcome.published_at \
        else f"{outcome.published_by}"
    if outcome.action is Action.LOAD:
        return f"{outcome.key}: โหลดจากไฟล์เป็นรุ่น {outcome.version}"
    if outcome.action is Action.UNCHANGED:
        return f"{outcome.key}: ไม่เปลี่ยนแปลง (รุ่น {outcome.version})"
    if outcome.action is Action.SAME_FILE:
        return f"{outcome.key}: ไฟล์ไม่เปลี่ยนแปลง — ใช้รุ่น {outcome.version} ที่ {by}"
    return (f"{outcome.key}: คงรุ่น {outcome.version} ที่ {by} ไว้ — ไฟล์ {outcome.path} เปลี่ยนไปแต่ไม่ได้โหลด "
            f"หากต้องการใช้ไฟล์นี้แทน สั่ง khanton deploy {outcome.path}")


SECRET_FILE = Path("khanton.secret")
MAX_WORKERS = 64  # each worker is a process with its own database pool: a typo must not fork thousands


def _secret_key() -> str:
    """KHANTON_SECRET_KEY, else a key kept in ./khanton.secret (made once), so that a restart keeps
    everyone signed in; several hosts must share KHANTON_SECRET_KEY instead."""
    if os.environ.get("KHANTON_SECRET_KEY"):
        return os.environ["KHANTON_SECRET_KEY"]
    if not SECRET_FILE.exists():
        _create_secret_file()
    return SECRET_FILE.read_text().strip()


def _create_secret_file() -> None:
    """Write the key whole to a private file, then link it into place: linking fails if another
    `khanton serve` got there first, and nobody ever reads a half-written or empty key."""
    fd, temporary = tempfile.mkstemp(prefix=".khanton.secret.", dir=SECRET_FILE.parent)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(temporary, SECRET_FILE)
        except FileExistsError:
            pass  # the other one's key wins; both read it back
    finally:
        os.unlink(temporary)


def cmd_serve(args: argparse.Namespace) -> int:
    from web import create_app

    if not 1 <= args.workers <= MAX_WORKERS:
        print(f"--workers {args.workers}: ต้องเป็นจำนวนเต็มตั้งแต่ 1 ถึง {MAX_WORKERS} "
              "(ปกติ 2–4 ต่อแกนประมวลผลของเครื่อง)")
        return 2
    key = _secret_key()  # read once, before any worker starts: every worker signs with the same key
    if not args.no_timers:
        from sqlalchemy.orm import configure_mappers

        from engine.db import Database
        from engine.time import scheduler

        if args.workers > 1:
            # gunicorn forks its workers (and any it restarts) from this process while the timers' thread
            # runs: a fork while that thread holds SQLAlchemy's mapper-configuration lock left a worker
            # hung on its first request for good (tests/trust/test_faults_kill.py). Configured here,
            # before the thread starts, the lock is never taken again.
            configure_mappers()
        scheduler.start_background(Database())  # in this (the master) process only, never in forked workers
    if args.workers == 1:
        # One process, as before: Werkzeug's threaded server, which also runs where gunicorn cannot.
        create_app({"SECRET_KEY": key}).run(host=args.host, port=args.port, threaded=True)
        return 0
    from web import serving

    serving.run(lambda: create_app({"SECRET_KEY": key}), args.host, args.port, args.workers)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from engine.db import Database
    from engine.time import scheduler

    db = Database()
    print(f"khanton worker: ตรวจตัวจับเวลาทุก {args.interval:g} วินาที "
          f"({make_url(db.url).render_as_string(hide_password=True)}); หยุดด้วย Ctrl-C หรือ SIGTERM", flush=True)
    scheduler.run_blocking(db, args.interval)
    return 0


def cmd_holiday_set(args: argparse.Namespace) -> int:
    from engine.time import holiday_admin

    db = _engine().db
    try:
        with db.transaction() as session:
            day = holiday_admin.parse_day(args.day)
            holiday_admin.set_day(session, day, args.name, not args.working, args.actor)
    except InvalidData as err:
        for error in err.errors:
            print(f"khanton holiday set: {error.message}", file=sys.stderr)
        return 1
    print(f"{day.isoformat()}: {'วันทำงาน' if args.working else 'วันหยุด'} — {args.name.strip()}")
    return 0


def cmd_holiday_list(args: argparse.Namespace) -> int:
    from engine.thai_calendar import thai_date
    from engine.time import holiday_admin

    with _engine().db.transaction(read_only=True) as session:
        for day in holiday_admin.year(session, args.year):
            mark = "  (ผู้ดูแลระบบ)" if day.source == "admin" else ""
            print(f"{day.day.isoformat()}  {thai_date(day.day)}  {day.name}{mark}")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.name} (empty: token only): ") or None
    _engine().add_user(args.name, args.role or ["officer"], args.lane or [], password, args.display_name or "",
                       args.school, who=_operator())
    print(f"user {args.name} added" + (f" (school {args.school})" if args.school else ""))
    return 0


def cmd_user_school(args: argparse.Namespace) -> int:
    _engine().set_school(args.name, args.code, who=_operator())
    print(f"user {args.name}: school {args.code.strip()}")
    return 0


def cmd_school_add(args: argparse.Namespace) -> int:
    _engine().add_school(args.code, args.name, args.district or "", who=_operator())
    print(f"school {args.code.strip()} added")
    return 0


def _operator() -> Who:
    """The command line acts as its operator (the audit trail names them)."""
    try:
        return Who(f"cli:{getpass.getuser()}")
    except (KeyError, OSError):  # no name for this uid (a container)
        return Who("cli")


def cmd_token(args: argparse.Namespace) -> int:
    print(People(_engine().db).issue_token(_operator(), args.name, args.days))
    return 0


def cmd_lane_add(args: argparse.Namespace) -> int:
    lane = People(_engine().db).add_lane(_operator(), args.key, args.name, args.outside)
    print(f"lane {lane.key} added" + (" (outside body)" if lane.outside else ""))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from web.demo import load_demo

    for line in load_demo(_engine()):
        print(line)
    return 0


def _report(problems_by_file: dict[str, list[str]]) -> int:
    failed = 0
    for name, problems in problems_by_file.items():
        if problems:
            failed += 1
            for problem in problems:
                print(f"{name}: {problem}")
        else:
            print(f"{name}: ok")
    return 1 if failed else 0


def cmd_validate(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.files]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        return _report({str(p): ["ไม่พบไฟล์"] for p in missing})
    checked = _engine().check_files(paths)
    return _report({str(p): [pr.describe(with_file=False) for pr in d.problems]
                    for p, d in zip(paths, checked, strict=True)})


def cmd_import(args: argparse.Namespace) -> int:
    """Open files drawn in other tools as drafts: 0 when each opened (its problems one line each),
    1 when one could not be read at all (why, one line). Never a traceback."""
    from engine.authoring import importing

    khanton = _engine()
    if not khanton.has_schema():
        print("khanton import: ยังไม่มีฐานข้อมูล — สั่ง khanton init ก่อน", file=sys.stderr)
        return 1
    failed = 0
    for name in args.files:
        path = Path(name)
        try:
            data = path.read_bytes()
            imported = importing.import_diagram(khanton.db, khanton.forms_dir, data, _operator().username,
                                                args.key if len(args.files) == 1 else None, path.name)
        except OSError as err:
            print(f"{name}: " + ("ไม่พบไฟล์" if isinstance(err, FileNotFoundError) else
                                 "อ่านไฟล์ไม่ได้ (เป็นโฟลเดอร์ หรือไม่มีสิทธิ์อ่าน)"))
            failed += 1
            continue
        except InvalidDefinition as err:
            reason = "; ".join(p.describe(with_file=False) for p in err.problems) or err.message
            print(f"{name}: นำเข้าไม่ได้ — {reason}")
            failed += 1
            continue
        except KhantonError as err:
            print(f"{name}: นำเข้าไม่ได้ — {err.message}")
            failed += 1
            continue
        print(f"{name}: เปิดเป็นฉบับร่างหมายเลข {imported.draft} ของกระบวนงาน {imported.key} "
              f"(ปัญหาที่ต้องแก้ก่อนเผยแพร่ {len(imported.problems)} รายการ)")
        for note in imported.notes:
            print(f"{name}: หมายเหตุ: {note}")
        for problem in imported.problems:
            print(f"{name}: {problem.describe(with_file=False)}")
    return 1 if failed else 0


def cmd_deploy(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.files]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        return _report({str(p): ["ไม่พบไฟล์"] for p in missing})
    too_large = [p for p in paths if p.stat().st_size > MAX_DEFINITION_BYTES]  # say which, before reading any
    if too_large:
        return _report({str(p): [f"ไฟล์ใหญ่เกิน {MAX_DEFINITION_BYTES // (1024 * 1024)} MB"] for p in too_large})
    try:
        published = _engine().deploy_files(paths, args.actor)
    except InvalidDefinition as err:
        for problem in err.problems:
            print(f"{problem.file or err.key}: {problem.describe(with_file=False)}")
        return 1
    for item in published:
        print(f"{item.key}: version {item.version}" + (" (new)" if item.created else " (unchanged)"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="khanton", description="Khanton: executable procedures")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create or upgrade the database, load processes/ and forms/ (or the folders "
                   "KHANTON_PROCESSES and KHANTON_FORMS name); never over a version a person published"
                   ).set_defaults(func=cmd_init)
    serve = sub.add_parser("serve", help="serve the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--workers", type=int, default=1,
                       help="processes; above 1 runs gunicorn (PostgreSQL, or SQLite on one machine)")
    serve.add_argument("--no-timers", action="store_true",
                       help="run no timer scheduler here (when `khanton worker` processes fire the timers)")
    serve.set_defaults(func=cmd_serve)
    worker = sub.add_parser("worker", help="fire due timers (deadlines, reminders, scheduled starts) until stopped")
    worker.add_argument("--interval", type=float, default=10.0, help="seconds between polls (default 10)")
    worker.set_defaults(func=cmd_worker)
    holiday = sub.add_parser("holiday", help="the office calendar").add_subparsers(dest="holiday_command",
                                                                                   required=True)
    holiday_set = holiday.add_parser("set", help="make a day a holiday (or, with --working, a working day)")
    holiday_set.add_argument("day", help="YYYY-MM-DD (Common Era)")
    holiday_set.add_argument("--name", required=True)
    holiday_set.add_argument("--working", action="store_true", help="a working day the package calls a holiday")
    holiday_set.add_argument("--actor", default="cli")
    holiday_set.set_defaults(func=cmd_holiday_set)
    holiday_list = holiday.add_parser("list", help="a year's holidays (Common Era year)")
    holiday_list.add_argument("year", type=int)
    holiday_list.set_defaults(func=cmd_holiday_list)
    user = sub.add_parser("user", help="manage users").add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="create a user")
    add.add_argument("name")
    add.add_argument("--role", nargs="+", action="extend")
    add.add_argument("--lane", nargs="+", action="extend")
    add.add_argument("--display-name")
    add.add_argument("--school", help="official code of the school a school user belongs to")
    add.add_argument("--password-stdin", action="store_true")
    add.set_defaults(func=cmd_user_add)
    user_school = user.add_parser("school", help="bind a school user to their school (or move them)")
    user_school.add_argument("name")
    user_school.add_argument("code")
    user_school.set_defaults(func=cmd_user_school)
    school = sub.add_parser("school", help="manage schools").add_subparsers(dest="school_command", required=True)
    school_add = school.add_parser("add", help="add a school (official code, Thai name)")
    school_add.add_argument("code")
    school_add.add_argument("--name", required=True)
    school_add.add_argument("--district")
    school_add.set_defaults(func=cmd_school_add)
    token = sub.add_parser("token", help="print a new API token for a user")
    token.add_argument("name")
    token.add_argument("--days", type=int, default=TOKEN_DAYS,
                       help=f"days the token is valid (default {TOKEN_DAYS})")
    token.set_defaults(func=cmd_token)
    lane = sub.add_parser("lane", help="manage lanes").add_subparsers(dest="lane_command", required=True)
    lane_add = lane.add_parser("add", help="add a lane (the id a diagram's lane uses, its Thai name)")
    lane_add.add_argument("key")
    lane_add.add_argument("--name", required=True)
    lane_add.add_argument("--outside", action="store_true",
                          help="an outside body: it does not sign in, a plan officer records its decisions")
    lane_add.set_defaults(func=cmd_lane_add)
    sub.add_parser("demo", help="demo users and instances").set_defaults(func=cmd_demo)
    validate = sub.add_parser("validate", help="check definitions without publishing")
    validate.add_argument("files", nargs="+")
    validate.set_defaults(func=cmd_validate)
    importing = sub.add_parser("import", help="open diagrams drawn in other tools (Camunda, Signavio, Bizagi...) "
                               "as drafts, listing what must change before they can run")
    importing.add_argument("files", nargs="+")
    importing.add_argument("--key", help="the procedure key for the draft (one file only)")
    importing.set_defaults(func=cmd_import)
    deploy = sub.add_parser("deploy", help="publish new versions")
    deploy.add_argument("files", nargs="+")
    deploy.add_argument("--actor", default="cli")
    deploy.set_defaults(func=cmd_deploy)
    mail_cli.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KhantonError as err:
        print(f"khanton: {err.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
