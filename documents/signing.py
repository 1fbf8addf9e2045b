"""PAdES signatures on the PDFs we issue (certificates, decision letters), with pyHanko.

The bureau's key and certificate come from the files named in the settings (see
documents.signing_config); they never enter the database. `manage.py
document_signing_key` makes a self-signed pair for the demo. Any PDF reader then tells an
altered file from ours without our site, and the verification page reports the signature.

Decisions (see docs/architecture.md, "Signed documents"):
- No key configured: documents are stored unsigned (`sign_pdf` returns its input) and the
  verification page says "not signed"; start-up logs a warning when a signature is
  expected (production). A key that is configured but unusable (wrong password, a
  certificate of another key) is an error: the document is not issued until it is fixed,
  rather than issued unsigned for ever.
- One certification signature (DocMDP "no changes"), invisible, PAdES baseline
  (ETSI.CAdES.detached), SHA-256, no trusted timestamp (no network at run time): the
  signing time is our clock's.
- The signature is an incremental update after WeasyPrint's PDF/A-3b. It stays PDF/A-3b
  if the key is RSA (the demo's): an ECDSA or Ed25519 key makes pyHanko declare PDF 2.0
  (ISO 32002) in the catalogue, which PDF/A-3 does not allow.
- "Ours" means: the signing certificate is our current certificate or an earlier one
  (DOCUMENT_SIGNING_EARLIER_CERT_FILES), compared by SHA-256 fingerprint, and every
  signature is intact and the last one covers the whole file.

Imports pyHanko and WeasyPrint (~1 s): import this module where a document is signed or
checked, not at start-up.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from io import BytesIO

from cryptography.hazmat.primitives.asymmetric.ec import ECDSA
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from django.conf import settings
from pyhanko.keys.internal import (
    translate_pyca_cryptography_cert_to_asn1,
    translate_pyca_cryptography_key_to_asn1,
)
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from .pdf import RenderError
from .signing_config import (
    SigningMaterial,
    SigningMisconfigured,
    fingerprint,
    our_certificates,
    signing_material,
)

logger = logging.getLogger(__name__)

FIELD_NAME = "BureauSignature"


class SigningError(RenderError):
    """The PDF could not be signed; like a failed render, nothing is stored."""


# --- signing -------------------------------------------------------------------------------


class _KeptKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner parses the private key again for every signature, twice per
    PDF (a dry run sizes the signature). Parsing an RSA key checks it: ~45 ms each time,
    a third of the time budget. This signer keeps the parsed key."""

    def __init__(self, *, private_key, **kwargs) -> None:
        super().__init__(**kwargs)
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        try:
            algorithm = mechanism.signature_algo
        except ValueError:
            algorithm = None
        hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if algorithm == "rsassa_pkcs1v15":
            return self._private_key.sign(data, PKCS1v15(), hash_algorithm)
        if algorithm == "ecdsa":
            return self._private_key.sign(data, ECDSA(hash_algorithm))
        return super().sign_raw(data, digest_algorithm)  # PSS, EdDSA...: pyHanko's way


@functools.lru_cache(maxsize=4)
def _signer_for(material: SigningMaterial) -> signers.SimpleSigner:
    certificates = [translate_pyca_cryptography_cert_to_asn1(c) for c in material.chain]
    return _KeptKeySigner(
        private_key=material.private_key,
        signing_cert=certificates[0],
        signing_key=translate_pyca_cryptography_key_to_asn1(material.private_key),
        cert_registry=SimpleCertificateStore.from_certs(certificates),
    )


def sign_pdf(pdf: bytes, *, reason: str) -> bytes:
    """`pdf` with the bureau's certification signature; unchanged when no key is set."""
    try:
        material = signing_material()
    except (SigningMisconfigured, OSError) as error:
        raise SigningError(str(error)) from error
    if material is None:
        return pdf
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=settings.BUREAU_NAME,
        certify=True,  # an author signature: any later change breaks it
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf))
        _align_producer(writer)
        return signers.sign_pdf(writer, metadata, signer=_signer_for(material)).getvalue()
    except Exception as error:  # pyHanko raises many kinds; none may store a half file
        raise SigningError(f"could not sign the PDF: {error}") from error


def _align_producer(writer: IncrementalPdfFileWriter) -> None:
    """Keep PDF/A's rule that the Info dictionary and the XMP name the same producer.

    pyHanko writes its own name as the XMP producer but appends it to the Info one
    ("WeasyPrint 70.0; pyHanko 0.38.0"); setting the Info producer to pyHanko's name
    first makes both equal."""
    try:
        info = writer.trailer["/Info"]
    except KeyError:
        return
    info["/Producer"] = generic.TextStringObject(VENDOR)
    writer.update_container(info)


# --- checking ------------------------------------------------------------------------------


class SignatureState(StrEnum):
    VALID = "valid"  # ours, intact, covering the whole file
    BROKEN = "broken"  # altered after signing, or a signature that does not verify
    NOT_OURS = "not_ours"  # intact, but by a certificate that is not ours
    MISSING = "missing"  # no signature at all


@dataclass(frozen=True)
class SignatureCheck:
    state: SignatureState
    signer: str = ""  # the signing certificate's common name, when one could be read
    signed_at: datetime | None = None  # as the signer's clock said

    @property
    def valid(self) -> bool:
        return self.state == SignatureState.VALID


def check_signature(pdf: bytes) -> SignatureCheck:
    """What the signatures of an uploaded PDF say; never raises on a hostile file."""
    ours = our_certificates()
    try:
        embedded = PdfFileReader(BytesIO(pdf), strict=False).embedded_signatures
    except Exception:  # not a PDF pyHanko can read: judge by the bytes alone
        logger.info("unreadable PDF uploaded for checking", exc_info=True)
        state = SignatureState.BROKEN if b"/ByteRange" in pdf else SignatureState.MISSING
        return SignatureCheck(state)
    if not embedded:
        return SignatureCheck(SignatureState.MISSING)
    trust_roots = [translate_pyca_cryptography_cert_to_asn1(c) for c in ours]
    context = ValidationContext(trust_roots=trust_roots, allow_fetching=False)
    statuses = []
    for signature in embedded:
        try:
            # skip_diff: the whole-file coverage asked below makes the diff analysis moot,
            # and it would read every object of a file a stranger uploaded.
            statuses.append(validate_pdf_signature(signature, context, skip_diff=True))
        except Exception:
            logger.info("a signature could not be validated", exc_info=True)
            return SignatureCheck(SignatureState.BROKEN)
    last = statuses[-1]
    signer = _subject_name(last.signing_cert)
    signed_at = last.signer_reported_dt
    if not all(status.intact and status.valid for status in statuses):
        return SignatureCheck(SignatureState.BROKEN, signer, signed_at)
    if last.coverage != SignatureCoverageLevel.ENTIRE_FILE:  # bytes added after signing
        return SignatureCheck(SignatureState.BROKEN, signer, signed_at)
    fingerprints = {fingerprint(certificate) for certificate in ours}
    if last.signing_cert is None or last.signing_cert.sha256.hex() not in fingerprints:
        return SignatureCheck(SignatureState.NOT_OURS, signer, signed_at)
    return SignatureCheck(SignatureState.VALID, signer, signed_at)


def _subject_name(certificate) -> str:
    """An asn1crypto certificate's common name (CN), else its whole subject."""
    if certificate is None:
        return ""
    return certificate.subject.native.get("common_name") or certificate.subject.human_friendly
