#!/usr/bin/env python3
"""Small BBB-API helpers for the benchmarks (signing, sending, simulator control).

    bbb.py endpoint ENDPOINTS_JSON api|sim:N  -> "URL SECRET" (URL = scheme://host:port, no path)
    bbb.py creates OUT --secret S --prefix P --count N
        -> N signed create paths, meetingID P-000000.. (one per line)
    bbb.py send BASE_URL PATHS_FILE [--expect SUCCESS]
        -> sends every path once (one keep-alive connection) and fails unless each answer is HTTP 200 with
           <returncode>SUCCESS</returncode>
    bbb.py creates OUT --secret S --prefix P --count N --tenants T
        -> as above, meeting i signed with the secret of tenant i % T (tenant-K-secret); the tenant of each line
           is written to OUT.hosts (one K per line)
    bbb.py send BASE_URL PATHS_FILE --host H | --hosts FILE --host-suffix S
        -> as above, with a Host header (one for all, or tenant-K.S per line of FILE)
    bbb.py addtenants BASE_URL ADMIN_SECRET COUNT  -> Scalelite's addTenant for tenant-0..COUNT-1 (secret tenant-K-secret)
    bbb.py getmeetings OUT --secret S  -> the signed getMeetings path
    bbb.py stats CONTROL_URL...  -> "CREATE_CALLS MEETINGS GETMEETINGS_CALLS" summed over the simulators
    bbb.py reset CONTROL_URL...  -> POST /sim/reset on each
"""
import hashlib
import http.client
import json
import sys
import urllib.parse

API_PATH = "/bigbluebutton/api/"


def signed(call: str, params: list[tuple[str, str]], secret: str) -> str:
    query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
    checksum = hashlib.sha256((call + query + secret).encode()).hexdigest()
    return f"{API_PATH}{call}?{query}&checksum={checksum}" if query else f"{API_PATH}{call}?checksum={checksum}"


def create_params(meeting_id: str) -> list[tuple[str, str]]:
    # What an LMS typically sends; the same for every target.
    return [("attendeePW", "ap"), ("meetingID", meeting_id), ("moderatorPW", "mp"), ("name", f"Bench {meeting_id}"),
            ("record", "false")]


def conn_for(url: str) -> http.client.HTTPConnection:
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)


def request(conn, method: str, path: str, host: str | None = None) -> tuple[int, bytes]:
    conn.request(method, path, headers={"Host": host} if host else {})
    r = conn.getresponse()
    return r.status, r.read()


def tenant_secret(k: int) -> str:
    return f"tenant-{k}-secret"



def main(argv: list[str]) -> int:
    cmd = argv[0]
    if cmd == "endpoint":
        ep = json.load(open(argv[1], encoding="utf-8"))
        which = argv[2]
        e = ep["api"] if which == "api" else ep["simulators"][int(which.split(":")[1])]
        u = urllib.parse.urlsplit(e["url"])
        print(f"{u.scheme}://{u.netloc}", e["secret"], e.get("control", ""))
    elif cmd == "controls":
        ep = json.load(open(argv[1], encoding="utf-8"))
        print(" ".join(s["control"] for s in ep["simulators"]))
    elif cmd == "creates":
        out, opts = argv[1], dict(zip(argv[2::2], argv[3::2]))
        secret, prefix, count = opts["--secret"], opts["--prefix"], int(opts["--count"])
        tenants = int(opts.get("--tenants", "0"))
        with open(out, "w", encoding="utf-8") as f:
            for i in range(count):
                key = tenant_secret(i % tenants) if tenants else secret
                f.write(signed("create", create_params(f"{prefix}-{i:06d}"), key) + "\n")
        if tenants:
            with open(out + ".hosts", "w", encoding="utf-8") as f:
                f.write("".join(f"{i % tenants}\n" for i in range(count)))
    elif cmd == "addtenants":
        base, admin_secret, count = argv[1], argv[2], int(argv[3])
        conn = conn_for(base)
        for k in range(count):
            checksum = hashlib.sha256(("addTenant" + admin_secret).encode()).hexdigest()
            body = json.dumps({"tenant": {"name": f"tenant-{k}", "secrets": tenant_secret(k)}})
            conn.request("POST", f"/scalelite/api/addTenant?checksum={checksum}", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            answer = r.read()
            if r.status != 201:
                print(f"addTenant tenant-{k}: HTTP {r.status} {answer[:300]!r}", file=sys.stderr)
                return 1
        print(f"added {count} tenants", file=sys.stderr)
    elif cmd == "getmeetings":
        opts = dict(zip(argv[2::2], argv[3::2]))
        secret = tenant_secret(int(opts["--tenant"])) if "--tenant" in opts else opts["--secret"]
        with open(argv[1], "w", encoding="utf-8") as f:
            f.write(signed("getMeetings", [], secret) + "\n")
    elif cmd == "send":
        conn = conn_for(argv[1])
        opts = dict(zip(argv[3::2], argv[4::2]))
        hosts = [f"tenant-{k.strip()}.{opts['--host-suffix']}" for k in open(opts["--hosts"], encoding="utf-8")] if "--hosts" in opts else None
        n = 0
        for path in open(argv[2], encoding="utf-8"):
            host = hosts[n] if hosts else opts.get("--host")
            status, body = request(conn, "GET", path.strip(), host)
            if status != 200 or b"<returncode>SUCCESS</returncode>" not in body:
                print(f"{path.strip()[:80]}: HTTP {status} {body[:300]!r}", file=sys.stderr)
                return 1
            n += 1
        print(f"sent {n}, all SUCCESS", file=sys.stderr)
    elif cmd == "stats":
        creates = meetings = gm = 0
        for control in argv[1:]:
            conn = conn_for(control)
            status, body = request(conn, "GET", urllib.parse.urlsplit(control).path + "/stats")
            s = json.loads(body)
            creates += s["calls"].get("create", 0)
            gm += s["calls"].get("getMeetings", 0)
            meetings += len(s["meetings"])
        print(creates, meetings, gm)
    elif cmd == "reset":
        for control in argv[1:]:
            conn = conn_for(control)
            status, _ = request(conn, "POST", urllib.parse.urlsplit(control).path + "/reset")
            if status != 200:
                print(f"reset {control}: HTTP {status}", file=sys.stderr)
                return 1
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
