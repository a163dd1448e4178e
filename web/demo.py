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

# username, roles, lanes, display name
PEOPLE: list[tuple[str, list[str], list[str], str]] = [
    ("somchai", ["officer"], ["plan_officer"], "นายสมชาย ใจดี — เจ้าหน้าที่กลุ่มนโยบายและแผน"),
    ("malee", ["officer"], ["plan_officer"], "นางมาลี ตั้งใจ — เจ้าหน้าที่กลุ่มนโยบายและแผน"),
    ("suda", ["officer"], ["committee"], "นางสาวสุดา รักงาน — เลขานุการคณะกรรมการ"),
    ("wichai", ["officer"], ["plan_head"], "นายวิชัย มั่นคง — ผู้อำนวยการกลุ่มนโยบายและแผน"),
    ("prasert", ["officer"], ["esa_director"], "นายประเสริฐ ศรีตาก — ผู้อำนวยการ สพป.ตาก เขต 1"),
    ("school_nongbua", ["officer"], ["school"], "โรงเรียนบ้านหนองบัว อ.เมืองตาก"),
    ("school_bantak", ["officer"], ["school"], "โรงเรียนบ้านตากพัฒนา อ.บ้านตาก"),
    ("school_samngao", ["officer"], ["school"], "โรงเรียนบ้านสามเงา อ.สามเงา"),
    ("school_wangchao", ["officer"], ["school"], "โรงเรียนบ้านวังเจ้า อ.วังเจ้า"),
    ("nipa", ["analyst"], [], "นางนิภา วางแผน — นักวิเคราะห์กระบวนงาน"),
    ("anan", ["supervisor"], [], "นายอนันต์ ติดตาม — ผู้กำกับติดตาม"),
    ("admin_demo", ["admin"], [], "ผู้ดูแลระบบ"),
]

# Who records each lane's steps in the demo (outside bodies: a plan officer records them).
BY_LANE = {"plan_officer": "somchai", "esa_board": "somchai", "governor": "somchai", "obec": "somchai",
           "provincial_committee": "somchai", "committee": "suda", "plan_head": "wichai",
           "esa_director": "prasert", "school": "school_nongbua"}

SCHOOLS = [{"code": "63010001", "name": f"โรงเรียนบ้านหนองบัว {MARK}"},
           {"code": "63020001", "name": f"โรงเรียนบ้านตากพัฒนา {MARK}"},
           {"code": "63030001", "name": f"โรงเรียนบ้านสามเงา {MARK}"},
           {"code": "63040001", "name": f"โรงเรียนบ้านวังเจ้า {MARK}"}]

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
    return sample(schema, text=f"ข้อมูลสาธิต {MARK}", examples={"schools": SCHOOLS[:2]})


def _people(khanton: Khanton) -> list[str]:
    lines = [f"demo users {MARK} — password for all: {PASSWORD}"]
    for username, roles, lanes, name in PEOPLE:
        if khanton.active_actor(username) is None:
            try:
                khanton.add_user(username, roles, lanes, PASSWORD, f"{name} {MARK}")
            except KhantonError:  # exists but deactivated: leave it as the admin set it
                continue
        lines.append(f"  {username:16} {'/'.join(roles):11} {', '.join(lanes) or '-':14} {name}")
    return lines


def _run(khanton: Khanton, instance: dict[str, Any], stop_at: str | None = None,
         decisions: dict[str, str] | None = None, max_steps: int = 60) -> dict[str, Any]:
    """Complete ready tasks as the lane's demo person until `stop_at` is ready or the instance ends."""
    decisions = decisions or {}
    for _ in range(max_steps):
        if instance["status"] != "running" or not instance["ready_tasks"]:
            return instance
        task = instance["ready_tasks"][0]
        actor = khanton.actor(BY_LANE.get(task["lane"], "somchai"))
        view = khanton.task(task["id"], actor)
        if view["step"] == stop_at:
            return instance
        data = BUDGET_STEPS.get(view["step"]) or _sample(view["form"])
        if "decision" in view["form"].get("properties", {}):
            data["decision"] = decisions.get(view["step"], "approved")
        instance = khanton.complete(task["id"], data, actor)
    return instance


def _start(khanton: Khanton, key: str, title: str, fiscal_year: int, actor: Actor) -> dict[str, Any]:
    schema = khanton.start_form(key)["schema"] or {"type": "object", "properties": {}}
    data = _sample(schema)
    data.update({k: v for k, v in {"title": title, "fiscal_year": fiscal_year}.items()
                 if k in schema.get("properties", {})})
    return khanton.start(key, data, actor)


def load_demo(khanton: Khanton) -> list[str]:
    lines = _people(khanton)
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
