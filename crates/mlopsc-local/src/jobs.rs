//! The job steps, run on this machine under the containers' contracts, without Docker.
//!
//! Each job gets a sandbox that stands for the container's `/opt/ml`: every `/opt/ml` path
//! in the step's arguments is moved into it, and the step code finds the root in
//! `MLOPSC_OPT_ML` (the `SM_*` variables of training already point into it).

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mlopsc_core::definition::StepType;
use serde_json::{Value, json};

use super::engine::{Executor, JobResult, StepDef};
use mlopsc_core::definition::expression as expr;

use super::hyperparameters;
use super::store::{S3Uri, Store, walk_files};
use super::values::Published;

/// The serving container's batch transform loop, run with the step's Python.
const TRANSFORM_HARNESS: &str = include_str!("transform.py");
/// How the transform and `serve --local` load the model's handler; the module they import.
const HANDLER_LOADER: &str = include_str!("handler.py");

/// Writes the harness `name` into `dir` with the handler loader beside it, where the
/// harness imports it from; returns the harness's path.
pub(crate) fn write_harness(dir: &Path, name: &str, harness: &str) -> Result<PathBuf, String> {
    let loader = dir.join("mlopsc_handler.py");
    std::fs::write(&loader, HANDLER_LOADER).map_err(|e| io_error(&loader, e))?;
    let path = dir.join(name);
    std::fs::write(&path, harness).map_err(|e| io_error(&path, e))?;
    Ok(path)
}

/// The root that SageMaker containers see; moved into each step's sandbox.
const OPT_ML: &str = "/opt/ml";
/// The variable that tells step code where `/opt/ml` is.
pub const OPT_ML_VARIABLE: &str = "MLOPSC_OPT_ML";
/// The local object store, for step code that reads S3 itself ([`Store::describe`]).
pub const S3_VARIABLE: &str = "MLOPSC_S3";

pub struct LocalJobs {
    pub store: Store,
    /// `<workdir>/runs/<execution id>`: one folder per step with its log and sandbox.
    pub run_dir: PathBuf,
    /// `<workdir>/registry`.
    pub registry: PathBuf,
    /// `<workdir>/models`, for Model steps.
    pub models: PathBuf,
    pub python: PathBuf,
    pub execution_id: String,
    pub region: String,
    /// The environment every step process starts from (then the step's own variables):
    /// [`crate::Options::environment`], never mlopsc's own process environment.
    pub environment: crate::Env,
}

impl Executor for LocalJobs {
    fn execute(&self, step: &StepDef, arguments: &Value) -> Result<JobResult, String> {
        match step.kind {
            StepType::Processing => self.processing(step, arguments),
            StepType::Training => self.training(step, arguments),
            StepType::RegisterModel => self.register(arguments),
            StepType::Model => self.model(step, arguments),
            StepType::Transform => self.transform(step, arguments),
            // The engine decides these itself; they run no job.
            StepType::Condition | StepType::Fail => Err(format!(
                "a {} step is no job: the engine decides it",
                step.kind.name()
            )),
        }
    }
}

/// A step's folder: `log.txt` and `opt/ml`, the sandbox.
struct Sandbox {
    dir: PathBuf,
    root: PathBuf,
}

impl Sandbox {
    fn create(run_dir: &Path, step: &str) -> Result<Sandbox, String> {
        let dir = run_dir.join(step);
        let root = dir.join("opt/ml");
        if root.exists() {
            std::fs::remove_dir_all(&root).map_err(|e| io_error(&root, e))?;
        }
        std::fs::create_dir_all(&root).map_err(|e| io_error(&root, e))?;
        Ok(Sandbox { dir, root })
    }

    /// A container path moved into the sandbox; other text unchanged.
    fn relocate(&self, text: &str) -> String {
        text.replace(OPT_ML, &self.root.to_string_lossy())
    }

    fn local(&self, container_path: &str) -> PathBuf {
        PathBuf::from(self.relocate(container_path))
    }

    fn log(&self) -> PathBuf {
        self.dir.join("log.txt")
    }
}

fn io_error(path: &Path, err: std::io::Error) -> String {
    format!("`{}`: {err}", path.display())
}

fn uri_at(value: &Value, path: &str) -> Result<S3Uri, String> {
    let text = expr::walk(value, path)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("`{path}` is not a string"))?;
    S3Uri::parse(text)
}

fn str_at<'a>(value: &'a Value, path: &str) -> Option<&'a str> {
    expr::walk(value, path).and_then(Value::as_str)
}

/// SageMaker's job name for a pipeline step, at most 63 characters.
fn job_name(execution_id: &str, step: &str) -> String {
    let mut name = format!("pipelines-{execution_id}-{step}");
    name.truncate(63);
    name.trim_end_matches('-').to_string()
}

