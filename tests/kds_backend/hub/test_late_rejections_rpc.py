"""`rpc/late_rejections`: a device reads its own late refusals, after a mark, and nobody else's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from api_client.models import Intent, IntentKind
from kds_backend.db.tables import late_rejections
from kds_backend.db.writer import Writer
from tests.conftest import auth_headers, token_for


def refusal(w: Writer, device: str, restaurant: str = "r1") -> Intent:
    intent = Intent(id=uuid.uuid4(), device_id=device, device_seq=1, kind=IntentKind.rush, order_id=uuid.uuid4())
    w.conn.execute(
        late_rejections.insert(),
        {
            "intent_id": intent.id,
            "restaurant_id": restaurant,
            "device_id": device,
            "seq": w.next_seq(),
            "intent": intent.model_dump(mode="json"),
            "reason": "Order 12 was already served",
            "rejected_at": datetime.now(UTC),
        },
    )
    return intent


async def test_a_device_reads_only_its_own_refusals_after_its_mark(app: FastAPI, client: httpx.AsyncClient) -> None:
    db = app.state.db
    mine = [await db.awrite(lambda w: refusal(w, "r1-kds-1")) for _ in range(2)]
    await db.awrite(lambda w: refusal(w, "r1-kds-2"))  # another screen's
    await db.awrite(lambda w: refusal(w, "r1-kds-1", restaurant="r2"))  # same device id, another kitchen
    headers = auth_headers(token_for("kds", device="r1-kds-1"))

    r = await client.post("/rest/v1/rpc/late_rejections", json={}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [row["intent"]["id"] for row in body] == [str(i.id) for i in mine]
    assert body[0]["reason"] == "Order 12 was already served"

    r = await client.post("/rest/v1/rpc/late_rejections", json={"after": body[0]["seq"]}, headers=headers)
    assert [row["intent"]["id"] for row in r.json()] == [str(mine[1].id)]


async def test_bad_marks_and_missing_tokens_are_refused(client: httpx.AsyncClient) -> None:
    headers = auth_headers(token_for("kds"))
    r = await client.post("/rest/v1/rpc/late_rejections", json={"after": -1}, headers=headers)
    assert r.status_code == 422 and "after" in r.text
    r = await client.post("/rest/v1/rpc/late_rejections", json={"after": 0})
    assert r.status_code == 401
