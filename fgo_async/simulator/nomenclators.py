"""The simulator's nomenclators: real Romanian data, served as the vendor serves it.

Each nomenclator is a tuple of ``(name, code)`` pairs; :func:`nomenclator_reply` turns one into
the vendor's reply, ``{"Success": true, "List": [{"Nume": ..., "Cod": ...}]}`` as the live
vendor answers (ASCII names, no diacritics), or with ``"Valoare"`` for the code as the vendor's
documents show it. VAT rates change with the law: :func:`vat_rates_on` gives the rates in force
on a day (19 % became 21 % on 2025-08-01), for ``nomenclator/tva`` today and for an invoice's
lines on its issue date. The lookups
(:func:`find_county`, :func:`find_country`...) are what the issue rules use to accept a county
or a country by its name or its code, without regard to case or diacritics, as FGO does.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from ..signing import flatten_diacritics
from ._countries import COUNTRIES

__all__ = [
    "BANKS",
    "COUNTIES",
    "COUNTRIES",
    "CURRENCIES",
    "CUSTOMER_TYPES",
    "DOCUMENT_TYPES",
    "LOCALITIES",
    "NOMENCLATORS",
    "PAYMENT_TYPES",
    "VAT_PERIODS",
    "VAT_RATES",
    "ItemKey",
    "find_country",
    "find_county",
    "fold",
    "is_romania",
    "localities",
    "lookup",
    "nomenclator_reply",
    "vat_rates_on",
]

#: The key of an item's code in a nomenclator reply: ``Cod`` live, ``Valoare`` in the documents.
ItemKey = Literal["Cod", "Valoare"]

#: The 41 counties and Bucharest, with their vehicle-plate codes (``nomenclator/judet``).
COUNTIES: tuple[tuple[str, str], ...] = (
    ("Alba", "AB"), ("Arad", "AR"), ("Arges", "AG"), ("Bacau", "BC"), ("Bihor", "BH"),
    ("Bistrita-Nasaud", "BN"), ("Botosani", "BT"), ("Braila", "BR"), ("Brasov", "BV"),
    ("Bucuresti", "B"), ("Buzau", "BZ"), ("Calarasi", "CL"), ("Caras-Severin", "CS"),
    ("Cluj", "CJ"), ("Constanta", "CT"), ("Covasna", "CV"), ("Dambovita", "DB"), ("Dolj", "DJ"),
    ("Galati", "GL"), ("Giurgiu", "GR"), ("Gorj", "GJ"), ("Harghita", "HR"), ("Hunedoara", "HD"),
    ("Ialomita", "IL"), ("Iasi", "IS"), ("Ilfov", "IF"), ("Maramures", "MM"), ("Mehedinti", "MH"),
    ("Mures", "MS"), ("Neamt", "NT"), ("Olt", "OT"), ("Prahova", "PH"), ("Salaj", "SJ"),
    ("Satu Mare", "SM"), ("Sibiu", "SB"), ("Suceava", "SV"), ("Teleorman", "TR"), ("Timis", "TM"),
    ("Tulcea", "TL"), ("Valcea", "VL"), ("Vaslui", "VS"), ("Vrancea", "VN"),
)  # fmt: skip

#: The VAT rates in force in Romania since 2025-08-01 (``nomenclator/tva``). The value is the
#: percentage exactly as it must be sent: ``21``, never ``21.0``.
VAT_RATES: tuple[tuple[str, str], ...] = (
    ("21%", "21"), ("11%", "11"), ("9%", "9"), ("5%", "5"), ("0%", "0"),
)  # fmt: skip

#: Romania's VAT rates by the day they came in force, oldest first; the first period also
#: stands for any earlier day.
VAT_PERIODS: tuple[tuple[datetime.date, tuple[tuple[str, str], ...]], ...] = (
    (datetime.date(2017, 1, 1), (("19%", "19"), ("9%", "9"), ("5%", "5"), ("0%", "0"))),
    (datetime.date(2025, 8, 1), VAT_RATES),
)

#: The currencies of the National Bank of Romania's daily rates that shops invoice in.
CURRENCIES: tuple[tuple[str, str], ...] = (
    ("Leu romanesc", "RON"), ("Euro", "EUR"), ("Dolar SUA", "USD"), ("Lira sterlina", "GBP"),
    ("Franc elvetian", "CHF"), ("Forint", "HUF"), ("Leva bulgareasca", "BGN"), ("Zlot", "PLN"),
    ("Coroana ceha", "CZK"), ("Coroana suedeza", "SEK"), ("Coroana daneza", "DKK"),
    ("Coroana norvegiana", "NOK"), ("Leu moldovenesc", "MDL"), ("Yen", "JPY"),
    ("Dolar canadian", "CAD"), ("Dolar australian", "AUD"), ("Yuan Renminbi", "CNY"),
    ("Lira turceasca", "TRY"), ("Grivna ucraineana", "UAH"), ("Dinar sarbesc", "RSD"),
)  # fmt: skip

#: The document types of ``TipFactura`` (``nomenclator/tipfactura``), special VAT regimes included.
DOCUMENT_TYPES: tuple[tuple[str, str], ...] = (
    ("Factura", "Factura"), ("Proforma", "Proforma"), ("Comanda", "Comanda"),
    ("Deviz", "Deviz"), ("Scutit cu deducere", "S"), ("Servicii cf. art. 311", "U"),
    ("Vanzari cf. art. 312", "H"), ("Operatiuni neimpozabile", "N"),
    ("Regim special cf. art. 314-315", "X"),
)  # fmt: skip

#: ``nomenclator/tipclient``.
CUSTOMER_TYPES: tuple[tuple[str, str], ...] = (
    ("Persoana fizica", "PF"),
    ("Persoana juridica", "PJ"),
)

#: ``nomenclator/tipincasare``: how a payment was made.
PAYMENT_TYPES: tuple[tuple[str, str], ...] = (
    ("Numerar", "Numerar"), ("Card", "Card"), ("Ordin de plata", "Ordin de plata"),
    ("Bilet la ordin", "Bilet la ordin"), ("Cec", "Cec"), ("Ramburs", "Ramburs"),
    ("Alta incasare", "Alta incasare"),
)  # fmt: skip

#: ``nomenclator/banca``: the largest Romanian banks and their BIC prefixes.
BANKS: tuple[tuple[str, str], ...] = (
    ("Banca Transilvania", "BTRL"), ("Banca Comerciala Romana", "RNCB"), ("BRD", "BRDE"),
    ("ING Bank", "INGB"), ("Raiffeisen Bank", "RZBR"), ("UniCredit Bank", "BACX"),
    ("CEC Bank", "CECE"), ("Alpha Bank", "BUCU"), ("OTP Bank", "OTPV"),
    ("Banca Romaneasca", "BRMA"), ("Libra Internet Bank", "BREL"), ("Garanti BBVA", "UGBI"),
    ("Trezoreria Statului", "TREZ"),
)  # fmt: skip

#: ``nomenclator/localitati?judet=...`` for a few counties (by county code). A county that is
#: in the nomenclator but not here answers an empty list.
LOCALITIES: Mapping[str, tuple[str, ...]] = {
    "B": ("Sector-1", "Sector-2", "Sector-3", "Sector-4", "Sector-5", "Sector-6"),
    "BV": (
        "Brasov", "Codlea", "Fagaras", "Ghimbav", "Predeal", "Rasnov", "Sacele", "Zarnesti",
        "Bran", "Cristian", "Harman", "Prejmer", "Sanpetru", "Tarlungeni",
    ),
    "CJ": (
        "Cluj-Napoca", "Campia Turzii", "Dej", "Gherla", "Turda", "Huedin", "Apahida",
        "Baciu", "Feleacu", "Floresti", "Gilau",
    ),
    "IF": (
        "Bragadiru", "Buftea", "Chitila", "Magurele", "Otopeni", "Pantelimon", "Popesti-Leordeni",
        "Voluntari", "Afumati", "Balotesti", "Chiajna", "Corbeanca", "Snagov", "Tunari",
    ),
    "IS": ("Iasi", "Pascani", "Harlau", "Targu Frumos", "Podu Iloaiei", "Miroslava", "Tomesti"),
    "TM": ("Timisoara", "Lugoj", "Buzias", "Deta", "Jimbolia", "Sannicolau Mare", "Dumbravita"),
    "CT": (
        "Constanta", "Mangalia", "Medgidia", "Navodari", "Eforie", "Ovidiu", "Techirghiol",
        "Cumpana", "Valu lui Traian",
    ),
}  # fmt: skip

#: Every nomenclator the vendor serves, by name; ``localitati`` is answered per county.
NOMENCLATORS: Mapping[str, Sequence[tuple[str, str]]] = {
    "tara": COUNTRIES,
    "judet": COUNTIES,
    "tva": VAT_RATES,
    "banca": BANKS,
    "tipincasare": PAYMENT_TYPES,
    "tipfactura": DOCUMENT_TYPES,
    "tipclient": CUSTOMER_TYPES,
    "valuta": CURRENCIES,
}


def fold(text: str) -> str:
    """``text`` as FGO compares names: no diacritics, no case, no surrounding spaces."""
    return " ".join(flatten_diacritics(text).casefold().split())


# Folded names and codes of each table, built once: a lookup per call must stay cheap (the
# countries alone are 249 entries, and every issue call looks its customer's country up).
_INDEXES: dict[int, dict[str, tuple[str, str]]] = {}


def lookup(table: Sequence[tuple[str, str]], text: str) -> tuple[str, str] | None:
    """The ``(name, code)`` entry of ``table`` named or coded by ``text``, or None."""
    index = _INDEXES.get(id(table))
    if index is None:
        index = {}
        for name, code in reversed(table):  # the first entry wins a clash, as a scan would
            index[fold(code)] = (name, code)
            index[fold(name)] = (name, code)
        _INDEXES[id(table)] = index
    return index.get(fold(text))


def find_county(text: str) -> tuple[str, str] | None:
    """The county ``(name, code)`` named or coded by ``text`` (``"Brașov"``, ``"bv"``), or None."""
    if fold(text) in {"municipiul bucuresti", "bucharest"}:
        return "Bucuresti", "B"
    return lookup(COUNTIES, text)


def find_country(text: str) -> tuple[str, str] | None:
    """The country ``(name, ISO code)`` named or coded by ``text``, or None."""
    return lookup(COUNTRIES, text)


def is_romania(country: str | None) -> bool:
    """True when ``country`` means Romania. An empty country counts as Romania, as the vendor
    validates the county "when Client[Tara] is empty or contains ROMANIA"."""
    if country is None or not country.strip():
        return True
    found = find_country(country)
    return found is not None and found[1] == "RO"


def vat_rates_on(day: datetime.date) -> tuple[tuple[str, str], ...]:
    """The VAT rates in force in Romania on ``day``."""
    rates = VAT_PERIODS[0][1]
    for since, in_force in VAT_PERIODS:
        if day >= since:
            rates = in_force
    return rates


def localities(county: str) -> tuple[str, ...] | None:
    """The localities of ``county`` (name or code), or None when the county does not exist."""
    found = find_county(county)
    if found is None:
        return None
    return LOCALITIES.get(found[1], ())


def nomenclator_reply(
    name: str,
    county: str | None = None,
    *,
    today: datetime.date | None = None,
    item_key: ItemKey = "Cod",
) -> dict[str, Any] | None:
    """The vendor's reply for nomenclator ``name``, or None when there is no such list.

    ``county`` is the ``judet`` of ``localitati``; ``today`` the day whose VAT rates ``tva``
    lists (the current rates without it); ``item_key`` names each item's code.
    """
    if name == "localitati":
        places = localities(county or "")
        if places is None:
            return None
        return {"Success": True, "List": [{"Nume": p, item_key: p} for p in places]}
    table = NOMENCLATORS.get(name)
    if table is None:
        return None
    if name == "tva" and today is not None:
        table = vat_rates_on(today)
    return {"Success": True, "List": [{"Nume": n, item_key: v} for n, v in table]}
