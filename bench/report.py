"""Prints bench/run's results as the Markdown table bench/README.md keeps, with the issue-8
targets checked. Usage: python3 bench/report.py RESULTS.jsonl SECONDS CONNECTIONS"""

import json
import platform
import sys

# Requests per second of server CPU that each scenario should reach (bench/README.md).
TARGETS = {
    "client_credentials ES256": 12_000,
    "client_credentials EdDSA": 12_000,
    "client_credentials RS256": 1_000,
    "authorization_code exchange": 5_000,
    "refresh_token (rotation)": 6_000,
    "introspection": 30_000,
    "discovery": 50_000,
    "jwks": 50_000,
    "password (argon2id 19 MiB, t=2)": 30,
}
# Scenarios that mint tokens: Gatehouse should do ten times node-oidc-provider's work per CPU-second.
TOKEN_SCENARIOS = {
    "client_credentials ES256",
    "client_credentials EdDSA",
    "client_credentials RS256",
    "authorization_code exchange",
    "refresh_token (rotation)",
}


def main() -> None:
    path, seconds, conns = sys.argv[1], sys.argv[2], sys.argv[3]
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    runs = [r for r in rows if "scenario" in r]
    peer = {r["scenario"]: r for r in runs if r["server"] == "node"}
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print()
    print(f"Machine: {platform.node()}, {cpu}, {len(open('/proc/cpuinfo').read().split('processor')) - 1} CPUs; "
          f"wrk -t2 -c{conns}, {seconds} s per scenario.")
    print()
    print("| scenario | store | req/s | p50 ms | p99 ms | **req per CPU-s** | with the database's CPU | target "
          "| node-oidc-provider req per CPU-s | ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---|---:|---:|")
    for r in runs:
        if r["server"] != "gatehouse":
            continue
        name = r["scenario"]
        target = TARGETS.get(name)
        met = "" if target is None else f"≥ {target:,} {'✓' if r['per_cpu_s'] >= target else '✗'}"
        p = peer.get(name)
        if p and p["per_cpu_s"]:
            ratio = r["per_cpu_s"] / p["per_cpu_s"]
            want = " (≥ 10× ✓)" if ratio >= 10 else " (≥ 10× ✗)"
            ratio_s = f"{ratio:.1f}×" + (want if name in TOKEN_SCENARIOS else "")
            peer_s = f"{p['per_cpu_s']:,.0f}"
        else:
            ratio_s, peer_s = "", "n/a" if peer else ""
        db = r.get("db_cpu_s", 0)
        with_db = f"{r['requests'] / (r['cpu_s'] + db):,.0f}" if r["store"] == "postgres" and r["cpu_s"] else ""
        print(f"| {name} | {r['store']} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
              f"**{r['per_cpu_s']:,.0f}** | {with_db} | {met} | {peer_s} | {ratio_s} |")
    print()
    for r in rows:
        if "idle_rss_kb" in r:
            print(f"- {r['server']} on {r['store']}: idle RSS {r['idle_rss_kb'] / 1024:.1f} MiB", end="")
        if "peak_rss_kb" in r:
            print(f"; peak RSS over its run {r['peak_rss_kb'] / 1024:.1f} MiB")
    print()


if __name__ == "__main__":
    main()
