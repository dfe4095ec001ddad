#!/usr/bin/env python3
"""The Prometheus protobuf exposition (delimited io.prometheus.client.MetricFamily), read
without a protobuf library, for the serve tests.

  pbcheck.py text FILE    writes the exposition as text (format 0.0.4) on stdout, the
                          classic histograms as buckets, each native histogram as comment
                          lines `# native NAME{LABELS} schema=S count=C zero=Z buckets=K:V,...`,
                          each exemplar as `# exemplar NAME{LABELS} VALUE LABELS TIME`;
                          exits 1 on anything malformed (a bad varint, a length past the
                          end, a wire type a field does not have, invalid UTF-8)
  pbcheck.py same TEXT PB the text exposition TEXT and the protobuf one PB hold the same
                          samples (values equal to 1e-8: the text has 9 digits of a sum), a valid exposition as text;
                          exit 1 naming the differences
  pbcheck.py native PB NAME K=V...  of the one native histogram whose labels include
                          those: "count buckets_sum first_key last_key"
"""
import math
import struct
import sys

TYPES = {0: "counter", 1: "gauge", 2: "summary", 3: "untyped", 4: "histogram", 5: "gaugehistogram"}


def varint(b, i):
    v = shift = 0
    while True:
        if i >= len(b) or shift > 63:
            raise ValueError("bad varint")
        v |= (b[i] & 0x7F) << shift
        i += 1
        shift += 7
        if not b[i - 1] & 0x80:
            return v, i


def fields(b):
    """[(field, wire, value)] of one message; value: int, float or bytes."""
    out, i = [], 0
    while i < len(b):
        key, i = varint(b, i)
        f, w = key >> 3, key & 7
        if w == 0:
            v, i = varint(b, i)
        elif w == 1:
            if i + 8 > len(b):
                raise ValueError("double past the end")
            v = struct.unpack("<d", b[i:i + 8])[0]
            i += 8
        elif w == 2:
            n, i = varint(b, i)
            if i + n > len(b):
                raise ValueError("length past the end")
            v = b[i:i + n]
            i += n
        else:
            raise ValueError(f"wire type {w}")
        out.append((f, w, v))
    return out


def want(w, wire, what):
    if w != wire:
        raise ValueError(f"{what}: wire type {w}, want {wire}")


def zigzag(v):
    return (v >> 1) ^ -(v & 1)


def label_pair(b):
    d = {f: v.decode("utf-8") for f, w, v in fields(b) if w == 2}
    return d.get(1, ""), d.get(2, "")


def esc(v):
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def fmt_labels(labels, extra=()):
    return "{" + ",".join(f'{k}="{esc(v)}"' for k, v in list(labels) + list(extra)) + "}"


def exemplar(b):
    labels, value, ts = [], None, None
    for f, w, v in fields(b):
        if f == 1:
            labels.append(label_pair(v))
        elif f == 2:
            want(w, 1, "exemplar value")
            value = v
        elif f == 3:
            t = dict((ff, vv) for ff, _, vv in fields(v))
            ts = t.get(1, 0) + t.get(2, 0) / 1e9
    return f"{value!r} {fmt_labels(labels)} {ts!r}"


def histogram(out, name, labels, b):
    h = {"bucket": [], "span": [], "pcount": [], "ex": []}
    for f, w, v in fields(b):
        if f == 1:
            h["count"] = v
        elif f == 2:
            want(w, 1, "sum")
            h["sum"] = v
        elif f == 3:
            bk = {ff: vv for ff, _, vv in fields(v)}
            h["bucket"].append((bk.get(2, 0.0), bk.get(1, 0), bk.get(3)))
        elif f == 4:
            h["countf"] = v
        elif f == 5:
            h["schema"] = zigzag(v)
        elif f == 6:
            h["zt"] = v
        elif f == 8:
            h["zero"] = v
        elif f == 12:
            sp = {ff: vv for ff, _, vv in fields(v)}
            h["span"].append((zigzag(sp.get(1, 0)), sp.get(2, 0)))
        elif f == 14:
            want(w, 1, "positive_count")
            h["pcount"].append(v)
        elif f == 16:
            h["ex"].append(exemplar(v))
        elif f in (7, 9, 10, 11, 13):
            raise ValueError(f"histogram field {f}: golat writes float counts, no negatives")
    for le, c, ex in h["bucket"]:
        out.append(f"{name}_bucket{fmt_labels(labels, [('le', repr(le))])} {c}")
        if ex:
            out.append(f"# exemplar {name}_bucket{fmt_labels(labels, [('le', repr(le))])} {exemplar(ex)}")
    out.append(f"{name}_bucket{fmt_labels(labels, [('le', '+Inf')])} {h.get('count', 0)}")
    out.append(f"{name}_sum{fmt_labels(labels)} {h.get('sum', 0.0)!r}")
    out.append(f"{name}_count{fmt_labels(labels)} {h.get('count', 0)}")
    if "schema" in h:
        keys, k = [], None
        for off, n in h["span"]:
            k = off if k is None else k + off
            keys.extend(range(k, k + n))
            k += n
        if len(keys) != len(h["pcount"]):
            raise ValueError(f"{len(keys)} buckets in spans, {len(h['pcount'])} counts")
        bk = ",".join(f"{k}:{c!r}" for k, c in zip(keys, h["pcount"]))
        out.append(f"# native {name}{fmt_labels(labels)} schema={h['schema']} count={h.get('countf', 0.0)!r} "
                   f"zero={h.get('zero', 0.0)!r} buckets={bk}")
    for e in h["ex"]:
        out.append(f"# exemplar {name}{fmt_labels(labels)} {e}")


