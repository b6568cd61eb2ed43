#!/usr/bin/env python3
"""Paired ratios to nginx from bench/h2-bench.sh output (its `rep N shape target req/s cpu` lines, on stderr).

In each repetition the three proxies run seconds apart, so a repetition's own meshgate ÷ nginx (and HAProxy ÷
nginx) cancels the machine's drift between repetitions, which on this VM moves nginx's own rate by a third. For
each shape: the median of those paired ratios with a 95% bootstrap interval (10,000 resamples, fixed seed), and
their geometric mean; per file, then pooled over all files given.

    bench/h2-bench.sh --shapes 1x1 --reps 15 --duration 5 2> run1.log
    bench/paired-ci.py run1.log run2.log ...
"""
import math
import random
import statistics
import sys
from collections import defaultdict


def paired(path):
    """{shape: [(meshgate/nginx, haproxy/nginx), ...]} over the complete repetitions of one run."""
    reps = defaultdict(dict)
    for line in open(path):
        parts = line.split()
        if len(parts) == 6 and parts[0] == "rep":
            reps[(parts[2], int(parts[1]))][parts[3]] = float(parts[4])
    out = defaultdict(list)
    for (shape, _), r in sorted(reps.items()):
        if {"nginx", "haproxy", "meshgate"} <= r.keys() and r["nginx"] > 0:
            out[shape].append((r["meshgate"] / r["nginx"], r["haproxy"] / r["nginx"]))
    return out


def summary(values, rng):
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(10_000))
    geomean = math.exp(sum(math.log(v) for v in values) / len(values))
    return f"{statistics.median(values):.3f} [{medians[250]:.3f}, {medians[9_749]:.3f}] geomean {geomean:.3f}"


def main(paths):
    if not paths:
        sys.exit(__doc__)
    pooled = defaultdict(list)
    runs = [(path, paired(path)) for path in paths]
    runs.append(("pooled", pooled))
    for path, shapes in runs[:-1]:
        for shape, values in shapes.items():
            pooled[shape] += values
    for path, shapes in runs:
        for shape, values in sorted(shapes.items()):
            rng = random.Random(1)
            meshgate = summary([m for m, _ in values], rng)
            haproxy = summary([h for _, h in values], rng)
            print(f"{path} {shape} n={len(values)}: meshgate {meshgate} | haproxy {haproxy}")


if __name__ == "__main__":
    main(sys.argv[1:])
