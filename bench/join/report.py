#!/usr/bin/env python3
"""Bookkeeping for run.sh.

    report.py slice TARGET ROUND RESULT_JSON "WRK_USER WRK_SYS" API_TICKS REDIS_TICKS NGINX_TICKS TREE_TICKS HZ
        -> one slice as a JSON line on stdout, a readable line on stderr
    report.py summary SLICES_JSONL OUT_JSON SETTINGS_JSON
        -> medians, ratio, table on stdout, the result file
"""
import json
import os
import platform
import statistics
import sys


def slice_(args: list[str]) -> None:
    target, rnd, res, wrk_cpu, api, redis, nginx, tree, hz = args
    r = json.loads(res)
    secs = r["duration_us"] / 1e6
    user, system = (float(x) for x in wrk_cpu.split())
    per = lambda ticks: round(int(ticks) / int(hz) / secs, 2)  # noqa: E731
    r.update(target=target, round=int(rnd), cpu_cores={
        "wrk": round((user + system) / secs, 2),
        "api": per(api), "redis": per(redis), "nginx": per(nginx), "apphost_tree": per(tree),
    })
    # CPU time the server under test spent per request: far less sensitive to a busy shared machine than req/s.
    server_cores = r["cpu_cores"]["nginx" if target == "nginx" else "api"]
    r["server_cpu_us_per_request"] = round(server_cores * 1e6 / r["rps"], 1) if r["rps"] else None
    print(json.dumps(r))
    c = r["cpu_cores"]
    cpu = f"wrk {c['wrk']} nginx {c['nginx']}" if target == "nginx" else f"wrk {c['wrk']} api {c['api']} redis {c['redis']}"
    print(f"  round {r['round']:>2} {target:<9} {r['rps']:>9.0f} req/s  p50 {r['p50_us'] / 1000:6.2f} ms  p99 {r['p99_us'] / 1000:6.2f} ms"
          f"  {r['server_cpu_us_per_request']:5.1f} us cpu/req  statuses {r['statuses'] or '-'}  errors {sum(r['errors'].values())}  cpu(cores) {cpu}", file=sys.stderr)


def by_round(measured: list[dict], rnd: int) -> dict:
    return {s["target"]: s for s in measured if s["round"] == rnd}


