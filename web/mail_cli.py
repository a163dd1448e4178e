"""`khanton mail test ADDRESS`: send one message through the configured SMTP server and say, in Thai,
what failed (no server set, host unreachable, sign-in refused, address refused)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from engine.notify import mail


def cmd_mail_test(args: argparse.Namespace) -> int:
    config = mail.settings()
    if not config.enabled:
        print("khanton: ยังไม่ได้ตั้งค่าเซิร์ฟเวอร์อีเมล: ตั้ง KHANTON_SMTP_HOST (และ KHANTON_SMTP_PORT, "
              "KHANTON_SMTP_USER, KHANTON_SMTP_PASSWORD, KHANTON_SMTP_FROM) แล้วลองใหม่", file=sys.stderr)
        return 1
    try:
        [outcome] = mail.send(config, [mail.test_letter(args.address)])
    except mail.MailFailure as err:
        print(f"khanton: ส่งไม่สำเร็จ: {err.message}", file=sys.stderr)
        return 1
    if not outcome.sent:
        print(f"khanton: ส่งไม่สำเร็จ: {outcome.error}", file=sys.stderr)
        return 1
    print(f"ส่งอีเมลทดสอบถึง {args.address} ผ่าน {config.host}:{config.port} แล้ว")
    return 0


def add_commands(sub: Any) -> None:
    group = sub.add_parser("mail", help="e-mail notices (KHANTON_SMTP_*)").add_subparsers(
        dest="mail_command", required=True)
    test = group.add_parser("test", help="send one test message to ADDRESS through the configured SMTP server")
    test.add_argument("address")
    test.set_defaults(func=cmd_mail_test)
