"""Validates pipeline.json against the official (stale) SageMaker pipeline-definition JSON
Schema in ../shared/schemas/sagemaker-pipeline/ ($MLOPSC_SHARED_DIR).

The schema predates constructs the service and the SageMaker SDK use (see that folder's
README). ALLOWED lists exactly those gaps, each as (schema keyword, instance path pattern,
instance predicate); any other error is a finding. An error under `oneOf`/`anyOf` is
followed into the branch whose `Type` matches, so that a finding names the real path.
"""

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import jsonschema

from pipeline_common import ROOT, expression_kind, main

RETRY_EXCEPTIONS = {
    "Step.SERVICE_FAULT",
    "Step.THROTTLING",
    "SageMaker.JOB_INTERNAL_ERROR",
    "SageMaker.CAPACITY_ERROR",
    "SageMaker.RESOURCE_LIMIT",
}


@dataclass(frozen=True)
class Gap:
    keywords: tuple  # the schema keywords whose errors this gap covers
    path: str  # a regular expression over the instance path, `Steps/0/Arguments/…`
    accepts: Callable[[object, dict], bool]
    why: str


def extra_members(allowed, step_type=None):
    """An `additionalProperties` error whose only extra members are `allowed` (on a step of
    `step_type`, when given)."""

    def accepts(instance, schema):
        known = set(schema.get("properties", {}))
        if not isinstance(instance, dict) or not set(instance) - known <= set(allowed):
            return False
        return step_type is None or instance.get("Type") == step_type

    return accepts


def expression(kind):
    return lambda instance, _schema: expression_kind(instance) == kind


def exception_list(instance, _schema):
    return (
        isinstance(instance, list)
        and instance
        and all(isinstance(e, str) and e in RETRY_EXCEPTIONS for e in instance)
    )


STEP = r"Steps/\d+(/Arguments/(IfSteps|ElseSteps)/\d+)?"

ALLOWED = [
    Gap(
        ("additionalProperties",),
        rf"^{STEP}$",
        extra_members({"PropertyFiles"}, "Processing"),
        "ProcessingStep.PropertyFiles (the evaluation report) is missing from the schema",
    ),
    Gap(
        ("anyOf",),
        rf"^{STEP}/Arguments/Conditions/\d+/LeftValue$",
        expression("Std:JsonGet"),
        "Std:JsonGet is not accepted as a condition operand",
    ),
    Gap(
        ("oneOf",),
        rf"^{STEP}/Arguments/ErrorMessage$",
        expression("Std:Join"),
        "Std:Join is not accepted as a Fail step's message",
    ),
    Gap(
        ("oneOf",),
        rf"^{STEP}/Arguments/ModelMetrics/ModelQuality/Statistics/S3Uri$",
        expression("Std:Join"),
        "Std:Join is not accepted as the model metrics' URI",
    ),
    Gap(
        ("oneOf",),
        rf"^{STEP}/Arguments/DriftCheckBaselines/ModelDataQuality/Statistics/S3Uri$",
        expression("Std:Join"),
        "Std:Join is not accepted as the drift baseline's URI",
    ),
    Gap(
        ("oneOf",),
        rf"^{STEP}/Arguments/(ProcessingOutputConfig/Outputs/\d+/S3Output/S3Uri"
        r"|TransformOutput/S3OutputPath|CheckpointConfig/S3Uri)$",
        expression("Std:Join"),
        "Std:Join is not accepted as an output location (processing outputs, transform "
        "output, training checkpoints)",
    ),
    Gap(
        ("additionalProperties",),
        rf"^{STEP}/Arguments$",
        extra_members({"ModelApprovalStatus", "DriftCheckBaselines"}),
        "RegisterModel's ModelApprovalStatus and DriftCheckBaselines (CreateModelPackage "
        "members) are missing",
    ),
    Gap(
        ("additionalProperties",),
        rf"^{STEP}/Arguments/InferenceSpecification/Containers/\d+$",
        extra_members({"Environment"}),
        "a registered container's Environment (CreateModelPackage's ModelPackageContainerDefinition, "
        "which the SDK's framework models set to name their handler) is missing",
    ),
    Gap(
        ("type",),
        rf"^{STEP}/Arguments/PrimaryContainer/ModelDataUrl$",
        expression("Get"),
        "a Model step's ModelDataUrl is a plain string in the schema; the trained model's "
        "location is known only at run time",
    ),
    Gap(
        ("additionalProperties",),
        r"^Parameters/\d+$",
        extra_members({"EnumValues"}),
        "a parameter's EnumValues (the SDK's ParameterString(enum_values=…)) is missing",
    ),
    Gap(
        ("additionalProperties",),
        r"^$",
        extra_members({"PipelineExperimentConfig"}),
        "PipelineExperimentConfig (the SDK's default experiment tracking) is missing",
    ),
    Gap(
        ("type", "enum"),
        rf"^{STEP}/RetryPolicies/\d+/ExceptionType$",
        exception_list,
        "RetryPolicy.ExceptionType is a list of exception types (as the SDK emits it); "
        "the schema has a single string",
    ),
]


