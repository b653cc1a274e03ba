//! A typed SageMaker pipeline definition (Version 2020-12-01).
//!
//! A reference to a parameter, a step's output, its model, or its property file is made from
//! the handle that declaring it returned, so a `Get` of something the definition does not
//! declare cannot be written. Retry policies carry an exception enum per kind of step, so a
//! Condition or Fail step has no policy and a step that starts no job cannot retry on
//! SageMaker's capacity errors. Each step's `Arguments` stay JSON: they are the body of the
//! SageMaker API request the pipeline service makes, with the typed references embedded.
//!
//! What types cannot rule out, because the names come from the spec, is left to
//! [`PipelineDefinition::check`]: step names unique across Condition branches, every
//! `DependsOn` naming a step of the definition, and every `Get` naming something this
//! definition declares (a handle turns into JSON at once, so one of the other pipeline's
//! definition is only caught there).
//!
//! `emit::sagemaker` builds the definitions with it; the readers of a built `pipeline.json`
//! (the access check, the diagram, the local runner) dispatch on its [`StepType`].

pub mod expression;

use std::collections::BTreeSet;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value, json};

/// A step's name, unique in its definition.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct StepName(String);

impl StepName {
    pub fn new(name: impl Into<String>) -> Self {
        StepName(name.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A `{"Get": path}` pipeline expression.
fn get(path: String) -> Value {
    json!({ "Get": path })
}

/// The paths of every `{"Get": path}` in `value`.
fn collect_gets<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(members) => {
            if let (1, Some(Value::String(path))) = (members.len(), members.get("Get")) {
                out.push(path);
                return;
            }
            members
                .values()
                .for_each(|member| collect_gets(member, out));
        }
        Value::Array(items) => items.iter().for_each(|item| collect_gets(item, out)),
        _ => {}
    }
}

/// A declared pipeline parameter; only [`Parameters`] makes one.
#[derive(Clone, Debug)]
pub struct Parameter(String);

impl Parameter {
    /// The parameter's value at run time.
    pub fn get(&self) -> Value {
        get(format!("Parameters.{}", self.0))
    }
}

/// The execution variables a step reads.
#[derive(Clone, Copy, Debug)]
pub enum Execution {
    PipelineExecutionId,
    PipelineName,
    StartDateTime,
}

impl Execution {
    pub fn get(self) -> Value {
        let name = match self {
            Execution::PipelineExecutionId => "PipelineExecutionId",
            Execution::PipelineName => "PipelineName",
            Execution::StartDateTime => "StartDateTime",
        };
        get(format!("Execution.{name}"))
    }
}

/// The definition's parameters, in declaration order, each with its name; declaring one
/// returns its handle.
#[derive(Debug, Default)]
pub struct Parameters(Vec<(String, Value)>);

impl Parameters {
    pub fn string(&mut self, name: &str, default: &str) -> Parameter {
        self.declare(
            name,
            json!({"Name": name, "Type": "String", "DefaultValue": default}),
        )
    }

    /// A string parameter the pipeline service accepts only with one of `allowed`.
    pub fn string_of(&mut self, name: &str, default: &str, allowed: &[&str]) -> Parameter {
        self.declare(
            name,
            json!({
                "Name": name,
                "Type": "String",
                "DefaultValue": default,
                "EnumValues": allowed,
            }),
        )
    }

    pub fn float(&mut self, name: &str, default: f64) -> Parameter {
        self.declare(
            name,
            json!({"Name": name, "Type": "Float", "DefaultValue": default}),
        )
    }

    fn declare(&mut self, name: &str, declaration: Value) -> Parameter {
        self.0.push((name.to_string(), declaration));
        Parameter(name.to_string())
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(name, _)| name.as_str())
    }
}

/// The pipeline service's own transient failures, which any step that calls an API may meet.
#[derive(Clone, Copy, Debug)]
pub enum ServiceFault {
    ServiceFault,
    Throttling,
}

