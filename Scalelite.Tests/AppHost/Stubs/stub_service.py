"""Stand-ins for the simulator process and the services, for launcher tests only.

  stub_service.py simulator --count N --secret S --ports p1,p2 --manifest FILE
  stub_service.py service NAME      (port from ASPNETCORE_URLS; "api" also serves the admin API)

A service writes the environment it received to ./stub-env-NAME.json (the launcher runs it in the state directory).
The stub API keeps its servers in ./stub-api-servers.json so that they survive a restart, like the real database.
"""
import hashlib, json, os, sys, threading, urllib.request, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qsl, urlencode


def serve(port, handler):
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def write_atomically(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


class Base(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stdout.write("%s %s\n" % (self.command, self.path))
        sys.stdout.flush()

    def reply(self, code, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def simulator(args):
    opts = dict(zip(args[0::2], args[1::2]))
    ports = [int(p) for p in opts["--ports"].split(",")]

    class Sim(Base):
        def do_GET(self):
            self.reply(200, "<response><returncode>SUCCESS</returncode></response>", "text/xml")

    sims = []
    for i, port in enumerate(ports[: int(opts["--count"])]):
        serve(port, Sim)
        base = "http://127.0.0.1:%d" % port
        sims.append({"id": "sim-%d" % (i + 1), "url": base + "/bigbluebutton/api", "secret": opts["--secret"], "control": base + "/sim"})
    write_atomically(opts["--manifest"], {"simulators": sims})
    threading.Event().wait()


def service(name):
    write_atomically("stub-env-%s.json" % name, dict(os.environ))
    port = int(os.environ["ASPNETCORE_URLS"].rsplit(":", 1)[1])
    secret = os.environ["LOADBALANCER_SECRET"]
    store = "stub-api-servers.json"
    lock = threading.Lock()

    def load():
        return json.load(open(store)) if os.path.exists(store) else []

    def online(url):
        try:
            return urllib.request.urlopen(url, timeout=1).status == 200
        except Exception:
            return False

    class Service(Base):
        def call(self):
            parts = urlsplit(self.path)
            call = parts.path.rsplit("/", 1)[1]
            query = parse_qsl(parts.query)
            given = dict(query).get("checksum")
            rest = urlencode([(k, v) for k, v in query if k != "checksum"])
            expected = hashlib.sha256((call + rest + secret).encode()).hexdigest()
            return call, given == expected

        def do_GET(self):
            if self.path in ("/health", "/alive"):
                return self.reply(200, "Healthy", "text/plain")
            if name == "api" and self.path.startswith("/scalelite/api/getServers"):
                call, ok = self.call()
                if not ok:
                    return self.reply(401, {"error": "checksum"})
                with lock:
                    servers = load()
                return self.reply(200, [dict(s, online=s["state"] == "enabled" and online(s["url"]), load=0, tag=None) for s in servers])
            self.reply(404, {"error": "not found"})

        def do_POST(self):
            if name != "api" or not self.path.startswith("/scalelite/api/"):
                return self.reply(404, {"error": "not found"})
            call, ok = self.call()
            if not ok:
                return self.reply(401, {"error": "checksum"})
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            with lock:
                servers = load()
                if call == "addServer":
                    server = {"id": str(uuid.uuid4()), "url": body["server"]["url"], "secret": body["server"]["secret"],
                              "state": "disabled", "load_multiplier": body["server"].get("load_multiplier", 1)}
                    servers.append(server)
                    write_atomically(store, servers)
                    return self.reply(201, server)
                match = [s for s in servers if s["id"] == body.get("id")]
                if not match:
                    return self.reply(404, {"error": "no such server"})
                if call == "updateServer":
                    state = body["server"].get("state")
                    match[0]["state"] = {"enable": "enabled", "disable": "disabled"}.get(state, match[0]["state"])
                elif call == "deleteServer":
                    servers.remove(match[0])
                write_atomically(store, servers)
                return self.reply(200, match[0])

    serve(port, Service)
    threading.Event().wait()


if __name__ == "__main__":
    if sys.argv[1] == "simulator":
        simulator(sys.argv[2:])
    else:
        service(sys.argv[2])
