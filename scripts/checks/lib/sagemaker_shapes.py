"""Checks every step's `Arguments` against the SageMaker API request shape it is sent as,
from the service model that botocore ships: member names, types, enums, required members,
numeric ranges, lengths and patterns. Pipeline expressions (`Get`, `Std:Join`,
`Std:JsonGet`) stand in for scalars: their value is known only at run time.
"""

import difflib
import re

import botocore.loaders

from pipeline_common import expression_kind, main, steps

# Step type -> the SageMaker operation the pipeline service calls with the step's Arguments.
OPERATIONS = {
    "Processing": "CreateProcessingJob",
    "Training": "CreateTrainingJob",
    "RegisterModel": "CreateModelPackage",
    "Transform": "CreateTransformJob",
    "Model": "CreateModel",
}

# Required members the pipeline service fills in itself: it names every job and model
# after the pipeline execution and the step.
SERVICE_FILLED = {
    "CreateProcessingJob": {"ProcessingJobName"},
    "CreateTrainingJob": {"TrainingJobName"},
    "CreateTransformJob": {"TransformJobName"},
    "CreateModel": {"ModelName"},
}

# CloudFormation substitutes these placeholders (Fn::Sub) when it embeds the definition;
# the check puts in values of the same form.
PLACEHOLDERS = {
    "${ExecutionRoleArn}": "arn:aws:iam::123456789012:role/example-sagemaker-execution",
    "${MonitoringRoleArn}": "arn:aws:iam::123456789012:role/example-monitoring",
    "${KmsKeyArn}": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "${AWS::AccountId}": "123456789012",
    "${AWS::Region}": "us-east-1",
    "${AWS::Partition}": "aws",
}

SCALARS = {"string", "integer", "long", "float", "double", "boolean", "timestamp", "blob"}

MODEL = botocore.loaders.Loader().load_service_model("sagemaker", "service-2")
SHAPES = MODEL["shapes"]


def substituted(text):
    for placeholder, value in PLACEHOLDERS.items():
        text = text.replace(placeholder, value)
    return text