impl ServiceFault {
    fn code(self) -> &'static str {
        match self {
            ServiceFault::ServiceFault => "Step.SERVICE_FAULT",
            ServiceFault::Throttling => "Step.THROTTLING",
        }
    }
}

/// What a step that runs a SageMaker job may retry on: the service's faults, and the
/// capacity and quota errors that only a job meets (the SDK refuses these on CreateModel and
/// CreateModelPackage: "SageMakerJobStepRetryPolicy is not allowed").
#[derive(Clone, Copy, Debug)]
pub enum JobFault {
    Service(ServiceFault),
    CapacityError,
    ResourceLimit,
}

impl JobFault {
    fn code(self) -> &'static str {
        match self {
            JobFault::Service(fault) => fault.code(),
            JobFault::CapacityError => "SageMaker.CAPACITY_ERROR",
            JobFault::ResourceLimit => "SageMaker.RESOURCE_LIMIT",
        }
    }
}

/// A retry policy over the exceptions `E` its step can meet.
#[derive(Clone, Debug)]
pub struct RetryPolicy<E> {
    pub exceptions: Vec<E>,
    pub interval_seconds: u32,
    pub backoff_rate: f64,
    pub max_attempts: u32,
}

impl<E: Copy> RetryPolicy<E> {
    fn to_value(&self, code: impl Fn(E) -> &'static str) -> Value {
        let codes: Vec<&str> = self.exceptions.iter().map(|e| code(*e)).collect();
        json!({
            "ExceptionType": codes,
            "IntervalSeconds": self.interval_seconds,
            "BackoffRate": self.backoff_rate,
            "MaxAttempts": self.max_attempts,
        })
    }
}

/// The service's faults, retried quickly.
pub fn service_retry() -> RetryPolicy<ServiceFault> {
    RetryPolicy {
        exceptions: vec![ServiceFault::ServiceFault, ServiceFault::Throttling],
        interval_seconds: 10,
        backoff_rate: 2.0,
        max_attempts: 5,
    }
}

/// A job step's retries: the service's faults, and capacity errors after a longer wait
/// (spot GPUs in particular run short).
pub fn job_retry() -> Vec<RetryPolicy<JobFault>> {
    let service = service_retry();
    vec![
        RetryPolicy {
            exceptions: service
                .exceptions
                .iter()
                .map(|f| JobFault::Service(*f))
                .collect(),
            interval_seconds: service.interval_seconds,
            backoff_rate: service.backoff_rate,
            max_attempts: service.max_attempts,
        },
        RetryPolicy {
            exceptions: vec![JobFault::CapacityError, JobFault::ResourceLimit],
            interval_seconds: 60,
            backoff_rate: 2.0,
            max_attempts: 5,
        },
    ]
}

/// A processing output as the job request lists it.
#[derive(Clone, Debug)]
pub struct ProcessingOutput {
    pub name: String,
    pub uri: Value,
    pub local: String,
}

impl ProcessingOutput {
    fn to_value(&self) -> Value {
        json!({
            "OutputName": self.name,
            "S3Output": {"S3Uri": self.uri, "LocalPath": self.local, "S3UploadMode": "EndOfJob"},
        })
    }
}

/// A processing step's output; only the step's constructor makes one.
#[derive(Clone, Debug)]
pub struct Output {
    step: StepName,
    name: String,
}

impl Output {
    /// The output's S3 URI as the step's properties report it at run time.
    pub fn uri(&self) -> Value {
        get(format!(
            "Steps.{}.ProcessingOutputConfig.Outputs['{}'].S3Output.S3Uri",
            self.step.as_str(),
            self.name
        ))
    }
}

/// A JSON file a processing step writes to one of its outputs, for later steps to read.
#[derive(Clone, Debug)]
pub struct PropertyFile {
    step: StepName,
    name: String,
}