def family(b, out):
    name, help_, typ, metrics = "", "", 3, []
    for f, w, v in fields(b):
        if f == 1:
            name = v.decode("utf-8")
        elif f == 2:
            help_ = v.decode("utf-8")
        elif f == 3:
            typ = v
        elif f == 4:
            metrics.append(v)
    out.append(f"# HELP {name} {help_}")
    out.append(f"# TYPE {name} {TYPES[typ]}")
    for m in metrics:
        labels, value = [], None
        for f, w, v in fields(m):
            if f == 1:
                labels.append(label_pair(v))
            elif f in (2, 3, 5):
                value = dict((ff, vv) for ff, _, vv in fields(v)).get(1, 0.0)
            elif f == 7:
                histogram(out, name, labels, v)
        if value is not None:
            out.append(f"{name}{fmt_labels(labels)} {value!r}")


def samples(text):
    import promcheck
    out = {}
    for e in promcheck.parse(text):
        if e[0] == "sample":
            labels = dict(e[2])
            if "le" in labels and labels["le"] != "+Inf":
                labels["le"] = float(labels["le"])
            out[(e[1], tuple(sorted(labels.items())))] = float(e[3])
    return out


def same(text_file, pb_file):
    import promcheck
    pb_text = to_text(open(pb_file, "rb").read()) + "\n"
    promcheck.parse(pb_text)
    a, b = samples(open(text_file).read()), samples(pb_text)
    bad = [f"only in the text: {k}" for k in a.keys() - b.keys()]
    bad += [f"only in the protobuf: {k}" for k in b.keys() - a.keys()]
    bad += [f"{k}: {a[k]} in the text, {b[k]} in the protobuf" for k in a.keys() & b.keys()
            if not math.isclose(a[k], b[k], rel_tol=1e-8)]
    for line in bad[:10]:
        print(line)
    return 1 if bad else 0


def native(pb_file, name, want):
    found = []
    for line in to_text(open(pb_file, "rb").read()).split("\n"):
        if line.startswith(f"# native {name}{{") and all(f'{k}="{v}"' in line for k, v in want):
            found.append(line)
    if len(found) != 1:
        print(f"{len(found)} native histograms match")
        return 1
    f = dict(x.split("=", 1) for x in found[0].rsplit("} ", 1)[1].split(" "))
    bk = [(int(k), float(v)) for k, v in (x.split(":") for x in f["buckets"].split(",") if x)]
    print(float(f["count"]), sum(v for _, v in bk) + float(f["zero"]),
          bk[0][0] if bk else "none", bk[-1][0] if bk else "none")
    return 0


def to_text(b):
    out, i = [], 0
    while i < len(b):
        n, i = varint(b, i)
        if i + n > len(b):
            raise ValueError("a family's length past the end")
        family(b[i:i + n], out)
        i += n
    return "\n".join(out)


def main():
    try:
        if sys.argv[1] == "same":
            return same(sys.argv[2], sys.argv[3])
        if sys.argv[1] == "native":
            return native(sys.argv[2], sys.argv[3], [a.split("=", 1) for a in sys.argv[4:]])
        print(to_text(open(sys.argv[2], "rb").read()))
        return 0
    except (ValueError, UnicodeDecodeError, KeyError) as e:
        print(f"FAIL: {sys.argv[2]}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
