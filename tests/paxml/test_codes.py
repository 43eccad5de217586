from lxml import etree

from paxml import codes
from paxml.validation import SCHEMA_PATH

XS = {"xs": "http://www.w3.org/2001/XMLSchema"}


def _enumeration(type_name: str) -> set[str]:
    tree = etree.parse(str(SCHEMA_PATH))
    return set(
        tree.xpath(f"//xs:simpleType[@name='{type_name}']//xs:enumeration/@value", namespaces=XS)
    )


def test_code_list_is_exactly_the_xsd_enumerations():
    assert _enumeration("tidkodTYPE") == codes.TIME_CODES
    assert _enumeration("lonekodTYPE") == codes.SALARY_CODES
    assert len(codes.TIME_CODES) == 106
    assert len(codes.SALARY_CODES) == 113


def test_code_meanings_from_the_spec():
    assert codes.CODES_BY_ID["SJK_KAR"].name == "Sjukdom - Karensdag"
    assert codes.CODES_BY_ID["ÖT1"].name == "Övertid 1 - Betalning"
    assert codes.CODES_BY_ID["MÅNLÖN"].category == codes.Category.OTHER
    assert codes.CODES_BY_ID["SEM"].is_absence
    assert codes.is_attendance_code("ARB")
    assert codes.is_attendance_code("OB1")
    assert not codes.is_attendance_code("VAB")


def test_fortnox_profile_maps_paid_overtime_and_back():
    fortnox = codes.profile_get("fortnox")
    assert fortnox.export_time_code("ÖT3") == "ÖB3"
    assert fortnox.export_time_code("ÖK3") == "ÖK3"
    assert fortnox.export_time_code("SJK") == "SJK"
    assert fortnox.import_time_code("ÖB5") == "ÖT5"
    # ÖB1–ÖB5 are the only Fortnox codes outside the XSD enumeration
    assert fortnox.extra_time_codes - _enumeration("tidkodTYPE") == fortnox.extra_time_codes
    assert {"ÖK1", "NV9", "RE1"} <= _enumeration("tidkodTYPE")
    assert fortnox.code_names["NV9"] == "Komptid motsvarande 1.0"
