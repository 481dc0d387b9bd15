"""Mutation testing of the device core with mutmut (run by ``scripts/mutate``).

mutmut 3 mutates a source tree it copies into ``mutants/`` beside its config and runs
pytest in-process there, with ``mutants/src`` first on ``sys.path``. The device tests,
though, run the *installed* package, whose ``protocol.py`` exists only in the wheel (it
is built in from ``custom_components/daybreak/protocol.py``). So each module is measured
in a staging project of its own, ``.mutants/MODULE/``:

* ``src/daybreak_device/``: ``device/src/daybreak_device`` plus the shared
  ``protocol.py``, i.e. the package as installed; mutmut mutates only MODULE's file;
* ``tests/``: ``device/tests``; ``pyproject.toml``: the repository's pytest settings and
  the ``[tool.mutmut]`` section for MODULE (its fast test files);
* ``PYTHONPATH`` is ``.mutants/MODULE/mutants/src`` for the run, so ``daybreak_device``
  is the mutated copy both in mutmut's own process and in the ``daybreak-device``
  processes that some tests start (they inherit mutmut's ``MUTANT_UNDER_TEST``).

Kill rate = (killed + timeout) / (mutants - equivalent); the equivalent mutants are the
ones listed in ``bench/MUTATION.md`` as ``- `NAME`: reason``. A mutant no test reaches
("no tests") counts as surviving.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGING = ROOT / ".mutants"
PACKAGE = "daybreak_device"
EQUIVALENTS_FILE = ROOT / "bench" / "MUTATION.md"


@dataclass(frozen=True)
class Target:
    """A module to mutate and the fast test files that measure it."""

    source: Path
    tests: tuple[str, ...]


SRC = ROOT / "device" / "src" / PACKAGE
TARGETS: dict[str, Target] = {
    "dimming": Target(SRC / "dimming.py", ("test_dimming_output.py",)),
    "store": Target(SRC / "store.py", ("test_store.py",)),
    "statefile": Target(SRC / "statefile.py", ("test_statefile.py",)),
    "light": Target(SRC / "light.py", ("test_light.py",)),
    "alarms": Target(SRC / "alarms.py", ("test_alarms.py",)),
    "protocol": Target(
        ROOT / "custom_components" / "daybreak" / "protocol.py", ("test_protocol.py",)
    ),
}
#: Tests that check the installed layout itself, which the staging tree is not.
DESELECT = ("tests/test_protocol.py::test_installed_protocol_is_the_shared_file",)
KILLED = {"killed", "timeout"}


def main() -> int:
    """Parse the arguments, run each module, print the summary; exit 1 below the bar."""
    parser = argparse.ArgumentParser(prog="scripts/mutate", description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help=f"default: all ({', '.join(TARGETS)})")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="mutmut workers (default 2)")
    parser.add_argument(
        "--retest",
        action="store_true",
        help="keep the previous run of each module and re-test only its survivors",
    )
    parser.add_argument(
        "--min", type=float, default=90.0, help="kill rate (%%) each module needs (default 90)"
    )
    args = parser.parse_args()
    modules = args.modules or list(TARGETS)
    unknown = [m for m in modules if m not in TARGETS]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)} (known: {', '.join(TARGETS)})")
    equivalents = read_equivalents()
    summary = []
    for module in modules:
        started = time.monotonic()
        results = run_module(module, TARGETS[module], jobs=args.jobs, retest=args.retest)
        summary.append(report(module, results, equivalents, time.monotonic() - started))
    print("\n== kill rate per module (killed + timeout) / (mutants - equivalent)")
    failed = False
    for module, line, rate in summary:
        below = rate < args.min
        failed |= below
        print(f"  {module:<10} {line}{'   BELOW ' + format(args.min, 'g') + ' %' if below else ''}")
    return 1 if failed else 0


def read_equivalents() -> dict[str, str]:
    """The equivalent mutants listed in bench/MUTATION.md (``- `NAME`: reason``)."""
    if not EQUIVALENTS_FILE.exists():
        return {}
    pattern = re.compile(r"^- `(daybreak_device\.[^`]+__mutmut_\d+)`: (.+)$")
    found = {}
    for line in EQUIVALENTS_FILE.read_text(encoding="utf-8").splitlines():
        if match := pattern.match(line):
            found[match[1]] = match[2]
    return found


def stage(module: str, target: Target) -> Path:
    """Lay out ``.mutants/MODULE`` (see the module docstring); return it."""
    work = STAGING / module
    shutil.rmtree(work, ignore_errors=True)
    package = work / "src" / PACKAGE
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(SRC, package, ignore=ignore)
    shutil.copy2(TARGETS["protocol"].source, package / "protocol.py")
    shutil.copytree(ROOT / "device" / "tests", work / "tests", ignore=ignore)
    tests = [f"tests/{name}" for name in target.tests if (work / "tests" / name).exists()]
    selection = [*tests]
    for test in DESELECT:
        if test.partition("::")[0] in tests:
            selection += ["--deselect", test]
    pytest_options = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "pytest"
    ]["ini_options"]
    mutmut = {
        "source_paths": [f"src/{PACKAGE}"],
        "only_mutate": [f"src/{PACKAGE}/{target.source.name}"],
        "pytest_add_cli_args_test_selection": selection,
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "--timeout=30"],
        # The tests mostly wait on real time (ramps, retries), so a mutant that hangs is
        # plain after a few times their duration: mutmut's default of 15 times would
        # spend minutes on each.
        "timeout_multiplier": 4.0,
        "use_git_change_detection": False,
    }
    (work / "pyproject.toml").write_text(
        "# Written by scripts/mutate for one run; see scripts/lib/mutate.py.\n"
        + toml_table("tool.pytest.ini_options", pytest_options)
        + toml_table("tool.mutmut", mutmut),
        encoding="utf-8",
    )
    # mutmut puts mutants/src on sys.path only after it has copied the sources; an entry
    # of PYTHONPATH that does not exist yet would be cached as unimportable before that.
    (work / "mutants" / "src").mkdir(parents=True)
    return work


def toml_table(name: str, values: dict[str, object]) -> str:
    """A TOML table of strings, numbers, booleans and lists of them (JSON's syntax)."""
    lines = [f"[{name}]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n\n"


def run_module(module: str, target: Target, *, jobs: int, retest: bool) -> dict[str, str]:
    """Run mutmut on one module; return the status of each of its mutants."""
    work = STAGING / module
    names: list[str] = []
    if retest and (work / "mutants").exists():
        previous = read_results(work)
        names = [name for name, status in previous.items() if status not in KILLED]
        if not names:
            print(f"== {module}: no survivors to re-test")
            return previous
        # The tests as they are now (mutmut copies work/tests into mutants/ on each run).
        shutil.copytree(ROOT / "device" / "tests", work / "tests", dirs_exist_ok=True)
        # mutmut maps tests to functions once; a changed test would keep its old mapping
        # (and a new one may be missed), so the mapping is collected afresh.
        (work / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    else:
        work = stage(module, target)
    print(f"== {module}: mutmut on {target.source.relative_to(ROOT)} with {jobs} worker(s)")
    env = {**os.environ, "PYTHONPATH": str(work / "mutants" / "src")}
    env.pop("MUTANT_UNDER_TEST", None)
    command = [str(Path(sys.executable).parent / "mutmut"), "run", "--max-children", str(jobs)]
    with (work / "mutmut.log").open("w", encoding="utf-8") as log:
        run = subprocess.run(
            [*command, *names], cwd=work, env=env, stdout=log, stderr=log, check=False
        )
    if run.returncode != 0:
        print((work / "mutmut.log").read_text(encoding="utf-8")[-3000:])
        print(f"mutmut failed (exit {run.returncode}); the log is {work / 'mutmut.log'}")
        raise SystemExit(2)
    return read_results(work)


def read_results(work: Path) -> dict[str, str]:
    """Each mutant's status from mutmut's ``.meta`` files in ``work/mutants``."""
    statuses = json.loads(
        subprocess.run(
            [sys.executable, "-c", READ_RESULTS],
            cwd=work,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    return dict(statuses)


READ_RESULTS = """
import json
from mutmut.mutation.data import SourceFileMutationData
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files
out = {}
for path in walk_mutatable_files():
    data = SourceFileMutationData(path=path)
    data.load()
    out.update({k: status_by_exit_code[v] for k, v in data.exit_code_by_key.items()})
print(json.dumps(out))
"""

SHOW_DIFFS = """
import sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
for name in sys.argv[1:]:
    print("@@@", name)
    print(get_diff_for_mutant(name))
"""


def report(
    module: str, results: dict[str, str], equivalents: dict[str, str], seconds: float
) -> tuple[str, str, float]:
    """Print the survivors of one module with their diffs; return its summary line."""
    work = STAGING / module
    counts: dict[str, int] = {}
    for status in results.values():
        counts[status] = counts.get(status, 0) + 1
    survivors = sorted(n for n, s in results.items() if s not in KILLED and n not in equivalents)
    equivalent = sorted(n for n, s in results.items() if s not in KILLED and n in equivalents)
    killed_equivalent = sorted(n for n, s in results.items() if s in KILLED and n in equivalents)
    if survivors:
        diffs = subprocess.run(
            [sys.executable, "-c", SHOW_DIFFS, *survivors],
            cwd=work,
            check=False,
            capture_output=True,
            text=True,
        ).stdout
        print(f"-- {module}: {len(survivors)} surviving mutant(s)")
        for chunk in diffs.split("@@@ ")[1:]:
            name, _, diff = chunk.partition("\n")
            lines = [ln for ln in diff.splitlines() if ln[:1] in "+-" and ln[:3] not in "---+++"]
            print(f"  {name} [{results[name]}]")
            for line in lines:
                print(f"      {line.strip()[:110]}")
    for name in killed_equivalent:
        print(f"  note: {name} is listed as equivalent in bench/MUTATION.md but was killed")
    total = len(results)
    killed = sum(counts.get(s, 0) for s in KILLED)
    measured = total - len(equivalent)
    rate = 100.0 * killed / measured if measured else 100.0
    detail = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    line = (
        f"{rate:5.1f} %  ({killed} of {measured}; {total} mutants: {detail}; "
        f"{len(equivalent)} equivalent; {seconds / 60:.1f} min)"
    )
    print(f"-- {module}: {line}")
    return module, line, rate


if __name__ == "__main__":
    sys.exit(main())
