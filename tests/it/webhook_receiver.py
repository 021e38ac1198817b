"""A webhook receiver on loopback for tests/it/webhooks.rs (docs/integrations.md#webhooks).

    python3 webhook_receiver.py FAIL_FIRST [DELAY_MS]

Listens on a free 127.0.0.1 port and prints it as the first line, then reads the webhook secret as
the first line of stdin (the source is registered with the receiver's URL, and registering makes
the secret). Every POST is checked as a receiver should: the `Aduan-Signature` header (`t=UNIX,v1=HEX`, HMAC-SHA256 of `t.BODY` under
SECRET, compared in constant time) and a `t` within five minutes; a bad one is answered 401. The
first FAIL_FIRST well-signed posts are answered 500 (the sender must retry); every later one 200,
and printed as one JSON line {"event_id", "event_type", "source", "complaint_id", "seq"} (what the
test counts: exactly one per event, in order per case). A post with a bad signature is printed as
{"refused": REASON}. With DELAY_MS, each accepted post is answered that much later (a slow
receiver, so that deliveries are still under way when the test kills the sender). Stops when stdin
closes. Standard library only.
"""

import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAIL_FIRST = int(sys.argv[1])
DELAY = int(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.0
SECRET = {"key": b""}
LOCK = threading.Lock()
SEEN = {"signed": 0}


def emit(obj):
    with LOCK:
        print(json.dumps(obj), flush=True)


def check(header, body):
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    t, v1 = parts.get("t"), parts.get("v1")
    if not t or not v1 or not t.isdigit():
        return "malformed signature"
    if abs(time.time() - int(t)) > 300:
        return "stale timestamp"
    if not SECRET["key"]:
        return "no secret yet"
    want = hmac.new(SECRET["key"], t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(want, v1) else "bad signature"


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        why = check(self.headers.get("Aduan-Signature", ""), body)
        if why:
            emit({"refused": why})
            return self.answer(401)
        with LOCK:
            SEEN["signed"] += 1
            failing = SEEN["signed"] <= FAIL_FIRST
        if failing:
            return self.answer(500)
        event = json.loads(body)
        time.sleep(DELAY)
        emit({
            "event_id": self.headers.get("Aduan-Event-Id"),
            "event_type": self.headers.get("Aduan-Event-Type"),
            "source": self.headers.get("Aduan-Source"),
            "complaint_id": event.get("complaint_id"),
            "seq": event.get("seq"),
        })
        self.answer(200)

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
SECRET["key"] = sys.stdin.readline().strip().encode()
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
server.shutdown()