impl LocalJobs {
    fn processing(&self, step: &StepDef, arguments: &Value) -> Result<JobResult, String> {
        let sandbox = Sandbox::create(&self.run_dir, &step.name)?;
        for input in arguments
            .get("ProcessingInputs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = str_at(input, "InputName").unwrap_or("?");
            if input.get("S3Input").is_none() {
                return Err(format!("input `{name}`: only S3Input is supported locally"));
            }
            if str_at(input, "S3Input.S3DataType").is_some_and(|t| t != "S3Prefix") {
                return Err(format!(
                    "input `{name}`: only S3DataType S3Prefix is supported locally"
                ));
            }
            let uri = uri_at(input, "S3Input.S3Uri")?;
            let local = sandbox.local(
                str_at(input, "S3Input.LocalPath")
                    .ok_or_else(|| format!("input `{name}` has no LocalPath"))?,
            );
            self.store
                .download(&uri, &local)
                .map_err(|e| format!("input `{name}`: {e}"))?;
        }
        let outputs: Vec<&Value> = arguments
            .pointer("/ProcessingOutputConfig/Outputs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .collect();
        for output in &outputs {
            let local = sandbox.local(str_at(output, "S3Output.LocalPath").unwrap_or(""));
            std::fs::create_dir_all(&local).map_err(|e| io_error(&local, e))?;
        }
        let app = arguments
            .get("AppSpecification")
            .cloned()
            .unwrap_or(json!({}));
        let mut command: Vec<String> = strings(app.get("ContainerEntrypoint"))
            .into_iter()
            .chain(strings(app.get("ContainerArguments")))
            .map(|s| sandbox.relocate(&s))
            .collect();
        if command.is_empty() {
            return Err("the processing step has no ContainerEntrypoint".into());
        }
        if matches!(command[0].as_str(), "python" | "python3") {
            command[0] = self.python.to_string_lossy().into_owned();
        }
        let environment: BTreeMap<String, String> = arguments
            .get("Environment")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), sandbox.relocate(&expr::text(v))))
            .collect();
        let timeout = max_runtime(arguments);
        self.run_logged(
            &command,
            &sandbox.root,
            &environment,
            &sandbox,
            timeout,
            false,
        )
        .map_err(JobFailure::into_reason)?;
        let mut output_uris = BTreeMap::new();
        for output in &outputs {
            let name = str_at(output, "OutputName").unwrap_or("?").to_string();
            let uri = uri_at(output, "S3Output.S3Uri")?;
            let local = sandbox.local(str_at(output, "S3Output.LocalPath").unwrap_or(""));
            self.store
                .upload_dir(&local, &uri)
                .map_err(|e| format!("output `{name}`: {e}"))?;
            output_uris.insert(name, uri);
        }
        let mut property_files = BTreeMap::new();
        for file in step
            .raw
            .get("PropertyFiles")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(name), Some(output), Some(path)) = (
                str_at(file, "PropertyFileName"),
                str_at(file, "OutputName"),
                str_at(file, "FilePath"),
            ) else {
                return Err(format!(
                    "property file `{file}` needs PropertyFileName, OutputName and FilePath"
                ));
            };
            let base = output_uris.get(output).ok_or_else(|| {
                format!("property file `{name}`: the step has no output `{output}`")
            })?;
            let key = format!("{}/{path}", base.key.trim_end_matches('/'));
            let location = self.store.path(&S3Uri {
                bucket: base.bucket.clone(),
                key,
            });
            let text = std::fs::read_to_string(&location)
                .map_err(|e| format!("property file `{name}`: {}", io_error(&location, e)))?;
            let document: Value = serde_json::from_str(&text).map_err(|e| {
                format!(
                    "property file `{name}` ({}) is not JSON: {e}",
                    location.display()
                )
            })?;
            property_files.insert(name.to_string(), document);
        }
        let mut properties = arguments.clone();
        let job = job_name(&self.execution_id, &step.name);
        properties["ProcessingJobName"] = json!(job);
        properties["ProcessingJobStatus"] = json!("Completed");
        properties["ProcessingJobArn"] = json!(format!(
            "arn:aws:sagemaker:{}:000000000000:processing-job/{job}",
            self.region
        ));
        Ok(JobResult {
            published: Published {
                properties,
                property_files,
            },
            ..JobResult::default()
        })
    }

    fn training(&self, step: &StepDef, arguments: &Value) -> Result<JobResult, String> {
        let sandbox = Sandbox::create(&self.run_dir, &step.name)?;
        let root = &sandbox.root;
        let job = job_name(&self.execution_id, &step.name);
        let raw_hps: BTreeMap<String, String> = arguments
            .get("HyperParameters")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), expr::text(v)))
            .collect();
        // The toolkit JSON-decodes every value first, its own settings included.
        let toolkit_setting = |name: &str| {
            raw_hps
                .get(name)
                .map(|raw| hyperparameters::python_str(&hyperparameters::json_loads(raw)))
        };
        let program = toolkit_setting("sagemaker_program")
            .ok_or("the training step has no `sagemaker_program` hyperparameter (script mode)")?;
        let submit = toolkit_setting("sagemaker_submit_directory")
            .ok_or("the training step has no `sagemaker_submit_directory` hyperparameter")?;
        let submit = &submit;
        let code_dir = root.join("code");
        let archive = self.store.path(&S3Uri::parse(submit)?);
        extract_tar_gz(&archive, &code_dir)?;

        let config = root.join("input/config");
        let model_dir = root.join("model");
        let output_data = root.join("output/data");
        for dir in [
            &config,
            &model_dir,
            &output_data,
            &root.join("output/intermediate"),
        ] {
            std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        }
        let mut channels = BTreeMap::new();
        let mut input_data_config = serde_json::Map::new();
        for channel in arguments
            .get("InputDataConfig")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = str_at(channel, "ChannelName").ok_or("a channel has no ChannelName")?;
            let uri = uri_at(channel, "DataSource.S3DataSource.S3Uri")?;
            let local = root.join("input/data").join(name);
            self.store
                .download(&uri, &local)
                .map_err(|e| format!("channel `{name}`: {e}"))?;
            channels.insert(name.to_string(), local);
            input_data_config.insert(
                name.to_string(),
                json!({"TrainingInputMode": str_at(arguments, "AlgorithmSpecification.TrainingInputMode").unwrap_or("File"),
                       "S3DistributionType": str_at(channel, "DataSource.S3DataSource.S3DataDistributionType").unwrap_or("FullyReplicated"),
                       "RecordWrapperType": "None"}),
            );
        }
        let checkpoint = match arguments.get("CheckpointConfig") {
            Some(cp) => {
                let uri = uri_at(cp, "S3Uri")?;
                let local = sandbox.local(str_at(cp, "LocalPath").unwrap_or("/opt/ml/checkpoints"));
                std::fs::create_dir_all(&local).map_err(|e| io_error(&local, e))?;
                // A first run has no checkpoints yet; that is not an error.
                if !self.store.list(&uri)?.is_empty() {
                    self.store.download(&uri, &local)?;
                }
                Some((uri, local))
            }
            None => None,
        };
        let instance_type = str_at(arguments, "ResourceConfig.InstanceType")
            .unwrap_or("local")
            .to_string();
        let resource_config = json!({
            "current_host": "algo-1", "current_instance_type": instance_type,
            "current_group_name": "homogeneousCluster", "hosts": ["algo-1"],
            "instance_groups": [{"instance_group_name": "homogeneousCluster", "instance_type": instance_type, "hosts": ["algo-1"]}],
            "network_interface_name": "eth0"});
        let write_json = |name: &str, value: &Value| -> Result<(), String> {
            let path = config.join(name);
            std::fs::write(&path, hyperparameters::compact_json(value))
                .map_err(|e| io_error(&path, e))
        };
        write_json("hyperparameters.json", &json!(raw_hps))?;
        write_json("resourceconfig.json", &resource_config)?;
        write_json(
            "inputdataconfig.json",
            &Value::Object(input_data_config.clone()),
        )?;

        let hps = hyperparameters::decode(&raw_hps);
        let user_args = hyperparameters::to_cmd_args(&hps);
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let path = |p: &Path| p.to_string_lossy().into_owned();
        let mut env: BTreeMap<String, String> = BTreeMap::from([
            ("SM_MODEL_DIR".into(), path(&model_dir)),
            ("SM_OUTPUT_DATA_DIR".into(), path(&output_data)),
            ("SM_OUTPUT_DIR".into(), path(&root.join("output"))),
            (
                "SM_OUTPUT_INTERMEDIATE_DIR".into(),
                path(&root.join("output/intermediate")),
            ),
            ("SM_INPUT_DIR".into(), path(&root.join("input"))),
            ("SM_INPUT_CONFIG_DIR".into(), path(&config)),
            ("SM_MODULE_DIR".into(), submit.clone()),
            (
                "SM_MODULE_NAME".into(),
                program.trim_end_matches(".py").to_string(),
            ),
            ("SM_USER_ENTRY_POINT".into(), program.clone()),
            ("SM_HOSTS".into(), "[\"algo-1\"]".into()),
            ("SM_CURRENT_HOST".into(), "algo-1".into()),
            ("SM_CURRENT_INSTANCE_TYPE".into(), instance_type.clone()),
            ("SM_NETWORK_INTERFACE_NAME".into(), "eth0".into()),
            ("SM_NUM_CPUS".into(), cpus.to_string()),
            ("SM_NUM_GPUS".into(), "0".into()),
            ("SM_LOG_LEVEL".into(), "20".into()),
            (
                "SM_CHANNELS".into(),
                hyperparameters::compact_json(&json!(channels.keys().collect::<Vec<_>>())),
            ),
            ("SM_HPS".into(), hyperparameters::compact_json(&json!(hps))),
            (
                "SM_USER_ARGS".into(),
                hyperparameters::compact_json(&json!(user_args)),
            ),
            (
                "SM_RESOURCE_CONFIG".into(),
                hyperparameters::compact_json(&resource_config),
            ),
            (
                "SM_INPUT_DATA_CONFIG".into(),
                hyperparameters::compact_json(&Value::Object(input_data_config)),
            ),
            ("TRAINING_JOB_NAME".into(), job.clone()),
        ]);
        for (name, dir) in &channels {
            env.insert(format!("SM_CHANNEL_{}", name.to_uppercase()), path(dir));
        }
        for (name, value) in &hps {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => hyperparameters::compact_json(other),
            };
            env.insert(format!("SM_HP_{}", name.to_uppercase()), text);
        }
        for (k, v) in arguments
            .get("Environment")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            env.insert(k.clone(), sandbox.relocate(&expr::text(v)));
        }
        let mut command = vec![path(&self.python), path(&code_dir.join(&program))];
        command.extend(user_args);
        let spot = arguments
            .get("EnableManagedSpotTraining")
            .and_then(Value::as_bool)
            == Some(true);
        let max_wait = expr::walk(arguments, "StoppingCondition.MaxWaitTimeInSeconds")
            .and_then(Value::as_u64)
            .map(Duration::from_secs);
        let started = Instant::now();
        let mut restart = false;
        let outcome = loop {
            let before = checkpoint.as_ref().map(|(_, local)| fingerprint(local));
            let outcome = self.run_logged(
                &command,
                &code_dir,
                &env,
                &sandbox,
                max_runtime(arguments),
                restart,
            );
            // Checkpoints go back to S3 whether or not the job finished: a restart resumes there.
            if let Some((uri, local)) = &checkpoint {
                self.store.upload_dir(local, uri)?;
            }
            let Err(JobFailure::Interrupted(reason)) = &outcome else {
                break outcome;
            };
            // A managed spot job whose instance is reclaimed is restarted by SageMaker on a new
            // one, with an empty model directory and the checkpoints copied back, until
            // MaxWaitTimeInSeconds. Locally, only while the interrupted attempt checkpointed
            // something new, so that a process that keeps dying is not restarted forever.
            let progressed = checkpoint
                .as_ref()
                .is_some_and(|(_, local)| before.as_ref() != Some(&fingerprint(local)));
            let waited_too_long = max_wait.is_some_and(|w| started.elapsed() > w);
            if !spot || !progressed || waited_too_long {
                break outcome;
            }
            let Some((uri, local)) = &checkpoint else {
                break outcome;
            };
            for dir in [&model_dir, &output_data, local] {
                std::fs::remove_dir_all(dir).map_err(|e| io_error(dir, e))?;
                std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
            }
            self.store.download(uri, local)?;
            append_line(
                &sandbox.log(),
                &format!(
                    "[mlopsc] spot interruption ({reason}): the job restarts on a new instance from the checkpoints in {uri}"
                ),
            )?;
            restart = true;
        };
        outcome.map_err(JobFailure::into_reason)?;

        let output_path = uri_at(arguments, "OutputDataConfig.S3OutputPath")?;
        let prefix = format!("{}/{job}/output", output_path.key.trim_end_matches('/'));
        let model_uri = S3Uri {
            bucket: output_path.bucket.clone(),
            key: format!("{prefix}/model.tar.gz"),
        };
        self.store.put(&model_uri, &tar_gz_dir(&model_dir)?)?;
        let output_uri = S3Uri {
            bucket: output_path.bucket.clone(),
            key: format!("{prefix}/output.tar.gz"),
        };
        self.store.put(&output_uri, &tar_gz_dir(&output_data)?)?;

        let log =
            String::from_utf8_lossy(&std::fs::read(sandbox.log()).unwrap_or_default()).into_owned();
        let metrics = final_metrics(arguments, &log)?;
        let mut properties = arguments.clone();
        properties["TrainingJobName"] = json!(job);
        properties["TrainingJobStatus"] = json!("Completed");
        properties["TrainingJobArn"] = json!(format!(
            "arn:aws:sagemaker:{}:000000000000:training-job/{job}",
            self.region
        ));
        properties["ModelArtifacts"] = json!({"S3ModelArtifacts": model_uri.to_string()});
        properties["FinalMetricDataList"] = json!(
            metrics
                .iter()
                .map(|(name, value)| json!({"MetricName": name, "Value": value}))
                .collect::<Vec<_>>()
        );
        Ok(JobResult {
            published: Published {
                properties,
                property_files: BTreeMap::new(),
            },
            metrics,
            registered: None,
        })
    }

    fn register(&self, arguments: &Value) -> Result<JobResult, String> {
        let group = str_at(arguments, "ModelPackageGroupName")
            .ok_or("RegisterModel needs ModelPackageGroupName")?;
        let group_dir = self.registry.join(group);
        std::fs::create_dir_all(&group_dir).map_err(|e| io_error(&group_dir, e))?;
        // `create_dir` claims a version atomically, so concurrent registrations never share one.
        let (version, dir) = loop {
            let next = 1 + std::fs::read_dir(&group_dir)
                .map_err(|e| io_error(&group_dir, e))?
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
                .max()
                .unwrap_or(0);
            let dir = group_dir.join(next.to_string());
            match std::fs::create_dir(&dir) {
                Ok(()) => break (next, dir),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_error(&dir, e)),
            }
        };
        let containers = expr::walk(arguments, "InferenceSpecification.Containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut local_model = None;
        for (i, container) in containers.iter().enumerate() {
            if let Some(url) = str_at(container, "ModelDataUrl") {
                let source = self.store.path(&S3Uri::parse(url)?);
                let target = dir.join(if i == 0 {
                    "model.tar.gz".to_string()
                } else {
                    format!("model-{i}.tar.gz")
                });
                super::store::copy_file(&source, &target)
                    .map_err(|e| format!("model data {url}: {e}"))?;
                local_model.get_or_insert((url.to_string(), target));
            }
        }
        let mut metrics = json!({});
        if let Some(kinds) = arguments.get("ModelMetrics").and_then(Value::as_object) {
            for (kind, entries) in kinds {
                for (entry, reference) in entries.as_object().into_iter().flatten() {
                    let Some(url) = str_at(reference, "S3Uri") else {
                        continue;
                    };
                    let source = self.store.path(&S3Uri::parse(url)?);
                    let target = dir.join("metrics").join(format!("{kind}-{entry}.json"));
                    super::store::copy_file(&source, &target)
                        .map_err(|e| format!("model metrics {kind}.{entry}: {e}"))?;
                    if kind == "ModelQuality" && entry == "Statistics" {
                        let text =
                            std::fs::read_to_string(&target).map_err(|e| io_error(&target, e))?;
                        let document: Value = serde_json::from_str(&text)
                            .map_err(|e| format!("model metrics {url} are not JSON: {e}"))?;
                        metrics = document.get("metrics").cloned().unwrap_or(document);
                    }
                }
            }
        }
        let status = str_at(arguments, "ModelApprovalStatus").unwrap_or("PendingManualApproval");
        let arn = format!(
            "arn:aws:sagemaker:{}:000000000000:model-package/{group}/{version}",
            self.region
        );
        let mut package = arguments.clone();
        package["ModelPackageVersion"] = json!(version);
        package["ModelPackageArn"] = json!(arn);
        package["ModelPackageStatus"] = json!("Completed");
        package["PipelineExecutionId"] = json!(self.execution_id);
        let package_file = dir.join("model-package.json");
        let text = serde_json::to_string_pretty(&package).unwrap_or_default();
        std::fs::write(&package_file, text).map_err(|e| io_error(&package_file, e))?;
        let (model_url, local_model) = match local_model {
            Some((url, path)) => (json!(url), json!(path.to_string_lossy())),
            None => (Value::Null, Value::Null),
        };
        Ok(JobResult {
            published: Published {
                properties: json!({"ModelPackageArn": arn, "ModelPackageVersion": version, "ModelApprovalStatus": status}),
                property_files: BTreeMap::new(),
            },
            metrics: BTreeMap::new(),
            registered: Some(json!({
                "group": group, "version": version, "approvalStatus": status,
                "modelDataUrl": model_url, "localModelData": local_model, "metrics": metrics})),
        })
    }

    fn model(&self, step: &StepDef, arguments: &Value) -> Result<JobResult, String> {
        let name = job_name(&self.execution_id, &step.name);
        std::fs::create_dir_all(&self.models).map_err(|e| io_error(&self.models, e))?;
        let file = self.models.join(format!("{name}.json"));
        let text = serde_json::to_string_pretty(arguments).unwrap_or_default();
        std::fs::write(&file, text).map_err(|e| io_error(&file, e))?;
        Ok(JobResult {
            published: Published {
                properties: json!({"ModelName": name,
                    "ModelArn": format!("arn:aws:sagemaker:{}:000000000000:model/{name}", self.region)}),
                property_files: BTreeMap::new(),
            },
            ..JobResult::default()
        })
    }
}

