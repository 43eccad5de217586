"""Places: import from CSV with line-level errors (nothing saved on an error, re-import
updates by name) and editing in a form."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.models import Place
from projects.services import places_import

pytestmark = pytest.mark.django_db

GOOD = (
    "name;address;latitude;longitude;radius_m\n"
    "Kontoret;Storgatan 1, Stockholm;59.3293;18.0686;150\n"
    "Lagret;Hamnvägen 3;57,7089;11,9746;\n"
).encode()


def test_import_creates_places_and_updates_by_name(company):
    saved = places_import(company=company, content=GOOD)
    assert [(p.name, p.latitude, p.longitude, p.radius_m) for p in saved] == [
        ("Kontoret", Decimal("59.329300"), Decimal("18.068600"), 150),
        ("Lagret", Decimal("57.708900"), Decimal("11.974600"), None),
    ]
    places_import(
        company=company,
        content=b"name,address,latitude,longitude,radius_m\nKontoret,Ny adress,59.3,18.0,50\n",
    )
    office = Place.objects.get(company=company, name="Kontoret")
    assert Place.objects.filter(company=company).count() == 2
    assert (office.address, office.radius_m) == ("Ny adress", 50)


def test_import_reports_every_bad_line_and_saves_nothing(company):
    content = (
        b"name;address;latitude;longitude;radius_m\n"
        b"Ok;;59.1;18.1;\n"
        b";Utan namn;59.1;18.1;\n"
        b"Fel;;95;18.1;\n"
        b"Text;;abc;18.1;-3\n"
        b"Ok;;59.2;18.2;\n"
    )
    with pytest.raises(ValidationError) as excinfo:
        places_import(company=company, content=content)
    assert excinfo.value.messages == [
        "Line 3: the name is missing.",
        "Line 4: latitude must be between -90 and 90.",
        "Line 5: latitude 'abc' is not a number.",
        "Line 5: the radius must be a whole number of metres from 1.",
        "Line 6: Ok is also on line 2.",
    ]
    assert not Place.objects.exists()


def test_import_needs_the_columns(company):
    with pytest.raises(ValidationError, match="header lacks latitude, longitude"):
        places_import(company=company, content=b"name;address;radius_m\nA;B;1\n")


def test_places_page_imports_and_edits(client, user, company, other_company):
    client.force_login(user)
    upload = SimpleUploadedFile("places.csv", GOOD, content_type="text/csv")
    response = client.post(
        "/projects/places/", {"company": company.pk, "file": upload}, follow=True
    )
    assert "Kontoret" in response.content.decode()
    place = Place.objects.get(name="Lagret")
    response = client.post(
        f"/projects/places/{place.pk}/",
        {
            "name": "Lagret",
            "address": "Hamnvägen 5",
            "latitude": "57.7",
            "longitude": "11.9",
            "radius_m": "80",
        },
    )
    assert response.status_code == 302
    place.refresh_from_db()
    assert (place.address, place.radius_m) == ("Hamnvägen 5", 80)
    secret = Place.objects.create(company=other_company, name="Secret", latitude=1, longitude=1)
    assert client.get(f"/projects/places/{secret.pk}/").status_code == 404


def test_places_page_shows_line_errors(client, user, company):
    client.force_login(user)
    upload = SimpleUploadedFile("p.csv", b"name;address;latitude;longitude;radius_m\n;x;1;1;\n")
    html = client.post(
        "/projects/places/", {"company": company.pk, "file": upload}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Line 2: the name is missing." in html
