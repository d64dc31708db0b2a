#!/usr/bin/env python3
"""The fault suite: a steady mixed load against the whole topology while each store and backend fails in turn.

    faults.py ENDPOINTS_JSON WORKDIR OUT_JSON

Run by bench/faults/run.sh, which starts the AppHost and cleans up. Environment: RATE (calls/s, 120), WORKERS (6),
FAULT (seconds a fault lasts, 15), RECOVER (seconds watched after it clears, 10), POLL_INTERVAL (2),
UNHEALTHY_THRESHOLD (2), PHASES (comma list, all by default), DISK (1: the full-disk phase, needs root).

What it measures, per phase (a fault, then RECOVER seconds after it clears):
- calls and failures per kind (create, join, getMeetings, isMeetingRunning, getMeetingInfo, end), and p99 latency;
  a failure on a meeting whose owner is the faulted backend is counted apart: BBB cannot serve it either;
- joins sent to a backend after it had been dead for (threshold + 1) poll intervals (the goal is none);
- recovery: from the fault clearing to the last failed call of the phase;
- at the end, recordings and recording-ready callbacks lost: every recording produced during the run must be listed
  by getRecordings, with its files, and its callback received once.
"""
import base64
import hashlib
import http.client
import http.server
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

ENDPOINTS, WORK, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
RATE = float(os.environ.get("RATE", "120"))
WORKERS = int(os.environ.get("WORKERS", "6"))
FAULT = float(os.environ.get("FAULT", "15"))
RECOVER = float(os.environ.get("RECOVER", "10"))
INTERVAL = float(os.environ.get("POLL_INTERVAL", "2"))
THRESHOLD = int(os.environ.get("UNHEALTHY_THRESHOLD", "2"))
ALL_PHASES = ["baseline", "redis-freeze", "redis-restart", "pg-restart", "backend-hang", "backend-error",
              "backend-garbage", "disk-full", "poller-kill"]
PHASES = [p for p in os.environ.get("PHASES", ",".join(ALL_PHASES)).split(",") if p]

ep = json.load(open(ENDPOINTS, encoding="utf-8"))
API = urllib.parse.urlsplit(ep["api"]["url"])
SECRET = ep["api"]["secret"]
SIMS = {urllib.parse.urlsplit(s["url"]).port: s for s in ep["simulators"]}
SIM_BY_ID = {s["id"]: s for s in ep["simulators"]}
RECORDINGS = os.path.join(ep["stateDirectory"], "recordings")
EXTRA_PIDS = os.path.join(WORK, "extra.pids")


def log(msg):
    print(f"[faults {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def signed(call, params):
    query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
    checksum = hashlib.sha256((call + query + SECRET).encode()).hexdigest()
    return f"/bigbluebutton/api/{call}?{query}&checksum={checksum}"


def message_key(body):
    if b"<returncode>SUCCESS</returncode>" in body:
        return "SUCCESS"
    start = body.find(b"<messageKey>")
    return body[start + 12:body.find(b"</messageKey>")].decode(errors="replace") if start >= 0 else "no-xml"


def control(sim, method, path):
    u = urllib.parse.urlsplit(sim["control"])
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.request(method, u.path + path)
    r = c.getresponse()
    return r.status, r.read()


# --- the recording-ready receiver ---------------------------------------------------------------------------------
CALLBACKS = {}   # meeting id -> count
CALLBACK_LOCK = threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        token = urllib.parse.parse_qs(body).get("signed_parameters", [""])[0]
        try:
            payload = token.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            meeting = claims.get("meeting_id", "?")
        except (IndexError, ValueError):
            meeting = "?"
        with CALLBACK_LOCK:
            CALLBACKS[meeting] = CALLBACKS.get(meeting, 0) + 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=receiver.serve_forever, daemon=True).start()
CALLBACK_URL = f"http://127.0.0.1:{receiver.server_address[1]}/ready"