impl LocalJobs {
    /// A batch transform: the model a Model step of this run created, its `model.tar.gz`
    /// unpacked, and the handler it ships (model_fn, input_fn, predict_fn, output_fn) run on
    /// every object under `TransformInput`'s prefix; `<S3OutputPath>/<object>.out` for each.
    fn transform(&self, step: &StepDef, arguments: &Value) -> Result<JobResult, String> {
        let sandbox = Sandbox::create(&self.run_dir, &step.name)?;
        let model_name = str_at(arguments, "ModelName").ok_or("the transform has no ModelName")?;
        // SageMaker's pattern for model names; it also keeps the name inside `models/`.
        if model_name.is_empty()
            || model_name.starts_with('-')
            || !model_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(format!(
                "`{model_name}` is not a SageMaker model name (letters, digits and hyphens)"
            ));
        }
        let model_file = self.models.join(format!("{model_name}.json"));
        let model: Value = std::fs::read(&model_file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| {
                format!("model `{model_name}` was not created by a Model step of this execution")
            })?;
        let container = model
            .get("PrimaryContainer")
            .or_else(|| model.pointer("/Containers/0"))
            .ok_or_else(|| format!("model `{model_name}` has no container"))?;
        let model_data = str_at(container, "ModelDataUrl")
            .ok_or_else(|| format!("model `{model_name}` has no ModelDataUrl"))?;
        let model_dir = sandbox.root.join("model");
        extract_tar_gz(&self.store.path(&S3Uri::parse(model_data)?), &model_dir)?;
        if str_at(
            arguments,
            "TransformInput.DataSource.S3DataSource.S3DataType",
        )
        .is_some_and(|t| t != "S3Prefix")
        {
            return Err("only S3DataType S3Prefix is supported locally".into());
        }
        let input_uri = uri_at(arguments, "TransformInput.DataSource.S3DataSource.S3Uri")?;
        let input_dir = sandbox.root.join("transform/input");
        self.store
            .download(&input_uri, &input_dir)
            .map_err(|e| format!("transform input: {e}"))?;
        let output_dir = sandbox.root.join("transform/output");
        std::fs::create_dir_all(&output_dir).map_err(|e| io_error(&output_dir, e))?;
        let harness = write_harness(&sandbox.dir, "transform.py", TRANSFORM_HARNESS)?;
        let setting =
            |path: &str, default: &str| str_at(arguments, path).unwrap_or(default).to_string();
        let path = |p: &Path| p.to_string_lossy().into_owned();
        let command = vec![
            path(&self.python),
            path(&harness),
            path(&model_dir),
            path(&input_dir),
            path(&output_dir),
            setting("TransformInput.ContentType", ""),
            // The serving toolkit's default accept type.
            setting("TransformOutput.Accept", "application/json"),
            setting("TransformInput.SplitType", "None"),
            setting("TransformOutput.AssembleWith", "None"),
        ];
        // The model's environment, then the transform's, as SageMaker merges them.
        let environment: BTreeMap<String, String> =
            [container.get("Environment"), arguments.get("Environment")]
                .into_iter()
                .flatten()
                .filter_map(Value::as_object)
                .flatten()
                .map(|(k, v)| (k.clone(), sandbox.relocate(&expr::text(v))))
                .collect();
        self.run_logged(&command, &model_dir, &environment, &sandbox, None, false)
            .map_err(JobFailure::into_reason)?;
        let output_uri = uri_at(arguments, "TransformOutput.S3OutputPath")?;
        self.store
            .upload_dir(&output_dir, &output_uri)
            .map_err(|e| format!("transform output: {e}"))?;
        let mut properties = arguments.clone();
        let job = job_name(&self.execution_id, &step.name);
        properties["TransformJobName"] = json!(job);
        properties["TransformJobStatus"] = json!("Completed");
        properties["TransformJobArn"] = json!(format!(
            "arn:aws:sagemaker:{}:000000000000:transform-job/{job}",
            self.region
        ));
        Ok(JobResult {
            published: Published {
                properties,
                property_files: BTreeMap::new(),
            },
            ..JobResult::default()
        })
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(expr::text)
        .collect()
}