impl PropertyFile {
    /// The value at `path` (dotted) in the file, read at run time.
    pub fn json_get(&self, path: &str) -> Value {
        json!({"Std:JsonGet": {
            "PropertyFile": get(format!("Steps.{}.PropertyFiles.{}", self.step.as_str(), self.name)),
            "Path": path,
        }})
    }
}

/// A training step, whose model later steps read.
#[derive(Clone, Debug)]
pub struct Trained(StepName);

impl Trained {
    pub fn model_artifacts(&self) -> Value {
        get(format!(
            "Steps.{}.ModelArtifacts.S3ModelArtifacts",
            self.0.as_str()
        ))
    }
}

/// A Model step, whose model a transform step runs.
#[derive(Clone, Debug)]
pub struct CreatedModel(StepName);

impl CreatedModel {
    pub fn model_name(&self) -> Value {
        get(format!("Steps.{}.ModelName", self.0.as_str()))
    }
}

/// The comparisons a Condition step can make.
#[derive(Clone, Copy, Debug)]
pub enum Comparison {
    GreaterThanOrEqualTo,
    GreaterThan,
    LessThanOrEqualTo,
    LessThan,
    Equals,
}

impl Comparison {
    fn name(self) -> &'static str {
        match self {
            Comparison::GreaterThanOrEqualTo => "GreaterThanOrEqualTo",
            Comparison::GreaterThan => "GreaterThan",
            Comparison::LessThanOrEqualTo => "LessThanOrEqualTo",
            Comparison::LessThan => "LessThan",
            Comparison::Equals => "Equals",
        }
    }
}

/// A comparison a Condition step makes.
#[derive(Clone, Debug)]
pub struct Condition {
    pub comparison: Comparison,
    pub left: Value,
    pub right: Value,
}

/// A property file as its step declares it: on which output, at which path.
#[derive(Clone, Debug)]
pub struct PropertyFileDeclaration {
    file: PropertyFile,
    output: String,
    path: String,
}

/// A step's `Type` in a definition. Every reader of `pipeline.json` (the local runner, the
/// access check, the diagram) dispatches on it with an exhaustive `match`, so that a new step
/// type is a compile error wherever it must be handled.
/// Declares [`StepType`] with [`StepType::ALL`] and each type's name, the variant's own.
macro_rules! step_types {
    ($($variant:ident),+ $(,)?) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum StepType {
            $($variant),+
        }

        impl StepType {
            pub const ALL: &[StepType] = &[$(StepType::$variant),+];

            /// The `Type` a definition writes.
            pub fn name(self) -> &'static str {
                match self {
                    $(StepType::$variant => stringify!($variant)),+
                }
            }
        }
    };
}

step_types!(
    Processing,
    Training,
    Transform,
    Model,
    RegisterModel,
    Condition,
    Fail,
);

impl StepType {
    /// The type a definition names; `None` for one mlopsc never writes.
    pub fn parse(name: &str) -> Option<StepType> {
        StepType::ALL.iter().copied().find(|t| t.name() == name)
    }

    /// The type of a definition's step object, from its `Type`.
    pub fn of(step: &Value) -> Option<StepType> {
        step.get("Type")
            .and_then(Value::as_str)
            .and_then(StepType::parse)
    }
}

/// What a step does, with what only its kind may carry.
#[derive(Clone, Debug)]
pub enum StepKind {
    Processing {
        arguments: Value,
        property_files: Vec<PropertyFileDeclaration>,
        retry: Vec<RetryPolicy<JobFault>>,
        /// `ExpireAfter`, when the step's results are cached.
        cache_expire_after: Option<String>,
    },
    Training {
        arguments: Value,
        retry: Vec<RetryPolicy<JobFault>>,
    },
    Transform {
        arguments: Value,
        retry: Vec<RetryPolicy<JobFault>>,
    },
    Model {
        arguments: Value,
        retry: Vec<RetryPolicy<ServiceFault>>,
    },
    RegisterModel {
        arguments: Value,
        retry: Vec<RetryPolicy<ServiceFault>>,
    },
    Condition {
        conditions: Vec<Condition>,
        if_steps: Vec<Step>,
        else_steps: Vec<Step>,
    },
    Fail {
        error_message: Value,
    },
}

