"""SageMaker Python SDK v3 parity: builds, with the SDK (sagemaker==3.27.0), the pipeline that
a generated/<project>/pipeline.json describes, and compares the two definitions field by field,
steps matched by name. Every difference must be in ALLOWED (sdk_parity_allow.py) with its
reason; any other difference, or a construct the SDK refuses, is a finding.

What comes from where. The spec (the examples/*/mlops.yaml whose hash the project's manifest
records) gives what a user writes: step names, instance counts and volumes, run times, spot,
hyperparameters, gates, the registry group. What mlopsc resolves from its catalogs and naming
rules (image URIs, bucket locations, the code bundle, the processing scripts' arguments, the
allowed instance types, the retry policies) is read from our definition and handed to the SDK
as input; those fields are counted as inputs, not as compared. The SDK decides everything
else: the request shapes, which members it writes and with what defaults, the parameters'
and the experiment config's form, and what it refuses (e.g. job retry codes on a
RegisterModel step).

Runs offline: fake credentials, and every socket to anything but the loopback refused, so a
call to AWS fails here instead of leaving the machine. The SDK builds a definition without a
call when it is given a default bucket and no SageMaker config.
"""

import hashlib
import json
import logging
import os
import socket
import sys
import warnings
from pathlib import Path

from pipeline_common import built
from sdk_parity_allow import ALLOWED, MISSING

ROOT = Path(__file__).resolve().parents[3]
SDK_VERSION = "3.27.0"
# A role ARN the SDK accepts without asking IAM, written back as our placeholder.
ROLE_ARN = "arn:aws:iam::000000000000:role/sdk-parity-execution-role"
ROLE_PLACEHOLDER = "${ExecutionRoleArn}"


