"""User errors on the way to the API read as user errors: real sockets, real TLS, real requests.

Each case provokes the failure for real (a CA that did not sign the server, a closed port, a name
that cannot resolve, a dead proxy, a server that never answers) and checks that the error names the
option to fix in its own words, keeps the library's text in ``detail`` only, and is never a bug.
"""

import socket
import ssl
import threading

import pytest
from modelarts_sim.certs import ensure_certificates

from ansible_collections.modelarts.lite.plugins.module_utils.cloud.client import CloudClient
from ansible_collections.modelarts.lite.plugins.module_utils.errors import TransportError, ValidationError

AK = "HPUAEXAMPLEAK0000001"
SK = "transport-secret-0123456789abcdefABCDEF"
PID = "0123456789abcdef0123456789abcdef"


def client(endpoint, **extra):
    options = dict(access_key=AK, secret_key=SK, region="cn-north-4", project_id=PID, endpoint=endpoint,
                   max_retries=0, api_timeout=2)
    options.update(extra)
    return CloudClient(**options)


def failure_of(cloud):
    with pytest.raises(TransportError) as caught:
        cloud.request("GET", "/v2/%s/pools" % PID)
    error = caught.value
    result = error.to_result()
    assert "bug" not in str(error).lower()
    assert result["detail"] and result["detail"] not in str(error)
    return error, result


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """A TLS listener with the simulator's kind of certificate (127.0.0.1, localhost). It completes
    handshakes and then says nothing (the read-timeout case); failed handshakes are what the
    other cases provoke."""
    ca, cert, key = ensure_certificates(str(tmp_path_factory.mktemp("server-ca")))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    # Every loopback address (127.0.0.2 included) reaches it; the test host's other interfaces too,
    # for the few seconds the module runs, and it serves nothing but handshakes.
    listener.bind(("0.0.0.0", 0))
    listener.listen(16)
    held = []
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _addr = listener.accept()
            except OSError:
                continue
            try:
                held.append(context.wrap_socket(conn, server_side=True))
            except (ssl.SSLError, OSError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield {"port": listener.getsockname()[1], "ca": ca}
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    listener.close()


def test_a_ca_that_did_not_sign_the_endpoint_names_ca_path(tls_server, tmp_path):
    other_ca = ensure_certificates(str(tmp_path))[0]
    error, result = failure_of(client("https://127.0.0.1:%d" % tls_server["port"], ca_path=other_ca))
    assert result["failure"] == "tls_untrusted" and result["option"] == "ca_path"
    assert "is not signed by a CA in the CA bundle in ca_path (%s)" % other_ca in str(error)
    assert "Set ca_path" in str(error)


def test_a_certificate_for_another_host_names_the_endpoint(tls_server):
    # 127.0.0.2 is loopback too, but the certificate is issued for 127.0.0.1 and localhost only.
    error, result = failure_of(client("https://127.0.0.2:%d" % tls_server["port"], ca_path=tls_server["ca"]))
    assert result["failure"] == "tls_hostname" and result["option"] == "endpoint"
    assert "not issued for the host name 127.0.0.2" in str(error)


def test_the_right_ca_gets_through_tls_and_a_silent_server_is_a_read_timeout(tls_server):
    cloud = client("https://127.0.0.1:%d" % tls_server["port"], ca_path=tls_server["ca"], api_timeout=1)
    error, result = failure_of(cloud)
    assert result["failure"] == "read_timeout" and result["option"] == "api_timeout"
    assert "did not answer within api_timeout (1 s)" in str(error)


def test_connection_refused_names_the_endpoint():
    port = closed_port()
    error, result = failure_of(client("https://127.0.0.1:%d" % port))
    assert result["failure"] == "refused" and result["option"] == "endpoint"
    assert "127.0.0.1:%d refused the connection" % port in str(error)
    assert "Check the host and port in endpoint" in str(error)


def test_a_name_that_does_not_resolve_names_the_endpoint():
    error, result = failure_of(client("https://modelarts.no-such-region.invalid"))
    assert result["failure"] == "dns" and result["option"] == "endpoint"
    assert "the host name modelarts.no-such-region.invalid in endpoint cannot be resolved" in str(error)


def test_a_dead_proxy_names_the_proxy_variables(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:%d" % closed_port())
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.delenv("no_proxy", raising=False)
    error, result = failure_of(client("https://modelarts.cn-north-4.example.invalid"))
    assert result["failure"] == "proxy"
    assert "HTTPS_PROXY" in str(error) and "NO_PROXY" in str(error)


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    (b"\x30\x82\x01\x0a not a PEM file", "is not a PEM CA bundle"),
])
def test_a_bad_ca_path_is_refused_before_any_request(tmp_path, content, message):
    path = tmp_path / "ca.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValidationError) as caught:
        client("https://127.0.0.1:%d" % closed_port(), ca_path=str(path))
    assert caught.value.option == "ca_path" and message in str(caught.value)
    assert str(path) in str(caught.value)


def test_an_unreadable_ca_path_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "ca.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\n")

    def deny(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("builtins.open", deny)
    with pytest.raises(ValidationError, match="cannot be read \\(Permission denied\\)"):
        client("https://127.0.0.1:1", ca_path=str(path))
