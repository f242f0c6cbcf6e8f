#!/usr/bin/env python3
"""IATI import beside Python's ElementTree, in one run (issue 16; Tools/Benchmarks/results.md).

  swift build -c release --product accord
  Tools/iati-import-bench.py [--accord .build/release/accord] [--runs 5] [--megabytes 25] [--scratch DIR]

Rows: `accord import iati` of the EU file (shared/data/iati) and of a generated file of about
25 MB, each into a new journal, in events/s (events written / wall time of the command, process
start included), with `xml.etree.ElementTree.parse` of the same file, timed in this process,
beside it. Each figure is the median of --runs runs, the two interleaved. The generated file
repeats the activities of the EU and WHO files with renumbered identifiers (`<id>-r<n>`), so
every copy is new to the journal; it is written under --scratch and never committed.
`accord import iati --stats` splits each import into read (parse, map, check) and write (sign,
compress, write, fdatasync); those are printed too.
"""
import argparse, os, re, shutil, statistics, subprocess, sys, tempfile, time
import xml.etree.ElementTree as ET

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
shared = os.path.join(root, "..", "shared", "data", "iati")
eu = os.path.join(shared, "eu-intpa-activities-2021-05-26.xml")
who = os.path.join(shared, "who-activities-2021-05-26.xml")

parser = argparse.ArgumentParser()
parser.add_argument("--accord", default=os.path.join(root, ".build", "release", "accord"))
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--megabytes", type=float, default=25)
parser.add_argument("--scratch", default=None)
args = parser.parse_args()
scratch = args.scratch or tempfile.mkdtemp(prefix="accord-iati-bench-")
os.makedirs(scratch, exist_ok=True)

def generate(path, megabytes):
    """Activities of the EU and WHO files, repeated with renumbered identifiers, to about `megabytes` MB."""
    activity = re.compile(rb"<iati-activity[ >].*?</iati-activity>", re.S)
    identifier = re.compile(rb"(<iati-identifier>)(.*?)(</iati-identifier>)", re.S)
    blocks = []
    for source in (eu, who):
        with open(source, "rb") as f:
            blocks += activity.findall(f.read())
    target = int(megabytes * 1_000_000)
    with open(path, "wb") as out:
        out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<iati-activities version="2.03">\n')
        written, copy = 0, 0
        while written < target:
            copy += 1
            for block in blocks:
                renamed = identifier.sub(lambda m: m.group(1) + m.group(2).strip() + b"-r%d" % copy + m.group(3), block, count=1)
                out.write(b" " + renamed + b"\n")
                written += len(renamed) + 2
        out.write(b"</iati-activities>\n")
    return os.path.getsize(path)

def run(command, **kw):
    return subprocess.run(command, capture_output=True, text=True, **kw)

def import_once(file, n):
    journal = os.path.join(scratch, "journal-%d" % n)
    shutil.rmtree(journal, ignore_errors=True)
    r = run([args.accord, "init", "--site", "brussels", "--journal", journal])
    if r.returncode != 0: sys.exit("accord init: " + r.stderr)
    start = time.perf_counter()
    r = run([args.accord, "import", "iati", "--stats", file, "--journal", journal])
    seconds = time.perf_counter() - start
    if r.returncode != 0: sys.exit("accord import iati: " + r.stdout + r.stderr)
    m = re.search(r"read ([0-9.]+) s, wrote ([0-9.]+) s; (\d+) events.*peak RSS ([0-9.]+) MiB", r.stderr)
    shutil.rmtree(journal, ignore_errors=True)
    return seconds, float(m.group(1)), float(m.group(2)), int(m.group(3)), float(m.group(4))

def elementtree_once(file):
    start = time.perf_counter()
    ET.parse(file)
    return time.perf_counter() - start

big = os.path.join(scratch, "iati-generated.xml")
size = generate(big, args.megabytes)
rows = []
for name, file in (("the EU file (%.1f MB)" % (os.path.getsize(eu) / 1e6), eu), ("a generated file (%.1f MB)" % (size / 1e6), big)):
    imports, parses = [], []
    for n in range(args.runs):
        imports.append(import_once(file, n))
        parses.append(elementtree_once(file))
    wall = statistics.median(i[0] for i in imports)
    read = statistics.median(i[1] for i in imports)
    wrote = statistics.median(i[2] for i in imports)
    events = imports[0][3]
    rss = "%.0f–%.0f" % (min(i[4] for i in imports), max(i[4] for i in imports))
    et = statistics.median(parses)
    rows.append((name, events, wall, read, wrote, rss, et, min(i[0] for i in imports), max(i[0] for i in imports)))

print("| measure | Accord | peer | ratio | target | |")
print("|---|---|---|---|---|---|")
for i, (name, events, wall, read, wrote, rss, et, lo, hi) in enumerate(rows):
    if i == 0:
        ok = wall <= 2 * et
        print(f"| IATI import, {name}, {events} events (s; events/s) | {wall:.3f} s ({lo:.3f}–{hi:.3f}); {events / wall:.0f} events/s; read {read:.3f} s, write {wrote:.3f} s; peak RSS {rss} MiB | ElementTree parse {et:.3f} s | {wall / et:.2f}× ElementTree | ≤ 2× ElementTree | {'met' if ok else '**missed**'} |")
    else:
        ok = events / wall >= 20_000
        print(f"| IATI import, {name}, {events} events (events/s) | {events / wall:.0f} ({wall:.2f} s, {lo:.2f}–{hi:.2f}); read {read:.2f} s, write {wrote:.2f} s; peak RSS {rss} MiB | ElementTree parse {et:.2f} s | {wall / et:.2f}× ElementTree | ≥ 20,000 events/s | {'met' if ok else '**missed**'} |")
print()
print(f"{args.runs} runs each, medians (range of the import's wall time in brackets); {os.cpu_count()} cores; load average {' '.join('%.2f' % x for x in os.getloadavg())}; {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}; accord {args.accord}.")
if args.scratch is None: shutil.rmtree(scratch, ignore_errors=True)
