"""Test certificates made with `cryptography`: a private CA and leaves that are valid, self-signed,
expired or for another host name."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write(directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class CertificateAuthority:
    """A private CA in `directory`; `leaf()` issues server certificates for the TLS proxy."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.key = _key()
        now = dt.datetime.now(dt.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(_name("livekit-doctor test CA"))
                     .issuer_name(_name("livekit-doctor test CA")).public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
                     .not_valid_after(now + dt.timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.path, _ = _write(directory, "ca", self.cert, self.key)

    def leaf(self, stem: str, *, host: str = "localhost", days: float = 90, expired: bool = False,
             self_signed: bool = False) -> tuple[Path, Path]:
        key = _key()
        now = dt.datetime.now(dt.timezone.utc)
        start, end = (now - dt.timedelta(days=30), now - dt.timedelta(days=1)) if expired else \
            (now - dt.timedelta(days=1), now + dt.timedelta(days=days))
        issuer, signer = (_name(host), key) if self_signed else (self.cert.subject, self.key)
        cert = (x509.CertificateBuilder().subject_name(_name(host)).issuer_name(issuer).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
                .sign(signer, hashes.SHA256()))
        return _write(self.directory, stem, cert, key)