class Checker:
    def __init__(self):
        self.findings = []

    def find(self, path, message):
        self.findings.append(f"{path}: {message}")

    def value(self, value, shape_name, path):
        shape = SHAPES[shape_name]
        kind = shape["type"]
        if expression_kind(value):
            if kind not in SCALARS:
                self.find(path, f"a pipeline expression where {kind} {shape_name} is expected")
            return
        check = getattr(self, f"check_{kind}", None)
        if check is None:
            self.find(path, f"no check for shape type {kind}")
        else:
            check(value, shape, shape_name, path)

    def length(self, size, shape, path, what):
        if "min" in shape and size < shape["min"]:
            self.find(path, f"{what} {size} is below the minimum {shape['min']}")
        if "max" in shape and size > shape["max"]:
            self.find(path, f"{what} {size} is above the maximum {shape['max']}")

    def check_structure(self, value, shape, name, path):
        if not isinstance(value, dict):
            self.find(path, f"expected a {name} object, got {type(value).__name__}")
            return
        members = shape.get("members", {})
        for key, item in value.items():
            if key not in members:
                close = difflib.get_close_matches(key, members, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                self.find(f"{path}/{key}", f"{name} has no member {key}{hint}")
            else:
                self.value(item, members[key]["shape"], f"{path}/{key}")
        filled = self.filled if path == self.root else set()
        for required in shape.get("required", []):
            if required not in value and required not in filled:
                self.find(path, f"{name} requires {required}")

    def check_list(self, value, shape, name, path):
        if not isinstance(value, list):
            self.find(path, f"expected a list ({name}), got {type(value).__name__}")
            return
        self.length(len(value), shape, path, "list length")
        for i, item in enumerate(value):
            self.value(item, shape["member"]["shape"], f"{path}/{i}")

    def check_map(self, value, shape, name, path):
        if not isinstance(value, dict):
            self.find(path, f"expected a map ({name}), got {type(value).__name__}")
            return
        self.length(len(value), shape, path, "map size")
        for key, item in value.items():
            self.value(key, shape["key"]["shape"], f"{path}/{key} (key)")
            self.value(item, shape["value"]["shape"], f"{path}/{key}")

    def check_string(self, value, shape, name, path):
        if not isinstance(value, str):
            self.find(path, f"expected a string ({name}), got {value!r}")
            return
        text = substituted(value)
        if "${" in text:
            self.find(path, f"unknown placeholder in {value!r}")
        if "enum" in shape and text not in shape["enum"]:
            self.find(path, f"{value!r} is not one of {name}'s values {shape['enum']}")
        self.length(len(text), shape, path, "length")
        pattern = shape.get("pattern")
        if pattern is not None:
            try:
                matches = re.fullmatch(pattern, text, re.DOTALL)
            except re.error:
                return  # a Java-only construct (\p{…}); lengths and enums still apply
            if not matches:
                self.find(path, f"{value!r} does not match {name}'s pattern {pattern}")

    def check_number(self, value, shape, name, path, integral):
        ok = isinstance(value, int) if integral else isinstance(value, (int, float))
        if not ok or isinstance(value, bool):
            self.find(path, f"expected a {shape['type']} ({name}), got {value!r}")
            return
        self.length(value, shape, path, "value")

    def check_integer(self, value, shape, name, path):
        self.check_number(value, shape, name, path, True)

    check_long = check_integer

    def check_float(self, value, shape, name, path):
        self.check_number(value, shape, name, path, False)

    check_double = check_float

    def check_boolean(self, value, shape, name, path):
        if not isinstance(value, bool):
            self.find(path, f"expected a boolean ({name}), got {value!r}")

    def step(self, step, path):
        operation = OPERATIONS.get(step.get("Type"))
        if operation is None:
            return  # Condition and Fail steps are not SageMaker API requests
        self.root = f"{path}/Arguments"
        self.filled = SERVICE_FILLED.get(operation, set())
        shape = MODEL["operations"][operation]["input"]["shape"]
        self.value(step.get("Arguments"), shape, self.root)


def check(pipeline):
    checker = Checker()
    for path, step in steps(pipeline):
        checker.step(step, path)
    return checker.findings


def _at(pipeline, path):
    node = pipeline
    for key in path:
        node = node[key]
    return node


def _set(path, value):
    def mutate(pipeline):
        _at(pipeline, path[:-1])[path[-1]] = value

    return mutate


def _rename(path, old, new):
    def mutate(pipeline):
        node = _at(pipeline, path)
        node[new] = node.pop(old)

    return mutate


def _delete(path, key):
    return lambda pipeline: _at(pipeline, path).pop(key)


CLUSTER = ["Steps", 0, "Arguments", "ProcessingResources", "ClusterConfig"]
TRAIN = ["Steps", 1, "Arguments"]
REGISTER = ["Steps", 3, "Arguments", "IfSteps", 0, "Arguments"]
CASES = [
    ("a misspelled member", _rename(CLUSTER, "VolumeSizeInGB", "VolumeSizeInGb"), "did you mean VolumeSizeInGB"),
    ("an enum value not in the model", _set(TRAIN + ["AlgorithmSpecification", "TrainingInputMode"], "Files"), "'Files' is not one of"),
    ("a missing required member", _delete(TRAIN, "RoleArn"), "requires RoleArn"),
    ("a number below its minimum", _set(CLUSTER + ["InstanceCount"], 0), "below the minimum 1"),
    ("a number where a string is expected", _set(CLUSTER + ["VolumeSizeInGB"], "100"), "expected a integer"),
    ("a pattern mismatch", _set(TRAIN + ["RoleArn"], "role/x-but-not-an-arn"), "does not match"),
    ("an unknown placeholder", _set(TRAIN + ["RoleArn"], "${RoleArn}"), "unknown placeholder"),
    ("a bad member in the registered model", _set(REGISTER + ["ModelApprovalStatus"], "Maybe"), "'Maybe' is not one of"),
    ("an expression where a structure is expected", _set(TRAIN + ["OutputDataConfig"], {"Get": "Parameters.X"}), "pipeline expression where structure"),
]

if __name__ == "__main__":
    main(check, CASES, "sagemaker-shapes")