/// One step of a definition.
#[derive(Clone, Debug)]
pub struct Step {
    pub name: StepName,
    pub kind: StepKind,
    pub depends_on: Vec<StepName>,
}

impl Step {
    fn new(name: StepName, kind: StepKind) -> Self {
        Step {
            name,
            kind,
            depends_on: Vec::new(),
        }
    }

    /// A processing step writing `outputs`; `arguments` builds the job request around their
    /// `ProcessingOutputConfig.Outputs` entries.
    pub fn processing<const N: usize>(
        name: &str,
        outputs: [ProcessingOutput; N],
        arguments: impl FnOnce(Vec<Value>) -> Value,
    ) -> (Step, [Output; N]) {
        Step::cached_processing(name, outputs, None, arguments)
    }

    /// A processing step whose results the pipeline service reuses for `expire_after` (an
    /// ISO 8601 duration) when its cache key has not changed.
    pub fn cached_processing<const N: usize>(
        name: &str,
        outputs: [ProcessingOutput; N],
        expire_after: Option<&str>,
        arguments: impl FnOnce(Vec<Value>) -> Value,
    ) -> (Step, [Output; N]) {
        let name = StepName::new(name);
        let handles = outputs.each_ref().map(|o| Output {
            step: name.clone(),
            name: o.name.clone(),
        });
        let kind = StepKind::Processing {
            arguments: arguments(outputs.iter().map(ProcessingOutput::to_value).collect()),
            property_files: Vec::new(),
            retry: job_retry(),
            cache_expire_after: expire_after.map(str::to_string),
        };
        (Step::new(name, kind), handles)
    }

    /// A processing step whose one output holds the property file `file` at `path`.
    pub fn processing_report(
        name: &str,
        output: ProcessingOutput,
        file: &str,
        path: &str,
        arguments: impl FnOnce(Vec<Value>) -> Value,
    ) -> (Step, Output, PropertyFile) {
        let name = StepName::new(name);
        let property_file = PropertyFile {
            step: name.clone(),
            name: file.to_string(),
        };
        let declaration = PropertyFileDeclaration {
            file: property_file.clone(),
            output: output.name.clone(),
            path: path.to_string(),
        };
        let report = Output {
            step: name.clone(),
            name: output.name.clone(),
        };
        let kind = StepKind::Processing {
            arguments: arguments(vec![output.to_value()]),
            property_files: vec![declaration],
            retry: job_retry(),
            cache_expire_after: None,
        };
        (Step::new(name, kind), report, property_file)
    }

    pub fn training(name: &str, arguments: Value) -> (Step, Trained) {
        let name = StepName::new(name);
        let kind = StepKind::Training {
            arguments,
            retry: job_retry(),
        };
        (Step::new(name.clone(), kind), Trained(name))
    }

    pub fn transform(name: &str, arguments: Value) -> Step {
        let kind = StepKind::Transform {
            arguments,
            retry: job_retry(),
        };
        Step::new(StepName::new(name), kind)
    }

    pub fn model(name: &str, arguments: Value) -> (Step, CreatedModel) {
        let name = StepName::new(name);
        let kind = StepKind::Model {
            arguments,
            retry: vec![service_retry()],
        };
        (Step::new(name.clone(), kind), CreatedModel(name))
    }

    pub fn register_model(name: &str, arguments: Value) -> Step {
        let kind = StepKind::RegisterModel {
            arguments,
            retry: vec![service_retry()],
        };
        Step::new(StepName::new(name), kind)
    }

