"""Safety-check exports: CSV (one row per person) and PFIF 1.4 notes (People Finder Interchange
Format, http://zesty.ca/pfif/1.4/) so a status can be shared with a person-finder repository.

PFIF mapping: marked safe by the person themself -> ``is_note_author``; marked safe by someone else
-> ``believed_alive``; needs help -> ``believed_alive`` with ``author_made_contact`` and the text
"needs help: <category>"; no answer -> ``information_sought``.
"""

from __future__ import annotations

import csv
import io
from xml.sax.saxutils import escape

from sqlalchemy.orm import Session

from commonweal.checkins.models import SafetyCheck, SafetyStatus
from commonweal.checkins.safety import list_targets

__all__ = ["PFIF_NS", "safety_csv", "safety_pfif"]

PFIF_NS = "http://zesty.ca/pfif/1.4"
CSV_FIELDS = ["member_id", "external_id", "display_name", "status", "help_category", "marked_at",
              "marked_via", "marked_by_user_id", "marked_by_member_id"]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # spreadsheet formula injection (CWE-1236): a leading = + - @ is neutralised
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def safety_csv(session: Session, check: SafetyCheck) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for t, m in list_targets(session, check_id=check.id, limit=10_000_000):
        w.writerow([m.id, _cell(m.external_id), _cell(m.display_name), t.status,
                    _cell(t.help_category), t.marked_at.isoformat() if t.marked_at else "",
                    t.marked_via or "", t.marked_by_user_id or "", t.marked_by_member_id or ""])
    return buf.getvalue()


def _iso(value: object) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else ""  # type: ignore[attr-defined]


def safety_pfif(session: Session, check: SafetyCheck, *, domain: str = "commonweal.local") -> str:
    """PFIF 1.4 XML: one ``pfif:person`` per affected member with its ``pfif:note``."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<pfif:pfif xmlns:pfif="{PFIF_NS}">']
    entry = _iso(check.created_at)
    for t, m in list_targets(session, check_id=check.id, limit=10_000_000):
        pid = f"{domain}/person.{check.organisation_id}.{m.id}"
        if t.status == SafetyStatus.safe:
            status = "is_note_author" if t.marked_by_member_id == m.id else "believed_alive"
            text = "Marked safe"
        elif t.status == SafetyStatus.need_help:
            status, text = "believed_alive", f"Needs help: {t.help_category or 'unspecified'}"
        else:
            status, text = "information_sought", "No answer yet"
        note_date = _iso(t.marked_at) or entry
        out += [
            "  <pfif:person>",
            f"    <pfif:person_record_id>{escape(pid)}</pfif:person_record_id>",
            f"    <pfif:entry_date>{entry}</pfif:entry_date>",
            f"    <pfif:source_name>{escape(check.title)}</pfif:source_name>",
            f"    <pfif:source_date>{entry}</pfif:source_date>",
            f"    <pfif:full_name>{escape(m.display_name)}</pfif:full_name>",
            "    <pfif:note>",
            f"      <pfif:note_record_id>{escape(domain)}/note.{check.id}.{t.id}</pfif:note_record_id>",
            f"      <pfif:person_record_id>{escape(pid)}</pfif:person_record_id>",
            f"      <pfif:entry_date>{note_date}</pfif:entry_date>",
            f"      <pfif:author_name>{escape(_author(t, m))}</pfif:author_name>",
            f"      <pfif:source_date>{note_date}</pfif:source_date>",
            "      <pfif:author_made_contact>"
            f"{'true' if t.status != SafetyStatus.no_answer else 'false'}"
            "</pfif:author_made_contact>",
            f"      <pfif:status>{status}</pfif:status>",
            f"      <pfif:text>{escape(text)}</pfif:text>",
            "    </pfif:note>",
            "  </pfif:person>",
        ]
    out.append("</pfif:pfif>")
    return "\n".join(out) + "\n"


def _author(t: object, m: object) -> str:
    if getattr(t, "marked_by_member_id", None) == getattr(m, "id", None):
        return str(getattr(m, "display_name", ""))
    if getattr(t, "marked_by_user_id", None):
        return f"commonweal user {t.marked_by_user_id}"  # type: ignore[attr-defined]
    return "commonweal"
