"""Databases made by released versions of Khanton, kept as SQL text for the upgrade tests (#13 part 6).

For each release below, the commit that brought its schema is exported (`git archive`) to a temporary
folder, and ITS engine, run with today's virtualenv (PYTHONPATH to the export), creates a fresh SQLite
file: the schema, its procedures, the test area's schools and users, and instances at different steps
(just started, two steps in, returned for revision, finished), with attachments and timers where that
release had them. The file is dumped (sqlite3 iterdump) to tests/data/upgrades/<revision>.sql.
tests/trust/test_upgrades.py loads each and upgrades it with today's code.

    .venv/bin/python scripts/make_upgrade_fixtures.py            # every release
    .venv/bin/python scripts/make_upgrade_fixtures.py 0007 head  # some

A release that cannot run with today's packages is skipped with the reason printed (exit status 0 as
long as one fixture was written). The files are committed: rerun only to add a release.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "upgrades"
MAX_BYTES = 1024 * 1024
KEPT = ("budget-transfer", "action-plan-evaluation")  # driven by the fixture, with what they call

# Releases: commits of the main line (git log --first-parent -- engine/migrations/versions/), where each
# migration arrived in the integrated chain an office could run; the file is named by the schema revision
# the release's database records. The commits that first ADDED 0007, 0010, 0013 and 0016 sat on branches
# whose chains were renumbered when merged (their databases say "0010_mail", "0013_process_drafts" with
# down_revision "0009"): no office ran them, and today's Alembic cannot place them (see docs/security.md).
# Nor c4b521d (a minute on the main line, 0009 before 0005 joined the chain below 0006): its database says
# 0009, so today's Alembic skips 0005 and user_lanes is never made.
RELEASES: dict[str, str] = {
    "0001": "a4f4f46",  # the first: no procedures yet (users and tokens only)
    "0002": "716bf4c",  # the first with procedures
    "0004": "cb35132",
    "0009": "4ccaf7c",  # 0005 read at scale merged: 0004 -> 0005 -> 0006 -> 0007 -> 0008 -> 0009
    "0014": "455283c",  # 0010 mail merged below 0013 drafts and 0014 version notes
    "0016": "1ad2da6",
    "head": "HEAD",
}

# Run inside the release's export, with its engine first on the path. Uses only the engine API every
# release has (Khanton: upgrade_schema, load_directory, add_user, actor, start, task, complete), probing
# for what came later (add_school, attach, issue_token's days).
DRIVER = r'''
import inspect, json, sys
from pathlib import Path
from engine.service import Khanton

url, root = sys.argv[1], Path(sys.argv[2])
report = {"notes": [], "instances": []}
k = Khanton(url, root / "processes", root / "forms")
k.upgrade_schema()
has_processes = any((root / "processes").glob("*.bpmn"))
if has_processes:
    try:
        k.load_directory()
    except Exception as err:  # one file this release cannot load with today's packages: load the others
        report["notes"].append(f"all at once refused ({type(err).__name__}: {str(err)[:100]})")
        for path in sorted((root / "processes").glob("*.bpmn")):
            try:
                k.deploy_files([path], "system")
            except Exception as one:
                report["notes"].append(f"{path.stem} not loaded ({type(one).__name__}: {str(one)[:100]})")
else:
    report["notes"].append("this release has no procedures: users and tokens only")
# The test area of tests/conftest.py: the same schools, users and school of each user (tests/drive.py).
SCHOOLS = [("1063010001", "โรงเรียนบ้านสาธิตเมืองตาก (สาธิต)", "เมืองตาก"),
           ("1063010002", "โรงเรียนบ้านสาธิตวังเจ้า (สาธิต)", "วังเจ้า"),
           ("1063010003", "โรงเรียนบ้านสาธิตบ้านตาก (สาธิต)", "บ้านตาก"),
           ("1063010004", "โรงเรียนบ้านสาธิตสามเงา (สาธิต)", "สามเงา")]
USERS = {"officer": (["officer"], ["plan_officer"]), "committee": (["officer"], ["committee"]),
         "head": (["officer"], ["plan_head"]), "director": (["officer"], ["esa_director"]),
         "school": (["officer"], ["school"]), "group": (["officer"], ["office_group"]),
         "school2": (["officer"], ["school"]), "school3": (["officer"], ["school"]),
         "school4": (["officer"], ["school"]), "analyst": (["analyst"], []), "supervisor": (["supervisor"], [])}
SCHOOL_OF = {"school": "1063010001", "school2": "1063010002", "school3": "1063010003", "school4": "1063010004"}
USER_OF_SCHOOL = {code: user for user, code in SCHOOL_OF.items()}
with_school = hasattr(k, "add_school") and "school" in inspect.signature(k.add_user).parameters
if with_school:
    for code, name, district in SCHOOLS:
        k.add_school(code, name, district)
for name, (roles, lanes) in USERS.items():
    kw = {"school": SCHOOL_OF[name]} if with_school and name in SCHOOL_OF else {}
    try:
        k.add_user(name, roles, lanes, None, "ผู้ใช้ " + name, **kw)
    except Exception as err:  # a lane this release does not know
        k.add_user(name, roles, [], None, "ผู้ใช้ " + name)
        report["notes"].append(f"{name}: no lane {lanes} ({type(err).__name__})")
    k.issue_token(name)
if not has_processes:
    print(json.dumps(report)); sys.exit(0)

LANE_USER = {"plan_officer": "officer", "committee": "committee", "plan_head": "head", "esa_director": "director",
             "school": "school", "office_group": "group"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

def sample(schema, name="", decision="approved"):
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    if "enum" in schema:
        values = [v for v in schema["enum"] if v is not None]
        if name == "decision" and decision in values:
            return decision
        return values[0] if values else None
    if "const" in schema:
        return schema["const"]
    if t == "object" or "properties" in schema:
        return {key: sample(sub, key, decision) for key, sub in schema.get("properties", {}).items()}
    if t == "array":
        items = schema.get("items", {})
        if name == "schools":
            return [{"code": SCHOOLS[0][0], "name": SCHOOLS[0][1]}]
        return [sample(items, name, decision) for _ in range(max(1, schema.get("minItems", 1)))]
    if t == "integer" or t == "number":
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1 if "exclusiveMinimum" in schema else 1)
        return int(max(low, 2570 if "year" in name else low))
    if t == "boolean":
        return True
    fmt = schema.get("format", "")
    if fmt == "date" or name.endswith("_on") or name.endswith("date"):
        return "2026-10-01"
    if name == "code":
        return SCHOOLS[0][0]
    text = "ข้อมูลทดสอบ " + (name or "x")
    return text[: schema.get("maxLength", 200)]

try:
    from engine.form_samples import sample as release_sample  # the release's own, where it has one
except ImportError:
    release_sample = None
SCENARIO = {}
for path in (root / "tests" / "scenarios").glob("*.json"):
    try:
        SCENARIO[path.stem] = json.loads(path.read_text(encoding="utf-8")).get("steps", {})
    except (ValueError, AttributeError):
        pass

def form_of(task):
    return task.get("form") or {}

def step(instance, decision="approved"):
    ready = instance.get("ready_tasks") or []
    if not ready:
        return None
    summary = ready[0]
    school = summary.get("school")
    user = USER_OF_SCHOOL.get(school, "school") if school else LANE_USER.get(summary.get("lane"), "officer")
    actor = k.actor(user)
    task = k.task(summary["id"], actor)
    data = release_sample(form_of(task)) if release_sample else sample(form_of(task), decision=decision)
    if "decision" in form_of(task).get("properties", {}):
        data["decision"] = decision
    data.update(SCENARIO.get(instance["process"], {}).get(task.get("step", ""), {}))  # the release's own values
    if "decision" in data and decision != "approved":
        data["decision"] = decision
    if hasattr(k, "attach") and (form_of(task).get("x-signed-document") or not report.get("attached")):
        try:
            k.attach(summary["id"], actor, "หนังสือ.pdf", PDF)
            report["attached"] = True
        except Exception as err:
            report["notes"].append(f"attach refused: {type(err).__name__}")
    k.complete(summary["id"], data, actor)
    return k.instance(instance["id"], k.actor("officer"))  # a school sees only its own round

def start(key):
    start_form = root / "forms" / key / "start.json"
    data = sample(json.loads(start_form.read_text(encoding="utf-8"))) if start_form.exists() else {}
    if "fiscal_year" in data or not start_form.exists():
        data["fiscal_year"] = 2570
    return k.start(key, data, k.actor("officer"))

def advance(instance, steps, returned=False):
    done = 0
    for _ in range(steps):
        decision = "approved"
        if returned:
            ready = instance.get("ready_tasks") or []
            task = k.task(ready[0]["id"], k.actor("supervisor")) if ready else {}
            values = form_of(task).get("properties", {}).get("decision", {}).get("enum", [])
            back = next((v for v in values if v and ("return" in v or "revis" in v)), None)
            if back:
                decision = back
        try:
            after = step(instance, decision)
        except Exception as err:
            fields = "; ".join(f"{e.field}: {e.message}" for e in getattr(err, "errors", []))[:200]
            report["notes"].append(f"{instance['process']}: step {done + 1} refused ({type(err).__name__}: "
                                   f"{str(err)[:80]} {fields})")
            break
        if after is None:
            break
        instance, done = after, done + 1
        if returned and decision != "approved":
            report["returned"] = report.get("returned", 0) + 1
            break
    return instance, done

keys = [p.stem for p in sorted((root / "processes").glob("*.bpmn"))]
wanted = [key for key in ("budget-transfer", "action-plan-evaluation") if key in keys]
for key in wanted[:2]:
    for label, steps, returned in (("started", 0, False), ("mid-way", 2, False), ("returned", 6, True),
                                   ("to the end", 60, False)):
        try:
            instance = start(key)
        except Exception as err:
            report["notes"].append(f"{key}: not started ({type(err).__name__}: {str(err)[:120]})")
            break
        instance, done = advance(instance, steps, returned)
        report["instances"].append({"process": key, "label": label, "steps": done,
                                    "status": instance.get("status")})
print(json.dumps(report, ensure_ascii=False))
'''


def export(commit: str, into: Path) -> None:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit], check=True,
                             capture_output=True).stdout
    tar_path = into / "release.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")
    tar_path.unlink()
    (into / "processes").mkdir(exist_ok=True)
    (into / "forms").mkdir(exist_ok=True)
    keep_only(into / "processes", KEPT)


def keep_only(folder: Path, wanted: tuple[str, ...]) -> None:
    """Leave the procedures the fixture drives and those they call: every version's parsed spec is stored,
    and all eighteen would make a dump of 2 MB."""
    keep, todo = set(), [key for key in wanted if (folder / f"{key}.bpmn").exists()]
    while todo:
        key = todo.pop()
        if key in keep:
            continue
        keep.add(key)
        xml = (folder / f"{key}.bpmn").read_text(encoding="utf-8")
        todo += [k for k in re.findall(r'calledElement="([^"]+)"', xml) if (folder / f"{k}.bpmn").exists()]
    for path in folder.glob("*.bpmn"):
        if path.stem not in keep:
            path.unlink()


def dump(db_file: Path) -> str:
    connection = sqlite3.connect(db_file)
    try:
        return "\n".join(connection.iterdump()) + "\n"
    finally:
        connection.close()


def make(revision: str, commit: str) -> str:
    """Write one fixture; the line to print."""
    with tempfile.TemporaryDirectory(prefix=f"khanton-{revision}-") as tmp:
        release = Path(tmp) / "release"
        release.mkdir()
        export(commit, release)
        db_file = Path(tmp) / "khanton.db"
        env = {**os.environ, "PYTHONPATH": str(release), "DATABASE_URL": f"sqlite:///{db_file}"}
        run = subprocess.run([sys.executable, "-c", DRIVER, f"sqlite:///{db_file}", str(release)], cwd=release,
                             env=env, capture_output=True, text=True, timeout=600)
        if run.returncode != 0:
            last = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
            return f"{revision} ({commit}): SKIPPED, this release does not run with today's packages: {last}"
        report = json.loads(run.stdout.strip().splitlines()[-1])
        text = dump(db_file)
        if len(text.encode()) > MAX_BYTES:
            return f"{revision} ({commit}): SKIPPED, the dump is {len(text.encode()):,} bytes (over 1 MB)"
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"{revision}.sql").write_text(text, encoding="utf-8")
        if report.get("returned"):
            report["notes"].insert(0, f"{report['returned']} returned for revision")
        states = ", ".join(f"{i['process']} {i['label']} ({i['steps']} steps, {i['status']})"
                           for i in report["instances"]) or "no instances"
        notes = ("; " + "; ".join(report["notes"][:4])) if report["notes"] else ""
        return f"{revision} ({commit}): {len(text.encode()):,} bytes: {states}{notes}"


def main(argv: list[str]) -> int:
    chosen = argv or list(RELEASES)
    unknown = [r for r in chosen if r not in RELEASES]
    if unknown:
        print(f"unknown release(s) {unknown}; known: {', '.join(RELEASES)}", file=sys.stderr)
        return 2
    lines = [make(revision, RELEASES[revision]) for revision in chosen]
    print("\n".join(lines))
    return 0 if any("SKIPPED" not in line for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
