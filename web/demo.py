"""`khanton demo`: demo people for every role and lane, and a few instances in different states.

Everything here is marked demo (สาธิต). Running it twice adds nothing the second time.
"""

from __future__ import annotations

from typing import Any

from engine.accounts import Actor
from engine.errors import KhantonError
from engine.form_samples import sample
from engine.service import Khanton

PASSWORD = "demo1234"
MARK = "(สาธิต)"

# The demo area's schools in Tak province: official 10-digit code, name, district.
SCHOOL_ROWS: list[tuple[str, str, str]] = [
    ("1063010101", f"โรงเรียนบ้านหนองบัว {MARK}", "เมืองตาก"),
    ("1063020102", f"โรงเรียนบ้านตากพัฒนา {MARK}", "บ้านตาก"),
    ("1063030103", f"โรงเรียนบ้านสามเงา {MARK}", "สามเงา"),
    ("1063040104", f"โรงเรียนบ้านวังเจ้า {MARK}", "วังเจ้า"),
]
SCHOOLS = [{"code": code, "name": name} for code, name, _ in SCHOOL_ROWS]

# username, roles, lanes, display name, school (school users belong to one school each)
PEOPLE: list[tuple[str, list[str], list[str], str, str | None]] = [
    ("somchai", ["officer"], ["plan_officer"], "นายสมชาย ใจดี — เจ้าหน้าที่กลุ่มนโยบายและแผน", None),
    ("malee", ["officer"], ["plan_officer"], "นางมาลี ตั้งใจ — เจ้าหน้าที่กลุ่มนโยบายและแผน", None),
    ("suda", ["officer"], ["committee"], "นางสาวสุดา รักงาน — เลขานุการคณะกรรมการ", None),
    ("kanya", ["officer"], ["office_group"], "นางกัญญา ขยันดี — กลุ่มบริหารงานการเงินและสินทรัพย์", None),
    ("wichai", ["officer", "supervisor"], ["plan_head"], "นายวิชัย มั่นคง — ผู้อำนวยการกลุ่มนโยบายและแผน", None),
    ("prasert", ["officer", "supervisor"], ["esa_director"], "นายประเสริฐ ศรีตาก — ผู้อำนวยการ สพป.ตาก เขต 1", None),
    ("school_nongbua", ["officer"], ["school"], "โรงเรียนบ้านหนองบัว อ.เมืองตาก", "1063010101"),
    ("school_bantak", ["officer"], ["school"], "โรงเรียนบ้านตากพัฒนา อ.บ้านตาก", "1063020102"),
    ("school_samngao", ["officer"], ["school"], "โรงเรียนบ้านสามเงา อ.สามเงา", "1063030103"),
    ("school_wangchao", ["officer"], ["school"], "โรงเรียนบ้านวังเจ้า อ.วังเจ้า", "1063040104"),
    ("nipa", ["analyst"], [], "นางนิภา วางแผน — นักวิเคราะห์กระบวนงาน", None),
    ("anan", ["supervisor"], [], "นายอนันต์ ติดตาม — ผู้กำกับติดตาม", None),
    ("admin_demo", ["admin"], [], "ผู้ดูแลระบบ", None),
]
USER_OF_SCHOOL = {school: username for username, _, _, _, school in PEOPLE if school}

# Who records each lane's steps in the demo (outside bodies: a plan officer records them); a school's
# round is done by that school's user.
BY_LANE = {"plan_officer": "somchai", "esa_board": "somchai", "governor": "somchai", "obec": "somchai",
           "provincial_committee": "somchai", "committee": "suda", "plan_head": "wichai",
           "esa_director": "prasert", "office_group": "kanya"}

SIGNED_DEMO_PDF = b"%PDF-1.4\n% demo: a signed letter or resolution (scan)\n%%EOF\n"

BUDGET_STEPS: dict[str, dict[str, Any]] = {
    "analyse_spending": {"lines": [
        {"line_id": "L1", "plan_project": f"โครงการพัฒนาคุณภาพการศึกษา {MARK}", "category": "งบดำเนินงาน",
         "allocated": 150000.0, "spent": 100000.0, "leftover": 50000.0},
        {"line_id": "L2", "plan_project": f"โครงการนิเทศติดตามโรงเรียน {MARK}", "category": "งบดำเนินงาน",
         "allocated": 80000.0, "spent": 70000.0, "leftover": 10000.0},
    ], "analysis_findings": "โครงการบรรลุเป้าหมายแล้ว มีเงินเหลือจ่ายรวม 60,000 บาท"},
    "allocate_leftover": {"transfers": [
        {"from_line": "L1", "to_project": f"ซ่อมแซมอาคารเรียน โรงเรียนบ้านสามเงา {MARK}", "to_category": "งบลงทุน",
         "amount": 40000.0, "reason": "หลังคาอาคารเรียนชำรุด"},
        {"from_line": "L2", "to_project": f"อบรมครูด้านการวัดผล {MARK}", "to_category": "งบดำเนินงาน",
         "amount": 10000.0},
    ], "allocated_on": "2026-11-20", "allocation_summary": "จัดสรรตามแนวทางที่คณะกรรมการกำหนด"},
}


def _sample(schema: dict[str, Any]) -> Any:
    return sample(schema, text=f"ข้อมูลสาธิต {MARK}", examples={"schools": SCHOOLS})


