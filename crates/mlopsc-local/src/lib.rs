//! `mlopsc run --local`: runs a compiled pipeline on this machine, as SageMaker would.
//!
//! It reads the pipeline definition that `build` emits (never the spec), so what runs
//! locally is what would run on AWS: [`engine`] walks the step graph, [`expr`] evaluates
//! the definition's expressions, [`jobs`] runs Processing, Training, RegisterModel,
//! Model and Transform steps under the containers' contracts (without Docker), [`store`] stands in for
//! S3, and [`python`] provides the interpreter. The layout under the work directory:
//! `s3/<bucket>/<key>` (the object store), `runs/<execution id>/<step>/log.txt` (and the
//! step's sandbox), `registry/<group>/<version>/` (the model registry), `cache/`.
//!
//! `RetryPolicies` name service-side failures (throttling, capacity, internal errors)
//! that cannot happen on this machine; a step's own error is not retried on AWS either,
//! so locally no retry policy ever fires.

pub mod engine;
pub mod hyperparameters;
pub mod jobs;
pub mod python;
pub mod registry;
pub mod serve;
pub mod store;
pub mod values;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use engine::{Cache, Event, JobResult, Status, StepDef, StepRecord};
use mlopsc_core::build::{Compiled, sha256_hex};
use mlopsc_core::definition::StepType;
use mlopsc_core::emit::alarms::MetricAlarm;
use values::Published;

/// What the command line asked for, as plain values.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--param NAME=VALUE`, in the order given.
    pub params: Vec<(String, String)>,
    /// `--data S3URI=LOCAL_DIR`.
    pub data: Vec<(String, PathBuf)>,
    pub workdir: PathBuf,
    pub python: Option<PathBuf>,
    /// Where venvs made from requirements.txt are kept ([`python::venv_root`]); `None`:
    /// neither XDG_CACHE_HOME nor HOME is set.
    pub venvs: Option<PathBuf>,
    pub no_cache: bool,
    /// The environment the step processes start from, and pip and `python3 -m venv` run in:
    /// `run --local` passes the invocation's, so that a test (or an embedding program) decides
    /// what the step code sees, not whatever mlopsc's own process holds.
    pub environment: Env,
}

/// Environment variables by name, as the operating system holds them.
pub type Env = std::collections::BTreeMap<std::ffi::OsString, std::ffi::OsString>;

/// Which of the compiled pipelines `run --local` executes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Which {
    /// The training pipeline, `pipeline.json`.
    #[default]
    Training,
    /// The monitoring pipeline, `monitoring-pipeline.json`.
    Monitoring,
}

/// A compiled pipeline, with what `apply` would have uploaded before running it.
#[derive(Clone, Debug)]
pub struct Pipeline {
    pub name: String,
    pub region: String,
    pub definition: Value,
    /// The alarms on the metrics this pipeline publishes, evaluated after a run.
    pub alarms: Vec<MetricAlarm>,
    /// `(s3 uri, bytes)`: the step code and `sourcedir.tar.gz`.
    pub uploads: Vec<(String, Vec<u8>)>,
    /// The code directory's `requirements.txt`, if it has one.
    pub requirements: Option<Vec<u8>>,
}

impl Pipeline {
    pub fn from_compiled(compiled: &Compiled, which: Which) -> Result<Pipeline, String> {
        let system = &compiled.system;
        let (file, name, alarms) = match which {
            Which::Training => (
                mlopsc_core::emit::PIPELINE.path,
                &system.names.pipeline,
                Vec::new(),
            ),
            Which::Monitoring => {
                let Some(monitoring) = &system.image_monitoring else {
                    return Err("the spec has no monitoring pipeline: it is compiled for `monitoring` with image data (docs/monitoring.md)".into());
                };
                let alarms = mlopsc_core::emit::alarms::alarms(system)
                    .into_iter()
                    .filter(|a| a.namespace == monitoring.metrics.namespace)
                    .collect();
                (
                    mlopsc_core::emit::MONITORING_PIPELINE.path,
                    &system.names.monitoring_pipeline,
                    alarms,
                )
            }
        };
        let bytes = compiled
            .artifacts
            .get(file)
            .ok_or_else(|| format!("the build has no {file}"))?;
        let definition = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let code_uri = &compiled.system.code_uri;
        let mut uploads: Vec<(String, Vec<u8>)> = compiled
            .code
            .files
            .iter()
            .map(|(path, bytes)| (format!("{code_uri}{path}"), bytes.clone()))
            .collect();
        if !compiled.code.files.is_empty() {
            let archive = compiled.code.tar_gz().map_err(|e| e.to_string())?;
            uploads.push((format!("{code_uri}sourcedir.tar.gz"), archive));
        }
        Ok(Pipeline {
            name: name.clone(),
            region: compiled.system.region.clone(),
            definition,
            alarms,
            uploads,
            requirements: compiled.code.files.get("requirements.txt").cloned(),
        })
    }
}

