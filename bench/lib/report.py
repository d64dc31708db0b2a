#!/usr/bin/env python3
"""Bookkeeping shared by bench/create and bench/getmeetings.

    report.py slice TARGET ROUND RESULT_JSON "WRK_USER WRK_SYS" "name=ticks,..." HZ SERVER
        -> one slice as a JSON line on stdout, a readable line on stderr. SERVER names the process whose CPU is
           the target's cost (e.g. api, sim, nginx); its CPU per request is server_cpu_us_per_request.
    report.py summary SLICES_JSONL OUT_JSON SETTINGS_JSON PAIRS
        -> per target: medians; per pair "ours:baseline" (comma-separated): ratio of medians and median of the
           per-round ratios; a table; the result file.
"""
import json
import os
import platform
import statistics
import sys


def slice_(args: list[str]) -> None:
    target, rnd, res, wrk_cpu, ticks, hz, server = args
    r = json.loads(res)
    secs = r["duration_us"] / 1e6
    user, system = (float(x) for x in wrk_cpu.split())
    cores = {"wrk": round((user + system) / secs, 3)}
    for item in filter(None, ticks.split(",")):
        name, t = item.split("=")
        cores[name] = round(int(t) / int(hz) / secs, 3)
    r.update(target=target, round=int(rnd), cpu_cores=cores, server=server)
    r["server_cpu_us_per_request"] = round(cores.get(server, 0) * 1e6 / r["rps"], 1) if r["rps"] else None
    r["bytes_per_request"] = round(r["bytes"] / r["requests"]) if r["requests"] else None
    print(json.dumps(r))
    cpu = " ".join(f"{k} {v:.2f}" for k, v in cores.items())
    print(f"  round {r['round']:>2} {target:<14} {r['rps']:>9.0f} req/s  p50 {r['p50_us'] / 1000:7.2f} ms  p99 {r['p99_us'] / 1000:7.2f} ms"
          f"  {r['server_cpu_us_per_request'] or 0:7.1f} us {server} cpu/req  {r['bytes_per_request']} B/answer  "
          f"statuses {r['statuses'] or '-'}  errors {sum(r['errors'].values())}  cores: {cpu}", file=sys.stderr)


def summary(args: list[str]) -> None:
    slices_file, out, settings_json, pairs_arg = args
    settings = json.loads(settings_json)
    slices = [json.loads(line) for line in open(slices_file, encoding="utf-8")]
    measured = [s for s in slices if s["round"] > 0]
    targets = list(dict.fromkeys(s["target"] for s in measured))
    rounds = sorted({s["round"] for s in measured})

    per_target = {}
    for t in targets:
        ss = [s for s in measured if s["target"] == t]
        med = lambda k: statistics.median(s[k] for s in ss)  # noqa: E731
        procs = sorted({p for s in ss for p in s["cpu_cores"]})
        per_target[t] = {
            "server": ss[0]["server"],
            "rps_median": med("rps"), "rps_rounds": [round(s["rps"]) for s in ss],
            "p50_ms": med("p50_us") / 1000, "p99_ms": med("p99_us") / 1000,
            "server_cpu_us_per_request_median": med("server_cpu_us_per_request"),
            "bytes_per_request": ss[0]["bytes_per_request"],
            "cpu_cores_median": {p: round(statistics.median(s["cpu_cores"].get(p, 0) for s in ss), 2) for p in procs},
        }
    ratios = {}
    for pair in filter(None, pairs_arg.split(",")):
        ours, base = pair.split(":")
        paired = []
        for rnd in rounds:
            by = {s["target"]: s for s in measured if s["round"] == rnd}
            if ours in by and base in by and by[base]["rps"]:
                paired.append(by[ours]["rps"] / by[base]["rps"])
        ratios[pair] = {"ratio": per_target[ours]["rps_median"] / per_target[base]["rps_median"],
                        "ratio_paired_median": statistics.median(paired), "rounds": [round(p, 3) for p in paired]}
    bad = [s for s in measured if sum(s["errors"].values())]
    result = {"benchmark": settings.get("benchmark"), "settings": settings,
              "machine": {"cores": os.cpu_count(), "loadavg_at_end": os.getloadavg(), "kernel": platform.release()},
              "summary": per_target, "ratios": ratios, "slices_with_errors": len(bad), "slices": slices}
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)

    print()
    print(f"{settings.get('benchmark')} benchmark: {len(rounds)} rounds x {settings.get('duration_s')} s, "
          f"wrk -t{settings.get('threads')} -c{settings.get('connections')}, {os.cpu_count()} cores")
    print(f"{'target':<16}{'req/s median':>13}{'p50 ms':>9}{'p99 ms':>9}{'cpu us/req':>12}  {'(process)':<10}{'bytes':>9}  rounds req/s")
    for t, x in per_target.items():
        print(f"{t:<16}{x['rps_median']:>13.0f}{x['p50_ms']:>9.2f}{x['p99_ms']:>9.2f}{x['server_cpu_us_per_request_median']:>12.1f}  "
              f"{x['server']:<10}{x['bytes_per_request'] or 0:>9}  {', '.join(map(str, x['rps_rounds']))}")
    for pair, r in ratios.items():
        print(f"ratio {pair.replace(':', '/')}: {r['ratio']:.3f} (median of per-round ratios {r['ratio_paired_median']:.3f}; "
              f"rounds {', '.join(f'{p:.3f}' for p in r['rounds'])})")
    for t, x in per_target.items():
        print(f"cores (median) during {t}: {x['cpu_cores_median']}")
    if bad:
        print(f"WARNING: {len(bad)} slices had socket errors or non-2xx/3xx answers")
    print(f"result: {out}")


if __name__ == "__main__":
    {"slice": slice_, "summary": summary}[sys.argv[1]](sys.argv[2:])
