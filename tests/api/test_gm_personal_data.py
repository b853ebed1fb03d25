"""Personal data at rest under CRYPTO_PROFILE=gm (docs/integrity.md, "国密 profile"): phone
numbers are SM4-GCM ciphertext in the database, plaintext to the handling staff over HTTP,
and the rate limit per phone still counts them (by their blind index)."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.core.clock import FixedClock
from app.core.crypto import PREFIX, blind_index, write_key_file
from app.models import Tip, User
from app.models.enums import Role
from app.services.accounts.users import create_user
from tests.api.test_tips import NEAR_A, PHONE, tip, tip_id_of
from tests.samples import photo


@pytest.fixture
def gm(settings, tmp_path: Path):
    key = tmp_path / "personal.key"
    write_key_file(key)
    settings.crypto_profile = "gm"
    settings.personal_data_key_file = key
    return settings


def test_a_tipsters_phone_is_stored_encrypted_and_shown_to_staff(client, auth, db: Session,
                                                                  gm) -> None:
    receipt = tip(client, phone="138-1234 5678", **NEAR_A)["receipt"]
    tip_id = tip_id_of(db, receipt)
    stored, index = db.execute(text("SELECT phone, phone_index FROM tip WHERE id = :i"),
                               {"i": tip_id}).one()
    assert stored.startswith(PREFIX) and PHONE not in stored and "5678" not in stored
    assert index == blind_index(PHONE) and PHONE not in index
    staff = client.get(f"/api/v1/tips/{tip_id}", headers=auth("insp_town"))
    assert staff.status_code == 200 and staff.json()["phone"] == PHONE
    assert db.get_one(Tip, tip_id).phone == PHONE


def test_the_rate_limit_per_phone_holds_under_gm(client, gm) -> None:
    gm.tip_rate_limit = 2
    tip(client, phone=PHONE)
    other = TestClient(client.app, client=("203.0.113.10", 5000))
    tip(other, phone="138-1234 5678")
    third = TestClient(client.app, client=("203.0.113.11", 5000))
    refused = third.post("/api/v1/tips", data={"description": "换个地址", "location": "某处",
                                               "phone": PHONE}, files=[photo()])
    assert refused.status_code == 429
    tip(third, phone="13900000000")


def test_a_users_phone_is_stored_encrypted(db: Session, gm, clock: FixedClock) -> None:
    user = create_user(db, username="gm_phone", password="Zheng-Gai-2026!", role=Role.admin,
                       clock=clock, region_id=db.scalars(select(User.region_id).where(
                           User.username == "admin")).one(), phone="13700000000")
    db.flush()
    stored = db.execute(text('SELECT phone FROM "user" WHERE id = :i'), {"i": user.id}).scalar()
    assert stored.startswith(PREFIX) and "13700000000" not in stored
    db.expire_all()
    assert db.get_one(User, user.id).phone == "13700000000"


def test_a_phone_column_cannot_be_compared_in_sql(db: Session) -> None:
    # Ciphertexts differ each time: comparing would silently match nothing.
    with pytest.raises(TypeError, match="blind index"):
        select(Tip.id).where(Tip.phone == PHONE)
    with pytest.raises(TypeError, match="blind index"):
        select(User.id).where(User.phone.in_([PHONE]))
    select(Tip.id).where(Tip.phone.is_(None))  # a missing phone may still be asked for
