"""Lanes (role keys from the manual) and system roles."""

from __future__ import annotations

LANES: dict[str, str] = {
    "plan_officer": "เจ้าหน้าที่กลุ่มนโยบายและแผน",
    "plan_head": "ผู้อำนวยการกลุ่มนโยบายและแผน",
    "esa_director": "ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษา",
    "committee": "คณะกรรมการ",
    "school": "สถานศึกษา",
    "esa_board": "คณะกรรมการเขตพื้นที่การศึกษา (กพท.)",
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


def effective_lanes(lanes: list[str] | tuple[str, ...] | set[str] | frozenset[str]) -> set[str]:
    """The lanes whose tasks a person with `lanes` may complete."""
    result = set(lanes)
    if "plan_officer" in result:
        result |= OUTSIDE_BODIES
    return result
