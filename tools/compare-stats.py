#!/usr/bin/env python3
"""Do two ksim builds tell the same story? Run a scenario over seeds 1..N with
each and compare the means of its headline rates and skew figures.

usage: tools/compare-stats.py OLD_KSIM NEW_KSIM [SCENARIO] [--seeds N]

For each metric it prints both means, their standard errors and
z = |mean_new - mean_old| / sqrt(se_old^2 + se_new^2); it exits 1 if any
z >= 3 (a drift the seeds cannot explain). Default scenario:
scenarios/canonical-churn.yaml, default N = 12. Only ksim's JSON report is
read (`ksim run SCENARIO --format json --seed S`).
"""
import argparse
import json
import statistics as st
import subprocess
import sys


def metrics(report):
    rates, skew = report["rates"], report["skew"]
    out = {
        "stale_ip_error_rate": rates["stale_ip_error_rate"],
        "refused_rate": rates["connection_refused_rate"],
        "timeout_rate": rates["outcomes"]["timeout"],
    }
    for key, value in skew.items():
        if isinstance(value, (int, float)):
            out["skew." + key] = value
    return out


def runs(ksim, scenario, seeds):
    out = []
    for seed in range(1, seeds + 1):
        text = subprocess.run(
            [ksim, "run", scenario, "--format", "json", "--seed", str(seed)],
            capture_output=True, check=True, text=True,
        ).stdout
        out.append(metrics(json.loads(text)))
    return out


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("scenario", nargs="?", default="scenarios/canonical-churn.yaml")
    p.add_argument("--seeds", type=int, default=12)
    o = p.parse_args(argv)
    old, new, scenario, seeds = o.old, o.new, o.scenario, o.seeds
    a, b = runs(old, scenario, seeds), runs(new, scenario, seeds)
    ok = True
    for key in a[0]:
        x, y = [m[key] for m in a], [m[key] for m in b]
        se_x, se_y = st.stdev(x) / seeds ** 0.5, st.stdev(y) / seeds ** 0.5
        se = (se_x ** 2 + se_y ** 2) ** 0.5
        d = abs(st.mean(y) - st.mean(x))
        z = d / se if se > 0 else (0.0 if d == 0 else float("inf"))
        ok &= z < 3
        print(f"{key:24s} old {st.mean(x):.6g} (se {se_x:.2g})  "
              f"new {st.mean(y):.6g} (se {se_y:.2g})  z={z:.2f} {'ok' if z < 3 else 'DRIFT'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main(sys.argv[1:])
