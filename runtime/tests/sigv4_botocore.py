#!/usr/bin/env python3
"""Signs a fixed set of requests with botocore's SigV4 signers for runtime/tests/sigv4.rs.

The Rust test verifies what botocore signed, so the verifier is checked against an independent,
widely used implementation rather than against a signer of our own.

Output: one JSON object per line:
    {"name", "method", "url", "headers": [[name, value], ...], "body", "timestamp", "unix",
     "presign_expires"}
`headers` is what the HTTP client would send (including `Host`). `timestamp` is the signing
time in SigV4 form (`20240315T123456Z`), `unix` the same in seconds since the epoch.

Exit status 77 when botocore cannot be imported (the Rust test then skips, unless CI=true).
"""

import calendar
import datetime
import hashlib
import json
import sys
from unittest import mock

try:
    from botocore.auth import SigV4Auth, SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from botocore.utils import percent_encode_sequence
except ImportError as exc:  # pragma: no cover - depends on the machine
    print(f"sigv4_botocore.py: botocore is not importable: {exc}", file=sys.stderr)
    sys.exit(77)

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "eu-west-1"
SERVICE = "execute-api"
TIMESTAMP = datetime.datetime(2024, 3, 15, 12, 34, 56)
BASE = "https://abc123defg.execute-api.eu-west-1.amazonaws.com"


def host_from_url(url):
    """The Host header an HTTP client sends: botocore signs exactly this value."""
    try:
        from botocore.auth import _host_from_url
    except ImportError:  # pragma: no cover - private helper moved
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        default = {"http": 80, "https": 443}.get(parts.scheme)
        host = parts.hostname
        if parts.port is not None and parts.port != default:
            host = f"{host}:{parts.port}"
        return host
    return _host_from_url(url)


def sign(name, method, url, headers=None, body=b"", params=None, presign_expires=None,
         context=None):
    request = AWSRequest(method=method, url=url, headers=headers or {}, data=body,
                         params=params or {})
    if context:
        request.context.update(context)
    credentials = Credentials(ACCESS_KEY, SECRET_KEY)
    if presign_expires is None:
        signer = SigV4Auth(credentials, SERVICE, REGION)
    else:
        signer = SigV4QueryAuth(credentials, SERVICE, REGION, expires=presign_expires)
    with mock.patch("botocore.auth.get_current_datetime", return_value=TIMESTAMP):
        signer.add_auth(request)
    prepared = request.prepare()
    sent_headers = [[k, v] for k, v in prepared.headers.items()]
    if not any(k.lower() == "host" for k, _ in sent_headers):
        sent_headers.append(["Host", host_from_url(prepared.url)])
    sent_body = prepared.body or b""
    if isinstance(sent_body, str):
        sent_body = sent_body.encode("utf-8")
    print(json.dumps({
        "name": name,
        "method": prepared.method,
        "url": prepared.url,
        "headers": sent_headers,
        "body": sent_body.decode("utf-8"),
        "timestamp": TIMESTAMP.strftime("%Y%m%dT%H%M%SZ"),
        "unix": calendar.timegm(TIMESTAMP.timetuple()),
        "presign_expires": presign_expires,
    }))


def main():
    # Query in the URL, encoded the way botocore's serializers do it: repeated keys, a space,
    # unicode, reserved characters, an empty value.
    query = percent_encode_sequence([
        ("b", "2"),
        ("a", "1"),
        ("a", "0"),
        ("q", "hello world"),
        ("u", "ünïcødé ✓"),
        ("r", "a/b:c;d,e=f&g?h#i+j"),
        ("empty", ""),
        ("tilde~", "x*y!z'(.)"),
    ])
    sign("get_query", "GET", f"{BASE}/prod/items?{query}")

    # Query from `params`: botocore signs `%20` but the URL carries `+` (urlencode).
    sign("get_params_plus", "GET", f"{BASE}/prod/search",
         params=[("q", "a b+c"), ("x", "~*"), ("q", "0")])

    body = json.dumps({"item": "widget", "qty": 3, "note": "ünï ✓"}).encode("utf-8")
    sign("post_json", "POST", f"{BASE}/prod/orders?dry_run=true", body=body,
         headers={"Content-Type": "application/json",
                  "X-Custom": "  spaced   out\tvalue  "})

    # Percent-encoded path, dot segments and a double slash: botocore normalises and encodes
    # the path once more.
    sign("path_encoded", "GET",
         f"{BASE}/prod/files/a%20b/%E2%9C%93/c%2Fd/x+y/./skip/../it's!~(1)//v/?z=1")

    # `Date` instead of `X-Amz-Date`: botocore rewrites it as an RFC 2822 date.
    sign("date_header", "GET", f"{BASE}/prod/ping", headers={"Date": "placeholder"})

    # Payload signing disabled: X-Amz-Content-SHA256: UNSIGNED-PAYLOAD.
    sign("unsigned_payload", "PUT", f"{BASE}/prod/blob", body=b"opaque bytes",
         context={"payload_signing_enabled": False})

    # An explicit payload hash header.
    blob = b'{"hash": "explicit"}'
    sign("content_sha256", "POST", f"{BASE}/prod/hashed", body=blob,
         headers={"X-Amz-Content-SHA256": hashlib.sha256(blob).hexdigest(),
                  "Content-Type": "application/json"})

    # Plain http on a non-default port: Host carries the port.
    sign("http_port", "DELETE", "http://localhost:8080/prod/things/42?force=yes")

    # Presigned URLs.
    sign("presigned_get", "GET",
         f"{BASE}/prod/download?file=report%202024.pdf&mode=inline", presign_expires=300)
    sign("presigned_header", "GET", f"{BASE}/prod/stream",
         headers={"X-Custom": "signed-too"}, presign_expires=3600)


if __name__ == "__main__":
    main()
