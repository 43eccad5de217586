"""The PAXml 2.0 standard code list and the export profiles.

Every ``tidkod`` and ``lonkod`` of the official XSD, with the meaning the technical
description (2013-03-13, pages 18–21) gives it. A company's time-code and salary-code
registers start with this list (see ``paxml.services.paxml_codes_seed``); the tests check
it against the XSD's enumerations so the two cannot drift apart.

A *profile* says which code is written for a standard code on export and which codes a
file may carry on import. ``standard`` writes the PAXml codes as they are. ``fortnox``
follows Fortnox Lön (seed ``paxml-for-fortnox-lon.sv.md``): overtime paid out is ``ÖB1``–
``ÖB5`` instead of ``ÖT1``–``ÖT5``, ``NV9`` means comp time 1.0 and ``RE1`` travel time.
``ÖB1``–``ÖB5`` are not in the XSD's ``tidkodTYPE``; see ``docs/paxml.md`` for how they
are written and validated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Category(StrEnum):
    ABSENCE = "absence"  # Frånvaro (endast tidkod)
    BALANCE = "balance"  # Tidssaldon (endast tidkod)
    ATTENDANCE = "attendance"  # Närvaro/arbetstid (tidkod eller lönekod)
    ALLOWANCE = "allowance"  # Tillägg (tidkod eller lönekod)
    OTHER = "other"  # Övriga ersättningar (endast lönekod)


@dataclass(frozen=True, slots=True)
class StandardCode:
    code: str
    name: str
    category: Category
    time: bool  # allowed as <tidkod>
    salary: bool  # allowed as <lonkod>

    @property
    def is_absence(self) -> bool:
        return self.category == Category.ABSENCE

    @property
    def is_attendance(self) -> bool:
        """Presence codes: the spec says they are always given in hours."""
        return self.category in (Category.ATTENDANCE, Category.ALLOWANCE)


STANDARD_CODES: tuple[StandardCode, ...] = (
    StandardCode("SJK", "Sjukdom", Category.ABSENCE, time=True, salary=False),
    StandardCode("SJK_KAR", "Sjukdom - Karensdag", Category.ABSENCE, time=True, salary=False),
    StandardCode(
        "SJK_LÖN",
        "Sjukdom - Sjuklön (Arbetsgivaren betalar)",
        Category.ABSENCE,
        time=True,
        salary=False,
    ),
    StandardCode(
        "SJK_ERS",
        "Sjukdom - Sjukersättning (FK + 10% sjuklön)",
        Category.ABSENCE,
        time=True,
        salary=False,
    ),
    StandardCode(
        "SJK_PEN",
        "Sjukdom - Sjukpenning (Försäkringskassan)",
        Category.ABSENCE,
        time=True,
        salary=False,
    ),
    StandardCode("ASK", "Arbetsskada", Category.ABSENCE, time=True, salary=False),
    StandardCode("HAV", "Havandeskapspenning", Category.ABSENCE, time=True, salary=False),
    StandardCode("FPE", "Föräldraledig", Category.ABSENCE, time=True, salary=False),
    StandardCode("VAB", "Vård av barn", Category.ABSENCE, time=True, salary=False),
    StandardCode("SMB", "Smittbärare", Category.ABSENCE, time=True, salary=False),
    StandardCode(
        "UTB", "Utbildning (semestergrundande)", Category.ABSENCE, time=True, salary=False
    ),
    StandardCode("MIL", "Militärtjänst (max 60 dagar)", Category.ABSENCE, time=True, salary=False),
    StandardCode(
        "SVE", "Svenskundervisning för invandrare", Category.ABSENCE, time=True, salary=False
    ),
    StandardCode("NÄR", "Närståendevård", Category.ABSENCE, time=True, salary=False),
    StandardCode("TJL", "Tjänstledig", Category.ABSENCE, time=True, salary=False),
    StandardCode("SEM", "Semester", Category.ABSENCE, time=True, salary=False),
    StandardCode("SEM_BET", "Semester - betald", Category.ABSENCE, time=True, salary=False),
    StandardCode("SEM_SPA", "Semester - sparad", Category.ABSENCE, time=True, salary=False),
    StandardCode("SEM_OBE", "Semester - obetald", Category.ABSENCE, time=True, salary=False),
    StandardCode("SEM_FÖR", "Semester - förskott", Category.ABSENCE, time=True, salary=False),
    StandardCode("KOM", "Kompledig", Category.ABSENCE, time=True, salary=False),
    StandardCode("PEM", "Permission", Category.ABSENCE, time=True, salary=False),
    StandardCode("PER", "Permitterad", Category.ABSENCE, time=True, salary=False),
    StandardCode("FAC", "Fackligt arbete", Category.ABSENCE, time=True, salary=False),
    StandardCode("ATK", "Arbetstidskonto", Category.ABSENCE, time=True, salary=False),
    StandardCode("KON", "Kontaktdagar", Category.ABSENCE, time=True, salary=False),
    StandardCode("PAP", "Pappaledig", Category.ABSENCE, time=True, salary=False),
    StandardCode("JS1", "Sjukjour 1", Category.ABSENCE, time=True, salary=False),
    StandardCode("JS2", "Sjukjour 2", Category.ABSENCE, time=True, salary=False),
    StandardCode("JS3", "Sjukjour 3", Category.ABSENCE, time=True, salary=False),
    StandardCode("BS1", "Sjukberedskap 1", Category.ABSENCE, time=True, salary=False),
    StandardCode("BS2", "Sjukberedskap 2", Category.ABSENCE, time=True, salary=False),
    StandardCode("BS3", "Sjukberedskap 3", Category.ABSENCE, time=True, salary=False),
    StandardCode("ATF", "Arbetstidsförkortning", Category.ABSENCE, time=True, salary=False),
    StandardCode("FR1", "Frånvaro övrigt 1", Category.ABSENCE, time=True, salary=False),
    StandardCode("FR2", "Frånvaro övrigt 2", Category.ABSENCE, time=True, salary=False),
    StandardCode("FR3", "Frånvaro övrigt 3", Category.ABSENCE, time=True, salary=False),
    StandardCode("FR4", "Frånvaro övrigt 4", Category.ABSENCE, time=True, salary=False),
    StandardCode("FR5", "Frånvaro övrigt 5", Category.ABSENCE, time=True, salary=False),
    StandardCode("FR6", "Frånvaro övrigt 6", Category.ABSENCE, time=True, salary=False),
    StandardCode("FR7", "Frånvaro övrigt 7", Category.ABSENCE, time=True, salary=False),
    StandardCode("FR8", "Frånvaro övrigt 8", Category.ABSENCE, time=True, salary=False),
    StandardCode("FR9", "Frånvaro övrigt 9", Category.ABSENCE, time=True, salary=False),
    StandardCode("SCH", "Schematid (avtalad schematid)", Category.BALANCE, time=True, salary=False),
    StandardCode("FLX", "Flextid +/-", Category.BALANCE, time=True, salary=False),
    StandardCode("TS1", "Tidssaldo 1", Category.BALANCE, time=True, salary=False),
    StandardCode("TS2", "Tidssaldo 2", Category.BALANCE, time=True, salary=False),
    StandardCode("TS3", "Tidssaldo 3", Category.BALANCE, time=True, salary=False),
    StandardCode("TS4", "Tidssaldo 4", Category.BALANCE, time=True, salary=False),
    StandardCode("TS5", "Tidssaldo 5", Category.BALANCE, time=True, salary=False),
    StandardCode("TS6", "Tidssaldo 6", Category.BALANCE, time=True, salary=False),
    StandardCode("TS7", "Tidssaldo 7", Category.BALANCE, time=True, salary=False),
    StandardCode("TS8", "Tidssaldo 8", Category.BALANCE, time=True, salary=False),
    StandardCode("TS9", "Tidssaldo 9", Category.BALANCE, time=True, salary=False),
    StandardCode(
        "TID", "Arbetstid (arbetstid inom schematid)", Category.ATTENDANCE, time=True, salary=True
    ),
    StandardCode(
        "ARB",
        "Timlön (arbetstid utanför schema/timanställd)",
        Category.ATTENDANCE,
        time=True,
        salary=True,
    ),
    StandardCode("MER", "Mertid", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("ÖT1", "Övertid 1 - Betalning", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("ÖT2", "Övertid 2 - Betalning", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("ÖT3", "Övertid 3 - Betalning", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("ÖT4", "Övertid 4 - Betalning", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("ÖT5", "Övertid 5 - Betalning", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("ÖK1", "Övertid 1 - Komptid", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("ÖK2", "Övertid 2 - Komptid", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("ÖK3", "Övertid 3 - Komptid", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("ÖK4", "Övertid 4 - Komptid", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("ÖK5", "Övertid 5 - Komptid", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("JR1", "Jourtid 1", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("JR2", "Jourtid 2", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("JR3", "Jourtid 3", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("BE1", "Beredskapstid 1", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("BE2", "Beredskapstid 2", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("BE3", "Beredskapstid 3", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("RE1", "Restid 1", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("RE2", "Restid 2", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("RE3", "Restid 3", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("NV1", "Närvaro övrigt 1", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("NV2", "Närvaro övrigt 2", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("NV3", "Närvaro övrigt 3", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("NV4", "Närvaro övrigt 4", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("NV5", "Närvaro övrigt 5", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("NV6", "Närvaro övrigt 6", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("NV7", "Närvaro övrigt 7", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("NV8", "Närvaro övrigt 8", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("NV9", "Närvaro övrigt 9", Category.ATTENDANCE, time=True, salary=True),
    StandardCode("OB1", "OB-ersättning 1", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("OB2", "OB-ersättning 2", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("OB3", "OB-ersättning 3", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("OB4", "OB-ersättning 4", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("OB5", "OB-ersättning 5", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("OS1", "Sjuk-OB 1", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("OS2", "Sjuk-OB 2", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("OS3", "Sjuk-OB 3", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("OS4", "Sjuk-OB 4", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("OS5", "Sjuk-OB 5", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("HLG", "Helglön", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("SKI", "Skifttillägg", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("LT1", "Lönetillägg övrigt 1", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("LT2", "Lönetillägg övrigt 2", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("LT3", "Lönetillägg övrigt 3", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("LT4", "Lönetillägg övrigt 4", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("LT5", "Lönetillägg övrigt 5", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("LT6", "Lönetillägg övrigt 6", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("LT7", "Lönetillägg övrigt 7", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("LT8", "Lönetillägg övrigt 8", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("LT9", "Lönetillägg övrigt 9", Category.ALLOWANCE, time=True, salary=True),
    StandardCode("MÅNLÖN", "Månadslön", Category.OTHER, time=False, salary=True),
    StandardCode("TIMLÖN", "Timlön", Category.OTHER, time=False, salary=True),
    StandardCode("BONUS", "Bonus", Category.OTHER, time=False, salary=True),
    StandardCode("PROVISION", "Provision", Category.OTHER, time=False, salary=True),
    StandardCode("FÖRSKOTT", "Förskott", Category.OTHER, time=False, salary=True),
    StandardCode("UTLÄGG", "Utlägg", Category.OTHER, time=False, salary=True),
    StandardCode("RESERS", "Reskostnadsersättning", Category.OTHER, time=False, salary=True),
    StandardCode(
        "INR_FRI", "Inrikes traktamente - skattefri", Category.OTHER, time=False, salary=True
    ),
    StandardCode(
        "INR_RED",
        "Inrikes reducerat traktamente - skattefri",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "INR_SKT", "Inrikes traktamente - skattepliktig", Category.OTHER, time=False, salary=True
    ),
    StandardCode(
        "INRHEL_FRI",
        "Inrikes helt traktamente - skattefri",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "INRHEL_RED",
        "Inrikes reducerat helt traktamente - skattefri",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "INRHEL_SKT",
        "Inrikes helt traktamente - skattepliktig",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "INRHLV_FRI",
        "Inrikes halvt traktamente - skattefri",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "INRHLV_RED",
        "Inrikes reducerat halvt traktamente - skattefri",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "INRHLV_SKT",
        "Inrikes halvt traktamente - skattepliktig",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "INRDAG_SKT",
        "Inrikes endagstraktamente - skattepliktigt",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "INRNAT_FRI", "Inrikes nattraktamente - skattefri", Category.OTHER, time=False, salary=True
    ),
    StandardCode(
        "INRNAT_SKT",
        "Inrikes nattraktamente - skattepliktig",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "UTR_FRI", "Utrikes traktamente - skattefri", Category.OTHER, time=False, salary=True
    ),
    StandardCode(
        "UTR_RED",
        "Utrikes reducerat traktamente - skattefri",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "UTR_SKT", "Utrikes traktamente - skattepliktig", Category.OTHER, time=False, salary=True
    ),
    StandardCode(
        "UTRHEL_FRI",
        "Utrikes helt traktamente - skattefri",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "UTRHEL_RED",
        "Utrikes reducerat helt traktamente - skattefri",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "UTRHEL_SKT",
        "Utrikes helt traktamente - skattepliktig",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "UTRHLV_FRI",
        "Utrikes halvt traktamente - skattefri",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "UTRHLV_RED",
        "Utrikes reducerat halvt traktamente - skattefri",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "UTRHLV_SKT",
        "Utrikes halvt traktamente - skattepliktig",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "UTRDAG_SKT",
        "Utrikes endagstraktamente - skattepliktigt",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "UTRNAT_FRI", "Utrikes nattraktamente - skattefri", Category.OTHER, time=False, salary=True
    ),
    StandardCode(
        "UTRNAT_SKT",
        "Utrikes nattraktamente - skattepliktig",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode("MIL_FRI", "Milersättning - skattefri", Category.OTHER, time=False, salary=True),
    StandardCode(
        "MIL_SKT", "Milersättning - skattepliktig", Category.OTHER, time=False, salary=True
    ),
    StandardCode(
        "MILPRI_FRI", "Milersättning privatbil - skattefri", Category.OTHER, time=False, salary=True
    ),
    StandardCode(
        "MILPRI_SKT",
        "Milersättning privatbil - skattepliktig",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "MILFTG_FRI",
        "Milersättning tjänstebil - skattefri",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "MILFTG_SKT",
        "Milersättning tjänstebil - skattepliktig",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "MILDIS_FRI",
        "Milersättning tjänstebil diesel - skattefri",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode(
        "MILDIS_SKT",
        "Milersättning tjänstebil diesel - skattepliktig",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode("MATFRM", "Kostförmån (inrikes)", Category.OTHER, time=False, salary=True),
    StandardCode(
        "MATFRM_FRU", "Kostförmån frukost inrikes", Category.OTHER, time=False, salary=True
    ),
    StandardCode("MATFRM_LCH", "Kostförmån lunch inrikes", Category.OTHER, time=False, salary=True),
    StandardCode(
        "MATFRM_MID", "Kostförmån middag inrikes", Category.OTHER, time=False, salary=True
    ),
    StandardCode("UTRFRM", "Kostförmån (utrikes)", Category.OTHER, time=False, salary=True),
    StandardCode(
        "UTRFRM_FRU", "Kostförmån frukost utrikes", Category.OTHER, time=False, salary=True
    ),
    StandardCode("UTRFRM_LCH", "Kostförmån lunch utrikes", Category.OTHER, time=False, salary=True),
    StandardCode(
        "UTRFRM_MID", "Kostförmån middag utrikes", Category.OTHER, time=False, salary=True
    ),
    StandardCode("MATRED", "Måltidsreduktion (inrikes)", Category.OTHER, time=False, salary=True),
    StandardCode(
        "MATRED_FRU", "Måltidsreduktion frukost inrikes", Category.OTHER, time=False, salary=True
    ),
    StandardCode(
        "MATRED_LCH", "Måltidsreduktion lunch inrikes", Category.OTHER, time=False, salary=True
    ),
    StandardCode(
        "MATRED_MID", "Måltidsreduktion middag inrikes", Category.OTHER, time=False, salary=True
    ),
    StandardCode("UTRRED", "Måltidsreduktion (utrikes)", Category.OTHER, time=False, salary=True),
    StandardCode(
        "UTRRED_FRU", "Måltidsreduktion frukost utrikes", Category.OTHER, time=False, salary=True
    ),
    StandardCode(
        "UTRRED_LCH", "Måltidsreduktion lunch utrikes", Category.OTHER, time=False, salary=True
    ),
    StandardCode(
        "UTRRED_MID", "Måltidsreduktion middag utrikes", Category.OTHER, time=False, salary=True
    ),
    StandardCode("REPEXT", "Representation extern", Category.OTHER, time=False, salary=True),
    StandardCode(
        "REPEXT_FRI", "Representation extern - avdragsgill", Category.OTHER, time=False, salary=True
    ),
    StandardCode(
        "REPEXT_SKT",
        "Representation extern - ej avdragsgill",
        Category.OTHER,
        time=False,
        salary=True,
    ),
    StandardCode("REPINT", "Representation intern", Category.OTHER, time=False, salary=True),
    StandardCode(
        "REPINT_FRI", "Representation intern - avdragsgill", Category.OTHER, time=False, salary=True
    ),
    StandardCode(
        "REPINT_SKT",
        "Representation intern - ej avdragsgill",
        Category.OTHER,
        time=False,
        salary=True,
    ),
)

CODES_BY_ID: dict[str, StandardCode] = {c.code: c for c in STANDARD_CODES}
TIME_CODES: frozenset[str] = frozenset(c.code for c in STANDARD_CODES if c.time)
SALARY_CODES: frozenset[str] = frozenset(c.code for c in STANDARD_CODES if c.salary)


def is_attendance_code(code: str) -> bool:
    found = CODES_BY_ID.get(code)
    return found is not None and found.is_attendance


@dataclass(frozen=True)
class Profile:
    """How codes are written for one receiving payroll system."""

    name: str
    label: str
    # standard code -> code written in the file
    time_code_map: dict[str, str] = field(default_factory=dict)
    # codes this profile writes that the XSD's tidkodTYPE does not list
    extra_time_codes: frozenset[str] = frozenset()
    # names written into <koder> so the receiver can see what a code means here
    code_names: dict[str, str] = field(default_factory=dict)

    def export_time_code(self, code: str) -> str:
        return self.time_code_map.get(code, code)

    def import_time_code(self, code: str) -> str:
        for standard, written in self.time_code_map.items():
            if written == code:
                return standard
        return code

    @property
    def deviates_from_xsd(self) -> bool:
        return bool(self.extra_time_codes)


STANDARD = Profile(name="standard", label="PAXml 2.0")

FORTNOX = Profile(
    name="fortnox",
    label="Fortnox Lön",
    time_code_map={f"ÖT{n}": f"ÖB{n}" for n in range(1, 6)},
    extra_time_codes=frozenset(f"ÖB{n}" for n in range(1, 6)),
    code_names={
        **{f"ÖK{n}": f"Övertid {n}-komptid" for n in range(1, 6)},
        **{f"ÖB{n}": f"Övertid {n}-betalning" for n in range(1, 6)},
        "NV9": "Komptid motsvarande 1.0",
        "RE1": "Restid",
    },
)

PROFILES: dict[str, Profile] = {p.name: p for p in (STANDARD, FORTNOX)}


def profile_get(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"Unknown PAXml profile {name!r}; choose one of {sorted(PROFILES)}."
        ) from None