def shared_dir():
    """CI's read-only folder: $MLOPSC_SHARED_DIR, by default `shared/` beside the repository
    (the wrapper script checks that it exists, or skips)."""
    return Path(os.environ.get("MLOPSC_SHARED_DIR", ROOT.parent / "shared"))


def schema():
    path = shared_dir() / "schemas/sagemaker-pipeline/pipeline-definition.schema.json"
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def instance_path(error):
    return "/".join(str(p) for p in error.absolute_path)


def allowed(error):
    path = instance_path(error)
    return any(
        error.validator in gap.keywords
        and re.match(gap.path, path)
        and gap.accepts(error.instance, error.schema)
        for gap in ALLOWED
    )


def chosen_branch(error):
    """The sub-errors of the one `oneOf`/`anyOf` branch meant for the instance: the branches
    that reject the instance's `Type` (or its JSON type) are not meant for it."""
    branches = {}
    for sub in error.context:
        branches.setdefault(sub.schema_path[0], []).append(sub)
    depth = len(error.absolute_path)

    def wrong_kind(sub):
        relative = list(sub.absolute_path)[depth:]
        return (relative == ["Type"] and sub.validator == "enum") or (
            relative == [] and sub.validator == "type"
        )

    meant = [errs for errs in branches.values() if not any(map(wrong_kind, errs))]
    return meant[0] if len(meant) == 1 else None


def findings_of(error):
    if allowed(error):
        return []
    if error.validator in ("oneOf", "anyOf") and error.context:
        branch = chosen_branch(error)
        if branch is not None:
            return [f for sub in branch for f in findings_of(sub)]
    return [f"/{instance_path(error)}: {error.validator}: {error.message[:300]}"]


VALIDATOR = None


def check(pipeline):
    global VALIDATOR
    if VALIDATOR is None:
        VALIDATOR = jsonschema.Draft7Validator(schema())
    return [f for e in VALIDATOR.iter_errors(pipeline) for f in findings_of(e)]


def _set(path, value):
    def mutate(pipeline):
        *parents, last = path
        node = pipeline
        for key in parents:
            node = node[key]
        node[last] = value

    return mutate


def _rename(path, old, new):
    def mutate(pipeline):
        node = pipeline
        for key in path:
            node = node[key]
        node[new] = node.pop(old)

    return mutate


JOIN = {"Std:Join": {"On": "", "Values": ["a", "b"]}}
CASES = [
    (
        "a misspelled argument",
        _rename(["Steps", 0, "Arguments"], "ProcessingResources", "ProcessingResource"),
        "ProcessingResource",
    ),
    (
        "PropertyFiles on a step that is not a Processing step",
        _set(["Steps", 1, "PropertyFiles"], []),
        "Steps/1",
    ),
    (
        "an extra step member besides PropertyFiles",
        _set(["Steps", 2, "PropertyFile"], []),
        "PropertyFile'",
    ),
    ("Std:Join where the gaps do not allow it", _set(["Steps", 0, "Arguments", "RoleArn"], JOIN), "RoleArn"),
    (
        "an unknown retry exception type",
        _set(["Steps", 1, "RetryPolicies", 0, "ExceptionType"], ["Step.TYPO"]),
        "ExceptionType",
    ),
    (
        "a wrong condition type",
        _set(["Steps", 3, "Arguments", "Conditions", 0, "Type"], "AtLeast"),
        "Conditions/0",
    ),
    ("a wrong parameter type", _set(["Parameters", 0, "Type"], "Text"), "Parameters/0"),
]

if __name__ == "__main__":
    main(check, CASES, "sagemaker-schema")