    pub fn condition(
        name: &str,
        conditions: Vec<Condition>,
        if_steps: Vec<Step>,
        else_steps: Vec<Step>,
    ) -> Step {
        let kind = StepKind::Condition {
            conditions,
            if_steps,
            else_steps,
        };
        Step::new(StepName::new(name), kind)
    }

    pub fn fail(name: &str, error_message: Value) -> Step {
        Step::new(StepName::new(name), StepKind::Fail { error_message })
    }

    /// Waits for the steps named `names` (the spec's `depends_on`), checked by
    /// [`PipelineDefinition::check`].
    pub fn depending_on(mut self, names: &[String]) -> Self {
        self.depends_on = names.iter().map(StepName::new).collect();
        self
    }

    /// This step and those in its Condition branches.
    /// The JSON this step's own fields hold (not its branches'), where its `Get`s are.
    fn run_time_values(&self) -> Box<dyn Iterator<Item = &Value> + '_> {
        match &self.kind {
            StepKind::Processing { arguments, .. }
            | StepKind::Training { arguments, .. }
            | StepKind::Transform { arguments, .. }
            | StepKind::Model { arguments, .. }
            | StepKind::RegisterModel { arguments, .. } => Box::new(std::iter::once(arguments)),
            StepKind::Condition { conditions, .. } => Box::new(
                conditions
                    .iter()
                    .flat_map(|condition| [&condition.left, &condition.right]),
            ),
            StepKind::Fail { error_message } => Box::new(std::iter::once(error_message)),
        }
    }

    fn declares_property_file(&self, file: &str) -> bool {
        matches!(&self.kind, StepKind::Processing { property_files, .. }
            if property_files.iter().any(|declared| declared.file.name == file))
    }

    fn all(&self) -> Vec<&Step> {
        let mut all = vec![self];
        if let StepKind::Condition {
            if_steps,
            else_steps,
            ..
        } = &self.kind
        {
            all.extend(if_steps.iter().chain(else_steps).flat_map(Step::all));
        }
        all
    }

    /// The `Type` this step is written with.
    pub fn step_type(&self) -> StepType {
        match &self.kind {
            StepKind::Processing { .. } => StepType::Processing,
            StepKind::Training { .. } => StepType::Training,
            StepKind::Transform { .. } => StepType::Transform,
            StepKind::Model { .. } => StepType::Model,
            StepKind::RegisterModel { .. } => StepType::RegisterModel,
            StepKind::Condition { .. } => StepType::Condition,
            StepKind::Fail { .. } => StepType::Fail,
        }
    }

    /// The step as the definition lists it: `Name`, `Type`, `Arguments`, `PropertyFiles`,
    /// `RetryPolicies`, `CacheConfig`, `DependsOn`, each only when the step has one.
    fn to_value(&self) -> Value {
        let mut step = Map::new();
        step.insert("Name".into(), json!(self.name.as_str()));
        let (arguments, retry) = match &self.kind {
            StepKind::Processing {
                arguments, retry, ..
            }
            | StepKind::Training { arguments, retry }
            | StepKind::Transform { arguments, retry } => (arguments.clone(), job_policies(retry)),
            StepKind::Model { arguments, retry } | StepKind::RegisterModel { arguments, retry } => {
                (arguments.clone(), service_policies(retry))
            }
            StepKind::Condition {
                conditions,
                if_steps,
                else_steps,
            } => {
                let conditions: Vec<Value> = conditions
                    .iter()
                    .map(|c| {
                        json!({
                            "Type": c.comparison.name(),
                            "LeftValue": c.left,
                            "RightValue": c.right,
                        })
                    })
                    .collect();
                let if_steps: Vec<Value> = if_steps.iter().map(Step::to_value).collect();
                let else_steps: Vec<Value> = else_steps.iter().map(Step::to_value).collect();
                let arguments = json!({
                    "Conditions": conditions,
                    "IfSteps": if_steps,
                    "ElseSteps": else_steps,
                });
                (arguments, None)
            }
            StepKind::Fail { error_message } => (json!({"ErrorMessage": error_message}), None),
        };
        step.insert("Type".into(), json!(self.step_type().name()));
        step.insert("Arguments".into(), arguments);
        if let StepKind::Processing { property_files, .. } = &self.kind
            && !property_files.is_empty()
        {
            let files: Vec<Value> = property_files
                .iter()
                .map(|d| {
                    json!({
                        "PropertyFileName": d.file.name,
                        "OutputName": d.output,
                        "FilePath": d.path,
                    })
                })
                .collect();
            step.insert("PropertyFiles".into(), Value::Array(files));
        }
        if let Some(retry) = retry {
            step.insert("RetryPolicies".into(), retry);
        }
        if let StepKind::Processing {
            cache_expire_after: Some(expire),
            ..
        } = &self.kind
        {
            step.insert(
                "CacheConfig".into(),
                json!({"Enabled": true, "ExpireAfter": expire}),
            );
        }
        if !self.depends_on.is_empty() {
            let names: Vec<&str> = self.depends_on.iter().map(StepName::as_str).collect();
            step.insert("DependsOn".into(), json!(names));
        }
        Value::Object(step)
    }
}

