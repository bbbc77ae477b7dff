#!/usr/bin/env python3
"""How often an ordinary client is logged out by refresh-token rotation (issue 19 §2).

Starts the given gatehouse binary on 127.0.0.1 with two otherwise identical clients: `strict`
(refresh_token_reuse_grace = 0, the behaviour before the grace window) and `graceful` (the
default, 10 s). For each, TRIALS times:

- two tabs: two refreshes of the same token at once; then the token the last answer gave is
  refreshed once more;
- a lost response: a refresh whose answer the client never reads, then its retry of the same
  token; then the retry's token is refreshed once more.

A trial "logged out" when that last refresh fails (the family was revoked). Prints the counts.

    bench/refresh_retry.py target/release/gatehouse [TRIALS]
"""

import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

CONFIG = """
[[clients]]
client_id = "strict"
client_secret = "strict-secret"
scope = "openid offline_access"
grants = ["password", "refresh_token"]
refresh_token_reuse_grace = 0

[[clients]]
client_id = "graceful"
client_secret = "graceful-secret"
scope = "openid offline_access"
grants = ["password", "refresh_token"]

[[users]]
username = "alice"
password = "alice-password"
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def token(base, client, form):
    data = urllib.parse.urlencode(form).encode()
    req = urllib.request.Request(base + "/token", data=data)
    auth = f"{client}:{client}-secret".encode()
    req.add_header("Authorization", "Basic " + base64.b64encode(auth).decode())
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def first(base, client):
    st, body = token(
        base,
        client,
        {"grant_type": "password", "username": "alice", "password": "alice-password", "scope": "openid offline_access"},
    )
    assert st == 200, body
    return body["refresh_token"]


def refresh(base, client, rt):
    return token(base, client, {"grant_type": "refresh_token", "refresh_token": rt})


def logged_out(base, client, held):
    return held is None or refresh(base, client, held)[0] != 200


def two_tabs(base, client):
    rt = first(base, client)
    answers = [None, None]

    def tab(i):
        answers[i] = refresh(base, client, rt)

    threads = [threading.Thread(target=tab, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    held = next((b["refresh_token"] for st, b in reversed(answers) if st == 200), None)
    return logged_out(base, client, held)


def lost_response(base, client):
    rt = first(base, client)
    refresh(base, client, rt)  # the answer is lost: the client never reads it
    st, body = refresh(base, client, rt)
    return logged_out(base, client, body.get("refresh_token") if st == 200 else None)


def main():
    binary = sys.argv[1]
    trials = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    with tempfile.TemporaryDirectory() as d:
        cfg = os.path.join(d, "gatehouse.toml")
        with open(cfg, "w") as f:
            f.write(CONFIG)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = dict(os.environ, RUST_LOG="warn")
        server = subprocess.Popen(
            [binary, "serve", "--config", cfg, "--listen", f"127.0.0.1:{port}", "--database", f"sqlite://{d}/g.db"],
            cwd=d,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            print(f"| scenario | client | logged out (of {trials}) |")
            print("|---|---|---|")
            for name, scenario in [("two tabs refresh at once", two_tabs), ("lost response, then retry", lost_response)]:
                for client in ["strict", "graceful"]:
                    n = sum(scenario(base, client) for _ in range(trials))
                    label = "strict (grace 0: before)" if client == "strict" else "default (grace 10 s)"
                    print(f"| {name} | {label} | {n} |")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