fn max_runtime(arguments: &Value) -> Option<Duration> {
    expr::walk(arguments, "StoppingCondition.MaxRuntimeInSeconds")
        .and_then(Value::as_u64)
        .map(Duration::from_secs)
}

/// Why a job's process did not succeed.
#[derive(Debug)]
enum JobFailure {
    /// Killed by SIGTERM or SIGKILL that the runner did not send: what a reclaimed spot
    /// instance looks like from inside the container.
    Interrupted(String),
    /// Anything else: its exit status, the runner's own timeout, a process that did not start.
    Failed(String),
}

impl From<String> for JobFailure {
    fn from(reason: String) -> JobFailure {
        JobFailure::Failed(reason)
    }
}

impl JobFailure {
    fn into_reason(self) -> String {
        match self {
            JobFailure::Interrupted(reason) | JobFailure::Failed(reason) => reason,
        }
    }
}

/// The names, sizes and times of the files under `dir`: whether a job attempt checkpointed.
fn fingerprint(dir: &Path) -> Vec<(String, u64, Option<std::time::SystemTime>)> {
    let mut files = Vec::new();
    if walk_files(dir, dir, &mut files).is_err() {
        return Vec::new();
    }
    let mut out: Vec<_> = files
        .into_iter()
        .map(|(relative, path)| {
            let meta = std::fs::metadata(&path).ok();
            (
                relative,
                meta.as_ref().map_or(0, |m| m.len()),
                meta.and_then(|m| m.modified().ok()),
            )
        })
        .collect();
    out.sort();
    out
}