def offline(region):
    """Fake credentials and no way out but the loopback, set before the SDK is imported."""
    if getattr(socket.socket.connect, "sdk_parity_guard", False):
        return
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION=region,
        AWS_REGION=region,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        SAGEMAKER_ADMIN_CONFIG_OVERRIDE=os.devnull,
        SAGEMAKER_USER_CONFIG_OVERRIDE=os.devnull,
        # The SDK's own switch: no IAM SimulatePrincipalPolicy on the (fake) role.
        SAGEMAKER_VALIDATE_ROLE="false",
    )
    real_connect = socket.socket.connect

    def loopback_only(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost") and not str(host).startswith("/"):
            raise ConnectionRefusedError(f"sdk-parity runs offline: refused a connection to {host}")
        return real_connect(sock, address)

    loopback_only.sdk_parity_guard = True
    socket.socket.connect = loopback_only
    # The SDK's notes on what it pops from a definition are not findings of this check.
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    real_getaddrinfo = socket.getaddrinfo

    def no_dns(host, *args, **kwargs):
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise socket.gaierror(f"sdk-parity runs offline: refused to resolve {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.getaddrinfo = no_dns


def spec_path(project_dir):
    """The example whose file hash the project's manifest records."""
    manifest = json.loads((Path(project_dir) / "manifest.json").read_text(encoding="utf-8"))
    for candidate in sorted((ROOT / "examples").glob("*/mlops.yaml")):
        if hashlib.sha256(candidate.read_bytes()).hexdigest() == manifest["specSha256"]:
            return candidate
    raise SystemExit(f"sdk-parity: no examples/*/mlops.yaml has the spec hash of {project_dir}")


def by_name(steps):
    """Every step by name, those in Condition branches included."""
    found = {}
    pending = list(steps)
    while pending:
        step = pending.pop(0)
        found[step["Name"]] = step
        for branch in ("IfSteps", "ElseSteps"):
            pending.extend(step.get("Arguments", {}).get(branch, []))
    return found


class Inputs:
    """Fields of our definition handed to the SDK as input, by step and path; the comparison
    counts them apart from the fields it compares."""

    def __init__(self, ours):
        self.ours = ours
        self.steps = by_name(ours["Steps"])
        self.paths = set()

    def take(self, step, *path):
        value = self.steps[step] if step else self.ours
        for key in path:
            value = value[key]
        self.paths.add((step or "", "/".join(str(p) for p in path)))
        return value

    def has(self, step, *path):
        value = self.steps[step]
        for key in path:
            if not isinstance(value, dict) or key not in value:
                return False
            value = value[key]
        return True


def build(spec, ours):
    """The SDK's definition of the pipeline, and the input paths taken from ours."""
    offline(spec["project"].get("region", "us-east-1"))
    import boto3
    from sagemaker.core.drift_check_baselines import DriftCheckBaselines
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.model_registry import create_model_package_from_containers
    from sagemaker.core.network import NetworkConfig
    from sagemaker.core.processing import Processor
    from sagemaker.core.shapes import (
        ProcessingInput,
        ProcessingOutput,
        ProcessingS3Input,
        ProcessingS3Output,
    )
    from sagemaker.core.training.configs import (
        CheckpointConfig,
        Compute,
        InputData,
        MetricDefinition,
        Networking,
        OutputDataConfig,
        StoppingCondition,
    )
    from sagemaker.core.workflow import conditions
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterString
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow import (
        CacheConfig,
        ConditionStep,
        FailStep,
        ModelStep,
        Pipeline,
        ProcessingStep,
        SageMakerJobStepRetryPolicy,
        StepRetryPolicy,
        TrainingStep,
    )
    from sagemaker.mlops.workflow.retry import (
        SageMakerJobExceptionTypeEnum,
        StepExceptionTypeEnum,
    )
    from sagemaker.train.model_trainer import ModelTrainer

    inputs = Inputs(ours)
    region = spec["project"].get("region", "us-east-1")
    session = PipelineSession(
        boto_session=boto3.Session(region_name=region),
        default_bucket="sdk-parity-unused",
        sagemaker_config={},
    )
    # The SDK looks up a role that is not an ARN in IAM; ours is a template placeholder.
    role = ROLE_ARN

    # Parameters: names, defaults and allowed values are ours (input); their form the SDK's.
    parameters = {}
    for i, p in enumerate(ours["Parameters"]):
        inputs.take(None, "Parameters", i, "Name")
        inputs.take(None, "Parameters", i, "DefaultValue")
        if p["Type"] == "Float":
            parameters[p["Name"]] = ParameterFloat(p["Name"], default_value=p["DefaultValue"])
        else:
            enum = inputs.take(None, "Parameters", i, "EnumValues") if "EnumValues" in p else None
            parameters[p["Name"]] = ParameterString(
                p["Name"], default_value=p["DefaultValue"], enum_values=enum
            )

    def setting(section, key, step, *path):
        """The spec's value when the spec writes it; else the default mlopsc filled in (input)."""
        return section[key] if key in section else inputs.take(step, *path)

    def parameter(expression):
        return parameters[expression["Get"].removeprefix("Parameters.")]

    def retry_policies(step):
        """Our retry policies (input) as the SDK's classes, which refuse codes a step cannot
        have."""
        policies = []
        for policy in inputs.take(step, "RetryPolicies"):
            codes = policy["ExceptionType"]
            settings = dict(
                interval_seconds=policy["IntervalSeconds"],
                backoff_rate=policy["BackoffRate"],
                max_attempts=policy["MaxAttempts"],
            )
            # By value: calling these enums with a value returns their default member.
            step_enum = {e.value: e for e in StepExceptionTypeEnum}
            job_enum = {e.value: e for e in SageMakerJobExceptionTypeEnum}
            unknown = [c for c in codes if c not in step_enum and c not in job_enum]
            if unknown:
                raise Refused(f"step `{step}` retries on {unknown}, which the SDK does not know")
            step_codes = [step_enum[c] for c in codes if c in step_enum]
            job_codes = [job_enum[c] for c in codes if c in job_enum]
            if step_codes:
                policies.append(StepRetryPolicy(exception_types=step_codes, **settings))
            if job_codes:
                policies.append(SageMakerJobStepRetryPolicy(exception_types=job_codes, **settings))
        return policies

    def s3_inputs(step):
        """Names, locations and paths are ours; the rest the SDK's defaults."""
        found = []
        for i, _ in enumerate(inputs.steps[step]["Arguments"]["ProcessingInputs"]):
            where = ("Arguments", "ProcessingInputs", i)
            found.append(
                ProcessingInput(
                    input_name=inputs.take(step, *where, "InputName"),
                    s3_input=ProcessingS3Input(
                        s3_uri=sdk_value(inputs.take(step, *where, "S3Input", "S3Uri")),
                        local_path=inputs.take(step, *where, "S3Input", "LocalPath"),
                        s3_data_type=inputs.take(step, *where, "S3Input", "S3DataType"),
                    ),
                )
            )
        return found

    def s3_outputs(step):
        found = []
        outputs = inputs.steps[step]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
        for i, _ in enumerate(outputs):
            where = ("Arguments", "ProcessingOutputConfig", "Outputs", i)
            found.append(
                ProcessingOutput(
                    output_name=inputs.take(step, *where, "OutputName"),
                    s3_output=ProcessingS3Output(
                        s3_uri=sdk_value(inputs.take(step, *where, "S3Output", "S3Uri")),
                        local_path=inputs.take(step, *where, "S3Output", "LocalPath"),
                        s3_upload_mode=inputs.take(step, *where, "S3Output", "S3UploadMode"),
                    ),
                )
            )
        return found

    built = {}

    def sdk_value(value):
        """Our pipeline expressions (input) as the SDK's pipeline variables."""
        if isinstance(value, dict) and "Get" in value:
            path = value["Get"]
            if path.startswith("Parameters."):
                return parameter(value)
            if path == "Execution.PipelineExecutionId":
                from sagemaker.core.workflow.execution_variables import ExecutionVariables

                return ExecutionVariables.PIPELINE_EXECUTION_ID
            step, rest = path.removeprefix("Steps.").split(".", 1)
            properties = built[step].properties
            if rest.startswith("ProcessingOutputConfig.Outputs['"):
                output = rest.split("'")[1]
                return properties.ProcessingOutputConfig.Outputs[output].S3Output.S3Uri
            if rest == "ModelArtifacts.S3ModelArtifacts":
                return properties.ModelArtifacts.S3ModelArtifacts
            raise SystemExit(f"sdk-parity: no SDK form for `{path}`")
        if isinstance(value, dict) and "Std:Join" in value:
            join = value["Std:Join"]
            return Join(on=join["On"], values=[sdk_value(v) for v in join["Values"]])
        return value

    def processor(step, job):
        """A processing step: the job's settings from the spec, its wiring from ours."""
        cluster = ["Arguments", "ProcessingResources", "ClusterConfig"]
        app = inputs.take(step, "Arguments", "AppSpecification")
        inputs.paths.add((step, "Arguments/AppSpecification"))
        volume_key = (
            inputs.take(step, *cluster, "VolumeKmsKeyId")
            if inputs.has(step, *cluster, "VolumeKmsKeyId")
            else None
        )
        # The environment (preprocess's data version) is ours; the SDK writes it out.
        env = (
            {k: sdk_value(v) for k, v in inputs.take(step, "Arguments", "Environment").items()}
            if inputs.has(step, "Arguments", "Environment")
            else None
        )
        return Processor(
            role=role,
            image_uri=app["ImageUri"],
            instance_count=setting(job, "instanceCount", step, *cluster, "InstanceCount"),
            instance_type=parameter(inputs.take(step, *cluster, "InstanceType")),
            entrypoint=app["ContainerEntrypoint"],
            volume_size_in_gb=setting(job, "volumeSizeGb", step, *cluster, "VolumeSizeInGB"),
            volume_kms_key=volume_key,
            output_kms_key=inputs.take(step, "Arguments", "ProcessingOutputConfig", "KmsKeyId"),
            max_runtime_in_seconds=inputs.take(
                step, "Arguments", "StoppingCondition", "MaxRuntimeInSeconds"
            ),
            network_config=NetworkConfig(encrypt_inter_container_traffic=True),
            env=env,
            sagemaker_session=session,
        ).run(
            inputs=s3_inputs(step),
            outputs=s3_outputs(step),
            arguments=app["ContainerArguments"],
        )

    steps = []
    preprocessing = spec.get("preprocessing", {})
    cache = (
        CacheConfig(enable_caching=True, expire_after=preprocessing["cacheExpireAfter"])
        if "cacheExpireAfter" in preprocessing
        else None
    )
    built["preprocess"] = ProcessingStep(
        name="preprocess",
        step_args=processor("preprocess", preprocessing),
        cache_config=cache,
        retry_policies=retry_policies("preprocess"),
    )
    steps.append(built["preprocess"])

    training = spec.get("training", {})
    spot = training.get("spot", {})
    spot_enabled = spot.get("enabled", False)
    train_args = ["Arguments"]
    resource = [*train_args, "ResourceConfig"]
    def channel(i):
        """A channel's name, data location and content type are ours; the rest the SDK's."""
        where = (*train_args, "InputDataConfig", i)
        ours_channel = inputs.steps["train"]["Arguments"]["InputDataConfig"][i]
        content_type = (
            {"content_type": inputs.take("train", *where, "ContentType")}
            if "ContentType" in ours_channel
            else {}
        )
        uri = inputs.take("train", *where, "DataSource", "S3DataSource", "S3Uri")
        return InputData(
            channel_name=inputs.take("train", *where, "ChannelName"),
            data_source=sdk_value(uri),
            **content_type,
        )

    trainer = ModelTrainer(
        training_image=inputs.take("train", *train_args, "AlgorithmSpecification", "TrainingImage"),
        training_input_mode="File",
        role=role,
        compute=Compute(
            instance_type=parameter(inputs.take("train", *resource, "InstanceType")),
            instance_count=setting(training, "instanceCount", "train", *resource, "InstanceCount"),
            volume_size_in_gb=setting(training, "volumeSizeGb", "train", *resource, "VolumeSizeInGB"),
            volume_kms_key_id=(
                inputs.take("train", *resource, "VolumeKmsKeyId")
                if inputs.has("train", *resource, "VolumeKmsKeyId")
                else None
            ),
            enable_managed_spot_training=True if spot_enabled else None,
        ),
        stopping_condition=StoppingCondition(
            max_runtime_in_seconds=setting(
                training, "maxRuntimeSeconds", "train", *train_args, "StoppingCondition",
                "MaxRuntimeInSeconds",
            ),
            max_wait_time_in_seconds=spot.get("maxWaitSeconds") if spot_enabled else None,
        ),
        output_data_config=OutputDataConfig(
            s3_output_path=inputs.take("train", *train_args, "OutputDataConfig", "S3OutputPath"),
            kms_key_id=inputs.take("train", *train_args, "OutputDataConfig", "KmsKeyId"),
        ),
        checkpoint_config=(
            CheckpointConfig(
                s3_uri=sdk_value(inputs.take("train", *train_args, "CheckpointConfig", "S3Uri")),
                local_path=inputs.take("train", *train_args, "CheckpointConfig", "LocalPath"),
            )
            if spot_enabled
            else None
        ),
        networking=Networking(enable_inter_container_traffic_encryption=True),
        hyperparameters=spec_hyperparameters(spec),
        input_data_config=[
            channel(i) for i in range(len(inputs.steps["train"]["Arguments"]["InputDataConfig"]))
        ],
        sagemaker_session=session,
    ).with_metric_definitions(
        [
            MetricDefinition(name=m["Name"], regex=m["Regex"])
            for m in inputs.take(
                "train", *train_args, "AlgorithmSpecification", "MetricDefinitions"
            )
        ]
    )
    built["train"] = TrainingStep(
        name="train", step_args=trainer.train(), retry_policies=retry_policies("train")
    )
    steps.append(built["train"])

    report = inputs.take("evaluate", "PropertyFiles")[0]
    evaluation_report = PropertyFile(
        name=report["PropertyFileName"], output_name=report["OutputName"], path=report["FilePath"]
    )
    built["evaluate"] = ProcessingStep(
        name="evaluate",
        step_args=processor("evaluate", spec.get("evaluation", {})),
        property_files=[evaluation_report],
        retry_policies=retry_policies("evaluate"),
    )
    steps.append(built["evaluate"])

    # An image spec's drift baseline (its wiring is ours), which register refers to.
    if "baseline" in inputs.steps:
        built["baseline"] = ProcessingStep(
            name="baseline",
            step_args=processor("baseline", {}),
            retry_policies=retry_policies("baseline"),
        )

    register = inputs.steps["register"]["Arguments"]
    specification = inputs.take("register", "Arguments", "InferenceSpecification")
    container = specification["Containers"][0]
    session.init_model_step_arguments(_PipelineModel(session))
    register_args = create_model_package_from_containers(
        session,
        containers=[
            {
                "Image": container["Image"],
                "ModelDataUrl": sdk_value(container["ModelDataUrl"]),
                # The serving handler's script-mode variables, as the SDK's model sets them.
                **({"Environment": container["Environment"]} if "Environment" in container else {}),
            }
        ],
        content_types=specification["SupportedContentTypes"],
        response_types=specification["SupportedResponseMIMETypes"],
        inference_instances=specification["SupportedRealtimeInferenceInstanceTypes"],
        transform_instances=specification["SupportedTransformInstanceTypes"],
        model_package_group_name=spec["registry"]["modelPackageGroup"],
        # As ModelBuilder.register() passes it: the request form of the SDK's ModelMetrics.
        model_metrics=ModelMetrics(
            model_statistics=MetricsSource(
                content_type="application/json",
                s3_uri=sdk_value(
                    inputs.take(
                        "register", "Arguments", "ModelMetrics", "ModelQuality", "Statistics", "S3Uri"
                    )
                ),
            )
        )._to_request_dict(),
        approval_status=sdk_value(register["ModelApprovalStatus"]),
        # The baseline an image spec's monitoring compares with, as ModelBuilder.register()
        # passes it: the request form of the SDK's DriftCheckBaselines.
        drift_check_baselines=(
            DriftCheckBaselines(
                model_data_statistics=MetricsSource(
                    content_type="application/json",
                    s3_uri=sdk_value(
                        inputs.take(
                            "register", "Arguments", "DriftCheckBaselines", "ModelDataQuality",
                            "Statistics", "S3Uri",
                        )
                    ),
                )
            )._to_request_dict()
            if "DriftCheckBaselines" in register
            else None
        ),
    )
    session.context = None
    built["register"] = ModelStep(
        name="register", step_args=register_args, retry_policies=retry_policies("register")
    )

    gate = inputs.steps["quality-gate"]["Arguments"]
    comparisons = {
        ">=": conditions.ConditionGreaterThanOrEqualTo,
        ">": conditions.ConditionGreaterThan,
        "<=": conditions.ConditionLessThanOrEqualTo,
        "<": conditions.ConditionLessThan,
        "==": conditions.ConditionEquals,
    }
    gate_conditions, message = [], ["Quality gates failed:"]
    for i, (g, ours_condition) in enumerate(zip(spec["qualityGates"], gate["Conditions"])):
        metric = JsonGet(
            step_name="evaluate",
            property_file=evaluation_report,
            # A per-class gate reads the class's value (docs/local-run.md, evaluation.json).
            json_path=(f"perClass.{g['class']}.{g['metric']}.value" if g.get("class")
                       else f"metrics.{g['metric']}.value"),
        )
        threshold = sdk_value(ours_condition["RightValue"])
        gate_conditions.append(comparisons[g["comparator"]](left=metric, right=threshold))
        separator = " " if i == 0 else "; "
        label = f"{g['class']} {g['metric']}" if g.get("class") else g["metric"]
        message += [f"{separator}{label} = ", metric, f" (needs {g['comparator']} ", threshold, ")"]
    failed = FailStep(name="gate-failed", error_message=Join(on="", values=message))
    steps.append(
        ConditionStep(
            name="quality-gate",
            conditions=gate_conditions,
            if_steps=[built["register"]],
            else_steps=[failed],
        )
    )

    # An image spec's drift baseline, after the gate in our list.
    if "baseline" in built:
        steps.append(built["baseline"])

    for custom in spec.get("customSteps", []):
        if custom.get("type", "processing") != "processing":
            raise SystemExit(f"sdk-parity: custom step type {custom['type']} is not covered")
        name = custom["name"]
        built[name] = ProcessingStep(
            name=name,
            step_args=processor(name, custom),
            depends_on=custom.get("dependsOn"),
            retry_policies=retry_policies(name),
        )
        steps.append(built[name])

    pipeline = Pipeline(
        name=f"{spec['project']['name']}-pipeline",
        parameters=list(parameters.values()),
        steps=steps,
        sagemaker_session=session,
    )
    definition = pipeline.definition().replace(ROLE_ARN, ROLE_PLACEHOLDER)
    return json.loads(definition), inputs.paths


class _PipelineModel:
    """What a ModelStep reads of the model whose register() made its arguments: the session.
    The register request itself is the SDK's (create_model_package_from_containers)."""

    def __init__(self, session):
        self.sagemaker_session = session


def spec_hyperparameters(spec):
    """The training hyperparameters as the spec writes them (YAML types), with those mlopsc
    derives from the model (crates/mlopsc-core/src/ir/)."""
    model = spec["model"]
    hyperparameters = dict(model.get("hyperparameters", {}))
    if "architecture" in model:
        hyperparameters.setdefault("architecture", model["architecture"])
        hyperparameters.setdefault("pretrained", model.get("pretrained", True))
    if "numClasses" in model:
        hyperparameters.setdefault("num-classes", model["numClasses"])
    image = spec.get("preprocessing", {}).get("image")
    if image:
        hyperparameters.setdefault("image-size", f"{image['width']}x{image['height']}")
    return hyperparameters


class Refused(Exception):
    """A construct of our definition that the SDK refuses to build."""




def toolkit_argument(value):
    """What a script receives for a HyperParameters value under the SageMaker training toolkit
    (script mode, ours): the value JSON-decoded, then printed as Python's `str`."""
    try:
        decoded = json.loads(value)
    except (TypeError, ValueError):
        return value
    return decoded if isinstance(decoded, str) else str(decoded)


def driver_argument(value):
    """What a script receives for a HyperParameters value under the SDK v3 driver
    (sagemaker.train.container_drivers.common.utils.hyperparameters_to_cli_args)."""
    try:
        decoded = json.loads(value)
    except (TypeError, ValueError):
        return value
    return decoded if isinstance(decoded, str) else json.dumps(decoded)


def received(step, launcher):
    """A training step with its HyperParameters replaced by what the script receives."""
    if step.get("Type") != "Training":
        return step
    step = json.loads(json.dumps(step))
    hyperparameters = step["Arguments"].get("HyperParameters", {})
    step["Arguments"]["HyperParameters"] = {k: launcher(v) for k, v in hyperparameters.items()}
    return step


class Comparison:
    """Field-by-field comparison: `compared` counts the leaves the SDK decided, `inputs` those
    handed to it from our definition, `differences` holds (step, path, ours, sdk)."""

    def __init__(self, input_paths):
        self.input_paths = input_paths
        self.compared = 0
        self.inputs = 0
        self.differences = []

    def is_input(self, step, path):
        return any(
            s == step and (path == p or path.startswith(p + "/")) for s, p in self.input_paths
        )

    def leaf(self, step, path, ours, sdk):
        if self.is_input(step, path):
            self.inputs += 1
        else:
            self.compared += 1
        if ours != sdk:
            self.differences.append((step, path, ours, sdk))

    def walk(self, step, path, ours, sdk):
        if isinstance(ours, dict) and isinstance(sdk, dict):
            for key in list(ours) + [k for k in sdk if k not in ours]:
                child = f"{path}/{key}" if path else str(key)
                self.walk(step, child, ours.get(key, MISSING), sdk.get(key, MISSING))
        elif isinstance(ours, list) and isinstance(sdk, list) and len(ours) == len(sdk):
            for i, (a, b) in enumerate(zip(ours, sdk)):
                self.walk(step, f"{path}/{i}", a, b)
        else:
            self.leaf(step, path, ours, sdk)


def compare(ours, sdk, input_paths):
    comparison = Comparison(input_paths)
    top = lambda d: {k: v for k, v in d.items() if k not in ("Steps", "Parameters")}
    comparison.walk("", "", top(ours), top(sdk))
    ours_parameters = {p["Name"]: p for p in ours["Parameters"]}
    sdk_parameters = {p["Name"]: p for p in sdk["Parameters"]}
    for i, name in enumerate(ours_parameters):
        path = f"Parameters/{i}"
        comparison.walk("", path, ours_parameters[name], sdk_parameters.get(name, MISSING))
    for name in sdk_parameters.keys() - ours_parameters.keys():
        comparison.leaf("", f"Parameters[{name}]", MISSING, sdk_parameters[name])

    ours_steps, sdk_steps = by_name(ours["Steps"]), by_name(sdk["Steps"])
    for name in list(ours_steps) + [n for n in sdk_steps if n not in ours_steps]:
        if name not in ours_steps or name not in sdk_steps:
            comparison.leaf(name, "", ours_steps.get(name, MISSING), sdk_steps.get(name, MISSING))
            continue
        a = received(ours_steps[name], toolkit_argument)
        b = received(sdk_steps[name], driver_argument)
        # Branches are compared as the names they list; their steps are compared by name.
        for step in (a, b):
            for branch in ("IfSteps", "ElseSteps"):
                if branch in step.get("Arguments", {}):
                    step["Arguments"][branch] = [s["Name"] for s in step["Arguments"][branch]]
        comparison.walk(name, "", a, b)
    return comparison


def allowed(difference):
    """The ALLOWED entry that covers a difference, or None."""
    step, path, ours, sdk = difference
    for entry in ALLOWED:
        if entry.covers(step, path, ours, sdk):
            return entry
    return None


def check(project_dir, ours):
    """The findings of one definition, and the closing figures."""
    import yaml

    spec = yaml.safe_load(spec_path(project_dir).read_text(encoding="utf-8"))
    try:
        sdk, input_paths = build(spec, ours)
    except (Refused, ValueError, TypeError) as refusal:
        return [f"the SDK refuses our definition: {refusal}"], "the SDK refuses it"
    comparison = compare(ours, sdk, input_paths)
    findings = []
    allowed_count = 0
    for difference in comparison.differences:
        if allowed(difference) is not None:
            allowed_count += 1
            continue
        step, path, ours_value, sdk_value = difference
        where = f"{step}: {path}" if step else path
        findings.append(
            f"not allowed: {where}: ours {json.dumps(ours_value)[:200]}, "
            f"SDK {json.dumps(sdk_value)[:200]}"
        )
    summary = (
        f"{comparison.compared} fields compared ({comparison.inputs} more handed to the SDK "
        f"as input), {allowed_count} allowed differences, {len(findings)} not allowed"
    )
    return findings, summary


def self_test():
    """Broken copies of the flagship, each of which the check must catch."""
    import shutil
    import tempfile

    flagship = ROOT / "generated" / "skin-lesion"

    def register(pipeline):
        return by_name(pipeline["Steps"])["register"]

    def job_retry_on_register(pipeline):
        register(pipeline)["RetryPolicies"].append(
            {"ExceptionType": ["SageMaker.CAPACITY_ERROR"], "IntervalSeconds": 60,
             "BackoffRate": 2.0, "MaxAttempts": 5}
        )

    def unquoted_boolean(pipeline):
        by_name(pipeline["Steps"])["train"]["Arguments"]["HyperParameters"]["pretrained"] = "true"

    def no_experiment_config(pipeline):
        del pipeline["PipelineExperimentConfig"]

    def changed_default(pipeline):
        by_name(pipeline["Steps"])["train"]["Arguments"]["StoppingCondition"]["MaxRuntimeInSeconds"] = 60

    cases = [
        ("job retry codes on RegisterModel", job_retry_on_register, "SageMakerJobStepRetryPolicy is not allowed"),
        ("an unquoted boolean hyperparameter", unquoted_boolean, "HyperParameters/pretrained: ours \"True\""),
        ("no PipelineExperimentConfig", no_experiment_config, "not allowed: PipelineExperimentConfig"),
        ("a run time that is not the spec's", changed_default, "StoppingCondition/MaxRuntimeInSeconds"),
    ]
    failures = []
    clean, _ = check(flagship, json.loads((flagship / "pipeline.json").read_text(encoding="utf-8")))
    if clean:
        failures.append(f"the committed flagship has findings: {clean}")
    for name, mutate, expected in cases:
        with tempfile.TemporaryDirectory() as scratch:
            copy = Path(scratch) / "skin-lesion"
            copy.mkdir()
            shutil.copy(flagship / "manifest.json", copy / "manifest.json")
            broken = json.loads((flagship / "pipeline.json").read_text(encoding="utf-8"))
            mutate(broken)
            findings, _ = check(copy, broken)
        if not any(expected in f for f in findings):
            failures.append(f"{name}: expected a finding with {expected!r}, got {findings}")
    for failure in failures:
        print(f"self-test FAILED: {failure}")
    print(f"self-test: {len(cases) + 1 - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: {sys.argv[0]} generated/<project> | --self-test")
    project_dir = Path(sys.argv[1])
    if not built(project_dir, "pipeline.json"):
        print(f"sdk-parity: {project_dir}/pipeline.json: not in this build (it trains nothing)")
        return 0
    ours = json.loads((project_dir / "pipeline.json").read_text(encoding="utf-8"))
    findings, summary = check(project_dir, ours)
    for finding in findings:
        print(f"  {finding}")
    print(f"sdk-parity: {project_dir}/pipeline.json against SageMaker SDK {SDK_VERSION}: {summary}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
