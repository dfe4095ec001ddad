#!/usr/bin/env python3
"""fleet_exact.py Q... < fleet_hist output: the exact Q-quantiles (seconds) of the merged
fine histograms of several stats files, as golat takes them (the middle of the bucket that
holds the quantile), without each file's fastest and slowest call (the warm-up calls
fleet.sh's programs make before the measured ones: one of no work, one of 200 ms, where
the measured ones last 10 us to 100 ms)."""
import sys

qs = [float(q) for q in sys.argv[1:]]
files = []  # [(hz, [[lo, hi, count]...])]
for line in sys.stdin:
    f = line.split()
    if f[0] == "file":
        files.append((float(f[2]), []))
    else:
        files[-1][1].append([int(f[0]), int(f[1]), int(f[2])])
points = []  # (seconds, count)
for hz, buckets in files:
    buckets.sort()
    buckets[0][2] -= 1  # the warm-up calls
    buckets[-1][2] -= 1
    for lo, hi, c in buckets:
        if c:
            # golat's bucket middle: of the integers lo .. hi - 1
            points.append(((lo + hi - 1) / 2 / hz, c))
points.sort()
total = sum(c for _, c in points)
for q in qs:
    want, cum = q * total, 0
    for v, c in points:
        cum += c
        if cum >= want:
            print(f"{v:.9g}")
            break