fn append_line(path: &Path, line: &str) -> Result<(), String> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .and_then(|mut f| writeln!(f, "{line}"))
        .map_err(|e| io_error(path, e))
}

/// The signal that ended a process, if one did.
#[cfg(unix)]
fn terminating_signal(status: std::process::ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(&status)
}

#[cfg(not(unix))]
fn terminating_signal(_: std::process::ExitStatus) -> Option<i32> {
    None
}

/// SIGKILL and SIGTERM, the signals of a reclaimed instance.
const INTERRUPTING_SIGNALS: [i32; 2] = [9, 15];

impl LocalJobs {
    /// Runs `command` with stdout and stderr in the step's `log.txt` (appended to when
    /// `append`, for a restarted attempt), in [`LocalJobs::environment`] plus `environment`; an
    /// error carries the exit status and the log's last lines, as SageMaker's failure reason does.
    /// PATH with the step Python's directory first, as in the container: a step whose
    /// entrypoint is a shell (one that installs the code's requirements, then runs the
    /// script) finds this `python3`, with the run's packages, not another one.
    fn python_first_on_path(&self) -> Option<(OsString, OsString)> {
        let directory = self.python.parent().filter(|d| !d.as_os_str().is_empty())?;
        let inherited = self.environment.get(OsStr::new("PATH"));
        let paths = std::iter::once(directory.to_path_buf())
            .chain(inherited.into_iter().flat_map(std::env::split_paths));
        let joined = std::env::join_paths(paths).ok()?;
        Some((OsString::from("PATH"), joined))
    }

    fn run_logged(
        &self,
        command: &[String],
        cwd: &Path,
        environment: &BTreeMap<String, String>,
        sandbox: &Sandbox,
        timeout: Option<Duration>,
        append: bool,
    ) -> Result<(), JobFailure> {
        let log_path = sandbox.log();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(&log_path)
            .map_err(|e| io_error(&log_path, e))?;
        let log_err = log.try_clone().map_err(|e| io_error(&log_path, e))?;
        let mut child = Command::new(&command[0])
            .args(&command[1..])
            .current_dir(cwd)
            .env_clear()
            .envs(&self.environment)
            .envs(self.python_first_on_path())
            .envs(environment)
            .env(OPT_ML_VARIABLE, &sandbox.root)
            .env(S3_VARIABLE, self.store.describe().to_string())
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot start `{}`: {e}", command[0]))?;
        let started = Instant::now();
        let status = loop {
            match child.try_wait().map_err(|e| e.to_string())? {
                Some(status) => break status,
                None if timeout.is_some_and(|t| started.elapsed() > t) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(JobFailure::Failed(format!(
                        "MaxRuntimeExceeded: stopped after {} s; log: {}",
                        started.elapsed().as_secs(),
                        log_path.display()
                    )));
                }
                None => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        if status.success() {
            return Ok(());
        }
        // Lossy: a log is not always UTF-8, and its last lines are the failure reason.
        let text =
            String::from_utf8_lossy(&std::fs::read(&log_path).unwrap_or_default()).into_owned();
        let mut tail: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .rev()
            .take(3)
            .collect();
        tail.reverse();
        if tail.is_empty() {
            tail.push("(the log is empty)");
        }
        let reason = format!(
            "AlgorithmError: {} exited with {status}: {}; log: {}",
            program_name(command),
            tail.join(" | "),
            log_path.display()
        );
        if terminating_signal(status).is_some_and(|s| INTERRUPTING_SIGNALS.contains(&s)) {
            Err(JobFailure::Interrupted(reason))
        } else {
            Err(JobFailure::Failed(reason))
        }
    }
}

/// The script a command runs (`train.py` of `python .../train.py --x`), else the program.
fn program_name(command: &[String]) -> String {
    let path = command
        .get(1)
        .filter(|a| !a.starts_with('-'))
        .unwrap_or(&command[0]);
    Path::new(path)
        .file_name()
        .map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned())
}