def summary(args: list[str]) -> None:
    slices_file, out, settings_json = args
    settings = json.loads(settings_json)
    slices = [json.loads(line) for line in open(slices_file, encoding="utf-8")]
    measured = [s for s in slices if s["round"] > 0]  # round 0: check/warm-up; round -1: profile slices
    rounds = sorted({s["round"] for s in measured})

    def med(target: str, key: str) -> float:
        return statistics.median(s[key] for s in measured if s["target"] == target)

    def medcpu(target: str, proc: str) -> float:
        return round(statistics.median(s["cpu_cores"][proc] for s in measured if s["target"] == target), 2)

    paired = []
    for rnd in rounds:
        by = {s["target"]: s for s in measured if s["round"] == rnd}
        paired.append(by["scalelite"]["rps"] / by["nginx"]["rps"])
    n = {"rps_median": med("nginx", "rps"), "p50_ms": med("nginx", "p50_us") / 1000, "p99_ms": med("nginx", "p99_us") / 1000,
         "cpu_cores_median": {p: medcpu("nginx", p) for p in ("wrk", "nginx")},
         "server_cpu_us_per_request_median": med("nginx", "server_cpu_us_per_request")}
    def ours(target: str) -> dict:
        return {"rps_median": med(target, "rps"), "p50_ms": med(target, "p50_us") / 1000, "p99_ms": med(target, "p99_us") / 1000,
                "cpu_cores_median": {p: medcpu(target, p) for p in ("wrk", "api", "redis", "apphost_tree")},
                "server_cpu_us_per_request_median": med(target, "server_cpu_us_per_request")}

    o = ours("scalelite")
    # SCRAPE=1: the same join with every service's /metrics scraped once a second, in the same rounds.
    scraped = ours("scraped") if any(s["target"] == "scraped" for s in measured) else None
    paired_scraped = []
    if scraped:
        for rnd in rounds:
            by = {s["target"]: s for s in measured if s["round"] == rnd}
            paired_scraped.append(by["scraped"]["rps"] / by["nginx"]["rps"])
    bad = [s for s in measured if sum(s["errors"].values())]
    # MULTITENANCY=1: two more Api processes started alike, multitenancy off ("single") and on ("multitenant").
    variants = {}
    for t in ("single", "multitenant"):
        if any(s["target"] == t for s in measured):
            variants[t] = {"rps_median": med(t, "rps"), "p50_ms": med(t, "p50_us") / 1000, "p99_ms": med(t, "p99_us") / 1000,
                           "server_cpu_us_per_request_median": med(t, "server_cpu_us_per_request"),
                           "ratio": med(t, "rps") / n["rps_median"],
                           "ratio_paired_median": statistics.median(
                               s["rps"] / by_round(measured, s["round"])["nginx"]["rps"] for s in measured if s["target"] == t)}
    if len(variants) == 2:
        per_round = [by_round(measured, r)["multitenant"]["rps"] / by_round(measured, r)["single"]["rps"] for r in rounds]
        variants["multitenant_vs_single"] = {
            "ratio_of_ratios": variants["multitenant"]["ratio"] / variants["single"]["ratio"],
            "paired_median": statistics.median(per_round), "rounds": [round(p, 3) for p in per_round],
            "cpu_us_per_request": [variants["single"]["server_cpu_us_per_request_median"], variants["multitenant"]["server_cpu_us_per_request_median"]]}
    result = {
        "benchmark": "join",
        "settings": settings,
        "machine": {"cores": os.cpu_count(), "loadavg_at_end": os.getloadavg(), "kernel": platform.release()},
        "summary": {"nginx": n, "scalelite": o, "ratio": o["rps_median"] / n["rps_median"], "ratio_paired_median": statistics.median(paired),
                    **variants},
        "rounds_paired_ratio": [round(p, 3) for p in paired],
        **({"scraped": {**scraped, "ratio": scraped["rps_median"] / n["rps_median"], "ratio_paired_median": statistics.median(paired_scraped),
                        "rounds_paired_ratio": [round(p, 3) for p in paired_scraped],
                        "cost_of_ratio": 1 - (scraped["rps_median"] / n["rps_median"]) / (o["rps_median"] / n["rps_median"])}} if scraped else {}),
        "slices_with_errors": len(bad),
        "slices": slices,
    }
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)

    s = settings
    print()
    print(f"join benchmark  {len(rounds)} rounds x {s['duration_s']} s, wrk -t{s['threads']} -c{s['connections']}, "
          f"{os.cpu_count()} cores, services' log level {s['log_level']}")
    print(f"{'':<20}{'req/s (median)':>15}{'p50 ms':>9}{'p99 ms':>9}{'server cpu us/req':>19}")
    rows = [("nginx return 302", n), ("Scalelite join", o), *((("join, /metrics 1/s", scraped),) if scraped else ())]
    rows += [(label, variants[t]) for t, label in (("single", "single (mt off)"), ("multitenant", "multitenant (host)")) if t in variants]
    for name, x in rows:
        print(f"{name:<20}{x['rps_median']:>15.0f}{x['p50_ms']:>9.2f}{x['p99_ms']:>9.2f}{x['server_cpu_us_per_request_median']:>19.1f}")
    print(f"ratio ours/nginx: {result['summary']['ratio']:.2f}  (median of per-round ratios "
          f"{result['summary']['ratio_paired_median']:.2f}; rounds {', '.join(f'{p:.2f}' for p in paired)})")
    if scraped:
        sc = result["scraped"]
        print(f"ratio with /metrics scraped every second: {sc['ratio']:.2f}  (median of per-round ratios {sc['ratio_paired_median']:.2f}; "
              f"rounds {', '.join(f'{p:.2f}' for p in paired_scraped)}); cost {sc['cost_of_ratio']:.1%} of the ratio; "
              f"{s.get('scrapes', 0)} scrapes")
    print(f"cpu, cores (median): nginx slices {n['cpu_cores_median']}; Scalelite slices {o['cpu_cores_median']}")
    for t in ("single", "multitenant"):
        if t in variants:
            print(f"ratio {t}/nginx: {variants[t]['ratio']:.2f} (median of per-round ratios {variants[t]['ratio_paired_median']:.2f})")
    if "multitenant_vs_single" in variants:
        v = variants["multitenant_vs_single"]
        print(f"multitenancy on vs off (same run, processes started alike): ratio of ratios {v['ratio_of_ratios']:.3f}, "
              f"median of per-round multitenant/single {v['paired_median']:.3f} (rounds {', '.join(f'{p:.3f}' for p in v['rounds'])}); "
              f"cpu us/req {v['cpu_us_per_request'][0]} -> {v['cpu_us_per_request'][1]}")
    profile = [x for x in slices if x["round"] < 0]
    if profile:
        result["profile"] = [{k: x[k] for k in ("target", "rps", "p50_us", "server_cpu_us_per_request")} for x in profile]
        with open(out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
        print("profile (one slice each, same Api process): " + "; ".join(
            f"{x['target']} {x['rps']:.0f} req/s {x['server_cpu_us_per_request']} us cpu/req" for x in profile))
    if bad:
        print(f"WARNING: {len(bad)} slices had socket errors or non-2xx/3xx answers")
    print(f"result: {out}")


if __name__ == "__main__":
    {"slice": slice_, "summary": summary}[sys.argv[1]](sys.argv[2:])
