"""The official record of an instance: its content as a Thai government memo (บันทึกข้อความ), typed,
for a template to lay out (web/record.py renders it to PDF)."""
