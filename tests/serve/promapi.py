#!/usr/bin/env python3
"""Prometheus's HTTP API, for the serve tests.

  promapi.py PORT query EXPR          the values of an instant query, one per line
  promapi.py PORT exemplars EXPR      the exemplars of the last 10 minutes, one per line:
                                      value, then the labels as k=v
  promapi.py PORT quantiles FUNC N... the fleet check: see fleet.sh
"""
import json
import sys
import time
import urllib.parse
import urllib.request


def get(port, path, **params):
    url = f"http://127.0.0.1:{port}/api/v1/{path}?" + urllib.parse.urlencode(params)
    try:
        r = json.load(urllib.request.urlopen(url, timeout=5))
    except Exception as e:  # not up yet, or a bad query: the caller polls
        print(f"error: {e}", file=sys.stderr)
        return None
    return r.get("data")


def main():
    port, what, expr = sys.argv[1], sys.argv[2], sys.argv[3]
    if what == "query":
        for s in (get(port, "query", query=expr) or {}).get("result", []):
            print(s["value"][1])
    elif what == "exemplars":
        now = time.time()
        for s in get(port, "query_exemplars", query=expr, start=now - 600, end=now) or []:
            for e in s.get("exemplars", []):
                labels = " ".join(f"{k}={v}" for k, v in sorted(e["labels"].items()))
                print(e["value"], labels)


main()
