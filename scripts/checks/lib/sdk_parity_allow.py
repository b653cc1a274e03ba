"""Where our pipeline.json differs from the SageMaker SDK v3's on purpose, each with its
reason (docs/sdk-parity.md lists them for users). scripts/checks/lib/sdk_parity.py fails on
any difference no entry covers.
"""

import re
from dataclasses import dataclass

MISSING = "<absent>"


@dataclass(frozen=True)
class Allowed:
    kind: str  # "default written out", "SDK bookkeeping" or "deliberate"
    step: str  # a regular expression over the step name ("" is the definition's top level)
    path: str  # a regular expression over the field's path in the step, `Arguments/…`
    side: str  # "sdk only": the SDK writes it, we do not; "ours only"; "both": values differ
    reason: str

    def covers(self, step, path, ours, sdk):
        if not re.fullmatch(self.step, step) or not re.fullmatch(self.path, path):
            return False
        if self.side == "sdk only":
            return ours == MISSING
        if self.side == "ours only":
            return sdk == MISSING
        return ours != MISSING and sdk != MISSING


ALLOWED = [
    Allowed(
        "default written out", ".+", r"Arguments/OutputDataConfig/CompressionType", "sdk only",
        "GZIP is the service default for a training job's model archive",
    ),
    Allowed(
        "default written out", ".+", r"Arguments/InputDataConfig/\d+/InputMode", "sdk only",
        "a channel's input mode defaults to the job's TrainingInputMode, File, which both write",
    ),
    Allowed(
        "default written out", ".+", r"Arguments/SkipModelValidation", "sdk only",
        "`None` (validate the model package) is the service default",
    ),
    Allowed(
        "default written out", ".+", r"Arguments/ProcessingInputs/\d+/S3Input/S3CompressionType",
        "sdk only", "`None` (inputs are not compressed) is the service default",
    ),
    Allowed(
        "default written out", ".+", r"Arguments/NetworkConfig/EnableNetworkIsolation",
        "sdk only", "`false` is the service default",
    ),
    Allowed(
        "SDK bookkeeping", ".+", r"Arguments/ModelMetrics/(Bias|Explainability)", "sdk only",
        "the SDK writes empty Bias and Explainability objects for metrics it was not given",
    ),
    Allowed(
        "SDK bookkeeping", "", r"MlflowConfig", "sdk only",
        "the SDK writes `MlflowConfig: null` when no MLflow tracking server is configured",
    ),
    Allowed(
        "deliberate", ".+", r"Arguments/HyperParameters/sagemaker_[a-z_]+", "ours only",
        "script mode: the framework container's training toolkit downloads the step code "
        "bundle (sagemaker_submit_directory) and runs the entry point (sagemaker_program); "
        "the SDK v3 ships its own driver as an extra input channel instead",
    ),
]