/// The last value each `MetricDefinitions` regex captured in the log, as SageMaker reports
/// a training job's final metrics.
pub fn final_metrics(arguments: &Value, log: &str) -> Result<BTreeMap<String, f64>, String> {
    let mut metrics = BTreeMap::new();
    let definitions = expr::walk(arguments, "AlgorithmSpecification.MetricDefinitions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for definition in &definitions {
        let (Some(name), Some(pattern)) = (str_at(definition, "Name"), str_at(definition, "Regex"))
        else {
            continue;
        };
        let regex = regex::Regex::new(pattern)
            .map_err(|e| format!("metric `{name}`: the regex `{pattern}` is invalid: {e}"))?;
        let last = regex
            .captures_iter(log)
            .filter_map(|c| c.get(1).and_then(|m| m.as_str().parse::<f64>().ok()))
            .filter(|v| v.is_finite())
            .last();
        if let Some(value) = last {
            metrics.insert(name.to_string(), value);
        }
    }
    Ok(metrics)
}

/// A `.tar.gz` of every file below `dir`, paths relative to it, byte-identical for
/// identical files.
fn tar_gz_dir(dir: &Path) -> Result<Vec<u8>, String> {
    let mut files = Vec::new();
    if dir.is_dir() {
        walk_files(dir, dir, &mut files).map_err(|e| io_error(dir, e))?;
    }
    files.sort();
    let encoder = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::fast());
    let mut archive = tar::Builder::new(encoder);
    for (relative, path) in &files {
        let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        archive
            .append_data(&mut header, relative, bytes.as_slice())
            .map_err(|e| io_error(path, e))?;
    }
    let encoder = archive.into_inner().map_err(|e| e.to_string())?;
    encoder.finish().map_err(|e| e.to_string())
}

