"""The API's shared behaviour: auth, error shape, schema and docs."""

import pytest
from rest_framework.authtoken.models import Token

from flexbridge.api import check_if_match, etag_for


def test_unauthenticated_gets_401_in_the_error_shape(api_client):
    response = api_client.get("/api/v1/jobs/", HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "not_authenticated"
    assert body["error"]["message"]
    assert body["error"]["fields"] == {}


def test_bad_token_is_401(api_client, db):
    response = api_client.get("/api/v1/jobs/", HTTP_AUTHORIZATION="Token nope")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_forbidden_is_403_in_the_error_shape(make_user, company, api_client):
    viewer = make_user(company, role="viewer")
    api_client.force_authenticate(viewer)
    response = api_client.post("/api/v1/jobs/selftest/", {"company": company.pk})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_token_auth(api_client, user):
    token = Token.objects.create(user=user)
    response = api_client.get("/api/v1/companies/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_validation_error_names_fields(api, company):
    response = api.post(
        "/api/v1/jobs/selftest/", {"company": company.pk, "items": 0}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "items" in error["fields"]
    assert "greater than or equal to 1" in error["message"]


def test_not_found_shape(api):
    response = api.get("/api/v1/jobs/999999/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_schema_and_docs_are_served_offline(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/jobs/" in schema.json()["paths"]
    docs = api.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html


class _Request:
    def __init__(self, header):
        self.headers = {"If-Match": header} if header else {}


def test_if_match_rules():
    tag = etag_for("employee", 1, "2026-01-01")
    check_if_match(_Request(None), tag)
    check_if_match(_Request(tag), tag)
    check_if_match(_Request("*"), tag)
    check_if_match(_Request(f'"other", {tag}'), tag)
    from flexbridge.api import PreconditionFailed, PreconditionRequired

    with pytest.raises(PreconditionFailed):
        check_if_match(_Request('"stale"'), tag)
    with pytest.raises(PreconditionRequired):
        check_if_match(_Request(None), tag, required=True)
