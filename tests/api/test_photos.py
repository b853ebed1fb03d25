"""Photo evidence over HTTP: hostile uploads, authenticity flags, staging, serving."""

import io
from datetime import timedelta

import pillow_heif
import pytest
from PIL import Image
from sqlalchemy import func, select

from app.core.config import get_settings
from app.models import Photo
from app.services.media.storage import get_storage
from tests.api.helpers import act, in_days, ok
from tests.fixtures.clock import START
from tests.samples import encode, flat_jpeg, hostile_corpus, phone_jpeg, scene

NEAR_A = (29.8021, 119.6912)  # a few metres from enterprise A in the demo county
NOW_LOCAL = START.astimezone(get_settings().tz).replace(tzinfo=None)


def fresh(seed: int, **options: object) -> bytes:
    """A photo taken just now at enterprise A."""
    values = {"taken": NOW_LOCAL - timedelta(minutes=30), "gps": NEAR_A, "seed": seed}
    values.update(options)
    return phone_jpeg(**values)  # type: ignore[arg-type]


def upload(name: str, data: bytes) -> tuple[str, tuple[str, bytes, str]]:
    return ("photos", (name, data, "image/jpeg"))


def rectifying(client, auth, before: bytes) -> int:
    response = client.post(
        "/api/v1/hazards",
        data={"title": "安全出口堵塞", "description": "货物堆放堵塞安全出口", "location": "仓库",
              "level": "general"},
        files=[upload("before.jpg", before)], headers=auth("ent_a"))
    assert response.status_code == 201, response.text
    hid = response.json()["id"]
    ok(act(client, auth, "insp_dept", hid, "assign", {"deadline": in_days(5)}))
    ok(act(client, auth, "ent_a", hid, "accept"))
    return hid


def flags_of(hazard: dict, action: str) -> set[str]:
    return {f["code"] for p in hazard["photos"] if p["action"] == action for f in p["flags"]}


def blobs() -> set[str]:
    return {b.sha256 for b in get_storage().iter_originals()}


def staging_files() -> list:
    staging = get_settings().media_root / "staging"
    return list(staging.iterdir()) if staging.exists() else []


@pytest.mark.parametrize("name", sorted(hostile_corpus()))
def test_hostile_uploads_are_refused_and_nothing_is_stored(client, auth, db, name) -> None:
    hid = rectifying(client, auth, fresh(1))
    stored_before = blobs()
    rows_before = db.scalar(select(func.count()).select_from(Photo))
    response = act(client, auth, "ent_a", hid, "submit", {"note": "已清理"},
                   files=[upload(name, hostile_corpus()[name])])
    assert response.status_code in (413, 415), response.text
    assert name in response.json()["detail"]
    assert blobs() == stored_before
    assert db.scalar(select(func.count()).select_from(Photo)) == rows_before
    assert staging_files() == []
    assert client.get(f"/api/v1/hazards/{hid}", headers=auth("ent_a")).json()["state"] == \
        "rectifying"


def test_a_fresh_photo_raises_no_flag_and_keeps_its_metadata(client, auth) -> None:
    hid = rectifying(client, auth, fresh(1))
    hazard = ok(act(client, auth, "ent_a", hid, "submit", {"note": "已清理"},
                    files=[upload("after.jpg", fresh(2, orientation=6))]))
    after = next(p for p in hazard["photos"] if p["action"] == "submit")
    assert after["flags"] == []
    assert after["camera_make"] == "HUAWEI"
    assert after["orientation"] == 6
    assert after["captured_at"] == (START - timedelta(minutes=30)).astimezone(
        get_settings().tz).isoformat()
    assert after["gps_lat"] == pytest.approx(NEAR_A[0], abs=1e-5)


def test_the_before_photo_sent_again_as_after_photo_is_flagged(client, auth) -> None:
    before = fresh(3)
    hid = rectifying(client, auth, before)
    hazard = ok(act(client, auth, "ent_a", hid, "submit", {"note": "已清理"},
                    files=[upload("after.jpg", before)]))
    assert flags_of(hazard, "submit") == {"after_matches_before", "reused_photo"}
    before_id = next(p["id"] for p in hazard["photos"] if p["action"] == "report")
    flag = next(f for p in hazard["photos"] if p["action"] == "submit" for f in p["flags"]
                if f["code"] == "after_matches_before")
    assert flag["photo_id"] == before_id


def test_a_recompressed_before_photo_is_still_caught(client, auth) -> None:
    picture = scene((1600, 1200), 9)
    exif = Image.open(io.BytesIO(fresh(9))).getexif()
    hid = rectifying(client, auth, encode(picture, "JPEG", quality=92, exif=exif))
    resent = encode(picture.resize((1000, 750)), "JPEG", quality=55, exif=exif)
    hazard = ok(act(client, auth, "ent_a", hid, "submit", {"note": "已清理"},
                    files=[upload("after.jpg", resent)]))
    assert flags_of(hazard, "submit") == {"after_matches_before", "near_duplicate"}


