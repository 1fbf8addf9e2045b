"""Where the bureau's document signing key and certificate are, and reading them.

Light on purpose (cryptography only; no pyHanko, no WeasyPrint): it runs at start-up to
log a missing or unusable key, and `manage.py document_signing_key` uses it. The signing
itself is in documents.signing.

The key and certificate are PEM files named by DOCUMENT_SIGNING_KEY_FILE and
DOCUMENT_SIGNING_CERT_FILE (relative paths from the project root); the key may be
encrypted with DOCUMENT_SIGNING_KEY_PASSWORD. The certificate file may hold the chain
after the bureau's certificate (intermediates, embedded in every signature).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


class SigningMisconfigured(ImproperlyConfigured):
    """A key or certificate is configured but cannot be used."""


@dataclass(frozen=True, eq=False)  # hashed by identity: one loaded pair, one signer
class SigningMaterial:
    private_key: object  # a cryptography private key
    chain: tuple[x509.Certificate, ...]  # the bureau's certificate first

    @property
    def certificate(self) -> x509.Certificate:
        return self.chain[0]


def setting_path(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else Path(settings.BASE_DIR) / path


def key_file_path() -> Path:
    return setting_path(settings.DOCUMENT_SIGNING_KEY_FILE)


def cert_file_path() -> Path:
    return setting_path(settings.DOCUMENT_SIGNING_CERT_FILE)


def certificate_name(certificate: x509.Certificate) -> str:
    """The subject's common name (CN), else the whole subject."""
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else certificate.subject.rfc4514_string()


def fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def signing_material() -> SigningMaterial | None:
    """The configured key and certificate; None when neither file exists (unsigned mode).

    Read once per process, and again only when a file changes (a key replaced in place).
    Raises SigningMisconfigured when only one file exists or they do not go together.
    """
    key_path, cert_path = key_file_path(), cert_file_path()
    has_key, has_cert = key_path.is_file(), cert_path.is_file()
    if not has_key and not has_cert:
        return None
    if not (has_key and has_cert):
        missing = cert_path if has_key else key_path
        raise SigningMisconfigured(
            _("Document signing: %(path)s is missing (the key and the certificate go together).")
            % {"path": missing}
        )
    password = settings.DOCUMENT_SIGNING_KEY_PASSWORD or ""
    return _load(key_path, cert_path, password, _stamp(key_path), _stamp(cert_path))


@functools.lru_cache(maxsize=4)
def _load(key_path: Path, cert_path: Path, password: str, *stamps) -> SigningMaterial:
    try:
        private_key = serialization.load_pem_private_key(
            key_path.read_bytes(), password=password.encode() or None
        )
    except (ValueError, TypeError) as error:
        raise SigningMisconfigured(
            _(
                "Document signing: %(path)s is not a PEM private key that "
                "DOCUMENT_SIGNING_KEY_PASSWORD opens (%(error)s)."
            )
            % {"path": key_path, "error": error}
        ) from error
    chain = read_certificates(cert_path)
    if _public_bytes(chain[0].public_key()) != _public_bytes(private_key.public_key()):
        raise SigningMisconfigured(
            _("Document signing: the certificate in %(cert)s is not the key's in %(key)s.")
            % {"cert": cert_path, "key": key_path}
        )
    return SigningMaterial(private_key=private_key, chain=tuple(chain))


def read_certificates(path: Path) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(path.read_bytes())
    except ValueError as error:
        raise SigningMisconfigured(
            _("Document signing: %(path)s holds no PEM certificate (%(error)s).")
            % {"path": path, "error": error}
        ) from error


def _public_bytes(public_key) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def our_certificates() -> list[x509.Certificate]:
    """Certificates whose signatures are ours: the current one, then earlier (rotated) ones
    from DOCUMENT_SIGNING_EARLIER_CERT_FILES.

    Read from the certificate files alone, so a machine that never signs can check."""
    paths = [cert_file_path()] + [
        setting_path(value) for value in settings.DOCUMENT_SIGNING_EARLIER_CERT_FILES if value
    ]
    found = []
    for path in paths:
        if not path.is_file():
            continue
        try:
            found.append(_read_first_certificate(path, _stamp(path)))
        except SigningMisconfigured as error:
            logger.error("%s", error)
    return found


@functools.lru_cache(maxsize=16)
def _read_first_certificate(path: Path, stamp) -> x509.Certificate:
    return read_certificates(path)[0]


def log_signing_setup() -> None:
    """At start-up: say loudly if documents will be issued unsigned or cannot be signed."""
    try:
        material = signing_material()
    except (SigningMisconfigured, OSError) as error:
        logger.error("%s Certificates and decision letters will not be issued.", error)
        return
    if material is not None and not isinstance(material.private_key, rsa.RSAPrivateKey):
        logger.warning(
            "The document signing key is not RSA: pyHanko marks the signed PDFs as PDF 2.0, "
            "so certificates and decision letters are no longer PDF/A-3b."
        )
    if material is None and settings.DOCUMENT_SIGNING_EXPECTED:
        logger.warning(
            "No document signing key (%s, %s): certificates and decision letters are "
            "issued UNSIGNED. Install the bureau's key and certificate, or run "
            "`manage.py document_signing_key` for a self-signed pair.",
            key_file_path(),
            cert_file_path(),
        )