/// Why a run could not start.
#[derive(Debug)]
pub enum RunError {
    /// The arguments are wrong (exit 2): an unknown parameter, a bad value, a bad path.
    Usage(String),
    /// The run could not be set up (exit 1): the work directory, the Python environment,
    /// a definition this runner cannot read.
    Setup(String),
}

impl From<python::PythonError> for RunError {
    fn from(error: python::PythonError) -> RunError {
        match error {
            python::PythonError::Usage(m) => RunError::Usage(m),
            python::PythonError::Setup(m) => RunError::Setup(m),
        }
    }
}

/// A finished execution, as `--format json` reports it.
#[derive(Clone, Debug)]
pub struct Execution {
    pub id: String,
    pub steps: Vec<StepRecord>,
    pub run_dir: PathBuf,
    /// The alarms of [`Pipeline::alarms`]; the summary evaluates them.
    pub alarms: Vec<MetricAlarm>,
}

/// One data point a step published with PutMetricData.
#[derive(Clone, Debug, PartialEq)]
pub struct DataPoint {
    pub namespace: String,
    pub name: String,
    pub dimensions: Vec<(String, String)>,
    pub value: f64,
}

/// The data points of every PutMetricData request the steps recorded: a step that publishes
/// metrics also writes its request as the `putMetricData` member of a property file, and
/// under `run --local` (which has no CloudWatch) sends nothing (docs/monitoring.md).
fn published(steps: &[StepRecord]) -> Vec<DataPoint> {
    let mut points = Vec::new();
    let requests = steps
        .iter()
        .flat_map(|s| s.result.published.property_files.values())
        .filter_map(|document| document.get("putMetricData"));
    for request in requests {
        let namespace = request["Namespace"].as_str().unwrap_or_default();
        for datum in request["MetricData"].as_array().into_iter().flatten() {
            let (Some(name), Some(value)) = (datum["MetricName"].as_str(), datum["Value"].as_f64())
            else {
                continue;
            };
            let dimensions = datum["Dimensions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| {
                    (
                        d["Name"].as_str().unwrap_or_default().to_string(),
                        d["Value"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            points.push(DataPoint {
                namespace: namespace.to_string(),
                name: name.to_string(),
                dimensions,
                value,
            });
        }
    }
    points
}

/// The value the run published as `metric` on the alarm's namespace and dimensions, if any.
fn published_value(alarm: &MetricAlarm, metric: &str, points: &[DataPoint]) -> Option<f64> {
    let mut dimensions = alarm.dimensions.clone();
    dimensions.sort();
    points
        .iter()
        .find(|p| {
            let mut published = p.dimensions.clone();
            published.sort();
            p.namespace == alarm.namespace && p.name == metric && published == dimensions
        })
        .map(|p| p.value)
}

/// The state CloudWatch would give `alarm` on one period holding `points`: `ALARM` when the
/// data point on its namespace, metric and dimensions crosses the threshold (and, for a drift
/// alarm, its p-value is significant), `OK` when it does not, `INSUFFICIENT_DATA` when the
/// run published none.
fn alarm_state(alarm: &MetricAlarm, points: &[DataPoint]) -> &'static str {
    let Some(value) = published_value(alarm, &alarm.metric, points) else {
        return "INSUFFICIENT_DATA";
    };
    let p_value = alarm
        .significance
        .as_ref()
        .and_then(|gate| published_value(alarm, &gate.p_value_metric, points));
    if alarm.breached(value, p_value) {
        "ALARM"
    } else {
        "OK"
    }
}

impl Execution {
    pub fn succeeded(&self) -> bool {
        !self.steps.iter().any(|s| s.status == Status::Failed)
    }

    pub fn status(&self) -> &'static str {
        if self.succeeded() {
            "Succeeded"
        } else {
            "Failed"
        }
    }

    /// The first failed step and its reason.
    pub fn failure(&self) -> Option<(&str, &str)> {
        self.steps
            .iter()
            .find(|s| s.status == Status::Failed)
            .map(|s| (s.name.as_str(), s.failure_reason.as_deref().unwrap_or("")))
    }

    /// The summary object of `--format json`.
    pub fn summary(&self) -> Value {
        let mut properties = serde_json::Map::new();
        let mut registered = Value::Null;
        let steps: Vec<Value> = self
            .steps
            .iter()
            .map(|s| {
                for (name, document) in &s.result.published.property_files {
                    properties.insert(name.clone(), document.clone());
                }
                if let Some(model) = &s.result.registered {
                    registered = model.clone();
                }
                json!({
                    "name": s.name,
                    "type": s.kind.name(),
                    "status": s.status.as_str(),
                    "cacheHit": s.cache_hit,
                    "durationSeconds": (s.duration.as_secs_f64() * 1000.0).round() / 1000.0,
                    "failureReason": s.failure_reason,
                    "metrics": s.result.metrics,
                })
            })
            .collect();
        let mut summary = json!({
            "executionId": self.id,
            "status": self.status(),
            "steps": steps,
            "properties": properties,
            "registeredModel": registered,
        });
        let points = published(&self.steps);
        if !points.is_empty() || !self.alarms.is_empty() {
            let metrics: serde_json::Map<String, Value> = points
                .iter()
                .map(|p| (p.name.clone(), json!(p.value)))
                .collect();
            let alarms: Vec<Value> = self
                .alarms
                .iter()
                .map(|a| {
                    let mut alarm = json!({
                        "name": a.name,
                        "metric": a.metric,
                        "threshold": a.threshold,
                        "state": alarm_state(a, &points),
                    });
                    if let Some(gate) = &a.significance {
                        alarm["pValueMetric"] = json!(gate.p_value_metric);
                        alarm["significance"] = json!(gate.level);
                    }
                    alarm
                })
                .collect();
            summary["metrics"] = Value::Object(metrics);
            summary["alarms"] = json!(alarms);
        }
        summary
    }

    /// The alarms' states for the human output, one line each: `ALARM  name: metric = value
    /// (threshold t)`.
    pub fn alarm_lines(&self) -> Vec<String> {
        let points = published(&self.steps);
        self.alarms
            .iter()
            .map(|a| {
                let value = published_value(a, &a.metric, &points)
                    .map_or("no data".to_string(), metric_text);
                let mut line = format!(
                    "{:<17}  {}: {} = {value} (threshold {})",
                    alarm_state(a, &points),
                    a.name,
                    a.metric,
                    a.threshold
                );
                if let Some(gate) = &a.significance {
                    let p = published_value(a, &gate.p_value_metric, &points)
                        .map_or("no data".to_string(), metric_text);
                    line.push_str(&format!(", p-value = {p} (at most {})", gate.level));
                }
                line
            })
            .collect()
    }

    /// The final table of the human output.
    pub fn table(&self) -> String {
        let mut rows = vec![[
            "step".to_string(),
            "type".into(),
            "status".into(),
            "duration".into(),
            "cache".into(),
            "metrics".into(),
        ]];
        for s in &self.steps {
            let metrics = s
                .result
                .metrics
                .iter()
                .map(|(k, v)| format!("{k}={}", metric_text(*v)))
                .chain(s.result.published.property_files.values().flat_map(leaves))
                .collect::<Vec<_>>()
                .join(" ");
            rows.push([
                s.name.clone(),
                s.kind.name().to_string(),
                s.status.as_str().into(),
                if s.status == Status::Skipped {
                    "-".into()
                } else {
                    format!("{:.1}s", s.duration.as_secs_f64())
                },
                if s.cache_hit {
                    "hit".into()
                } else {
                    "-".into()
                },
                metrics,
            ]);
        }
        let widths: Vec<usize> = (0..6)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for row in rows {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
        out
    }
}

/// A metric for the table: four decimals, or scientific notation when that would show 0.
fn metric_text(value: f64) -> String {
    if value != 0.0 && value.abs() < 0.001 {
        format!("{value:.2e}")
    } else {
        format!("{value:.4}")
    }
}

/// The numeric leaves of a property file, `a.b=0.8125`, for the table.
fn leaves(document: &Value) -> Vec<String> {
    fn walk(prefix: &str, value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            Value::Number(n) => out.push(format!(
                "{prefix}={}",
                n.as_f64().map_or(n.to_string(), metric_text)
            )),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", document, &mut out);
    out
}

/// The pipeline parameters: defaults, then `--param` overrides checked against their type.
pub fn parameters(
    definition: &Value,
    overrides: &[(String, String)],
) -> Result<BTreeMap<String, Value>, String> {
    let declared: Vec<&Value> = definition
        .get("Parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    let name_of = |p: &Value| {
        p.get("Name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let mut values = BTreeMap::new();
    for (name, text) in overrides {
        let Some(parameter) = declared.iter().find(|p| name_of(p) == *name) else {
            let names: Vec<String> = declared.iter().map(|p| name_of(p)).collect();
            let hint =
                match mlopsc_core::suggest::did_you_mean(name, names.iter().map(String::as_str)) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!("the parameters are: {}", names.join(", ")),
                };
            return Err(format!(
                "--param {name}={text}: the pipeline has no parameter `{name}`\nhelp: {hint}"
            ));
        };
        let kind = parameter
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or("String");
        let value = match kind {
            "Integer" => text.trim().parse::<i64>().map(Value::from).ok(),
            "Float" => text.trim().parse::<f64>().ok().filter(|f| f.is_finite()).map(Value::from),
            "Boolean" => match text.trim() {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            },
            _ => Some(Value::String(text.clone())),
        }
        .ok_or_else(|| {
            let wanted = match kind {
                "Integer" => "a whole number such as 3",
                "Float" => "a number such as 0.85",
                "Boolean" => "true or false",
                _ => "a string",
            };
            format!("--param {name}={text}: `{name}` is a parameter of type {kind}, and `{text}` is not {wanted}\nhelp: pass --param {name}=<{wanted}>")
        })?;
        values.insert(name.clone(), value);
    }
    for parameter in &declared {
        if let std::collections::btree_map::Entry::Vacant(slot) = values.entry(name_of(parameter)) {
            let default = parameter.get("DefaultValue").cloned().ok_or_else(|| {
                format!(
                    "parameter `{}` has no default value\nhelp: pass --param {}=VALUE",
                    slot.key(),
                    slot.key()
                )
            })?;
            slot.insert(default);
        }
    }
    Ok(values)
}

/// A pipeline execution id as SageMaker makes them: 12 lowercase letters and digits.
fn new_execution_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let seed = format!("{nanos}-{}", std::process::id());
    sha256_hex(seed.as_bytes())[..12].to_string()
}

/// An ISO 8601 UTC timestamp, for the `Execution.StartDateTime` variable.
fn iso8601(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The arguments SageMaker's step cache compares, per step type (its "default cache key
/// attributes"): not the outputs, so a step that writes under the execution id still hits.
fn cache_key_arguments(kind: StepType, arguments: &Value) -> Value {
    let keys: &[&str] = match kind {
        StepType::Processing => &["AppSpecification", "Environment", "ProcessingInputs"],
        StepType::Training => &[
            "AlgorithmSpecification",
            "CheckpointConfig",
            "DebugHookConfig",
            "DebugRuleConfigurations",
            "Environment",
            "HyperParameters",
            "InputDataConfig",
        ],
        StepType::Transform => &[
            "DataProcessing",
            "Environment",
            "ModelName",
            "TransformInput",
        ],
        StepType::Model | StepType::RegisterModel | StepType::Condition | StepType::Fail => {
            return arguments.clone();
        }
    };
    keys.iter()
        .filter_map(|k| arguments.get(*k).map(|v| ((*k).to_string(), v.clone())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The step cache under `<workdir>/cache/`: a step's result, keyed by a hash of its type,
/// the arguments SageMaker compares, and its property files, reused until `ExpireAfter` has
/// passed.
struct StepCache {
    dir: PathBuf,
    enabled: bool,
}

impl StepCache {
    fn config(step: &StepDef) -> Option<Duration> {
        let config = step.raw.get("CacheConfig")?;
        if config.get("Enabled").and_then(Value::as_bool) != Some(true) {
            return None;
        }
        Some(
            config
                .get("ExpireAfter")
                .and_then(Value::as_str)
                .and_then(iso_duration)
                .unwrap_or(Duration::MAX),
        )
    }

    fn path(&self, step: &StepDef, arguments: &Value) -> PathBuf {
        let key = json!({"Type": step.kind.name(), "Arguments": cache_key_arguments(step.kind, arguments), "PropertyFiles": step.raw.get("PropertyFiles")});
        let key = hyperparameters::compact_json(&key);
        self.dir.join(format!(
            "{}-{}.json",
            step.name,
            &sha256_hex(key.as_bytes())[..16]
        ))
    }
}

impl Cache for StepCache {
    fn lookup(&self, step: &StepDef, arguments: &Value) -> Option<JobResult> {
        let expire = Self::config(step).filter(|_| self.enabled)?;
        let entry: Value =
            serde_json::from_slice(&std::fs::read(self.path(step, arguments)).ok()?).ok()?;
        let created = UNIX_EPOCH + Duration::from_secs(entry.get("created")?.as_u64()?);
        if SystemTime::now().duration_since(created).ok()? > expire {
            return None;
        }
        Some(JobResult {
            published: Published {
                properties: entry.get("properties")?.clone(),
                property_files: serde_json::from_value(entry.get("propertyFiles")?.clone()).ok()?,
            },
            metrics: serde_json::from_value(entry.get("metrics")?.clone()).ok()?,
            registered: None,
        })
    }

    fn store(&self, step: &StepDef, arguments: &Value, result: &JobResult) {
        // A registration is an effect, not a reusable result.
        if Self::config(step).is_none() || result.registered.is_some() {
            return;
        }
        let created = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let entry = json!({
            "created": created,
            "properties": result.published.properties,
            "propertyFiles": result.published.property_files,
            "metrics": result.metrics,
        });
        let path = self.path(step, arguments);
        if std::fs::create_dir_all(&self.dir).is_ok() {
            let _ = std::fs::write(path, entry.to_string());
        }
    }
}

/// An ISO 8601 duration such as `P30D` or `PT12H`; months count 30 days, years 365.
fn iso_duration(text: &str) -> Option<Duration> {
    let rest = text.strip_prefix('P')?;
    let (date, time) = rest.split_once('T').unwrap_or((rest, ""));
    let mut seconds = 0u64;
    for (part, units) in [
        (
            date,
            &[
                ('Y', 365 * 86_400),
                ('M', 30 * 86_400),
                ('W', 7 * 86_400),
                ('D', 86_400),
            ][..],
        ),
        (time, &[('H', 3600), ('M', 60), ('S', 1)][..]),
    ] {
        let mut number = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
            } else {
                let unit = units.iter().find(|(u, _)| *u == c)?.1;
                seconds += number.parse::<u64>().ok()? * unit;
                number.clear();
            }
        }
        if !number.is_empty() {
            return None;
        }
    }
    Some(Duration::from_secs(seconds))
}

/// Runs the pipeline; progress lines go to `progress` as steps start and finish.
pub fn run(
    pipeline: &Pipeline,
    options: &Options,
    progress: &mut dyn Write,
) -> Result<Execution, RunError> {
    let values = parameters(&pipeline.definition, &options.params).map_err(RunError::Usage)?;
    let steps = engine::steps_of(&pipeline.definition).map_err(RunError::Setup)?;
    let absolute = |p: &Path| {
        std::path::absolute(p).map_err(|e| RunError::Usage(format!("`{}`: {e}", p.display())))
    };
    let mut mounts = Vec::new();
    for (uri, dir) in &options.data {
        mounts.push((uri.clone(), absolute(dir)?));
    }
    let workdir = absolute(&options.workdir)?;
    std::fs::create_dir_all(&workdir).map_err(|e| {
        RunError::Setup(format!(
            "cannot create the work directory `{}`: {e}",
            workdir.display()
        ))
    })?;
    let store = store::Store::new(workdir.join("s3"), &mounts).map_err(RunError::Usage)?;
    for (uri, bytes) in &pipeline.uploads {
        store
            .put(&store::S3Uri::parse(uri).map_err(RunError::Setup)?, bytes)
            .map_err(RunError::Setup)?;
    }
    let python = python::interpreter(
        options.python.as_deref(),
        pipeline.requirements.as_deref(),
        options.venvs.as_deref(),
        &options.environment,
        progress,
    )?;

    let id = new_execution_id();
    let run_dir = workdir.join("runs").join(&id);
    std::fs::create_dir_all(&run_dir)
        .map_err(|e| RunError::Setup(format!("`{}`: {e}", run_dir.display())))?;
    let started = iso8601(SystemTime::now());
    let execution_vars = BTreeMap::from([
        ("PipelineExecutionId".to_string(), json!(id)),
        (
            "PipelineExecutionArn".to_string(),
            json!(format!(
                "arn:aws:sagemaker:{}:000000000000:pipeline/{}/execution/{id}",
                pipeline.region, pipeline.name
            )),
        ),
        ("PipelineName".to_string(), json!(pipeline.name)),
        ("PipelineExperimentName".to_string(), json!(pipeline.name)),
        ("PipelineExecutionTrialName".to_string(), json!(id)),
        ("StartDateTime".to_string(), json!(started)),
        ("CurrentDateTime".to_string(), json!(started)),
    ]);
    let jobs = jobs::LocalJobs {
        store,
        run_dir: run_dir.clone(),
        registry: workdir.join("registry"),
        models: workdir.join("models"),
        python,
        execution_id: id.clone(),
        region: pipeline.region.clone(),
        environment: options.environment.clone(),
    };
    let cache = StepCache {
        dir: workdir.join("cache"),
        enabled: !options.no_cache,
    };
    let parallelism = std::thread::available_parallelism().map_or(1, |n| n.get());
    let _ = writeln!(
        progress,
        "execution {id}: {} steps, logs in {}",
        steps.len(),
        run_dir.display()
    );
    let run = engine::Run {
        parameters: &values,
        execution: &execution_vars,
        parallelism,
    };
    let records = engine::execute(&run, &steps, &jobs, &cache, &mut |event| {
        let line = match event {
            Event::Started(step) => {
                format!("  {:<10} {} ({})", "started", step.name, step.kind.name())
            }
            Event::Finished(record) => format!(
                "  {:<10} {} {:.1}s{}{}",
                record.status.as_str(),
                record.name,
                record.duration.as_secs_f64(),
                if record.cache_hit { " (cache hit)" } else { "" },
                record
                    .failure_reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default(),
            ),
        };
        let _ = writeln!(progress, "{line}");
    });
    let execution = Execution {
        id,
        steps: records,
        run_dir,
        alarms: pipeline.alarms.clone(),
    };
    let summary = serde_json::to_string_pretty(&execution.summary()).unwrap_or_default();
    let _ = std::fs::write(execution.run_dir.join("execution.json"), summary);
    Ok(execution)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlopsc_core::emit::alarms::SignificanceGate;

    fn definition() -> Value {
        json!({"Parameters": [
            {"Name": "AccuracyThreshold", "Type": "Float", "DefaultValue": 0.7},
            {"Name": "Epochs", "Type": "Integer", "DefaultValue": 3},
            {"Name": "Approval", "Type": "String", "DefaultValue": "PendingManualApproval"},
            {"Name": "Shuffle", "Type": "Boolean", "DefaultValue": true}]})
    }

    #[test]
    fn overrides_are_typed_and_unknown_names_get_a_suggestion() {
        let values = parameters(
            &definition(),
            &[
                ("AccuracyThreshold".into(), "0".into()),
                ("Epochs".into(), "5".into()),
                ("Shuffle".into(), "false".into()),
            ],
        )
        .unwrap();
        assert_eq!(values["AccuracyThreshold"], json!(0.0));
        assert_eq!(values["Epochs"], json!(5));
        assert_eq!(values["Shuffle"], json!(false));
        assert_eq!(values["Approval"], json!("PendingManualApproval"));
        let unknown =
            parameters(&definition(), &[("AccuracyTreshold".into(), "0.5".into())]).unwrap_err();
        assert!(
            unknown.contains("no parameter `AccuracyTreshold`"),
            "{unknown}"
        );
        assert!(
            unknown.contains("did you mean `AccuracyThreshold`?"),
            "{unknown}"
        );
        let wrong = parameters(&definition(), &[("Epochs".into(), "2.5".into())]).unwrap_err();
        assert!(
            wrong.contains(
                "`Epochs` is a parameter of type Integer, and `2.5` is not a whole number"
            ),
            "{wrong}"
        );
        assert!(
            parameters(
                &definition(),
                &[("AccuracyThreshold".into(), "high".into())]
            )
            .is_err()
        );
        assert!(parameters(&definition(), &[("Shuffle".into(), "yes".into())]).is_err());
        let required = json!({"Parameters": [{"Name": "InputUri", "Type": "String"}]});
        let missing = parameters(&required, &[]).unwrap_err();
        assert!(
            missing.contains("`InputUri` has no default value"),
            "{missing}"
        );
        let given = parameters(&required, &[("InputUri".into(), "s3://b/k/".into())]).unwrap();
        assert_eq!(given["InputUri"], json!("s3://b/k/"));
    }

    #[test]
    fn the_cache_reuses_unchanged_arguments_until_it_expires() {
        let tmp = tempfile::tempdir().unwrap();
        let step = |cache: Value| {
            let raw = json!({"Name": "prep", "Type": "Processing", "Arguments": {}, "CacheConfig": cache});
            engine::steps_of(&json!({"Steps": [raw]}))
                .unwrap()
                .remove(0)
        };
        let cached = step(json!({"Enabled": true, "ExpireAfter": "P30D"}));
        let result = JobResult {
            published: Published {
                properties: json!({"ProcessingJobName": "job-1"}),
                property_files: BTreeMap::from([("Report".to_string(), json!({"a": 1}))]),
            },
            metrics: BTreeMap::from([("loss".to_string(), 0.5)]),
            registered: None,
        };
        let cache = StepCache {
            dir: tmp.path().to_path_buf(),
            enabled: true,
        };
        let arguments = json!({
            "ProcessingInputs": [{"S3Input": {"S3Uri": "s3://b/in/"}}],
            "ProcessingOutputConfig": {"Outputs": [{"S3Output": {"S3Uri": "s3://b/run-1/"}}]},
        });
        assert_eq!(cache.lookup(&cached, &arguments), None);
        cache.store(&cached, &arguments, &result);
        assert_eq!(cache.lookup(&cached, &arguments), Some(result.clone()));
        let mut other_input = arguments.clone();
        other_input["ProcessingInputs"][0]["S3Input"]["S3Uri"] = json!("s3://b/other/");
        assert_eq!(cache.lookup(&cached, &other_input), None, "changed inputs");
        // As in SageMaker, a processing step's outputs are not part of its cache key: a
        // step that writes under the execution id hits the cache of an earlier execution.
        let mut other_output = arguments.clone();
        other_output["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] =
            json!("s3://b/run-2/");
        assert_eq!(
            cache.lookup(&cached, &other_output),
            Some(result.clone()),
            "outputs are not compared"
        );
        let disabled = StepCache {
            dir: tmp.path().to_path_buf(),
            enabled: false,
        };
        assert_eq!(disabled.lookup(&cached, &arguments), None, "--no-cache");
        let uncached = step(json!({"Enabled": false}));
        assert_eq!(
            cache.lookup(&uncached, &arguments),
            None,
            "CacheConfig disabled"
        );
        let expired = step(json!({"Enabled": true, "ExpireAfter": "PT0S"}));
        cache.store(&expired, &arguments, &result);
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(cache.lookup(&expired, &arguments), None, "expired");
    }

    fn alarm(comparison: &'static str) -> MetricAlarm {
        MetricAlarm {
            id: "DataDriftEmbeddingDriftAlarm".into(),
            name: "p-embedding-drift".into(),
            namespace: "mlopsc/p".into(),
            metric: "embedding_drift".into(),
            dimensions: vec![("EndpointName".into(), "e".into())],
            statistic: "Maximum",
            comparison,
            threshold: 0.3,
            evaluation_periods: 1,
            period_seconds: 3600,
            missing_data: "ignore",
            description: String::new(),
            significance: None,
        }
    }

    fn report(namespace: &str, endpoint: &str, value: f64) -> StepRecord {
        published_metrics(namespace, endpoint, &[("embedding_drift", value)])
    }

    /// A monitoring step that published `metrics` on `namespace` for `endpoint`.
    fn published_metrics(namespace: &str, endpoint: &str, metrics: &[(&str, f64)]) -> StepRecord {
        let data: Vec<Value> = metrics
            .iter()
            .map(|(name, value)| {
                json!({"MetricName": name, "Value": value,
                       "Dimensions": [{"Name": "EndpointName", "Value": endpoint}]})
            })
            .collect();
        let request = json!({"Namespace": namespace, "MetricData": data});
        StepRecord {
            name: "monitor".into(),
            kind: StepType::Processing,
            status: Status::Succeeded,
            cache_hit: false,
            duration: Duration::ZERO,
            failure_reason: None,
            result: JobResult {
                published: Published {
                    properties: json!({}),
                    property_files: BTreeMap::from([(
                        "MonitoringReport".to_string(),
                        json!({"putMetricData": request}),
                    )]),
                },
                ..JobResult::default()
            },
        }
    }

    #[test]
    fn alarms_are_evaluated_on_the_published_metric_they_watch() {
        let state =
            |comparison, record: StepRecord| alarm_state(&alarm(comparison), &published(&[record]));
        assert_eq!(
            state("GreaterThanThreshold", report("mlopsc/p", "e", 0.31)),
            "ALARM"
        );
        assert_eq!(
            state("GreaterThanThreshold", report("mlopsc/p", "e", 0.3)),
            "OK"
        );
        assert_eq!(
            state("LessThanThreshold", report("mlopsc/p", "e", 0.29)),
            "ALARM"
        );
        // Another namespace or dimension is another metric: the alarm has no data.
        assert_eq!(
            state("GreaterThanThreshold", report("mlopsc/q", "e", 0.9)),
            "INSUFFICIENT_DATA"
        );
        assert_eq!(
            state("GreaterThanThreshold", report("mlopsc/p", "other", 0.9)),
            "INSUFFICIENT_DATA"
        );
        let execution = Execution {
            id: "x".into(),
            steps: vec![report("mlopsc/p", "e", 0.5)],
            run_dir: PathBuf::new(),
            alarms: vec![alarm("GreaterThanThreshold")],
        };
        let summary = execution.summary();
        assert_eq!(summary["metrics"], json!({"embedding_drift": 0.5}));
        assert_eq!(
            summary["alarms"],
            json!([{"name": "p-embedding-drift", "metric": "embedding_drift", "threshold": 0.3, "state": "ALARM"}])
        );
        assert_eq!(
            execution.alarm_lines(),
            ["ALARM              p-embedding-drift: embedding_drift = 0.5000 (threshold 0.3)"]
        );
    }

    #[test]
    fn a_drift_alarm_needs_its_statistic_beyond_the_threshold_and_a_significant_p_value() {
        let gated = MetricAlarm {
            significance: Some(SignificanceGate {
                p_value_metric: "embedding_drift_p_value".into(),
                level: 0.01,
            }),
            ..alarm("GreaterThanThreshold")
        };
        let state = |metrics: &[(&str, f64)]| {
            alarm_state(
                &gated,
                &published(&[published_metrics("mlopsc/p", "e", metrics)]),
            )
        };
        let drift = "embedding_drift";
        let p = "embedding_drift_p_value";
        assert_eq!(state(&[(drift, 0.5), (p, 0.005)]), "ALARM");
        assert_eq!(state(&[(drift, 0.5), (p, 0.01)]), "ALARM", "at the level");
        // As large a shift as the threshold, but one chance explains: no alarm.
        assert_eq!(state(&[(drift, 0.5), (p, 0.2)]), "OK");
        assert_eq!(
            state(&[(drift, 0.2), (p, 0.001)]),
            "OK",
            "significant but small"
        );
        // A statistic without its p-value cannot be called significant.
        assert_eq!(state(&[(drift, 0.5)]), "OK");
        assert_eq!(state(&[(p, 0.001)]), "INSUFFICIENT_DATA");
        let execution = Execution {
            id: "x".into(),
            steps: vec![published_metrics(
                "mlopsc/p",
                "e",
                &[(drift, 0.5), (p, 0.2)],
            )],
            run_dir: PathBuf::new(),
            alarms: vec![gated],
        };
        assert_eq!(
            execution.summary()["alarms"],
            json!([{"name": "p-embedding-drift", "metric": "embedding_drift", "threshold": 0.3,
                    "pValueMetric": "embedding_drift_p_value", "significance": 0.01, "state": "OK"}])
        );
        assert_eq!(
            execution.alarm_lines(),
            [
                "OK                 p-embedding-drift: embedding_drift = 0.5000 (threshold 0.3), p-value = 0.2000 (at most 0.01)"
            ]
        );
    }

    #[test]
    fn durations_and_timestamps() {
        assert_eq!(iso_duration("P30D"), Some(Duration::from_secs(30 * 86_400)));
        assert_eq!(iso_duration("PT1H30M"), Some(Duration::from_secs(5400)));
        assert_eq!(iso_duration("P1W"), Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(iso_duration("30D"), None);
        assert_eq!(iso_duration("P3X"), None);
        assert_eq!(
            iso8601(UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
            "2023-11-14T22:13:20Z"
        );
        let id = new_execution_id();
        assert_eq!(id.len(), 12);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
    }
}
