"""Login throttling (django-axes): wrong passwords lock the username out from that address,
the right password then no longer logs in, the page says why (sv/en), and an administrator
lifts the lock."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = [pytest.mark.axes, pytest.mark.django_db]

PASSWORD = "the-right-password-123"


@pytest.fixture
def victim(db):
    return UserFactory(username="anna", password=PASSWORD)


def _login(client, password, **headers):
    return client.post(reverse("login"), {"username": "anna", "password": password}, **headers)


def test_fifty_wrong_passwords_then_the_right_one_does_not_log_in(client, settings, victim):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(50):
        _login(client, "wrong")
    response = _login(client, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    text = response.content.decode()
    assert "Too many failed login attempts" in text
    assert "An administrator can lift the lock" in text


def test_the_lockout_page_speaks_swedish(client, settings, victim):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        _login(client, "wrong")
    response = _login(client, PASSWORD, HTTP_ACCEPT_LANGUAGE="sv")
    assert response.status_code == 429
    assert "För många misslyckade inloggningsförsök" in response.content.decode()


def test_a_success_before_the_limit_resets_the_count(client, settings, victim):
    settings.AXES_FAILURE_LIMIT = 3
    _login(client, "wrong")
    _login(client, "wrong")
    assert _login(client, PASSWORD).status_code == 302
    client.logout()
    _login(client, "wrong")
    assert _login(client, PASSWORD).status_code == 302


def test_an_administrator_lifts_the_lock_in_the_admin(client, settings, victim):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(3):
        _login(client, "wrong")
    assert _login(client, PASSWORD).status_code == 429
    attempt = AccessAttempt.objects.get(username="anna")
    admin = UserFactory(is_superuser=True)
    client.force_login(admin)
    changelist = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert changelist.status_code == 200 and "anna" in changelist.content.decode()
    client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    assert not AccessAttempt.objects.exists()
    client.logout()
    assert _login(client, PASSWORD).status_code == 302
