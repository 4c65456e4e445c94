"""Run every city-scale benchmark and write the table.

    python -m bench.run --size full          # 1,000,000 cases (not a test; tens of minutes)
    python -m bench.run --size small         # the CI size, about a minute

Generates the dataset first if the database does not hold it yet
(``bench.generate``; the database is ``crossroads_bench_<size>`` on the server
of ``DATABASE_URL``, or ``--database-url``), then calls ``run(ctx)`` of each
benchmark module present, in order: ``bench.caseload``, ``bench.dashboard``,
``bench.intake``, ``bench.row_security``, ``bench.reminders``, ``bench.memory``, ``bench.contexts``,
``bench.monitoring``, ``bench.load`` (``--only`` picks
some). Writes ``bench/results/<size>.md`` and ``<size>.json``: each row's
median, p95, value, ratios, target and whether it was met, with the
machine it ran on (cores, load average, PostgreSQL) and the command.

A module that fails is reported in the table as an error row (and the
command exits 1) rather than hiding the others' numbers.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
import time
import traceback
from pathlib import Path

from bench.common import (
    SIZES,
    Context,
    Result,
    database_url_for,
    django_setup,
    load_cast,
    machine,
)

MODULES = ["caseload", "dashboard", "intake", "row_security", "reminders", "memory", "contexts", "monitoring", "load"]
RESULTS = Path(__file__).resolve().parent / "results"


def _cell(value) -> str:
    if value is None or value == "" or value == {}:
        return ""
    if isinstance(value, bool):
        return "met" if value else "**missed**"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_cell(v)}" for k, v in value.items())
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown(report: dict) -> str:
    m = report["machine"]
    counts = report["dataset"].get("counts", {})
    lines = [
        f"# Crossroads benchmarks: {report['size']}",
        "",
        f"Command: `{report['command']}`",
        "",
        f"Run {m['date']} on {m['cores']} cores, {m['memory_gb']} GB, load average "
        f"{' / '.join(str(x) for x in m['load_average'])} at the start and "
        f"{' / '.join(str(x) for x in report['load_average_end'])} at the end (the machine is shared: "
        f"read the ratios, measured side by side in the same run), PostgreSQL {m['postgresql']}, "
        f"Python {m['python']}; {report['seconds']:.0f} s.",
        "",
        "Dataset: " + ", ".join(f"{name.split('_', 1)[-1]} {count:,}" for name, count in counts.items()
                                if isinstance(count, int)) + ".",
        "",
        "| Benchmark | median ms | p95 ms | n | value | ratios | target | met | notes |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- | --- | --- |",
    ]
    for row in report["results"]:
        value = f"{row['value']:,.1f} {row['unit']}" if row.get("value") is not None else ""
        extra = row.get("extra") or {}
        notes = "; ".join(x for x in [row.get("notes", ""), _cell(extra)] if x)
        lines.append(
            f"| {row['name']} | {_cell(row['median_ms'])} | {_cell(row['p95_ms'])} | {row['n'] or ''} | {value} | "
            f"{_cell(row['ratios'])} | {_cell(row['target'])} | {_cell(row['met'])} | {notes} |"
        )
    return "\n".join(lines) + "\n"


def write_report(report: dict, out: Path, name: str, started: float) -> None:
    """Finish a report (the load average at the end, the seconds it took) and
    write it as ``<out>/<name>.md`` and ``.json``."""
    report["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    report["seconds"] = round(time.monotonic() - started, 1)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (out / f"{name}.md").write_text(markdown(report))
    print(f"wrote {out / name}.md and .json", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the city-scale benchmarks and write the table")
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--database-url", help="default: crossroads_bench_<size> on DATABASE_URL's server")
    parser.add_argument("--only", action="append", choices=MODULES, help="run only this module (repeatable)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for <size>.md and <size>.json")
    parser.add_argument("--jobs", type=int, default=2, help="processes generating the data, if it is missing")
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    url = args.database_url or database_url_for(size)
    started = time.monotonic()
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])

    from bench.common import ensure_database

    ensure_database(url)
    django_setup(url)
    from bench.generate import generate

    generate(url, size, args.jobs)
    cast, spec = load_cast(size)
    ctx = Context(database_url=url, size=size, cast=cast, spec=spec)
    report = {"size": size.name, "command": command.strip(), "machine": machine(), "dataset": spec, "results": []}
    failed = False
    for name in args.only or MODULES:
        if importlib.util.find_spec(f"bench.{name}") is None:
            print(f"bench.{name}: not present, skipped", file=sys.stderr)
            continue
        print(f"bench.{name}: running", file=sys.stderr, flush=True)
        module_started = time.monotonic()
        try:
            results: list[Result] = importlib.import_module(f"bench.{name}").run(ctx)
        except Exception as exc:  # one module's failure must not hide the others' numbers
            traceback.print_exc()
            failed = True
            results = [Result(name=f"{name}.error", notes=f"{type(exc).__name__}: {exc}"[:300], met=False)]
        report.setdefault("module_seconds", {})[name] = round(time.monotonic() - module_started, 1)
        for result in results:
            report["results"].append(result.as_dict())
            print(f"  {result.name}: median {result.median_ms} ms, p95 {result.p95_ms} ms, value {result.value} "
                  f"{result.unit}, ratios {result.ratios}, met {result.met}", file=sys.stderr, flush=True)
        print(f"bench.{name}: {time.monotonic() - module_started:.0f}s", file=sys.stderr, flush=True)
    write_report(report, args.out, size.name, started)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
