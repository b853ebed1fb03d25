"""Open311 GeoReport v2 over public tips, with the request shapes of the spec's examples
(https://wiki.open311.org/GeoReport_v2): every field a client sends, files as `media`."""

import json
from xml.etree import ElementTree

from sqlalchemy import select

from app.models import Tip
from tests.api.helpers import ok
from tests.samples import photo

# The spec's POST example, field for field (media_url is not fetched: files are `media`).
SPEC_EXAMPLE = {
    "api_key": "xyz", "jurisdiction_id": "city.gov", "service_code": "fire",
    "lat": "37.76524078", "long": "-122.4212043", "address_string": "1234 5th street",
    "email": "smit333@sfgov.edu", "device_id": "tt222111", "account_id": "123456",
    "first_name": "john", "last_name": "smith", "phone": "111111111",
    "description": "A large sinkhole is destroying the street",
    "media_url": "http://www.example.com/image.png",
}


def media() -> tuple[str, tuple[str, bytes, str]]:
    name, part = photo()
    assert name == "photos"
    return ("media", part)


def test_services_are_the_hazard_categories(client) -> None:
    services = ok(client.get("/open311/v2/services.json"))
    codes = {s["service_code"] for s in services}
    assert {"fire", "electrical", "other"} <= codes
    for service in services:
        assert {"service_code", "service_name", "description", "metadata", "type",
                "keywords", "group"} <= set(service)
        assert service["metadata"] is False and service["type"] == "realtime"


def test_a_request_is_a_tip_and_its_status_is_open_then_closed(client, auth, db) -> None:
    response = client.post("/open311/v2/requests.json", data=SPEC_EXAMPLE, files=[media()])
    assert response.status_code == 201, response.text
    [created] = response.json()
    assert {"service_request_id", "token"} <= set(created)
    request_id = created["service_request_id"]
    tip = db.scalars(select(Tip).where(Tip.receipt == request_id)).one()
    assert (tip.category, tip.phone, tip.location) == ("fire", "111111111", "1234 5th street")
    assert (tip.lat, tip.lon) == (37.76524078, -122.4212043)
    assert len(tip.photos) == 1

    [status] = ok(client.get(f"/open311/v2/requests/{request_id}.json"))
    assert status["service_request_id"] == request_id
    assert status["status"] == "open"
    assert status["service_code"] == "fire"
    assert {"status_notes", "requested_datetime", "updated_datetime"} <= set(status)
    assert "111111111" not in str(status)

    ok(client.post(f"/api/v1/tips/{tip.id}/actions/reject", data={"reason": "不在本县辖区"},
                   headers=auth("anweiban")))
    [status] = ok(client.get(f"/open311/v2/requests/{request_id}.json"))
    assert status["status"] == "closed" and "不在本县辖区" in status["status_notes"]


def test_a_request_by_coordinates_alone_and_bad_requests(client) -> None:
    by_point = {"service_code": "electrical", "lat": "29.8021", "long": "119.6912",
                "description": "电线裸露"}
    response = client.post("/open311/v2/requests.json", data=by_point, files=[media()])
    assert response.status_code == 201, response.text
    unknown = client.post("/open311/v2/requests.json",
                          data={**by_point, "service_code": "001"}, files=[media()])
    assert unknown.status_code == 422
    nowhere = client.post("/open311/v2/requests.json",
                          data={"service_code": "fire", "description": "x"}, files=[media()])
    assert nowhere.status_code == 422
    no_media = client.post("/open311/v2/requests.json", data=by_point)
    assert no_media.status_code == 422
    # An id is a receipt: a sequential number or a guess finds nothing.
    for wrong in ("1", "2", "x" * 22):
        assert client.get(f"/open311/v2/requests/{wrong}.json").status_code == 404


def test_open311_errors_are_json_like_the_api(client) -> None:
    """An Open311 client reads errors as JSON, never the pages' HTML error page."""
    missing = client.get("/open311/v2/requests/" + "x" * 22 + ".json")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/json")
    assert isinstance(missing.json()["detail"], str)
    refused = client.post("/open311/v2/requests.json", data={"service_code": "x"})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/json")


# ---- The XML format (GeoReport v2 requires it beside JSON) ----