def test_time_and_place_flags(client, auth) -> None:
    hid = rectifying(client, auth, fresh(4))
    cases = {
        "old.jpg": (fresh(5, taken=NOW_LOCAL - timedelta(days=10)), "captured_long_before"),
        "future.jpg": (fresh(6, taken=NOW_LOCAL + timedelta(hours=2)), "captured_after_action"),
        "far.jpg": (fresh(7, gps=(30.2741, 120.1551)), "far_from_enterprise"),
        "screenshot.png": (encode(scene((300, 600), 8), "PNG"), "no_capture_time"),
    }
    hazard = ok(act(client, auth, "ent_a", hid, "submit", {"note": "已清理"},
                    files=[upload(name, data) for name, (data, _) in cases.items()]))
    by_name = {p["id"]: {f["code"] for f in p["flags"]} for p in hazard["photos"]
               if p["action"] == "submit"}
    assert sorted(by_name.values(), key=sorted) == sorted(
        ({code} for _, code in cases.values()), key=sorted)


def test_a_flag_configured_to_refuse_gives_422_and_stores_nothing(client, auth, settings) -> None:
    before = fresh(10)
    hid = rectifying(client, auth, before)
    settings.photo_refuse_flags = "after_matches_before"
    stored = blobs()
    response = act(client, auth, "ent_a", hid, "submit", {"note": "已清理"},
                   files=[upload("after.jpg", before)])
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "photo_flag.after_matches_before"
    assert blobs() == stored
    assert ok(act(client, auth, "ent_a", hid, "submit", {"note": "已清理"},
                  files=[upload("after.jpg", fresh(11))]))["state"] == "rectified"


def test_limits_answer_413_and_leave_no_staged_file(client, auth, settings) -> None:
    hid = rectifying(client, auth, fresh(12))
    photo = fresh(13, size=(1600, 1200))
    settings.max_request_bytes = len(photo) + len(photo) // 2
    response = act(client, auth, "ent_a", hid, "submit", {"note": "x"},
                   files=[upload("a.jpg", photo), upload("b.jpg", fresh(14, size=(1600, 1200)))])
    assert response.status_code == 413
    assert staging_files() == []
    settings.max_request_bytes = 128 * 1024 * 1024
    settings.max_photos_per_action = 2
    response = act(client, auth, "ent_a", hid, "submit", {"note": "x"},
                   files=[upload(f"{n}.jpg", fresh(20 + n)) for n in range(3)])
    assert response.status_code == 413
    assert staging_files() == []


def test_a_photo_over_the_file_limit_is_told_how_to_take_it(client, auth, settings) -> None:
    settings.max_upload_bytes = 1024 * 1024
    response = client.post("/api/v1/hazards", data={"title": "t", "description": "d",
                           "location": "l", "level": "general"},
                           files=[upload("big.jpg", fresh(15) + b"\x00" * 1024 * 1024)],
                           headers=auth("ent_a"))
    assert response.status_code == 413
    assert response.json()["detail"] == (
        "文件「big.jpg」超过 1 MB 上限。请在相机中关闭高像素模式（如 1 亿、2 亿像素），"
        "用标准模式拍摄后上传")
    assert staging_files() == []


def test_identical_bytes_are_stored_once(client, auth, db) -> None:
    same = fresh(30)
    report_a = client.post("/api/v1/hazards", data={"title": "a", "description": "d",
                           "location": "l", "level": "general"},
                           files=[upload("1.jpg", same)], headers=auth("ent_a")).json()
    report_b = client.post("/api/v1/hazards", data={"title": "b", "description": "d",
                           "location": "l", "level": "general"},
                           files=[upload("2.jpg", same)], headers=auth("ent_a")).json()
    sha = report_a["photos"][0]["sha256"]
    assert report_b["photos"][0]["sha256"] == sha
    assert sum(1 for b in get_storage().iter_originals() if b.sha256 == sha) == 1
    assert {f["code"] for f in report_b["photos"][0]["flags"]} == {"reused_photo"}


def test_serving_original_and_variants(client, auth) -> None:
    data = fresh(40, size=(2000, 1500), orientation=8)
    created = client.post("/api/v1/hazards", data={"title": "t", "description": "d",
                          "location": "l", "level": "general"},
                          files=[upload("IMG_1.jpg", data)], headers=auth("ent_a")).json()
    photo = created["photos"][0]
    original = client.get(f"/api/v1/photos/{photo['id']}", headers=auth("ent_a"))
    assert original.content == data
    assert original.headers["etag"] == f'"{photo["sha256"]}"'
    assert original.headers["x-content-type-options"] == "nosniff"
    assert original.headers["content-disposition"].startswith("inline; filename=")
    cached = client.get(f"/api/v1/photos/{photo['id']}", headers={
        **auth("ent_a"), "If-None-Match": original.headers["etag"]})
    assert cached.status_code == 304
    preview = client.get(f"/api/v1/photos/{photo['id']}?variant=preview", headers=auth("ent_a"))
    image = Image.open(io.BytesIO(preview.content))
    assert preview.headers["content-type"] == "image/jpeg"
    assert image.size == (1200, 1600)  # orientation 8: portrait once upright
    assert not image.getexif()
    assert preview.headers["etag"] != original.headers["etag"]