fn job_policies(retry: &[RetryPolicy<JobFault>]) -> Option<Value> {
    Some(retry.iter().map(|p| p.to_value(JobFault::code)).collect())
}

fn service_policies(retry: &[RetryPolicy<ServiceFault>]) -> Option<Value> {
    Some(
        retry
            .iter()
            .map(|p| p.to_value(ServiceFault::code))
            .collect(),
    )
}

/// A pipeline definition: its parameters and steps, with the SDK's default experiment
/// tracking (every execution's jobs are trial components of one trial per execution, in an
/// experiment named after the pipeline; docs/sdk-parity.md).
#[derive(Debug)]
pub struct PipelineDefinition {
    pub parameters: Parameters,
    pub steps: Vec<Step>,
}

impl PipelineDefinition {
    /// What the types cannot rule out: step names unique across Condition branches, every
    /// `DependsOn` naming a step of the definition, parameter names unique, a Condition
    /// step with something to compare, and every `Get` naming a parameter, a step or a
    /// step's property file of this definition.
    pub fn check(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        let all: Vec<&Step> = self.steps.iter().flat_map(Step::all).collect();
        let mut names = BTreeSet::new();
        for step in &all {
            if !names.insert(step.name.as_str()) {
                problems.push(format!("step name `{}` is used twice", step.name.as_str()));
            }
        }
        for step in &all {
            for dependency in &step.depends_on {
                if !names.contains(dependency.as_str()) {
                    problems.push(format!(
                        "step `{}` depends on unknown step `{}`",
                        step.name.as_str(),
                        dependency.as_str()
                    ));
                }
            }
            if let StepKind::Condition { conditions, .. } = &step.kind
                && conditions.is_empty()
            {
                problems.push(format!(
                    "condition `{}` has no conditions",
                    step.name.as_str()
                ));
            }
        }
        let mut parameters = BTreeSet::new();
        for name in self.parameters.names() {
            if !parameters.insert(name) {
                problems.push(format!("parameter `{name}` is declared twice"));
            }
        }
        let mut gets = Vec::new();
        for step in &all {
            step.run_time_values()
                .for_each(|value| collect_gets(value, &mut gets));
        }
        for path in gets {
            if let Some(problem) = self.unknown_reference(path, &all, &parameters)
                && !problems.contains(&problem)
            {
                problems.push(problem);
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    /// Why `path`, the path of a `Get`, names nothing in this definition; `None` when it names
    /// a declared parameter, an execution variable, or a step (and its declared property file).
    fn unknown_reference(
        &self,
        path: &str,
        steps: &[&Step],
        parameters: &BTreeSet<&str>,
    ) -> Option<String> {
        let unknown = |what: String| Some(format!("`Get` {path}: {what}"));
        let mut parts = path.splitn(4, '.');
        match (parts.next(), parts.next()) {
            (Some("Parameters"), Some(name)) if parameters.contains(name) => None,
            (Some("Parameters"), _) => unknown("no such parameter is declared".into()),
            (Some("Execution"), Some(_)) => None,
            (Some("Steps"), Some(name)) => {
                let Some(step) = steps.iter().find(|step| step.name.as_str() == name) else {
                    return unknown(format!("no step `{name}` in this definition"));
                };
                match (parts.next(), parts.next()) {
                    (Some("PropertyFiles"), Some(file)) if !step.declares_property_file(file) => {
                        unknown(format!("step `{name}` declares no property file `{file}`"))
                    }
                    _ => None,
                }
            }
            _ => unknown("not a parameter, an execution variable or a step".into()),
        }
    }

    /// The definition as JSON, keys in the order the pipeline service documents them.
    pub fn to_value(&self) -> Value {
        let steps: Vec<Value> = self.steps.iter().map(Step::to_value).collect();
        json!({
            "Version": "2020-12-01",
            "Metadata": {},
            "Parameters": self.parameters.0.iter().map(|(_, p)| p).collect::<Vec<_>>(),
            "PipelineExperimentConfig": {
                "ExperimentName": Execution::PipelineName.get(),
                "TrialName": Execution::PipelineExecutionId.get(),
            },
            "Steps": steps,
        })
    }
}

impl Serialize for PipelineDefinition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn processing(name: &str) -> (Step, Output) {
        let output = ProcessingOutput {
            name: "out".into(),
            uri: json!("s3://bucket/out/"),
            local: "/opt/ml/processing/out".into(),
        };
        let (step, [out]) = Step::processing(name, [output], |outputs| json!({"Outputs": outputs}));
        (step, out)
    }

    fn definition(steps: Vec<Step>) -> PipelineDefinition {
        let mut parameters = Parameters::default();
        parameters.float("Threshold", 0.5);
        PipelineDefinition { parameters, steps }
    }

    #[test]
    fn accepts_a_consistent_definition() {
        let (first, _) = processing("first");
        let (second, _) = processing("second");
        let second = second.depending_on(&["first".into()]);
        assert_eq!(definition(vec![first, second]).check(), Ok(()));
    }

    #[test]
    fn rejects_duplicate_step_names_across_branches() {
        let (report, _) = processing("report");
        let gate = Step::condition(
            "gate",
            vec![Condition {
                comparison: Comparison::Equals,
                left: json!(1),
                right: json!(1),
            }],
            vec![Step::fail("report", json!("no"))],
            Vec::new(),
        );
        let message = definition(vec![report, gate])
            .check()
            .expect_err("a name used twice");
        assert_eq!(message, "step name `report` is used twice");
    }

    #[test]
    fn rejects_dependencies_on_steps_not_in_the_definition() {
        let (step, _) = processing("report");
        let message = definition(vec![step.depending_on(&["train".into()])])
            .check()
            .expect_err("an unknown dependency");
        assert_eq!(message, "step `report` depends on unknown step `train`");
    }

    #[test]
    fn rejects_a_condition_without_conditions() {
        let gate = Step::condition(
            "gate",
            Vec::new(),
            vec![Step::fail("no", json!("x"))],
            vec![],
        );
        let message = definition(vec![gate])
            .check()
            .expect_err("nothing to compare");
        assert_eq!(message, "condition `gate` has no conditions");
    }

    /// A handle becomes JSON at once, so one of another definition (the monitoring
    /// pipeline's, say) is caught by what its `Get` names: a parameter or a step this
    /// definition does not have.
    #[test]
    fn rejects_a_get_of_what_another_definition_declares() {
        let mut elsewhere = Parameters::default();
        let foreign = elsewhere.string("MonitorInstanceType", "ml.m5.large");
        let (monitor, _) = processing("monitor");
        let (_, foreign_output) = processing("elsewhere");
        let (step, _) = Step::processing(
            "report",
            [],
            |_| json!({"Environment": {"TYPE": foreign.get(), "IN": foreign_output.uri()}}),
        );
        let message = definition(vec![monitor, step])
            .check()
            .expect_err("foreign references");
        assert_eq!(
            message,
            "`Get` Parameters.MonitorInstanceType: no such parameter is declared; \
             `Get` Steps.elsewhere.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri: no step `elsewhere` in this definition"
        );

        let mut parameters = Parameters::default();
        let threshold = parameters.float("Threshold", 0.5);
        let (monitor, out) = processing("monitor");
        let (step, _) = Step::processing("report", [], |_| {
            json!({"Environment": {"T": threshold.get(), "IN": out.uri(),
                "ID": Execution::PipelineExecutionId.get()}})
        });
        let own = PipelineDefinition {
            parameters,
            steps: vec![monitor, step],
        };
        assert_eq!(own.check(), Ok(()));

        // A step of the same name elsewhere, with a property file this one does not declare.
        let output = ProcessingOutput {
            name: "out".into(),
            uri: json!("s3://bucket/out/"),
            local: "/opt/ml/processing/out".into(),
        };
        let (_, _, foreign_file) =
            Step::processing_report("monitor", output, "Report", "r.json", |_| json!({}));
        let (monitor, _) = processing("monitor");
        let gate = Step::condition(
            "gate",
            vec![Condition {
                comparison: Comparison::Equals,
                left: foreign_file.json_get("status"),
                right: json!("ok"),
            }],
            vec![Step::fail("no", json!("x"))],
            Vec::new(),
        );
        let message = definition(vec![monitor, gate])
            .check()
            .expect_err("a property file the step does not declare");
        assert_eq!(
            message,
            "`Get` Steps.monitor.PropertyFiles.Report: step `monitor` declares no property file `Report`"
        );
    }

    #[test]
    fn rejects_a_parameter_declared_twice() {
        let mut definition = definition(Vec::new());
        definition.parameters.string("Threshold", "x");
        let message = definition.check().expect_err("a parameter declared twice");
        assert_eq!(message, "parameter `Threshold` is declared twice");
    }

    #[test]
    fn references_name_the_step_output_and_file_that_made_them() {
        let output = ProcessingOutput {
            name: "evaluation".into(),
            uri: json!("s3://b/e/"),
            local: "/opt/ml/processing/evaluation".into(),
        };
        let (step, report, file) = Step::processing_report(
            "evaluate",
            output,
            "Report",
            "e.json",
            |outputs| json!({"ProcessingOutputConfig": {"Outputs": outputs}}),
        );
        assert_eq!(
            report.uri(),
            json!({"Get": "Steps.evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"})
        );
        assert_eq!(
            file.json_get("metrics.accuracy.value"),
            json!({"Std:JsonGet": {
                "PropertyFile": {"Get": "Steps.evaluate.PropertyFiles.Report"},
                "Path": "metrics.accuracy.value",
            }})
        );
        assert_eq!(
            step.to_value()["PropertyFiles"],
            json!([{"PropertyFileName": "Report", "OutputName": "evaluation", "FilePath": "e.json"}])
        );
    }

    #[test]
    fn only_job_steps_retry_on_capacity_errors() {
        let codes = |step: &Step| step.to_value()["RetryPolicies"].to_string();
        let (model, _) = Step::model("m", json!({}));
        assert!(!codes(&model).contains("CAPACITY"), "{}", codes(&model));
        let (training, _) = Step::training("t", json!({}));
        assert!(codes(&training).contains("SageMaker.CAPACITY_ERROR"));
        let gate = Step::condition("g", Vec::new(), Vec::new(), Vec::new());
        assert_eq!(gate.to_value().get("RetryPolicies"), None);
    }
}