# --- the load ------------------------------------------------------------------------------------------------------
CALLS = []          # (t, kind, ok, key, ms, meeting, redirected-to sim id)
LIVE = {}           # meeting id -> owner sim id (None until a join shows it), for meetings still in use
OWNERS = {}         # meeting id -> owner sim id, as the first successful join showed it; never forgotten
LIVE_LOCK = threading.Lock()
EXPECTED = {}       # record id -> meeting id, for every recording produced
STOP = threading.Event()
FAULTED = set()     # sim ids whose meetings are expected to fail
counter = iter(range(10**9))


def api_call(conn, kind, params, meeting=None):
    path = signed(kind, params)
    t0 = time.monotonic()
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        status, location = r.status, r.getheader("Location") or ""
    except (OSError, http.client.HTTPException) as e:
        conn.close()
        CALLS.append((t0, kind, False, type(e).__name__, (time.monotonic() - t0) * 1000, meeting, None))
        return False, None
    ms = (time.monotonic() - t0) * 1000
    if kind == "join":
        sim = SIMS.get(urllib.parse.urlsplit(location).port) if status == 302 else None
        sim_id = sim["id"] if sim else None
        ok = sim is not None
        key = "302" if ok else message_key(body)
        CALLS.append((t0, kind, ok, key, ms, meeting, sim_id))
        return ok, sim_id
    key = message_key(body) if status == 200 else f"HTTP {status}"
    ok = key == "SUCCESS" or (kind == "getMeetings" and key == "noMeetings")
    CALLS.append((t0, kind, ok, key, ms, meeting, None))
    return ok, None


def pick_live():
    with LIVE_LOCK:
        return random.choice(list(LIVE)) if LIVE else None


def worker(seed):
    rnd = random.Random(seed)
    conn = http.client.HTTPConnection(API.hostname, API.port, timeout=15)
    period = WORKERS / RATE
    next_at = time.monotonic()
    while not STOP.is_set():
        next_at += period
        roll = rnd.random()
        meeting = pick_live()
        if roll < 0.15 or meeting is None:
            mid = f"fault-{next(counter):06d}"
            ok, _ = api_call(conn, "create", [("meetingID", mid), ("name", mid), ("record", "true"),
                                              ("meta_bbb-recording-ready-url", CALLBACK_URL)], mid)
            if ok:
                with LIVE_LOCK:
                    LIVE[mid] = None
        elif roll < 0.75:
            ok, sim_id = api_call(conn, "join", [("fullName", "u"), ("meetingID", meeting), ("role", "VIEWER")], meeting)
            if ok:
                with LIVE_LOCK:
                    OWNERS.setdefault(meeting, sim_id)
                    if meeting in LIVE:
                        LIVE[meeting] = sim_id
        elif roll < 0.82:
            api_call(conn, "getMeetings", [])
        elif roll < 0.92:
            api_call(conn, "isMeetingRunning", [("meetingID", meeting)], meeting)
        else:
            api_call(conn, "getMeetingInfo", [("meetingID", meeting)], meeting)
        delay = next_at - time.monotonic()
        if delay > 0:
            STOP.wait(delay)
        else:
            next_at = time.monotonic()


def finisher():
    """Ends meetings one at a time, each after its backend produced a recording (as BBB's post-publish would)."""
    conn = http.client.HTTPConnection(API.hostname, API.port, timeout=15)
    while not STOP.wait(0.5):
        with LIVE_LOCK:
            known = [m for m, s in LIVE.items() if s is not None and s not in FAULTED]
            if len(known) < 20:
                continue
            meeting = random.choice(known)
            sim_id = LIVE.pop(meeting)
        STOP.wait(1.0)   # joins already sent to it finish first, so none of them counts as a failure
        try:
            status, body = control(SIM_BY_ID[sim_id], "POST", "/recordings/" + urllib.parse.quote(meeting, safe=""))
        except OSError:
            status, body = 0, b""
        if status == 200:
            EXPECTED[json.loads(body)["recordID"]] = meeting
        api_call(conn, "end", [("meetingID", meeting)], meeting)


