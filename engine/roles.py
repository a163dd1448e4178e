"""Lanes (role keys from the manual) and system roles."""

from __future__ import annotations

LANES: dict[str, str] = {
    "plan_officer": "เจ้าหน้าที่กลุ่มนโยบายและแผน",
    "plan_head": "ผู้อำนวยการกลุ่มนโยบายและแผน",
    "esa_director": "ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษา",
    "committee": "คณะกรรมการ",
    "school": "สถานศึกษา",
    "esa_board": "คณะกรรมการเขตพื้นที่การศึกษา",  # as the manual names it (issue #11)
    "provincial_committee": "คณะกรรมการศึกษาธิการจังหวัด (กศจ.)",
    "governor": "ผู้ว่าราชการจังหวัด",
    "obec": "สำนักงานคณะกรรมการการศึกษาขั้นพื้นฐาน (สพฐ.)",
    "office_group": "กลุ่มและหน่วยงานภายใน สพท.",
}

# Outside bodies do not sign in: a plan_officer records their decisions.
OUTSIDE_BODIES = frozenset({"esa_board", "provincial_committee", "governor", "obec"})

ROLES: dict[str, str] = {
    "officer": "เจ้าหน้าที่ผู้ปฏิบัติงาน",
    "analyst": "นักวิเคราะห์กระบวนงาน",
    "supervisor": "ผู้กำกับติดตาม",
    "admin": "ผู้ดูแลระบบ",
}


def effective_lanes(lanes: list[str] | tuple[str, ...] | set[str] | frozenset[str],
                    outside: frozenset[str] = OUTSIDE_BODIES) -> set[str]:
    """The lanes whose tasks a person with `lanes` may complete (`outside`: the outside bodies' lanes,
    from engine.people.lanes when lanes are read from the table)."""
    result = set(lanes)
    if "plan_officer" in result:
        result |= outside
    return result


def lanes_working(lane: str, outside: frozenset[str] = OUTSIDE_BODIES) -> set[str]:
    """The lanes whose holders may complete `lane`'s tasks (the inverse of effective_lanes)."""
    return {lane, "plan_officer"} if lane in outside else {lane}
