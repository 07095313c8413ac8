"""The case bundle: manifest, redaction, pseudonymisation, archive, verification and optional encryption.

Public API: build_bundle, verify_bundle, Redactor, Anonymizer (and their result types).
"""

from .anonymize import Anonymizer
from .archive import BundleResult, build_bundle
from .redact import Redactor
from .verify import VerifyReport, verify_bundle

__all__ = ["build_bundle", "BundleResult", "verify_bundle", "VerifyReport", "Redactor", "Anonymizer"]
