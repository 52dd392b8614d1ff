#!/usr/bin/env python3
"""Check an OpsDeck webhook signature (for receivers; standard library only).

OpsDeck POSTs JSON with three headers:
  OpsDeck-Event:     what happened, e.g. "test"
  OpsDeck-Delivery:  the delivery id, the same on every retry; act on each id once
  OpsDeck-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

Use verify() in your receiver, or from a shell:
  python3 verify_webhook.py SECRET "SIGNATURE HEADER" < body.json   # exit 0 valid, 1 not
"""
import hashlib
import hmac
import sys
import time

DEFAULT_WINDOW_SECONDS = 300


def verify(secret: bytes, header: str, body: bytes, now: float | None = None,
           window: int = DEFAULT_WINDOW_SECONDS) -> bool:
    """True when the header signs exactly this body with this secret, recently."""
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    if abs((time.time() if now is None else now) - timestamp) > window:
        return False  # too old or from the future: a possible replay
    expected = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    valid = verify(sys.argv[1].encode(), sys.argv[2], sys.stdin.buffer.read())
    print("valid" if valid else "INVALID")
    sys.exit(0 if valid else 1)
