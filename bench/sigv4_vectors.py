#!/usr/bin/env python3
"""Signs the two requests of bench/benches/auth.rs's SigV4 cases with botocore's SigV4Auth.

The signatures are hard-coded in the bench (so it runs without python3 or botocore); run this
script to regenerate them after changing a request. Output: one line per request,
`METHOD URL HEADERS-AS-JSON` (the bench adds `Host` itself, as an HTTP client does).

The credentials are made up for the benchmark; the signing time is fixed (the bench verifies at
that time).
"""

import datetime
import json
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY = "AKIDBENCH"
SECRET_KEY = "bench/secret/K7MDENG+bPxRfiCYEXAMPLEKEY"
TIMESTAMP = datetime.datetime(2026, 11, 28, 12, 0, 0)
BASE = "https://bench.execute-api.us-east-1.amazonaws.com"


def sign(method, url, headers, body):
    request = AWSRequest(method=method, url=url, headers=headers, data=body)
    signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "execute-api", "us-east-1")
    with mock.patch("botocore.auth.get_current_datetime", return_value=TIMESTAMP):
        signer.add_auth(request)
    prepared = request.prepare()
    print(prepared.method, prepared.url, json.dumps(dict(prepared.headers.items())))


def main():
    sign("GET", f"{BASE}/prod/items/42?view=full", {}, b"")
    # 1 KB of JSON: the bench builds the same bytes.
    body = ('{"data":"' + "a" * 1013 + '"}').encode()
    assert len(body) == 1024
    sign("POST", f"{BASE}/prod/items", {"Content-Type": "application/json"}, body)


if __name__ == "__main__":
    main()
