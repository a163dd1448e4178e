"""E-mail through the office's SMTP server: the settings (from the environment, off by default), the
message (Thai subject and body), sending, and what went wrong said in Thai.

Settings: KHANTON_SMTP_HOST (empty: no e-mail at all), KHANTON_SMTP_PORT (587), KHANTON_SMTP_USER and
KHANTON_SMTP_PASSWORD (both or neither), KHANTON_SMTP_FROM, KHANTON_SMTP_STARTTLS (1 by default; 0 for a
server on the same host without TLS), KHANTON_SMTP_SSL (1: TLS from the start, port 465),
KHANTON_BASE_URL (the address people open Khanton at, for the links), KHANTON_DIGEST_HOUR (7: the hour,
Bangkok time, from which the day's digest goes out).
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

TIMEOUT = 15.0


@dataclass(frozen=True)
class Settings:
    host: str = ""
    port: int = 587
    user: str = ""
    password: str = ""
    sender: str = ""
    starttls: bool = True
    ssl: bool = False
    base_url: str = "http://localhost:5000"
    digest_hour: int = 7

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    def link(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


def _flag(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        number = int(value) if value and value.strip() else default
    except ValueError:
        return default
    return number if low <= number <= high else default


def settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    host = env.get("KHANTON_SMTP_HOST", "").strip()
    use_ssl = _flag(env.get("KHANTON_SMTP_SSL"), False)
    return Settings(
        host=host, port=_int(env.get("KHANTON_SMTP_PORT"), 465 if use_ssl else 587, 1, 65535),
        user=env.get("KHANTON_SMTP_USER", ""), password=env.get("KHANTON_SMTP_PASSWORD", ""),
        sender=env.get("KHANTON_SMTP_FROM", "").strip() or f"khanton@{host or 'localhost'}",
        starttls=_flag(env.get("KHANTON_SMTP_STARTTLS"), not use_ssl), ssl=use_ssl,
        base_url=env.get("KHANTON_BASE_URL", "").strip() or Settings.base_url,
        digest_hour=_int(env.get("KHANTON_DIGEST_HOUR"), 7, 0, 23))


@dataclass(frozen=True)
class Letter:
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class Outcome:
    """Of one letter: sent, or why not (in Thai), and whether trying again later may help."""

    sent: bool
    error: str = ""
    retry: bool = True


class MailFailure(Exception):
    """The server could not be reached or refused us: nothing was sent (message in Thai)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def message(config: Settings, letter: Letter) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = formataddr(("ขั้นตอน Khanton", config.sender))
    mail["To"] = letter.to
    mail["Subject"] = " ".join(letter.subject.split())  # a task's name may hold line breaks: one line
    mail["Message-ID"] = make_msgid(domain=config.sender.rpartition("@")[2] or "localhost")
    mail.set_content(letter.body, charset="utf-8")
    return mail


def _connect(config: Settings) -> smtplib.SMTP:
    where = f"{config.host}:{config.port}"
    try:
        server: smtplib.SMTP
        if config.ssl:
            server = smtplib.SMTP_SSL(config.host, config.port, timeout=TIMEOUT,
                                      context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(config.host, config.port, timeout=TIMEOUT)
            if config.starttls:
                server.starttls(context=ssl.create_default_context())
    except socket.gaierror as err:
        raise MailFailure(f"ไม่พบเซิร์ฟเวอร์อีเมล {config.host} (ชื่อเครื่องไม่ถูกต้องหรือ DNS ใช้ไม่ได้)") from err
    except smtplib.SMTPNotSupportedError as err:
        raise MailFailure(f"เซิร์ฟเวอร์อีเมล {where} ไม่รองรับ STARTTLS: ตั้ง KHANTON_SMTP_STARTTLS=0 "
                          "หากเป็นเซิร์ฟเวอร์ในเครื่องเดียวกัน") from err
    except ssl.SSLError as err:
        raise MailFailure(f"เชื่อมต่อแบบเข้ารหัสกับ {where} ไม่สำเร็จ: {err.reason or err}") from err
    except (OSError, smtplib.SMTPException) as err:
        raise MailFailure(f"ติดต่อเซิร์ฟเวอร์อีเมล {where} ไม่ได้: {err}") from err
    if config.user:
        try:
            server.login(config.user, config.password)
        except smtplib.SMTPAuthenticationError as err:
            server.close()
            raise MailFailure(f"เซิร์ฟเวอร์อีเมล {where} ไม่ยอมรับชื่อผู้ใช้หรือรหัสผ่าน "
                              "(KHANTON_SMTP_USER, KHANTON_SMTP_PASSWORD)") from err
        except (OSError, smtplib.SMTPException) as err:
            server.close()
            raise MailFailure(f"ลงชื่อเข้าเซิร์ฟเวอร์อีเมล {where} ไม่สำเร็จ: {err}") from err
    return server


def _send_one(server: smtplib.SMTP, config: Settings, letter: Letter) -> Outcome:
    try:
        server.send_message(message(config, letter))
    except smtplib.SMTPRecipientsRefused:
        return Outcome(False, f"เซิร์ฟเวอร์ไม่รับที่อยู่ผู้รับ {letter.to}", retry=False)
    except smtplib.SMTPSenderRefused:
        return Outcome(False, f"เซิร์ฟเวอร์ไม่รับที่อยู่ผู้ส่ง {config.sender} (KHANTON_SMTP_FROM)")
    except (OSError, smtplib.SMTPException) as err:
        return Outcome(False, f"ส่งไม่สำเร็จ: {err}")
    except ValueError as err:  # a header the e-mail package refuses: trying again would not help
        return Outcome(False, f"สร้างอีเมลไม่ได้: {err}", retry=False)
    return Outcome(True)


def send(config: Settings, letters: Iterable[Letter]) -> list[Outcome]:
    """Send each letter over one connection; raises MailFailure when the server cannot be used at all."""
    wanted = list(letters)
    if not wanted:
        return []
    if not config.enabled:
        raise MailFailure("ยังไม่ได้ตั้งค่าเซิร์ฟเวอร์อีเมล (KHANTON_SMTP_HOST) ระบบจึงไม่ส่งอีเมล")
    server = _connect(config)
    try:
        return [_send_one(server, config, letter) for letter in wanted]
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            server.close()


def test_letter(to: str) -> Letter:
    return Letter(to, "ทดสอบการส่งอีเมลจากระบบขั้นตอน (Khanton)",
                  "อีเมลนี้ส่งจากคำสั่ง khanton mail test เพื่อตรวจว่าการตั้งค่าเซิร์ฟเวอร์อีเมลใช้ได้\n"
                  "หากได้รับอีเมลนี้ แสดงว่าระบบส่งการแจ้งเตือนทางอีเมลได้แล้ว\n")