def test_heic_upload(client, auth) -> None:
    heif = pillow_heif.from_pillow(scene((800, 600), 41))
    out = io.BytesIO()
    heif.save(out, quality=80)
    created = client.post("/api/v1/hazards", data={"title": "t", "description": "d",
                          "location": "l", "level": "general"},
                          files=[("photos", ("IMG_0002.HEIC", out.getvalue(), "image/heic"))],
                          headers=auth("ent_a"))
    assert created.status_code == 201, created.text
    photo = created.json()["photos"][0]
    assert photo["content_type"] == "image/heif"
    thumb = client.get(f"/api/v1/photos/{photo['id']}?variant=thumb", headers=auth("ent_a"))
    assert thumb.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.content)).size == (320, 240)


def test_a_108_megapixel_photo_is_accepted_and_a_larger_one_says_what_to_do(client, auth) -> None:
    def report(name: str, data: bytes):
        return client.post("/api/v1/hazards", data={"title": "t", "description": "d",
                           "location": "l", "level": "general"},
                           files=[upload(name, data)], headers=auth("ent_a"))

    created = report("108mp.jpg", flat_jpeg(12000, 9000))
    assert created.status_code == 201, created.text
    photo = created.json()["photos"][0]
    preview = client.get(f"/api/v1/photos/{photo['id']}?variant=preview", headers=auth("ent_a"))
    assert Image.open(io.BytesIO(preview.content)).size == (1600, 1200)
    refused = report("250mp.jpg", flat_jpeg(18256, 13692))
    assert refused.status_code == 413
    detail = refused.json()["detail"]
    assert detail.startswith("「250mp.jpg」有 2.5 亿像素（18256×13692），超过 2 亿像素的上限")
    assert "标准模式" in detail


def test_avif_upload(client, auth) -> None:
    created = client.post("/api/v1/hazards", data={"title": "t", "description": "d",
                          "location": "l", "level": "general"},
                          files=[("photos", ("PXL_1.avif", encode(scene((800, 600), 42), "AVIF"),
                                             "image/avif"))],
                          headers=auth("ent_a"))
    assert created.status_code == 201, created.text
    photo = created.json()["photos"][0]
    assert photo["content_type"] == "image/avif"
    original = client.get(f"/api/v1/photos/{photo['id']}", headers=auth("ent_a"))
    assert original.headers["content-type"] == "image/avif"
    thumb = client.get(f"/api/v1/photos/{photo['id']}?variant=thumb", headers=auth("ent_a"))
    assert Image.open(io.BytesIO(thumb.content)).size == (320, 240)


def test_reuse_of_a_photo_the_viewer_may_not_see_is_told_as_elsewhere(client, auth) -> None:
    """Reuse is detected across enterprises, but the reporter of B is never told which
    photo of A (or which hazard) it matches; the committee, who sees both, gets the link."""
    same = fresh(50)
    form = {"title": "t", "description": "d", "location": "l", "level": "general"}
    first = client.post("/api/v1/hazards", data=form, files=[upload("1.jpg", same)],
                        headers=auth("ent_a")).json()
    second = client.post("/api/v1/hazards", data=form, files=[upload("2.jpg", same)],
                         headers=auth("ent_b"))
    assert second.status_code == 201, second.text
    theirs, hid = first["photos"][0]["id"], second.json()["id"]
    for answer in (second,
                   client.get(f"/api/v1/hazards/{hid}", headers=auth("ent_b")),
                   client.get("/api/v1/hazards", headers=auth("ent_b"))):
        body = answer.json()
        hazard = body["items"][0] if "items" in body else body
        reuse = next(f for f in hazard["photos"][0]["flags"] if f["code"] == "reused_photo")
        assert reuse == {"code": "reused_photo", "message": "同一张照片此前已在别处使用过",
                         "photo_id": None, "hazard_id": None, "hazard_code": None}
        assert first["code"] not in answer.text
    assert client.get(f"/api/v1/photos/{theirs}", headers=auth("ent_b")).status_code == 404
    staff = client.get(f"/api/v1/hazards/{hid}", headers=auth("anweiban")).json()
    reuse = next(f for f in staff["photos"][0]["flags"] if f["code"] == "reused_photo")
    assert (reuse["photo_id"], reuse["hazard_id"], reuse["hazard_code"]) == (
        theirs, first["id"], first["code"])
    assert reuse["message"] == "同一张照片已用于其他步骤或其他隐患"
