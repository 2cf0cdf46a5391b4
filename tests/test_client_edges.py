"""Client behaviour a simulator cannot show: redirects and TLS verification."""

import datetime
import http.server
import ipaddress
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from alienapps.collector import run_job
from alienapps.models import CollectionRun
from tests.collection_helpers import api_requests, job_of
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db(transaction=True)
KEY = "Rd4Fg6Hj8Kl0Zx2Cv4Bn6Mq8Wr0Ty2Ui4Op6As8D"
AUTH = "Basic MTIzNDU2NzgtMTIzNC0xMjM0LTEyMzQtMTIzNDU2Nzg5MDEyOnNlY3JldA=="


class Redirector(http.server.BaseHTTPRequestHandler):
    target = ""
    seen_headers: list[dict] = []

    def do_GET(self):
        type(self).seen_headers.append(dict(self.headers))
        self.send_response(302)
        self.send_header("Location", self.target + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def redirector():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Redirector.seen_headers = []
    yield server
    server.shutdown()
    server.server_close()


def block_for(origin: str) -> str:
    return f"url: {origin}/gateway, x-api-key: {KEY}, Authorization: {AUTH}"


def test_redirect_outside_allowlist_rejected(redirector, sensor, settings):
    origin = f"http://127.0.0.1:{redirector.server_port}"
    settings.SOPHOS_EXTRA_API_HOSTS = [origin]
    Redirector.target = "https://collector.example.net"
    connection = make_connection(block_for(origin), sensor, streams=("events",))
    run = run_job(job_of(connection, "events").pk)
    assert run.outcome == CollectionRun.Outcome.ERROR
    assert "redirected to collector.example.net" in run.message
    assert "the token was not sent there" in run.message
    assert KEY not in run.message


def test_redirect_to_allowed_host_followed(redirector, simulator, sensor, settings):
    origin = f"http://127.0.0.1:{redirector.server_port}"
    settings.SOPHOS_EXTRA_API_HOSTS = [origin, simulator.url]
    Redirector.target = simulator.url
    block = simulator.token_block.replace(simulator.url, origin)
    connection = make_connection(block, sensor, streams=("events",))
    run = run_job(job_of(connection, "events").pk)
    assert run.outcome == CollectionRun.Outcome.OK
    assert len(api_requests(simulator, "events")) == 1


def self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_simulator(tmp_path, settings):
    from alienapps.sophos.simulator import Simulator

    sim = Simulator(port=0, seed=5, backlog_events=50, events_per_minute=0).start()
    cert_path, key_path = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    # NOTE: this wraps the simulator's listening socket after start-up, so it relies
    # on the simulator keeping its server as ``sim._server``.
    sim._server.socket = context.wrap_socket(sim._server.socket, server_side=True)
    origin = sim.url.replace("http://", "https://")
    settings.SOPHOS_EXTRA_API_HOSTS = [origin]
    yield sim, origin, cert_path
    sim.stop()


def test_tls_failure_points_to_ca_bundle(tls_simulator, sensor):
    sim, origin, _ = tls_simulator
    connection = make_connection(
        sim.token_block.replace(sim.url, origin), sensor, ("events",)
    )
    run = run_job(job_of(connection, "events").pk)
    assert run.outcome == CollectionRun.Outcome.ERROR
    assert "TLS verification" in run.message
    assert "SOPHOS_CA_BUNDLE" in run.message
    assert len(api_requests(sim, "events")) == 0


def test_ca_bundle_setting_is_used(tls_simulator, sensor, settings):
    sim, origin, cert_path = tls_simulator
    settings.SOPHOS_CA_BUNDLE = str(cert_path)
    connection = make_connection(
        sim.token_block.replace(sim.url, origin), sensor, ("events",)
    )
    run = run_job(job_of(connection, "events").pk)
    assert run.outcome == CollectionRun.Outcome.OK
    assert run.items == len(sim.events())
