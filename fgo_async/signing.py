"""The vendor's request signature: ``Hash = upper(hex(SHA-1(utf8(CodUnic + PrivateKey + X))))``.

``X`` depends on the method (the customer's name for an issue call, the invoice number for the
other invoice calls, nothing for articles and customers); :mod:`fgo_async.endpoints` says which,
and :mod:`fgo_async.protocol` takes ``X`` from the very payload it sends, so the text hashed is
always byte-identical to the text sent. These are pure functions: no I/O, no state.
"""

from __future__ import annotations

import hashlib

import attrs

__all__ = ["Credentials", "compute_hash", "flatten_diacritics"]

# Romanian letters with diacritics, the comma-below forms and the older cedilla forms (ş ţ)
# that many keyboards and databases still produce.
_DIACRITICS = str.maketrans(
    {
        "ă": "a", "â": "a", "î": "i", "ș": "s", "ş": "s", "ț": "t", "ţ": "t",
        "Ă": "A", "Â": "A", "Î": "I", "Ș": "S", "Ş": "S", "Ț": "T", "Ţ": "T",
    }
)  # fmt: skip


def compute_hash(cod_unic: str, private_key: str, subject: str = "") -> str:
    """The Hash of a call: SHA-1 of ``cod_unic + private_key + subject`` in UTF-8, upper-case hex.

    ``subject`` is the customer's name for ``factura/emitere``, the invoice number (``"001"``,
    a string, without the series) for the other invoice methods, and empty for the rest.

    >>> compute_hash("2864518", "1234567890", "Ionescu Popescu")
    '8C3A7726804C121C6933F7D68494B439463996E2'
    """
    digest = hashlib.sha1((cod_unic + private_key + subject).encode("utf-8"), usedforsecurity=False)
    return digest.hexdigest().upper()


def flatten_diacritics(text: str) -> str:
    """``text`` with Romanian diacritics made plain letters (``Ștefănescu`` -> ``Stefanescu``).

    The vendor's own shop plugins do this to the customer's name before hashing and sending it.
    """
    return text.translate(_DIACRITICS)


@attrs.frozen(kw_only=True)
class Credentials:
    """A company's API credentials: its CUI (``CodUnic``) and the API user's private key.

    The key never appears in ``repr``, ``str`` or equality output.
    """

    cod_unic: str = attrs.field(converter=str)
    private_key: str = attrs.field(repr=False)

    def sign(self, subject: str = "") -> str:
        """The Hash of a call whose hash input is ``subject``."""
        return compute_hash(self.cod_unic, self.private_key, subject)

    @property
    def has_key(self) -> bool:
        """True when the private key is a non-empty string."""
        return isinstance(self.private_key, str) and bool(self.private_key)
