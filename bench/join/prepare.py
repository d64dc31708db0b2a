#!/usr/bin/env python3
"""Creates the benchmark's meetings through the BBB API and writes signed join paths, one per line.

    prepare.py ENDPOINTS_JSON OUT_FILE [--meetings N] [--urls N] [--check N] [--api URL] [--secret S] [--host H] [--prefix P]

--api, --secret and --host send everything to another Api process (the multitenant one), signed with a tenant's
secret and with its host name in the Host header; --prefix names the meetings.

The join paths are replayed round-robin by bench/lib/replay.lua (wrk's Lua has no SHA, so every URL is signed here).
--check N sends N of them (spread over the file) with redirects off and fails unless every answer is a 302
whose Location points at one of the simulators.
"""
import argparse
import hashlib
import http.client
import json
import sys
import urllib.parse


def signed(call: str, params: list[tuple[str, str]], secret: str) -> str:
    query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
    checksum = hashlib.sha256((call + query + secret).encode()).hexdigest()
    return f"{call}?{query}&checksum={checksum}"


def get(host: str, port: int, path: str, host_header: str | None = None) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host_header} if host_header else {})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Location") or "", resp.read()
    finally:
        conn.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("endpoints")
    ap.add_argument("out")
    ap.add_argument("--meetings", type=int, default=100)
    ap.add_argument("--urls", type=int, default=2000)
    ap.add_argument("--check", type=int, default=20)
    ap.add_argument("--api")
    ap.add_argument("--secret")
    ap.add_argument("--host")
    ap.add_argument("--prefix", default="bench")
    a = ap.parse_args()

    with open(a.endpoints, encoding="utf-8") as f:
        ep = json.load(f)
    api = urllib.parse.urlsplit(ep["api"]["url"])
    secret = a.secret or ep["api"]["secret"]
    base = api.path.rstrip("/")  # /bigbluebutton/api
    host, port = api.hostname, api.port
    if a.api:
        other = urllib.parse.urlsplit(a.api)
        host, port = other.hostname, other.port

    meetings = [f"{a.prefix}-{i:04d}" for i in range(a.meetings)]
    for m in meetings:
        status, _, body = get(host, port, f"{base}/" + signed("create", [("meetingID", m), ("name", m)], secret), a.host)
        if status != 200 or b"<returncode>SUCCESS</returncode>" not in body:
            print(f"create {m} failed: HTTP {status} {body[:300]!r}", file=sys.stderr)
            return 1

    paths = []
    for i in range(a.urls):
        m = meetings[i % len(meetings)]
        params = [("fullName", f"Bench User {i}"), ("meetingID", m), ("role", "MODERATOR"), ("userID", f"u{i:05d}")]
        paths.append(f"{base}/" + signed("join", params, secret))
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("\n".join(paths) + "\n")

    simulators = [s["url"] if isinstance(s, dict) else str(s) for s in ep.get("simulators", [])]
    sim_hosts = {urllib.parse.urlsplit(u).netloc for u in simulators if "://" in u}
    step = max(1, len(paths) // max(1, a.check))
    for path in paths[::step][: a.check]:
        status, location, body = get(host, port, path, a.host)
        target = urllib.parse.urlsplit(location)
        if status != 302 or "/join?" not in location or (sim_hosts and target.netloc not in sim_hosts):
            print(f"join check failed: HTTP {status} Location={location!r} body={body[:300]!r}", file=sys.stderr)
            return 1
    print(f"created {len(meetings)} meetings, wrote {len(paths)} signed join paths, {a.check} checked: all 302 to a simulator")
    return 0


if __name__ == "__main__":
    sys.exit(main())