pub(crate) fn extract_tar_gz(archive: &Path, into: &Path) -> Result<(), String> {
    let file = std::fs::File::open(archive).map_err(|e| io_error(archive, e))?;
    std::fs::create_dir_all(into).map_err(|e| io_error(into, e))?;
    // `unpack` refuses entries that would land outside `into`.
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(into)
        .map_err(|e| format!("cannot unpack `{}`: {e}", archive.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_the_last_match_of_each_definition() {
        let arguments = json!({"AlgorithmSpecification": {"MetricDefinitions": [
            {"Name": "train:loss", "Regex": "train_loss=([0-9.eE+-]+)"},
            {"Name": "validation:score", "Regex": "validation_score=([0-9.eE+-]+)"},
            {"Name": "never", "Regex": "absent=([0-9.]+)"}]}});
        let log = "epoch=0 train_loss=0.9 validation_score=0.5\nepoch=1 train_loss=4.5e-1\n";
        let metrics = final_metrics(&arguments, log).unwrap();
        assert_eq!(
            metrics,
            BTreeMap::from([
                ("train:loss".into(), 0.45),
                ("validation:score".into(), 0.5)
            ])
        );
        let broken =
            json!({"AlgorithmSpecification": {"MetricDefinitions": [{"Name": "x", "Regex": "("}]}});
        assert!(
            final_metrics(&broken, "")
                .unwrap_err()
                .contains("regex `(` is invalid")
        );
    }

    /// Jobs whose "Python" is `sh`, so that shell scripts stand in for the step code and
    /// the container contracts are checked without Python.
    fn shell_jobs(tmp: &Path) -> LocalJobs {
        LocalJobs {
            store: Store::new(tmp.join("s3"), &[]).unwrap(),
            run_dir: tmp.join("runs/exec1"),
            registry: tmp.join("registry"),
            models: tmp.join("models"),
            python: PathBuf::from("sh"),
            execution_id: "exec1".into(),
            region: "eu-west-1".into(),
            environment: std::env::vars_os()
                .filter(|(name, _)| name == "PATH")
                .collect(),
        }
    }

    fn put(jobs: &LocalJobs, uri: &str, bytes: &[u8]) {
        jobs.store.put(&S3Uri::parse(uri).unwrap(), bytes).unwrap();
    }

    fn get(jobs: &LocalJobs, uri: &str) -> Vec<u8> {
        std::fs::read(jobs.store.path(&S3Uri::parse(uri).unwrap())).unwrap()
    }

    fn step(name: &str, kind: &str, raw: Value) -> StepDef {
        StepDef {
            name: name.into(),
            kind: StepType::parse(kind).expect("a step type"),
            arguments: json!({}),
            raw,
            depends_on: Vec::new(),
            branch: None,
        }
    }

    const TRAIN_SCRIPT: &str = r#"echo "args: $*"
echo "hps: $SM_HPS"
echo "user_args: $SM_USER_ARGS"
echo "hp: $SM_HP_LR"
echo "channel: $(cat "$SM_CHANNEL_TRAIN/part/a.txt")"
echo "resumed from: $(cat "$MLOPSC_OPT_ML/checkpoints/last.txt")"
echo "epoch=2" > "$MLOPSC_OPT_ML/checkpoints/last.txt"
echo "fail: $SM_HP_FAIL"
[ "$SM_HP_FAIL" = "true" ] && exit 3
echo weights > "$SM_MODEL_DIR/model.pt"
echo report > "$SM_OUTPUT_DATA_DIR/report.txt"
echo "train_loss=0.5"
echo "train_loss=0.25"
"#;

    fn training_arguments(fail: bool) -> Value {
        json!({
            "AlgorithmSpecification": {"TrainingInputMode": "File", "MetricDefinitions": [
                {"Name": "train:loss", "Regex": "train_loss=([0-9.]+)"}]},
            "HyperParameters": {"lr": "1e-3", "pretrained": "true", "fail": if fail { "true" } else { "false" },
                "sagemaker_program": "train.py", "sagemaker_submit_directory": "s3://code/src/sourcedir.tar.gz"},
            "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": "s3://data/train/"}}}],
            "OutputDataConfig": {"S3OutputPath": "s3://models/out/"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
            "CheckpointConfig": {"S3Uri": "s3://ckpt/run/", "LocalPath": "/opt/ml/checkpoints"}
        })
    }

    /// Jobs under `dir` with the shell script's code, a training channel and a checkpoint of
    /// an earlier attempt in the store.
    fn training_fixture(dir: &Path) -> LocalJobs {
        let jobs = shell_jobs(dir);
        let source = dir.join("source");
        std::fs::create_dir_all(&source).unwrap();
        std::fs::write(source.join("train.py"), TRAIN_SCRIPT).unwrap();
        put(
            &jobs,
            "s3://code/src/sourcedir.tar.gz",
            &tar_gz_dir(&source).unwrap(),
        );
        put(&jobs, "s3://data/train/part/a.txt", b"rows");
        put(&jobs, "s3://ckpt/run/last.txt", b"epoch=1");
        jobs
    }

    /// A step process starts from the jobs' environment (the invocation's), not from mlopsc's
    /// own process: a variable only the given environment holds reaches the step code, and one
    /// only the process holds does not.
    #[test]
    fn a_step_process_sees_the_given_environment_not_mlopscs() {
        assert!(
            std::env::var_os("CARGO_MANIFEST_DIR").is_some(),
            "cargo sets it for the test process"
        );
        let tmp = tempfile::tempdir().unwrap();
        let mut jobs = training_fixture(tmp.path());
        jobs.environment
            .insert("MLOPSC_GIVEN".into(), "from the invocation".into());
        let source = tmp.path().join("source");
        std::fs::write(
            source.join("train.py"),
            "echo \"given: $MLOPSC_GIVEN\"\necho \"process: ${CARGO_MANIFEST_DIR-unset}\"\necho w > \"$SM_MODEL_DIR/model.pt\"\n",
        )
        .unwrap();
        put(
            &jobs,
            "s3://code/src/sourcedir.tar.gz",
            &tar_gz_dir(&source).unwrap(),
        );
        jobs.training(
            &step("train", "Training", json!({})),
            &training_arguments(false),
        )
        .unwrap();
        let log = std::fs::read_to_string(tmp.path().join("runs/exec1/train/log.txt")).unwrap();
        assert!(log.contains("given: from the invocation\n"), "{log}");
        assert!(log.contains("process: unset\n"), "{log}");
    }

    #[test]
    fn training_follows_the_toolkit_contract_and_syncs_checkpoints() {
        let tmp = tempfile::tempdir().unwrap();
        let jobs = training_fixture(tmp.path());

        let result = jobs
            .training(
                &step("train", "Training", json!({})),
                &training_arguments(false),
            )
            .unwrap();
        let log = std::fs::read_to_string(tmp.path().join("runs/exec1/train/log.txt")).unwrap();
        assert!(
            log.contains("args: --fail False --lr 0.001 --pretrained True\n"),
            "{log}"
        );
        assert!(
            log.contains(r#"hps: {"fail":false,"lr":0.001,"pretrained":true}"#),
            "{log}"
        );
        assert!(
            log.contains(r#"user_args: ["--fail","False","--lr","0.001","--pretrained","True"]"#),
            "{log}"
        );
        assert!(log.contains("hp: 0.001\n"), "{log}");
        // SM_HP_* values are JSON, unlike the arguments: `false`, not `False`.
        assert!(log.contains("fail: false\n"), "{log}");
        assert!(log.contains("channel: rows\n"), "{log}");
        assert!(
            log.contains("resumed from: epoch=1\n"),
            "checkpoints are synced in first:\n{log}"
        );
        assert_eq!(
            get(&jobs, "s3://ckpt/run/last.txt"),
            b"epoch=2\n",
            "and back after"
        );
        let config = tmp.path().join("runs/exec1/train/opt/ml/input/config");
        let hyperparameters: Value =
            serde_json::from_slice(&std::fs::read(config.join("hyperparameters.json")).unwrap())
                .unwrap();
        assert_eq!(
            hyperparameters["lr"], "1e-3",
            "hyperparameters.json keeps SageMaker's strings"
        );
        let channels: Value =
            serde_json::from_slice(&std::fs::read(config.join("inputdataconfig.json")).unwrap())
                .unwrap();
        assert_eq!(channels["train"]["TrainingInputMode"], "File");
        assert!(config.join("resourceconfig.json").is_file());

        assert_eq!(
            result.metrics,
            BTreeMap::from([("train:loss".to_string(), 0.25)])
        );
        let model = "s3://models/out/pipelines-exec1-train/output/model.tar.gz";
        assert_eq!(
            result.published.properties["ModelArtifacts"]["S3ModelArtifacts"],
            model
        );
        let archive = tmp.path().join("model.tar.gz");
        std::fs::write(&archive, get(&jobs, model)).unwrap();
        extract_tar_gz(&archive, &tmp.path().join("model")).unwrap();
        assert_eq!(
            std::fs::read(tmp.path().join("model/model.pt")).unwrap(),
            b"weights\n"
        );
        assert!(
            jobs.store
                .path(
                    &S3Uri::parse("s3://models/out/pipelines-exec1-train/output/output.tar.gz")
                        .unwrap()
                )
                .is_file()
        );
    }

    #[test]
    fn a_failed_training_keeps_its_checkpoints_and_reports_the_log() {
        let tmp = tempfile::tempdir().unwrap();
        let jobs = training_fixture(tmp.path());
        let reason = jobs
            .training(
                &step("train", "Training", json!({})),
                &training_arguments(true),
            )
            .unwrap_err();
        assert!(
            reason.starts_with("AlgorithmError: train.py exited with"),
            "{reason}"
        );
        assert!(
            reason.contains("resumed from: epoch=1"),
            "the log's last lines: {reason}"
        );
        assert_eq!(
            get(&jobs, "s3://ckpt/run/last.txt"),
            b"epoch=2\n",
            "a restart resumes from here"
        );
        let model =
            S3Uri::parse("s3://models/out/pipelines-exec1-train/output/model.tar.gz").unwrap();
        assert!(!jobs.store.path(&model).exists());
    }

    /// A "train.py" that checkpoints, then is killed by SIGKILL as a reclaimed spot instance
    /// is, unless it found a checkpoint to resume from.
    const INTERRUPTED_SCRIPT: &str = r#"if [ -f "$MLOPSC_OPT_ML/checkpoints/last.txt" ]; then
  echo "resumed from $(cat "$MLOPSC_OPT_ML/checkpoints/last.txt")"
  echo "model dir: $(ls "$SM_MODEL_DIR" | wc -l) files"
else
  echo "epoch=1" > "$MLOPSC_OPT_ML/checkpoints/last.txt"
  echo partial > "$SM_MODEL_DIR/partial.pt"
  [ -n "$SM_HP_NEVER_CHECKPOINT" ] && rm "$MLOPSC_OPT_ML/checkpoints/last.txt"
  kill -9 $$
fi
echo weights > "$SM_MODEL_DIR/model.pt"
"#;

    fn interrupted_fixture(dir: &Path) -> LocalJobs {
        let jobs = shell_jobs(dir);
        let source = dir.join("source");
        std::fs::create_dir_all(&source).unwrap();
        std::fs::write(source.join("train.py"), INTERRUPTED_SCRIPT).unwrap();
        put(
            &jobs,
            "s3://code/src/sourcedir.tar.gz",
            &tar_gz_dir(&source).unwrap(),
        );
        put(&jobs, "s3://data/train/part/a.txt", b"rows");
        jobs
    }

    fn spot_arguments(spot: bool, never_checkpoint: bool) -> Value {
        let mut arguments = training_arguments(false);
        arguments["EnableManagedSpotTraining"] = json!(spot);
        if never_checkpoint {
            arguments["HyperParameters"]["never_checkpoint"] = json!("1");
        }
        arguments
    }

    #[test]
    fn a_spot_job_killed_after_a_checkpoint_restarts_from_it_and_writes_its_model() {
        let tmp = tempfile::tempdir().unwrap();
        let jobs = interrupted_fixture(tmp.path());
        let result = jobs
            .training(
                &step("train", "Training", json!({})),
                &spot_arguments(true, false),
            )
            .unwrap();
        let log = std::fs::read_to_string(tmp.path().join("runs/exec1/train/log.txt")).unwrap();
        assert!(
            log.contains(
                "[mlopsc] spot interruption (AlgorithmError: train.py exited with signal: 9"
            ),
            "{log}"
        );
        assert!(
            log.contains("from the checkpoints in s3://ckpt/run/\nresumed from epoch=1\n"),
            "the restart finds the checkpoint synced back from S3:\n{log}"
        );
        assert!(
            log.contains("model dir: 0 files"),
            "a new instance starts with an empty model directory:\n{log}"
        );
        assert_eq!(get(&jobs, "s3://ckpt/run/last.txt"), b"epoch=1\n");
        let model = result.published.properties["ModelArtifacts"]["S3ModelArtifacts"]
            .as_str()
            .unwrap()
            .to_string();
        let archive = tmp.path().join("model.tar.gz");
        std::fs::write(&archive, get(&jobs, &model)).unwrap();
        extract_tar_gz(&archive, &tmp.path().join("model")).unwrap();
        assert_eq!(
            std::fs::read(tmp.path().join("model/model.pt")).unwrap(),
            b"weights\n"
        );
        assert!(!tmp.path().join("model/partial.pt").exists());
    }

    #[test]
    fn a_killed_job_is_not_restarted_without_spot_or_without_a_new_checkpoint() {
        for (spot, never_checkpoint) in [(false, false), (true, true)] {
            let tmp = tempfile::tempdir().unwrap();
            let jobs = interrupted_fixture(tmp.path());
            let reason = jobs
                .training(
                    &step("train", "Training", json!({})),
                    &spot_arguments(spot, never_checkpoint),
                )
                .unwrap_err();
            assert!(
                reason.starts_with("AlgorithmError: train.py exited with signal: 9"),
                "spot {spot}: {reason}"
            );
            let log = std::fs::read_to_string(tmp.path().join("runs/exec1/train/log.txt")).unwrap();
            assert!(!log.contains("spot interruption"), "spot {spot}: {log}");
        }
    }

    #[test]
    fn processing_moves_opt_ml_into_the_sandbox_and_uploads_outputs() {
        let tmp = tempfile::tempdir().unwrap();
        let jobs = shell_jobs(tmp.path());
        put(
            &jobs,
            "s3://bucket/code/run.sh",
            br#"echo "$1" "$GREETING"
cp "$2/x.txt" "$MLOPSC_OPT_ML/processing/out/copied.txt"
echo '{"metrics": {"accuracy": {"value": 0.9}}}' > "$MLOPSC_OPT_ML/processing/out/report.json"
"#,
        );
        put(&jobs, "s3://bucket/in/x.txt", b"input");
        let arguments = json!({
            "AppSpecification": {"ContainerEntrypoint": ["sh", "/opt/ml/processing/input/code/run.sh"],
                                 "ContainerArguments": ["hello", "/opt/ml/processing/input/data"]},
            "Environment": {"GREETING": "from /opt/ml"},
            "ProcessingInputs": [
                {"InputName": "code", "S3Input": {"S3Uri": "s3://bucket/code/", "LocalPath": "/opt/ml/processing/input/code", "S3DataType": "S3Prefix"}},
                {"InputName": "data", "S3Input": {"S3Uri": "s3://bucket/in/", "LocalPath": "/opt/ml/processing/input/data", "S3DataType": "S3Prefix"}}],
            "ProcessingOutputConfig": {"Outputs": [
                {"OutputName": "out", "S3Output": {"S3Uri": "s3://bucket/results/", "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"}}]}
        });
        let raw = json!({"PropertyFiles": [{"PropertyFileName": "Report", "OutputName": "out", "FilePath": "report.json"}]});
        let result = jobs
            .processing(&step("prep", "Processing", raw), &arguments)
            .unwrap();
        assert_eq!(get(&jobs, "s3://bucket/results/copied.txt"), b"input");
        assert_eq!(
            result.published.property_files["Report"]["metrics"]["accuracy"]["value"],
            0.9
        );
        assert_eq!(
            result.published.properties["ProcessingJobName"],
            "pipelines-exec1-prep"
        );
        let log = std::fs::read_to_string(tmp.path().join("runs/exec1/prep/log.txt")).unwrap();
        let root = tmp.path().join("runs/exec1/prep/opt/ml");
        assert_eq!(
            log,
            format!("hello from {}\n", root.display()),
            "the environment is moved too"
        );

        let manifest = json!({"AppSpecification": {"ContainerEntrypoint": ["sh"]}, "ProcessingInputs": [
            {"InputName": "m", "S3Input": {"S3Uri": "s3://bucket/in/", "LocalPath": "/opt/ml/x", "S3DataType": "ManifestFile"}}]});
        let refused = jobs
            .processing(&step("m", "Processing", json!({})), &manifest)
            .unwrap_err();
        assert!(refused.contains("only S3DataType S3Prefix"), "{refused}");
    }

    #[test]
    fn a_transform_names_a_model_of_this_execution() {
        let tmp = tempfile::tempdir().unwrap();
        let jobs = shell_jobs(tmp.path());
        let transform = |model: &str| {
            jobs.transform(
                &step("score", "Transform", json!({})),
                &json!({"ModelName": model}),
            )
            .unwrap_err()
        };
        assert!(
            transform("../../etc/passwd").contains("is not a SageMaker model name"),
            "the name cannot leave models/"
        );
        assert!(
            transform("pipelines-exec1-model")
                .contains("was not created by a Model step of this execution")
        );
    }

    #[test]
    fn job_names_fit_sagemaker_limits() {
        let name = job_name("abcdefghijkl", &"s".repeat(80));
        assert_eq!(name.len(), 63);
        assert!(name.starts_with("pipelines-abcdefghijkl-sss"));
    }

    #[test]
    fn model_archives_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let model = tmp.path().join("model");
        std::fs::create_dir_all(model.join("code")).unwrap();
        std::fs::write(model.join("model.pt"), b"weights").unwrap();
        std::fs::write(model.join("code/inference.py"), b"def model_fn(d): pass").unwrap();
        let bytes = tar_gz_dir(&model).unwrap();
        assert_eq!(bytes, tar_gz_dir(&model).unwrap(), "deterministic");
        let archive = tmp.path().join("model.tar.gz");
        std::fs::write(&archive, bytes).unwrap();
        extract_tar_gz(&archive, &tmp.path().join("out")).unwrap();
        assert_eq!(
            std::fs::read(tmp.path().join("out/code/inference.py")).unwrap(),
            b"def model_fn(d): pass"
        );
    }
}