def _schools(khanton: Khanton) -> list[str]:
    have = {s["code"] for s in khanton.schools()}
    lines = [f"demo schools {MARK}:"]
    for code, name, district in SCHOOL_ROWS:
        if code not in have:
            khanton.add_school(code, name, district)
        lines.append(f"  {code} {name} อ.{district}")
    return lines


def _people(khanton: Khanton) -> list[str]:
    lines = [f"demo users {MARK} — password for all: {PASSWORD}"]
    for username, roles, lanes, name, school in PEOPLE:
        if khanton.active_actor(username) is None:
            try:
                khanton.add_user(username, roles, lanes, PASSWORD, f"{name} {MARK}", school)
            except KhantonError:  # exists but deactivated: leave it as the admin set it
                continue
        lines.append(f"  {username:16} {'/'.join(roles):11} {', '.join(lanes) or '-':14} {name}")
    return lines


def _run(khanton: Khanton, instance: dict[str, Any], stop_at: str | None = None,
         decisions: dict[str, str] | None = None, max_steps: int = 60) -> dict[str, Any]:
    """Complete ready tasks as the lane's demo person until `stop_at` is ready or the instance ends."""
    decisions = decisions or {}
    anan = khanton.actor("anan")  # a school reads only its own round: follow the instance as a supervisor
    for _ in range(max_steps):
        if instance["status"] != "running" or not instance["ready_tasks"]:
            return instance
        task = instance["ready_tasks"][0]
        if task.get("school"):
            actor = khanton.actor(USER_OF_SCHOOL[task["school"]])
        else:
            actor = khanton.actor(BY_LANE.get(task["lane"], "somchai"))
        view = khanton.task(task["id"], actor)
        if view["step"] == stop_at:
            return instance
        data = BUDGET_STEPS.get(view["step"]) or _sample(view["form"])
        if "decision" in view["form"].get("properties", {}):
            data["decision"] = decisions.get(view["step"], "approved")
        if "x-signed-document" in view["form"]:  # an outside body's decision: its signed letter, scanned
            khanton.attach(task["id"], actor, "signed-demo.pdf", SIGNED_DEMO_PDF)
        khanton.complete(task["id"], data, actor)
        instance = khanton.instance(instance["id"], anan)
    return instance


def _start(khanton: Khanton, key: str, title: str, fiscal_year: int, actor: Actor) -> dict[str, Any]:
    schema = khanton.start_form(key)["schema"] or {"type": "object", "properties": {}}
    data = _sample(schema)
    data.update({k: v for k, v in {"title": title, "fiscal_year": fiscal_year}.items()
                 if k in schema.get("properties", {})})
    return khanton.start(key, data, actor)


def load_demo(khanton: Khanton) -> list[str]:
    lines = _schools(khanton) + _people(khanton)
    anan = khanton.actor("anan")
    if any(MARK in (i.get("title") or "") for i in khanton.instances(anan)):
        lines.append("demo instances exist already: none added")
        return lines
    somchai = khanton.actor("somchai")
    waiting = _run(khanton, _start(khanton, "budget-transfer", f"โอนเปลี่ยนแปลงงบประมาณ ครั้งที่ 1/2570 {MARK}",
                                   2570, somchai), stop_at="allocate_leftover")
    done = _run(khanton, _start(khanton, "budget-transfer", f"โอนเปลี่ยนแปลงงบประมาณ ครั้งที่ 2/2569 {MARK}",
                                2569, somchai))
    rejected = _run(khanton, _start(khanton, "budget-transfer", f"โอนเปลี่ยนแปลงงบประมาณ ครั้งที่ 1/2569 {MARK}",
                                    2569, somchai), decisions={"board_approval": "rejected"})
    lines.append("demo instances:")
    for label, instance in (("waiting at step 5 (allocate leftover funds)", waiting),
                            ("completed", done), ("rejected by the ESA board", rejected)):
        lines.append(f"  budget-transfer {instance['id']}: {label} [{instance['status']}]")
    lines.extend(_school_rounds(khanton, somchai))
    for key in ("school-establishment", "spending-plan"):
        try:
            name = khanton.start_form(key)["name"]
            other = _run(khanton, _start(khanton, key, f"{name} {MARK}", 2570, somchai), max_steps=2)
        except KhantonError as err:
            lines.append(f"  {key}: not started ({err.message})")
            continue
        lines.append(f"  {key} {other['id']}: two steps in [{other['status']}]")
        break
    return lines


def _school_rounds(khanton: Khanton, somchai: Actor) -> list[str]:
    """An expenditure analysis sent to the four demo schools: two have answered, two have not."""
    try:
        instance = _start(khanton, "expenditure-analysis",
                          f"วิเคราะห์งบประมาณรายจ่าย ปีงบประมาณ 2570 {MARK}", 2570, somchai)
    except KhantonError as err:
        return [f"  expenditure-analysis: not started ({err.message})"]
    instance = _run(khanton, instance, max_steps=3)  # the notice, then the first two schools' answers
    waiting = [t["name"] for t in instance["ready_tasks"]]
    return [f"  expenditure-analysis {instance['id']}: waiting for {len(waiting)} schools [{instance['status']}]"]