def xml_of(response) -> ElementTree.Element:
    assert response.headers["content-type"].startswith("application/xml"), response.text
    return ElementTree.fromstring(response.content)


def test_services_in_xml_are_the_same_as_in_json(client) -> None:
    as_json = ok(client.get("/open311/v2/services.json"))
    root = xml_of(client.get("/open311/v2/services.xml?jurisdiction_id=city.gov"))
    assert root.tag == "services"
    services = root.findall("service")
    assert [s.findtext("service_code") for s in services] == [
        s["service_code"] for s in as_json]
    first = services[0]
    assert first.findtext("service_name") == as_json[0]["service_name"]
    assert first.findtext("metadata") == "false" and first.findtext("type") == "realtime"
    assert first.find("keywords") is not None and first.find("group") is not None


def test_an_xml_request_is_a_tip_and_its_status_reads_in_xml(client, auth, db) -> None:
    response = client.post("/open311/v2/requests.xml", data=SPEC_EXAMPLE, files=[media()])
    assert response.status_code == 201, response.text
    root = xml_of(response)
    assert root.tag == "service_requests"
    [created] = root.findall("request")
    request_id = created.findtext("service_request_id")
    assert request_id and created.findtext("token") == request_id
    assert created.find("service_notice") is not None and created.find("account_id") is not None
    tip = db.scalars(select(Tip).where(Tip.receipt == request_id)).one()
    assert (tip.category, tip.location) == ("fire", "1234 5th street")

    url = f"/open311/v2/requests/{request_id}.xml?jurisdiction_id=city.gov"
    [status] = xml_of(client.get(url)).findall("request")
    assert status.findtext("status") == "open"
    assert status.findtext("service_code") == "fire"
    assert status.findtext("service_name") == "消防安全"
    assert status.findtext("requested_datetime")
    assert "111111111" not in client.get(url).text
    ok(client.post(f"/api/v1/tips/{tip.id}/actions/reject", data={"reason": "不在本县辖区"},
                   headers=auth("anweiban")))
    [status] = xml_of(client.get(url)).findall("request")
    assert status.findtext("status") == "closed"
    assert "不在本县辖区" in (status.findtext("status_notes") or "")
    # The JSON and the XML say the same about the one request.
    [as_json] = ok(client.get(f"/open311/v2/requests/{request_id}.json"))
    assert as_json["status_notes"] == status.findtext("status_notes")
    assert as_json["updated_datetime"] == status.findtext("updated_datetime")


def test_the_spec_example_url_encoded_with_only_a_media_url_is_refused_clearly(client) -> None:
    """The spec's example is url-encoded with `media_url`: a photo is evidence, and a URL a
    stranger names is never fetched, so such a request is a 422 that says why, in the format
    the client asked for."""
    as_json = client.post("/open311/v2/requests.json", data=SPEC_EXAMPLE)
    assert as_json.status_code == 422
    assert "media_url" in json.dumps(as_json.json()["detail"], ensure_ascii=False)
    as_xml = client.post("/open311/v2/requests.xml", data=SPEC_EXAMPLE)
    assert as_xml.status_code == 422
    root = xml_of(as_xml)
    assert root.tag == "errors"
    [error] = root.findall("error")
    assert error.findtext("code") == "422" and "media_url" in error.findtext("description")


def test_xml_errors_are_georeport_errors(client) -> None:
    missing = client.get("/open311/v2/requests/" + "x" * 22 + ".xml")
    assert missing.status_code == 404
    [error] = xml_of(missing).findall("error")
    assert error.findtext("code") == "404" and error.findtext("description")
    unknown = client.post("/open311/v2/requests.xml",
                          data={"service_code": "001", "lat": "29.8", "long": "119.6"},
                          files=[media()])
    assert unknown.status_code == 422
    [error] = xml_of(unknown).findall("error")
    assert "service_code" in error.findtext("description")
    too_many = client.post("/open311/v2/requests.xml",
                           data={"service_code": "fire", "lat": "29.8", "long": "119.6"},
                           files=[media() for _ in range(30)])
    assert too_many.status_code == 413
    assert xml_of(too_many).find("error/code").text == "413"