# --- faults --------------------------------------------------------------------------------------------------------
def listener_pid(port):
    out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True).stdout
    start = out.find("pid=")
    return int(out[start + 4:].split(",")[0]) if start >= 0 else None


def remember(pid):
    with open(EXTRA_PIDS, "a", encoding="utf-8") as f:
        f.write(f"{pid}\n")


def wait_for(condition, seconds, step=0.1):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
        return True
    except OSError:
        return False


REDIS_PORT = int(ep["redis"].split(",")[0].rsplit(":", 1)[1])
PG_PORT = int([kv.split("=", 1)[1] for kv in ep["postgres"].split(";") if kv.lower().startswith("port=")][0])
PG_DATA = os.path.join(ep["stateDirectory"], "postgres", "data")


def stop_redis(sig):
    pid = listener_pid(REDIS_PORT)
    os.kill(pid, sig)
    return pid


def start_redis(directory):
    p = subprocess.Popen(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", directory], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    remember(p.pid)
    wait_for(lambda: port_open(REDIS_PORT), 10)


def postgres_command():
    binary = os.path.realpath(f"/proc/{listener_pid(PG_PORT)}/exe")
    args = [binary, "-D", PG_DATA, "-p", str(PG_PORT), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="]
    return (["runuser", "-u", "postgres", "--"] + args) if os.geteuid() == 0 else args


def stop_postgres():
    pid = listener_pid(PG_PORT)
    os.kill(pid, signal.SIGINT)   # fast shutdown: sessions are cut, as when the server or its host goes away
    wait_for(lambda: not port_open(PG_PORT) and not os.path.exists(f"/proc/{pid}"), 30)


def start_postgres(command):
    p = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    remember(p.pid)
    wait_for(lambda: port_open(PG_PORT), 30)


def set_fault(sim_id, mode):
    control(SIM_BY_ID[sim_id], "POST", f"/fault?mode={mode}")


def sim_meetings_dropped(sim_id):
    """Meetings owned by a backend that failed are gone for the LMS (BBB loses them too); stop using them."""
    with LIVE_LOCK:
        for m in [m for m, s in LIVE.items() if s == sim_id or s is None]:
            del LIVE[m]


def phase_backend(mode):
    sim_id = ep["simulators"][1]["id"]

    def apply():
        FAULTED.add(sim_id)
        set_fault(sim_id, mode)
        return {"dead": sim_id, "dead_at": time.monotonic()}

    def clear(state):
        set_fault(sim_id, "ok")
        state["alive_at"] = time.monotonic()
        sim_meetings_dropped(sim_id)
    return apply, clear


def phase_redis_freeze():
    def apply():
        return {"pid": stop_redis(signal.SIGSTOP)}

    def clear(state):
        os.kill(state["pid"], signal.SIGCONT)
    return apply, clear


def phase_redis_restart():
    def apply():
        pid = listener_pid(REDIS_PORT)
        directory = os.readlink(f"/proc/{pid}/cwd")
        os.kill(pid, signal.SIGKILL)
        return {"dir": directory}

    def clear(state):
        start_redis(state["dir"])
    return apply, clear


def phase_pg_restart():
    """PostgreSQL stops; a few seconds in, a backend dies too: the Poller must still take it out of placement."""
    sim_id = ep["simulators"][2]["id"]

    def apply():
        command = postgres_command()
        stop_postgres()
        time.sleep(3)
        FAULTED.add(sim_id)
        set_fault(sim_id, "down")
        return {"command": command, "dead": sim_id, "dead_at": time.monotonic()}

    def clear(state):
        start_postgres(state["command"])
        # The backend stays down for the recovery window: its meetings are gone; it comes back at the phase's end.
    return apply, clear


def phase_disk_full():
    published = os.path.join(RECORDINGS, "published")

    def apply():
        if os.geteuid() != 0 or os.environ.get("DISK", "1") != "1":
            return {"skipped": "needs root (mount)"}
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", published], capture_output=True, text=True)
        if r.returncode != 0:
            return {"skipped": f"mount failed: {r.stderr.strip()}"}
        with open(os.path.join(published, ".filler"), "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
        return {"mounted": published}

    def clear(state):
        if "mounted" in state:
            subprocess.run(["umount", "-l", state["mounted"]], check=False)
    return apply, clear


def phase_poller_kill():
    port = urllib.parse.urlsplit(ep["poller"]["url"]).port

    def apply():
        pid = listener_pid(port)
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[:-1]
        env = dict(kv.split(b"=", 1) for kv in open(f"/proc/{pid}/environ", "rb").read().split(b"\0") if b"=" in kv)
        cwd = os.readlink(f"/proc/{pid}/cwd")
        os.kill(pid, signal.SIGKILL)
        return {"cmd": cmd, "env": env, "cwd": cwd}

    def clear(state):
        p = subprocess.Popen(state["cmd"], env=state["env"], cwd=state["cwd"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        remember(p.pid)
    return apply, clear


FAULTS = {
    "redis-freeze": phase_redis_freeze, "redis-restart": phase_redis_restart, "pg-restart": phase_pg_restart,
    "backend-hang": lambda: phase_backend("hang"), "backend-error": lambda: phase_backend("error"),
    "backend-garbage": lambda: phase_backend("garbage"), "disk-full": phase_disk_full,
    "poller-kill": phase_poller_kill,
}


def p99(values):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * 0.99))], 1)


def summarize(name, t0, t_clear, t_end, state):
    calls = [c for c in CALLS if t0 <= c[0] < t_end]
    dead = state.get("dead")
    kinds = {}
    for t, kind, ok, key, ms, meeting, sim_id in calls:
        k = kinds.setdefault(kind, {"calls": 0, "failed": 0, "failed_owner_faulted": 0, "keys": {}, "ms": []})
        k["calls"] += 1
        k["ms"].append(ms)
        if not ok:
            with LIVE_LOCK:
                owner_faulted = dead is not None and meeting is not None and OWNERS.get(meeting) in (dead, None)
            if owner_faulted and kind in ("join", "isMeetingRunning", "getMeetingInfo", "end"):
                k["failed_owner_faulted"] += 1
            else:
                k["failed"] += 1
                k["keys"][key] = k["keys"].get(key, 0) + 1
    for k in kinds.values():
        k["p99_ms"] = p99(k.pop("ms"))
    # Recovery is judged on the calls BBB itself could have served: not those of meetings on the failed backend.
    failures = [c[0] for c in calls if not c[2] and not (dead is not None and c[5] is not None and OWNERS.get(c[5]) in (dead, None))]
    result = {"phase": name, "fault_seconds": round(t_clear - t0, 1), "kinds": kinds,
              "recovery_s": round(max(0.0, max(failures) - t_clear), 1) if failures and t_clear else 0.0}
    if dead:
        cutoff = state["dead_at"] + (THRESHOLD + 1) * INTERVAL
        # Until the backend is healthy again (it may rightly take new meetings after that).
        until = state.get("alive_at", t_end)
        result["joins_to_dead_after_cutoff"] = sum(1 for c in calls if c[1] == "join" and c[6] == dead and cutoff <= c[0] < until)
        result["cutoff_s"] = (THRESHOLD + 1) * INTERVAL
    if "skipped" in state:
        result["skipped"] = state["skipped"]
    return result


def recordings_listed():
    conn = http.client.HTTPConnection(API.hostname, API.port, timeout=60)
    conn.request("GET", signed("getRecordings", [("state", "any")]))
    body = conn.getresponse().read().decode()
    return {part.split("</recordID>")[0] for part in body.split("<recordID>")[1:]}


def main():
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(WORKERS)]
    threads.append(threading.Thread(target=finisher, daemon=True))
    for t in threads:
        t.start()
    log(f"load: {RATE:.0f} calls/s over {WORKERS} workers; recording-ready receiver {CALLBACK_URL}")
    time.sleep(5)   # warm-up: meetings exist and owners are known before the first fault
    results = []
    for name in PHASES:
        t0 = time.monotonic()
        if name == "baseline":
            time.sleep(FAULT)
            results.append(summarize(name, t0, t0, time.monotonic(), {}))
        else:
            apply, clear = FAULTS[name]()
            log(f"{name}: fault on")
            state = apply()
            time.sleep(max(0.0, FAULT - (time.monotonic() - t0)))
            t_clear = time.monotonic()
            clear(state)
            log(f"{name}: fault cleared")
            time.sleep(RECOVER)
            results.append(summarize(name, t0, t_clear, time.monotonic(), state))
            if name == "pg-restart":
                set_fault(state["dead"], "ok")
                sim_meetings_dropped(state["dead"])
        FAULTED.clear()
        r = results[-1]
        log(f"{name}: " + ", ".join(f"{k} {v['failed']}/{v['calls']} failed" for k, v in r["kinds"].items())
            + f"; recovery {r['recovery_s']} s" + (f"; joins to dead {r['joins_to_dead_after_cutoff']}" if "cutoff_s" in r else ""))
    STOP.set()
    for t in threads:
        t.join(20)

    log(f"waiting for {len(EXPECTED)} recordings to be listed and their callbacks to arrive")
    wait_for(lambda: EXPECTED.keys() <= recordings_listed(), 120, step=2)
    listed = recordings_listed()
    wait_for(lambda: all(CALLBACKS.get(m, 0) >= 1 for m in EXPECTED.values()), 90, step=1)
    missing_files = [r for r in EXPECTED if r in listed and not any(
        os.path.isdir(os.path.join(RECORDINGS, "published", f, r)) for f in ("presentation", "video", "podcast"))]
    totals = {
        "recordings_produced": len(EXPECTED),
        "recordings_lost": len(EXPECTED.keys() - listed),
        "recordings_without_files": len(missing_files),
        "callbacks_lost": sum(1 for m in EXPECTED.values() if CALLBACKS.get(m, 0) == 0),
        "callbacks_duplicated": sum(1 for m in EXPECTED.values() if CALLBACKS.get(m, 0) > 1),
        "calls": len(CALLS),
    }
    lost = {"recordings": sorted(EXPECTED.keys() - listed), "files": missing_files,
            "callbacks": sorted(m for m in EXPECTED.values() if CALLBACKS.get(m, 0) == 0)}
    json.dump({"settings": {"rate": RATE, "workers": WORKERS, "fault_s": FAULT, "recover_s": RECOVER,
                            "poll_interval_s": INTERVAL, "unhealthy_threshold": THRESHOLD},
               "phases": results, "totals": totals, "lost": lost}, open(OUT, "w", encoding="utf-8"), indent=2)
    print_table(results, totals)
    if any(lost.values()):
        print("lost: " + json.dumps(lost))


def print_table(results, totals):
    kinds = ["create", "join", "getMeetings", "isMeetingRunning", "getMeetingInfo", "end"]
    print("| phase | " + " | ".join(kinds) + " | join p99 ms | recovery s | joins to dead |")
    print("|---|" + "---|" * (len(kinds) + 3))
    for r in results:
        cells = []
        for k in kinds:
            v = r["kinds"].get(k)
            cells.append("-" if not v else f"{v['failed']}/{v['calls']}" + (f" (+{v['failed_owner_faulted']})" if v["failed_owner_faulted"] else ""))
        join = r["kinds"].get("join", {})
        dead = str(r["joins_to_dead_after_cutoff"]) if "cutoff_s" in r else "-"
        name = r["phase"] + (f" (skipped: {r['skipped']})" if "skipped" in r else "")
        print(f"| {name} | " + " | ".join(cells) + f" | {join.get('p99_ms', '-')} | {r['recovery_s']} | {dead} |")
    print()
    print(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in totals.items()))


if __name__ == "__main__":
    main()
