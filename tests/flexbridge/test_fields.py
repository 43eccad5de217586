"""Secrets of program links are stored encrypted."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models

from flexbridge import fields


class _Holder(models.Model):
    secret = fields.EncryptedTextField(blank=True)

    class Meta:
        app_label = "flexbridge"


@pytest.fixture
def holder_table(transactional_db):
    with connection.schema_editor() as editor:
        editor.create_model(_Holder)
    yield
    with connection.schema_editor() as editor:
        editor.delete_model(_Holder)


def test_value_is_encrypted_at_rest_and_plain_in_python(holder_table):
    row = _Holder.objects.create(secret="client-secret-123")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret FROM {_Holder._meta.db_table} WHERE id = %s", [row.pk])
        stored = cursor.fetchone()[0]
    assert "client-secret-123" not in stored
    assert _Holder.objects.get(pk=row.pk).secret == "client-secret-123"


def test_explicit_key_is_used_and_a_bad_key_is_refused(settings):
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = key
    token = fields.fernet().encrypt(b"x")
    assert Fernet(key.encode()).decrypt(token) == b"x"
    settings.FIELD_ENCRYPTION_KEY = "not-a-key"
    with pytest.raises(ImproperlyConfigured):
        fields.fernet()
