#!/usr/bin/env python3
"""False-alarm rate of a two-sample Kolmogorov-Smirnov threshold, per run and statistic,
for window sizes n against a baseline of m images, with no drift at all (docs/monitoring.md).

    python3 scripts/ks-false-alarm.py [--baseline 1000] [--thresholds 0.3 0.5]

The Kolmogorov limit distribution with Stephens' small-sample correction: P(D > d) for
continuous statistics. Below about 20 captures it is an approximation; one capture always
has D >= 0.5 (the empirical distribution of one value is a step at it).
"""
import argparse
import math


def p_exceeds(d, n, m):
    ne = n * m / (n + m)
    lam = (math.sqrt(ne) + 0.12 + 0.11 / math.sqrt(ne)) * d
    tail = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return min(1.0, max(0.0, tail))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=int, default=1000)
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.3, 0.5])
    args = parser.parse_args()
    print("captures  " + "  ".join(f"P(D > {t})" for t in args.thresholds))
    for n in (1, 5, 20, 50, 100, 200, 2000):
        rates = "  ".join(f"{p_exceeds(t, n, args.baseline):>10.2g}" for t in args.thresholds)
        print(f"{n:>8}  {rates}")


if __name__ == "__main__":
    main()
