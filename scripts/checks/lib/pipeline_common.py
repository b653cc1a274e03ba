"""Shared helpers of the SageMaker pipeline checks: loading a definition, walking its steps,
recognising pipeline expressions, and a tiny self-test runner."""

import copy
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# The definitions a generated/<project> directory may hold: the training pipeline, and the
# monitoring pipeline of a spec that monitors images.
DEFINITIONS = ("pipeline.json", "monitoring-pipeline.json")

# Pipeline expressions stand in for a value that is known only at run time.
EXPRESSIONS = ("Get", "Std:Join", "Std:JsonGet")


def expression_kind(value):
    """`Get`, `Std:Join` or `Std:JsonGet` when `value` is that expression, else None."""
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if key in EXPRESSIONS:
            return key
    return None


def built(directory, name):
    """Whether the build in `directory` has the file `name`: its manifest lists every file it
    wrote. A consuming environment (`modelsFrom`) has no training pipeline; a listed file
    that is missing is a finding, not a skip."""
    with open(Path(directory) / "manifest.json", encoding="utf-8") as f:
        return name in json.load(f)["files"]


def load(directory):
    with open(Path(directory) / "pipeline.json", encoding="utf-8") as f:
        return json.load(f)


def steps(pipeline):
    """Every step with its JSON path, including the steps inside Condition branches."""
    pending = [(f"Steps/{i}", s) for i, s in enumerate(pipeline.get("Steps", []))]
    while pending:
        path, step = pending.pop(0)
        yield path, step
        if step.get("Type") == "Condition":
            for branch in ("IfSteps", "ElseSteps"):
                for i, inner in enumerate(step.get("Arguments", {}).get(branch, [])):
                    pending.append((f"{path}/Arguments/{branch}/{i}", inner))


def flagship():
    """A fresh copy of the flagship's committed definition, the base of the broken copies."""
    return copy.deepcopy(load(ROOT / "generated" / "skin-lesion"))


def run_self_test(check, cases):
    """`check(pipeline) -> findings`; each case is (name, mutate, expected substring).
    The unmodified flagship must pass, and every broken copy must be caught."""
    failures = []
    clean = check(flagship())
    if clean:
        failures.append(f"the committed flagship has findings: {clean}")
    for name, mutate, expected in cases:
        broken = flagship()
        mutate(broken)
        findings = check(broken)
        if not any(expected in f for f in findings):
            failures.append(f"{name}: expected a finding with {expected!r}, got {findings}")
    for failure in failures:
        print(f"self-test FAILED: {failure}")
    print(f"self-test: {len(cases) + 1 - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


def main(check, cases, describe):
    """The external-check contract: one `generated/<project>` argument, non-zero on findings."""
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(run_self_test(check, cases))
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} generated/<project> | --self-test")
    failed = False
    for name in DEFINITIONS:
        path = Path(sys.argv[1]) / name
        if not built(sys.argv[1], name):
            print(f"{describe}: {path}: not in this build (its manifest lists none)")
            continue
        with open(path, encoding="utf-8") as f:
            findings = check(json.load(f))
        for finding in findings:
            print(f"  {finding}")
        print(f"{describe}: {path}: {len(findings)} finding(s)")
        failed = failed or bool(findings)
    sys.exit(1 if failed else 0)
