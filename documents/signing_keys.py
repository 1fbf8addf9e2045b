"""A self-signed key and certificate for signing documents in the demo and in tests.

Production installs the bureau's own pair (from its CA) at the configured paths; this
makes one that any PDF reader verifies as intact but reports as "issuer unknown" until the
certificate is trusted by hand.

RSA-2048, not ECDSA: pyHanko marks a PDF signed with an EC key as PDF 2.0 (ISO 32002),
which would take our certificates out of PDF/A-3b.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

VALIDITY_DAYS = 3 * 365


@dataclass(frozen=True)
class MadePair:
    key_path: Path
    cert_path: Path
    certificate: x509.Certificate


def make_self_signed_pair(
    key_path: Path,
    cert_path: Path,
    *,
    common_name: str,
    days: int = VALIDITY_DAYS,
    password: str = "",
) -> MadePair:
    """Write a new key (mode 0600) and its self-signed certificate; never overwrite."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))  # clocks differ a little
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # non-repudiation: what document signing asks
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    encryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    _write_new(key_path, key_pem, 0o600)
    try:
        _write_new(cert_path, certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    except OSError:
        key_path.unlink(missing_ok=True)  # a key without its certificate is of no use
        raise
    return MadePair(key_path, cert_path, certificate)


def _write_new(path: Path, content: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once must not replace each other's files.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as file:
        file.write(content)
