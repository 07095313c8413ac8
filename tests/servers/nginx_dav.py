"""A real nginx with WebDAV PUT over TLS (CA made in the test) and Basic auth, on 127.0.0.1 in a temp dir.

Fixture `nginx_dav` yields `NginxDav(url, ca_path, root_dir, user, token)`; skipped only when nginx is missing.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.servers.ports import free_port, wait_listening

CASE = "694201337"
TOKEN = "tok-Zq8vN3rW5pL1xK7d"


@dataclass
class TestCA:
    cert_path: Path
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


def make_ca(directory: Path, name: str = "collector test CA") -> TestCA:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name.replace(' ', '-')}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return TestCA(path, key, cert)


def issue_server_cert(ca: TestCA, directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    cert_path = directory / "server.pem"
    key_path = directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    os.chmod(key_path, 0o600)
    return cert_path, key_path


def ssha_entry(user: str, password: str) -> str:
    """An htpasswd line with a salted SHA-1 ({SSHA}) hash, which nginx's auth_basic accepts."""
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return f"{user}:{{SSHA}}{base64.b64encode(digest + salt).decode()}\n"


_CONF = """\
daemon off;
master_process on;
worker_processes 1;
{user_line}
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 128; }}
http {{
    log_format upl '$remote_addr "$request" $status $request_length $body_bytes_sent';
    access_log {d}/access.log upl;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    client_max_body_size 0;
    keepalive_requests 10000;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        root {root};
        location /home/ {{
            auth_basic "case upload";
            auth_basic_user_file {d}/htpasswd;
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
        }}
    }}
}}
"""


@dataclass
class NginxDav:
    url: str  # https://127.0.0.1:PORT/home/
    ca_path: Path
    root_dir: Path  # files PUT to /home/X land in root_dir / "home" / X
    user: str
    token: str
    port: int = 0
    workdir: Path = field(default_factory=Path)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def home(self) -> Path:
        return self.root_dir / "home"

    @property
    def access_log(self) -> Path:
        return self.workdir / "access.log"

    def access_lines(self) -> list[str]:
        try:
            return self.access_log.read_text().splitlines()
        except FileNotFoundError:
            return []

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def start_nginx_dav(tmp_path: Path, *, user: str = CASE, token: str = TOKEN) -> NginxDav:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx is None:
        pytest.skip("nginx is not installed (apt install nginx-extras)")
    d = tmp_path / "nginx"
    root = d / "root"
    (root / "home").mkdir(parents=True)
    ca = make_ca(d / "ca")
    cert, key = issue_server_cert(ca, d)
    (d / "htpasswd").write_text(ssha_entry(user, token))
    port = free_port()
    user_line = "user root root;" if os.geteuid() == 0 else ""
    conf = d / "nginx.conf"
    conf.write_text(_CONF.format(user_line=user_line, d=d, port=port, cert=cert, key=key, root=root))
    with (d / "stderr.log").open("wb") as err_fh:
        proc = subprocess.Popen(
            [nginx, "-p", str(d), "-e", str(d / "error.log"), "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err_fh,
            start_new_session=True,
        )
    server = NginxDav(f"https://127.0.0.1:{port}/home/", ca.cert_path, root, user, token, port, d, proc)
    try:
        wait_listening(port, timeout=15)
    except TimeoutError:
        server.stop()
        err = (d / "stderr.log").read_text(errors="replace")
        log = (d / "error.log").read_text() if (d / "error.log").exists() else ""
        raise RuntimeError(f"nginx did not start: {err} {log}") from None
    return server


@pytest.fixture
def nginx_dav(tmp_path: Path) -> Iterator[NginxDav]:
    server = start_nginx_dav(tmp_path)
    try:
        yield server
    finally:
        server.stop()
