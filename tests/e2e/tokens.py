"""Builds join tokens in the test itself (HS256 JWT), to make expired, early and forged ones."""
import base64
import hashlib
import hmac
import json
import os
import time


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def relay_key(state_dir):
    with open(os.path.join(state_dir, "keys", "token.key")) as f:
        return bytes.fromhex(f.read().strip())


def make(key, hearing="h1", role="witness", name="Tester", iat=None, nbf=None, exp=None,
         jti="e2e0001"):
    now = int(time.time())
    claims = {"hrg": hearing, "role": role, "name": name, "jti": jti,
              "iat": iat if iat is not None else now,
              "nbf": nbf if nbf is not None else now,
              "exp": exp if exp is not None else now + 600}
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(sig)}"
