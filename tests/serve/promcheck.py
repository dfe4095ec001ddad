#!/usr/bin/env python3
"""The Prometheus text exposition format (0.0.4), checked strictly, for the serve tests
where promtool is not installed; and the values of series, for their assertions.

  promcheck.py check FILE            exits 1 naming every violation
  promcheck.py get FILE NAME K=V...  prints the value of the one sample NAME{K=V,...}
                                     whose labels include those (exit 1 if none or several)
  promcheck.py count FILE NAME K=V...  how many samples match

What `check` enforces, from the format's description
(prometheus.io/docs/instrumenting/exposition_formats): UTF-8, lines ending in \\n;
comments `# HELP name text` and `# TYPE name type`, at most one of each per family and
TYPE before the family's first sample; metric and label names of the allowed
characters; label values with only \\\\, \\" and \\n escaped; a float value; all samples of a
family together (one group); no series twice; a histogram's buckets with le, cumulative,
ending at +Inf whose count equals _count, and a _sum.
"""
import math
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def parse_labels(s, i, where):
    """Parses {k="v",...} from s[i] == '{'; returns (dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if s[i] == "}":
            return labels, i + 1
        m = LABEL.match(s, i)
        if not m:
            raise ValueError(f"{where}: bad label name at {s[i:i + 20]!r}")
        k = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            raise ValueError(f"{where}: label {k} without =\"")
        i += 2
        v = []
        while s[i] != '"':
            if s[i] == "\\":
                esc = s[i + 1]
                if esc not in '\\"n':
                    raise ValueError(f"{where}: bad escape \\{esc} in label {k}")
                v.append("\n" if esc == "n" else esc)
                i += 2
            elif s[i] == "\n":
                raise ValueError(f"{where}: raw newline in label {k}")
            else:
                v.append(s[i])
                i += 1
        i += 1
        if k in labels:
            raise ValueError(f"{where}: label {k} twice")
        labels[k] = "".join(v)
        if s[i] == ",":
            i += 1
        elif s[i] != "}":
            raise ValueError(f"{where}: expected , or }} after label {k}")


def parse(text):
    """[(kind, ...)]: ('help', name, text), ('type', name, type), ('sample', name, labels, value)."""
    if text and not text.endswith("\n"):
        raise ValueError("the last line does not end with \\n")
    out = []
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {n}"
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                if not NAME.fullmatch(parts[2]):
                    raise ValueError(f"{where}: bad metric name {parts[2]!r}")
                if parts[1] == "TYPE" and (len(parts) != 4 or parts[3] not in TYPES):
                    raise ValueError(f"{where}: bad TYPE line {line!r}")
                out.append((parts[1].lower(), parts[2], parts[3] if len(parts) > 3 else ""))
            continue
        m = NAME.match(line)
        if not m:
            raise ValueError(f"{where}: bad sample {line[:60]!r}")
        i, labels = m.end(), {}
        if i < len(line) and line[i] == "{":
            labels, i = parse_labels(line + "\n", i, where)
        rest = line[i:].split(" ")
        if len(rest) not in (2, 3) or rest[0] != "":
            raise ValueError(f"{where}: expected ' value [timestamp]' in {line[:80]!r}")
        try:
            value = float(rest[1])
        except ValueError:
            raise ValueError(f"{where}: bad value {rest[1]!r}") from None
        out.append(("sample", m.group(0), labels, value))
    return out


def family_of(name, types):
    for suf in ("_bucket", "_sum", "_count"):
        if name.endswith(suf) and types.get(name[: -len(suf)]) in ("histogram", "summary"):
            return name[: -len(suf)]
    return name


def check_histograms(samples, types, errors):
    series = {}
    for name, labels, value in samples:
        fam = family_of(name, types)
        if types.get(fam) != "histogram":
            continue
        key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        h = series.setdefault((fam, key), {"buckets": [], "sum": None, "count": None})
        if name.endswith("_bucket"):
            if "le" not in labels:
                errors.append(f"{fam}{dict(key)}: bucket without le")
                continue
            h["buckets"].append((float(labels["le"]), value))
        elif name.endswith("_sum"):
            h["sum"] = value
        elif name.endswith("_count"):
            h["count"] = value
    for (fam, key), h in series.items():
        b = h["buckets"]
        if not b or b[-1][0] != math.inf:
            errors.append(f"{fam}{dict(key)}: no +Inf bucket last")
        elif h["count"] != b[-1][1]:
            errors.append(f"{fam}{dict(key)}: +Inf {b[-1][1]} != _count {h['count']}")
        if any(x[0] >= y[0] or x[1] > y[1] for x, y in zip(b, b[1:])):
            errors.append(f"{fam}{dict(key)}: buckets not increasing or not cumulative")
        if h["sum"] is None:
            errors.append(f"{fam}{dict(key)}: no _sum")


def check(text):
    errors, types, helps, done, seen, samples = [], {}, set(), set(), set(), []
    current = None
    for item in parse(text):
        if item[0] == "help":
            if item[1] in helps:
                errors.append(f"HELP {item[1]} twice")
            helps.add(item[1])
            continue
        if item[0] == "type":
            if item[1] in types:
                errors.append(f"TYPE {item[1]} twice")
            if item[1] in done or item[1] == current:
                errors.append(f"TYPE {item[1]} after its samples")
            types[item[1]] = item[2]
            continue
        _, name, labels, value = item
        fam = family_of(name, types)
        if fam != current:
            if fam in done:
                errors.append(f"{fam}: its samples are not together (again at {name}{labels})")
            if current:
                done.add(current)
            current = fam
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            errors.append(f"{name}{labels}: twice")
        seen.add(key)
        samples.append((name, labels, value))
    check_histograms(samples, types, errors)
    return errors


def select(text, name, want):
    return [v for kind, n, *rest in parse(text) if kind == "sample" and n == name
            for labels, v in [rest] if all(labels.get(k) == x for k, x in want.items())]


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    with open(path, "rb") as f:
        try:
            text = f.read().decode("utf-8")
        except UnicodeDecodeError as e:
            print(f"FAIL {path}: not UTF-8: {e}")
            return 1
    try:
        if cmd == "check":
            errors = check(text)
            for e in errors:
                print(f"FAIL {path}: {e}")
            return 1 if errors else 0
        want = dict(a.split("=", 1) for a in sys.argv[4:])
        vals = select(text, sys.argv[3], want)
        if cmd == "count":
            print(len(vals))
            return 0
        if len(vals) != 1:
            print(f"FAIL {path}: {len(vals)} samples {sys.argv[3]}{want}")
            return 1
        v = vals[0]
        print(int(v) if v == int(v) else v)
        return 0
    except ValueError as e:
        print(f"FAIL {path}: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
