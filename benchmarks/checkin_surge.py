"""Surge benchmark for check-ins and safety checks, on SQLite and on PostgreSQL.

1. "Mark safe" requests (``POST /api/v1/safe`` with a single-use link token) on loopback against
   ``uvicorn commonweal.web.asgi:app --workers 2``, offered by an open-model load generator (each
   request is due at a fixed time and its latency counts from that time, so a slow server cannot
   hide queueing: no coordinated omission). Rates step up until p99 >= 250 ms or any error; the
   highest clean rate is reported.
2. The same at 3x that rate with ``--limit-concurrency``: what fraction is shed (fast 503), how fast
   the refusals are, and whether every acknowledged mark is stored (nothing lost). The generator
   runs on the same 2 cores as the server; when the machine is saturated it falls behind its own
   schedule, so it reports how late it sent (``generator_send_lag``) and each refusal's time from
   being sent (``shed_p99_after_send_ms``) beside the latency counted from the due time.
3. Escalation lag: 100,000 check-ins due within one hour (27.8 per second, 10% unanswered) are in
   the table; a real ``commonweal worker`` runs over a slice of that hour in real time and the lag
   from each missed deadline to the first alert message handed to the notifier is measured.

Peer: the same load against the framework's floor, an endpoint of the same app that touches no
database (``GET /api/v1/health``), shows what the database write costs.

Usage: ``python benchmarks/checkin_surge.py [--db sqlite|postgresql|both] [--seconds 5]``.
The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text

PG_ADMIN = os.environ.get("COMMONWEAL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- data --------------------------------------------------------------------------------------
def setup_surge(url: str, n: int) -> tuple[int, list[str]]:
    from commonweal.checkins.models import (
        AccessLink,
        LinkPurpose,
        SafetyCheck,
        SafetyStatus,
        SafetyTarget,
    )
    from commonweal.db.engine import make_engine, make_session_factory, transaction
    from commonweal.db.migrate import upgrade
    from commonweal.registry import service as reg
    from commonweal.registry.models import Member
    from commonweal.registry.schemas import CommunityCreate

    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    now = dt.datetime.now(dt.UTC)
    tokens = [secrets.token_urlsafe(32) for _ in range(n)]
    with transaction(factory) as s:
        org = reg.create_organisation(s, name=f"Surge {uuid.uuid4().hex[:6]}")
        c = reg.create_community(s, organisation_id=org.id, data=CommunityCreate(name="District"))
        s.execute(insert(Member), [{"organisation_id": org.id, "community_id": c.id,
                                    "external_id": f"s{i}", "display_name": f"Resident {i}"}
                                   for i in range(n)])
        ids = s.scalars(select(Member.id).where(Member.community_id == c.id)
                        .order_by(Member.id)).all()
        check = SafetyCheck(organisation_id=org.id, community_id=c.id, title="Flood",
                            message="Are you safe?", selector={"kind": "community"},
                            channels=[], closed=False, created_at=now)
        s.add(check)
        s.flush()
        s.execute(insert(SafetyTarget), [{"organisation_id": org.id, "safety_check_id": check.id,
                                          "member_id": m, "status": SafetyStatus.no_answer}
                                         for m in ids])
        tids = s.scalars(select(SafetyTarget.id).where(SafetyTarget.safety_check_id == check.id)
                         .order_by(SafetyTarget.id)).all()
        s.execute(insert(AccessLink), [{
            "organisation_id": org.id, "token_hash": hashlib.sha256(t.encode()).hexdigest(),
            "purpose": LinkPurpose.safety, "ref_id": tid, "member_id": m,
            "expires_at": now + dt.timedelta(days=1)} for t, tid, m in zip(tokens, tids, ids, strict=True)])
        check_id = check.id
    engine.dispose()
    return check_id, tokens


def stored_safe(url: str, check_id: int) -> int:
    from commonweal.checkins.models import SafetyTarget

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as c:
        n = c.scalar(select(func.count()).select_from(SafetyTarget).where(
            SafetyTarget.safety_check_id == check_id, SafetyTarget.status == "safe"))
    engine.dispose()
    return int(n or 0)


# --- server ------------------------------------------------------------------------------------
class Server:
    def __init__(self, url: str, *, limit: int | None = None) -> None:
        self.url, self.limit, self.port = url, limit, free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        cmd = [sys.executable, "-m", "uvicorn", "commonweal.web.asgi:app", "--workers", "2",
               "--port", str(self.port), "--log-level", "error", "--no-access-log"]
        if self.limit:
            cmd += ["--limit-concurrency", str(self.limit)]
        env = {**os.environ, "COMMONWEAL_DATABASE_URL": self.url, "COMMONWEAL_ENVIRONMENT": "test"}
        self.proc = subprocess.Popen(cmd, env=env)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
                    if b"200" in sock.recv(100):
                        time.sleep(1.0)  # let the second worker finish starting
                        return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("server did not start")

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --- open-model load generator -----------------------------------------------------------------
async def _conn(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def _request(rw: list[Any], port: int, raw: bytes) -> int:
    if rw[0] is None:
        rw[0], rw[1] = await _conn(port)
    reader, writer = rw[0], rw[1]
    writer.write(raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    close = False
    for line in head.split(b"\r\n"):
        k, _, v = line.partition(b":")
        if k.lower() == b"content-length":
            length = int(v)
        if k.lower() == b"connection" and v.strip().lower() == b"close":
            close = True
    if length:
        await reader.readexactly(length)
    if close:
        writer.close()
        rw[0] = rw[1] = None
    return status


async def offer(port: int, bodies: list[bytes], rate: float, path: str, method: str = "POST",
                conns: int = 128) -> dict[str, Any]:
    """Offer ``len(bodies)`` requests at ``rate`` per second; latency counts from the due time."""
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    results: list[tuple[int, float]] = []
    send_lag: list[float] = []  # how late the generator itself sent each request
    shed_after_send: list[float] = []  # a refusal's time from being sent to its answer
    start = time.perf_counter() + 0.2

    async def client() -> None:
        rw: list[Any] = [None, None]
        while True:
            item = await queue.get()
            if item is None:
                return
            due, body = item
            raw = (f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body
            sent = time.perf_counter()
            send_lag.append(sent - due)
            try:
                status = await asyncio.wait_for(_request(rw, port, raw), timeout=10)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                status = 599
                if rw[1] is not None:
                    rw[1].close()
                rw[0] = rw[1] = None
            results.append((status, time.perf_counter() - due))
            if status in (429, 503):
                shed_after_send.append(time.perf_counter() - sent)

    workers = [asyncio.create_task(client()) for _ in range(conns)]
    for i, body in enumerate(bodies):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((due, body))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    lat = sorted(r[1] for r in results)
    ok = [r for r in results if r[0] == 200]
    shed = [r for r in results if r[0] in (429, 503)]
    p = lambda q: round(1000 * lat[min(len(lat) - 1, int(q * len(lat)))], 1)  # noqa: E731
    return {"offered_rate": rate, "requests": len(results), "ok": len(ok), "shed": len(shed),
            "errors": len(results) - len(ok) - len(shed), "p50_ms": p(0.5), "p99_ms": p(0.99),
            "shed_p99_ms": round(1000 * sorted(r[1] for r in shed)[int(0.99 * (len(shed) - 1))], 1)
            if shed else None, "elapsed_s": round(time.perf_counter() - start, 2),
            "shed_p99_after_send_ms": _p99_ms(shed_after_send),
            "generator_send_lag_p99_ms": _p99_ms(send_lag)}


def _p99_ms(xs: list[float]) -> float | None:
    return round(1000 * sorted(xs)[int(0.99 * (len(xs) - 1))], 1) if xs else None


def surge(url: str, seconds: float, rates: list[float]) -> dict[str, Any]:
    total = int(sum(rates) * seconds * 1.0 + 4 * max(rates) * seconds) + 500
    check_id, tokens = setup_surge(url, total)
    it = iter(tokens)
    body = lambda: json.dumps({"token": next(it), "status": "safe"}).encode()  # noqa: E731
    steps, best = [], None
    acked_total = 0
    with Server(url) as srv:
        warm = asyncio.run(offer(srv.port, [body() for _ in range(100)], 25, "/api/v1/safe"))
        acked_total += warm["ok"]  # the warm-up's marks count for "nothing lost" too
        floor = asyncio.run(offer(srv.port, [b""] * int(200 * seconds), 200, "/api/v1/health",
                                  method="GET"))
        for rate in rates:
            r = asyncio.run(offer(srv.port, [body() for _ in range(int(rate * seconds))], rate,
                                  "/api/v1/safe"))
            steps.append(r)
            acked_total += r["ok"]
            print(f"  {rate:>6.0f}/s  p50 {r['p50_ms']:>7} ms  p99 {r['p99_ms']:>7} ms  "
                  f"errors {r['errors']}  shed {r['shed']}", flush=True)
            if r["p99_ms"] >= 250 or r["errors"] or r["shed"]:
                break
            best = r
    held = best["offered_rate"] if best else 0.0
    over_rate = 3 * (held or rates[0])
    with Server(url, limit=32) as srv:
        warm = asyncio.run(offer(srv.port, [body() for _ in range(100)], 25, "/api/v1/safe"))
        acked_total += warm["ok"]  # the warm-up's marks count for "nothing lost" too
        over = asyncio.run(offer(srv.port, [body() for _ in range(int(over_rate * seconds))],
                                 over_rate, "/api/v1/safe"))
    acked_total += over["ok"]
    stored = stored_safe(url, check_id)
    print(f"  3x {over_rate:.0f}/s: ok {over['ok']} shed {over['shed']} errors {over['errors']} "
          f"p99 {over['p99_ms']} ms (shed p99 {over['shed_p99_ms']} ms); stored {stored} of "
          f"{acked_total} acknowledged", flush=True)
    return {"held_rate_per_s": held, "held": best, "steps": steps, "three_x": over,
            "acknowledged": acked_total, "stored": stored, "lost": acked_total - stored,
            "floor_health_200_per_s": floor}


# --- escalation lag ----------------------------------------------------------------------------
def escalation_lag(url: str, n: int, slice_s: float) -> dict[str, Any]:
    from commonweal.checkins.models import (
        Alert,
        Checkin,
        CheckinStatus,
        OutboxMessage,
        WorkItem,
        WorkStatus,
    )
    from commonweal.db.engine import make_engine, make_session_factory, transaction
    from commonweal.db.migrate import upgrade
    from commonweal.registry import service as reg
    from commonweal.registry.models import Member, Tie
    from commonweal.registry.schemas import CommunityCreate

    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    with transaction(factory) as s:
        org = reg.create_organisation(s, name=f"Lag {uuid.uuid4().hex[:6]}")
        c = reg.create_community(s, organisation_id=org.id, data=CommunityCreate(name="Town"))
        s.execute(insert(Member), [{"organisation_id": org.id, "community_id": c.id,
                                    "external_id": f"e{i}", "display_name": f"Elder {i}",
                                    "phone": f"+1{i:010d}"} for i in range(1000)])
        mids = s.scalars(select(Member.id).where(Member.community_id == c.id)
                         .order_by(Member.id)).all()
        s.execute(insert(Tie), [{"organisation_id": org.id, "community_id": c.id,
                                 "from_member_id": mids[i], "to_member_id": mids[(i + 1) % 1000],
                                 "kind": "friend"} for i in range(1000)])
        org_id = org.id
        # a canary: the worker is up once this no-op item is done
        s.execute(insert(WorkItem).values(organisation_id=org_id, key=f"canary:{org_id}",
                                          kind="escalate", ref_id=0, arg=0, status=WorkStatus.due,
                                          due_at=dt.datetime.now(dt.UTC), attempts=0))
    tmp = Path(tempfile.mkdtemp())
    env = {**os.environ, "COMMONWEAL_ENVIRONMENT": "test"}
    proc = subprocess.Popen([sys.executable, "-m", "commonweal", "--database-url", url, "worker",
                             "--file", str(tmp / "sent.jsonl"), "--poll", "0.2"], env=env,
                            stdout=subprocess.DEVNULL)
    ready_by = time.monotonic() + 300
    while time.monotonic() < ready_by:
        with transaction(factory) as s:
            if s.scalar(select(WorkItem.status).where(WorkItem.key == f"canary:{org_id}")) == "done":
                break
        time.sleep(0.5)
    t0 = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=45)  # time to insert the hour's rows
    step = 3600.0 / n
    rows = []
    for i in range(n):
        due = t0 + dt.timedelta(seconds=i * step)
        answered = i % 10 != 0  # 10% never answer
        rows.append({"organisation_id": org_id, "member_id": mids[i % 1000],
                     "kind": "reassurance", "channel": "sms",
                     "opens_at": due - dt.timedelta(hours=1), "expected_end_at": due,
                     "grace_minutes": 0, "due_at": due,
                     "status": CheckinStatus.answered if answered else CheckinStatus.pending,
                     "answer": "ok" if answered else None, "late": False})
    for k in range(0, n, 10000):
        with transaction(factory) as s:
            s.execute(insert(Checkin), rows[k:k + 10000])
            cids = s.execute(select(Checkin.id, Checkin.due_at).where(
                Checkin.organisation_id == org_id, Checkin.due_at >= rows[k]["due_at"],
                Checkin.due_at <= rows[min(n, k + 10000) - 1]["due_at"])).all()
            s.execute(insert(WorkItem), [{
                "organisation_id": org_id, "key": f"deadline:{cid}:{due.isoformat()}",
                "kind": "deadline", "ref_id": cid, "due_at": due, "status": WorkStatus.due,
                "attempts": 0} for cid, due in cids])
    inserted_late = dt.datetime.now(dt.UTC) > t0
    end = t0 + dt.timedelta(seconds=slice_s)
    while dt.datetime.now(dt.UTC) < end + dt.timedelta(seconds=5):
        time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)
    with transaction(factory) as s:
        due_missed = s.execute(select(Checkin.id, Checkin.due_at).where(
            Checkin.organisation_id == org_id, Checkin.answer.is_(None),
            Checkin.due_at <= end)).all()
        first_sent = dict(s.execute(
            select(Alert.checkin_id, func.min(OutboxMessage.sent_at))
            .join(OutboxMessage, OutboxMessage.alert_id == Alert.id)
            .where(Alert.organisation_id == org_id, OutboxMessage.sent_at.is_not(None))
            .group_by(Alert.checkin_id)).all())
        items_done = s.scalar(select(func.count()).select_from(WorkItem).where(
            WorkItem.organisation_id == org_id, WorkItem.status == WorkStatus.done))
    engine.dispose()
    lags = sorted((first_sent[cid] - due).total_seconds() for cid, due in due_missed
                  if cid in first_sent)
    unsent = sum(1 for cid, _ in due_missed if cid not in first_sent)
    q = lambda p: round(lags[min(len(lags) - 1, int(p * len(lags)))], 3) if lags else None  # noqa: E731
    out = {"checkins_in_table": n, "due_per_second": round(n / 3600, 1),
           "rows_inserted_after_first_due": inserted_late,
           "slice_seconds": slice_s, "missed_in_slice": len(due_missed),
           "alerted": len(lags), "not_alerted": unsent, "work_items_done": items_done,
           "lag_p50_s": q(0.5), "lag_p99_s": q(0.99), "lag_max_s": round(lags[-1], 3) if lags else None}
    print(f"  escalation: {out}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--lag-slice", type=float, default=60.0)
    ap.add_argument("--checkins", type=int, default=100_000)
    args = ap.parse_args()
    rates = [50, 100, 200, 300, 500, 750, 1000, 1500]
    out: dict[str, Any] = {"machine": f"{os.cpu_count()} cpu, load average at start {os.getloadavg()[0]:.1f}"}
    tmp = Path(tempfile.mkdtemp())
    if args.db in ("postgresql", "both"):
        print("PostgreSQL", flush=True)
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        names = [f"cw_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
        with admin.connect() as c:
            for name in names:
                c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            u = [admin.url.set(database=nm).render_as_string(hide_password=False) for nm in names]
            out["postgresql"] = {"surge": surge(u[0], args.seconds, rates)}
            out["postgresql"]["escalation"] = escalation_lag(u[1], args.checkins, args.lag_slice)
        finally:
            with admin.connect() as c:
                for name in names:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    if args.db in ("sqlite", "both"):
        print("SQLite (WAL, synchronous=NORMAL)", flush=True)
        url = f"sqlite:///{tmp / 'surge.db'}"
        out["sqlite"] = {"surge": surge(url, args.seconds, rates)}
        out["sqlite"]["escalation"] = escalation_lag(f"sqlite:///{tmp / 'lag.db'}",
                                                     args.checkins, args.lag_slice)
    summary = {"machine": out["machine"]}
    for db in ("sqlite", "postgresql"):
        if db in out:
            sg, es = out[db]["surge"], out[db]["escalation"]
            summary[db] = {
                "held_rate_per_s": sg["held_rate_per_s"],
                "held_p99_ms": sg["held"]["p99_ms"] if sg["held"] else None,
                "three_x_rate_per_s": sg["three_x"]["offered_rate"],
                "three_x_ok": sg["three_x"]["ok"], "three_x_shed": sg["three_x"]["shed"],
                "three_x_errors": sg["three_x"]["errors"],
                "three_x_shed_p99_ms": sg["three_x"]["shed_p99_ms"],
                "three_x_shed_p99_after_send_ms": sg["three_x"]["shed_p99_after_send_ms"],
                "three_x_generator_send_lag_p99_ms": sg["three_x"]["generator_send_lag_p99_ms"],
                "held_is_top_step": sg["held_rate_per_s"] == max(rates),
                "acknowledged": sg["acknowledged"], "stored": sg["stored"], "lost": sg["lost"],
                "floor_health_p99_ms_at_200_per_s": sg["floor_health_200_per_s"]["p99_ms"],
                "escalation_lag_p50_s": es["lag_p50_s"], "escalation_lag_p99_s": es["lag_p99_s"],
                "escalation_missed_in_slice": es["missed_in_slice"],
                "escalation_not_alerted": es["not_alerted"],
                "checkins_in_table": es["checkins_in_table"], "slice_s": es["slice_seconds"]}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
