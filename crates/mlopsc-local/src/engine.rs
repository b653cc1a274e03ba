//! The step graph and its scheduler: what SageMaker Pipelines does between steps.
//!
//! Steps run as soon as every step they depend on (through a `Get: Steps.X...` reference
//! or `DependsOn`) has succeeded, up to `parallelism` at once. A Condition step decides
//! which of its branches runs; the other branch's steps are skipped. When a step fails,
//! no new step starts (the running ones finish) and the execution fails, as on AWS.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mlopsc_core::definition::StepType;
use serde_json::{Value, json};

use mlopsc_core::definition::expression as expr;

use super::values::{ExecutionValues, Published};

/// One step of the definition, with the branch of a Condition it sits in, if any.
#[derive(Clone, Debug)]
pub struct StepDef {
    pub name: String,
    pub kind: StepType,
    pub arguments: Value,
    /// The whole step object, for `PropertyFiles`, `CacheConfig` and `RetryPolicies`.
    pub raw: Value,
    pub depends_on: Vec<String>,
    /// `(condition step, true for IfSteps)`.
    pub branch: Option<(String, bool)>,
}

/// Flattens `Steps` (Condition branches included) and checks that every reference names
/// a step and that the graph has no cycle.
pub fn steps_of(definition: &Value) -> Result<Vec<StepDef>, String> {
    let mut out = Vec::new();
    let top = definition
        .get("Steps")
        .and_then(Value::as_array)
        .ok_or("the pipeline definition has no `Steps` list")?;
    collect(top, None, &mut out)?;
    for step in &out {
        for dependency in &step.depends_on {
            if !out.iter().any(|s| &s.name == dependency) {
                return Err(format!(
                    "step `{}` refers to `{dependency}`, which is not a step of the pipeline",
                    step.name
                ));
            }
        }
    }
    order(&out)?;
    Ok(out)
}

fn collect(
    list: &[Value],
    branch: Option<(String, bool)>,
    out: &mut Vec<StepDef>,
) -> Result<(), String> {
    for raw in list {
        let name = raw
            .get("Name")
            .and_then(Value::as_str)
            .ok_or("a step has no `Name`")?
            .to_string();
        if out.iter().any(|s: &StepDef| s.name == name) {
            return Err(format!("two steps are named `{name}`"));
        }
        let kind = raw
            .get("Type")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("step `{name}` has no `Type`"))?;
        let kind = StepType::parse(kind).ok_or_else(|| {
            format!(
                "`mlopsc run --local` cannot run {kind} steps (step `{name}`); run this pipeline on SageMaker"
            )
        })?;
        let arguments = raw.get("Arguments").cloned().unwrap_or(json!({}));
        let mut depends_on = Vec::new();
        if let Some((condition, _)) = &branch {
            depends_on.push(condition.clone());
        }
        // A Condition's branches are its children, not its inputs.
        let mut inputs = arguments.clone();
        if let Some(map) = inputs.as_object_mut() {
            map.remove("IfSteps");
            map.remove("ElseSteps");
        }
        expr::referenced_steps(&inputs, &mut depends_on);
        for name in raw
            .get("DependsOn")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = name.as_str()
                && !depends_on.iter().any(|d| d == name)
            {
                depends_on.push(name.to_string());
            }
        }
        out.push(StepDef {
            name: name.clone(),
            kind,
            arguments: arguments.clone(),
            raw: raw.clone(),
            depends_on,
            branch: branch.clone(),
        });
        if kind == StepType::Condition {
            for (key, taken) in [("IfSteps", true), ("ElseSteps", false)] {
                if let Some(children) = arguments.get(key).and_then(Value::as_array) {
                    collect(children, Some((name.clone(), taken)), out)?;
                }
            }
        }
    }
    Ok(())
}

/// A topological order (definition order among equals); an error names a cycle's steps.
pub fn order(steps: &[StepDef]) -> Result<Vec<String>, String> {
    let mut done: Vec<String> = Vec::new();
    while done.len() < steps.len() {
        let next = steps
            .iter()
            .find(|s| !done.contains(&s.name) && s.depends_on.iter().all(|d| done.contains(d)));
        match next {
            Some(step) => done.push(step.name.clone()),
            None => {
                let stuck: Vec<_> = steps
                    .iter()
                    .filter(|s| !done.contains(&s.name))
                    .map(|s| s.name.as_str())
                    .collect();
                return Err(format!(
                    "the steps {} depend on each other in a cycle",
                    stuck.join(", ")
                ));
            }
        }
    }
    Ok(done)
}

/// Runs one job step (Processing, Training, RegisterModel...) with resolved arguments.
pub trait Executor: Sync {
    fn execute(&self, step: &StepDef, arguments: &Value) -> Result<JobResult, String>;
}

/// What a job step produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobResult {
    pub published: Published,
    pub metrics: BTreeMap<String, f64>,
    /// Set by RegisterModel.
    pub registered: Option<Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Succeeded,
    Failed,
    Skipped,
    Executing,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Succeeded => "Succeeded",
            Status::Failed => "Failed",
            Status::Skipped => "Skipped",
            Status::Executing => "Executing",
        }
    }
}

/// The record of one step in an execution.
#[derive(Clone, Debug, PartialEq)]
pub struct StepRecord {
    pub name: String,
    pub kind: StepType,
    pub status: Status,
    pub cache_hit: bool,
    pub duration: Duration,
    pub failure_reason: Option<String>,
    pub result: JobResult,
}

/// Reuses a step's earlier result when its arguments are unchanged (`CacheConfig`).
pub trait Cache: Sync {
    fn lookup(&self, step: &StepDef, arguments: &Value) -> Option<JobResult>;
    fn store(&self, step: &StepDef, arguments: &Value, result: &JobResult);
}

/// Progress events, for the live output.
pub enum Event<'a> {
    Started(&'a StepDef),
    Finished(&'a StepRecord),
}

pub struct Run<'a> {
    pub parameters: &'a BTreeMap<String, Value>,
    pub execution: &'a BTreeMap<String, Value>,
    pub parallelism: usize,
}

/// Runs every step; returns the records in definition order.
pub fn execute(
    run: &Run,
    steps: &[StepDef],
    executor: &dyn Executor,
    cache: &dyn Cache,
    on_event: &mut dyn FnMut(Event),
) -> Vec<StepRecord> {
    let mut records: BTreeMap<String, StepRecord> = BTreeMap::new();
    let mut published: BTreeMap<String, Published> = BTreeMap::new();
    let mut running: BTreeMap<String, Instant> = BTreeMap::new();
    let mut failed = false;
    let parallelism = run.parallelism.max(1);
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel::<(String, Value, Result<JobResult, String>)>();
        loop {
            let mut progressed = true;
            while progressed {
                progressed = false;
                for step in steps {
                    if records.contains_key(&step.name) || running.contains_key(&step.name) {
                        continue;
                    }
                    if failed {
                        break;
                    }
                    match readiness(step, &records) {
                        Readiness::Wait => continue,
                        Readiness::Skip => {
                            records.insert(step.name.clone(), skipped(step));
                            progressed = true;
                            continue;
                        }
                        Readiness::Ready => {}
                    }
                    let is_job = !matches!(step.kind, StepType::Condition | StepType::Fail);
                    if is_job && running.len() >= parallelism {
                        continue;
                    }
                    let started = Instant::now();
                    on_event(Event::Started(step));
                    let scope_now = ExecutionValues {
                        parameters: run.parameters,
                        execution: run.execution,
                        steps: &published,
                    };
                    progressed = true;
                    let arguments = match resolve_arguments(step, &scope_now) {
                        Ok(arguments) => arguments,
                        Err(reason) => {
                            failed = true;
                            let record = finished(
                                step,
                                Status::Failed,
                                started,
                                Some(reason),
                                false,
                                JobResult::default(),
                            );
                            on_event(Event::Finished(&record));
                            records.insert(step.name.clone(), record);
                            continue;
                        }
                    };
                    match step.kind {
                        StepType::Condition => {
                            let outcome = step
                                .arguments
                                .get("Conditions")
                                .ok_or_else(|| "a Condition step needs `Conditions`".to_string())
                                .and_then(|c| expr::all_hold(c, &scope_now));
                            let outcome = outcome.map(|outcome| JobResult {
                                published: Published {
                                    properties: json!({"Outcome": outcome}),
                                    property_files: BTreeMap::new(),
                                },
                                ..JobResult::default()
                            });
                            let record =
                                conclude(step, started, outcome, &mut published, &mut failed);
                            on_event(Event::Finished(&record));
                            records.insert(step.name.clone(), record);
                        }
                        StepType::Fail => {
                            failed = true;
                            let message = arguments
                                .get("ErrorMessage")
                                .map(expr::text)
                                .unwrap_or_default();
                            let record = finished(
                                step,
                                Status::Failed,
                                started,
                                Some(message),
                                false,
                                JobResult::default(),
                            );
                            on_event(Event::Finished(&record));
                            records.insert(step.name.clone(), record);
                        }
                        StepType::Processing
                        | StepType::Training
                        | StepType::Transform
                        | StepType::Model
                        | StepType::RegisterModel => {
                            if let Some(result) = cache.lookup(step, &arguments) {
                                published.insert(step.name.clone(), result.published.clone());
                                let record =
                                    finished(step, Status::Succeeded, started, None, true, result);
                                on_event(Event::Finished(&record));
                                records.insert(step.name.clone(), record);
                                continue;
                            }
                            running.insert(step.name.clone(), started);
                            let sender = sender.clone();
                            scope.spawn(move || {
                                let result = executor.execute(step, &arguments);
                                let _ = sender.send((step.name.clone(), arguments, result));
                            });
                        }
                    }
                }
            }
            if running.is_empty() {
                break;
            }
            let Ok((name, arguments, result)) = receiver.recv() else {
                break;
            };
            let started = running.remove(&name).unwrap_or_else(Instant::now);
            let Some(step) = steps.iter().find(|s| s.name == name) else {
                continue;
            };
            if let Ok(result) = &result {
                cache.store(step, &arguments, result);
            }
            let record = conclude(step, started, result, &mut published, &mut failed);
            on_event(Event::Finished(&record));
            records.insert(name, record);
        }
    });
    steps
        .iter()
        .map(|step| records.remove(&step.name).unwrap_or_else(|| skipped(step)))
        .collect()
}

enum Readiness {
    Ready,
    Wait,
    Skip,
}

fn readiness(step: &StepDef, records: &BTreeMap<String, StepRecord>) -> Readiness {
    if let Some((condition, taken)) = &step.branch {
        match records.get(condition) {
            None => return Readiness::Wait,
            Some(record) if record.status != Status::Succeeded => return Readiness::Skip,
            Some(record) => {
                let outcome = record
                    .result
                    .published
                    .properties
                    .get("Outcome")
                    .and_then(Value::as_bool);
                if outcome != Some(*taken) {
                    return Readiness::Skip;
                }
            }
        }
    }
    for dependency in &step.depends_on {
        match records.get(dependency).map(|r| r.status) {
            None => return Readiness::Wait,
            Some(Status::Succeeded) => {}
            Some(_) => return Readiness::Skip,
        }
    }
    Readiness::Ready
}

/// A Condition's arguments hold its branches, which are steps of their own: they are not
/// resolved with it.
fn resolve_arguments(step: &StepDef, scope: &ExecutionValues) -> Result<Value, String> {
    if step.kind == StepType::Condition {
        return Ok(json!({}));
    }
    expr::resolve(&step.arguments, scope)
}

fn skipped(step: &StepDef) -> StepRecord {
    StepRecord {
        name: step.name.clone(),
        kind: step.kind,
        status: Status::Skipped,
        cache_hit: false,
        duration: Duration::ZERO,
        failure_reason: None,
        result: JobResult::default(),
    }
}

/// The record of a step that ran: a success publishes its properties to the steps after it,
/// a failure stops the execution from starting more.
fn conclude(
    step: &StepDef,
    started: Instant,
    outcome: Result<JobResult, String>,
    published: &mut BTreeMap<String, Published>,
    failed: &mut bool,
) -> StepRecord {
    match outcome {
        Ok(result) => {
            published.insert(step.name.clone(), result.published.clone());
            finished(step, Status::Succeeded, started, None, false, result)
        }
        Err(reason) => {
            *failed = true;
            finished(
                step,
                Status::Failed,
                started,
                Some(reason),
                false,
                JobResult::default(),
            )
        }
    }
}

fn finished(
    step: &StepDef,
    status: Status,
    started: Instant,
    failure_reason: Option<String>,
    cache_hit: bool,
    result: JobResult,
) -> StepRecord {
    StepRecord {
        name: step.name.clone(),
        kind: step.kind,
        status,
        cache_hit,
        duration: started.elapsed(),
        failure_reason,
        result,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Records start order and the highest number of jobs running at once.
    #[derive(Default)]
    struct Recorder {
        running: AtomicUsize,
        peak: AtomicUsize,
        started: Mutex<Vec<String>>,
        fail: Vec<&'static str>,
    }

    impl Executor for Recorder {
        fn execute(&self, step: &StepDef, arguments: &Value) -> Result<JobResult, String> {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            self.started.lock().unwrap().push(step.name.clone());
            std::thread::sleep(Duration::from_millis(60));
            self.running.fetch_sub(1, Ordering::SeqCst);
            if self.fail.contains(&step.name.as_str()) {
                return Err(format!("{} broke", step.name));
            }
            let mut files = BTreeMap::new();
            files.insert(
                "Report".to_string(),
                json!({"accuracy": arguments.get("Accuracy").cloned().unwrap_or(json!(0.9))}),
            );
            Ok(JobResult {
                published: Published {
                    properties: json!({"Out": format!("s3://b/{}/", step.name)}),
                    property_files: files,
                },
                ..JobResult::default()
            })
        }
    }

    struct NoCache;
    impl Cache for NoCache {
        fn lookup(&self, _: &StepDef, _: &Value) -> Option<JobResult> {
            None
        }
        fn store(&self, _: &StepDef, _: &Value, _: &JobResult) {}
    }

    fn job(name: &str, arguments: Value) -> Value {
        json!({"Name": name, "Type": "Processing", "Arguments": arguments})
    }

    fn gated(threshold: f64) -> Value {
        json!({"Steps": [
            job("evaluate", json!({"Input": {"Get": "Steps.train.Out"}})),
            job("train", json!({})),
            {"Name": "gate", "Type": "Condition", "Arguments": {
                "Conditions": [{"Type": "GreaterThanOrEqualTo",
                    "LeftValue": {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.evaluate.PropertyFiles.Report"}, "Path": "accuracy"}},
                    "RightValue": threshold}],
                "IfSteps": [job("register", json!({"Model": {"Get": "Steps.train.Out"}}))],
                "ElseSteps": [{"Name": "stop", "Type": "Fail", "Arguments": {"ErrorMessage": {"Std:Join": {"On": " ", "Values": ["below", threshold]}}}}]}}
        ]})
    }

    fn run_definition(
        definition: &Value,
        recorder: &Recorder,
        parallelism: usize,
    ) -> Vec<StepRecord> {
        let steps = steps_of(definition).unwrap();
        let parameters = BTreeMap::new();
        let execution = BTreeMap::new();
        let run = Run {
            parameters: &parameters,
            execution: &execution,
            parallelism,
        };
        execute(&run, &steps, recorder, &NoCache, &mut |_| {})
    }

    fn statuses(records: &[StepRecord]) -> Vec<(&str, &str)> {
        records
            .iter()
            .map(|r| (r.name.as_str(), r.status.as_str()))
            .collect()
    }

    #[test]
    fn references_order_steps_and_the_condition_picks_a_branch() {
        let recorder = Recorder::default();
        let records = run_definition(&gated(0.5), &recorder, 4);
        assert_eq!(
            *recorder.started.lock().unwrap(),
            ["train", "evaluate", "register"]
        );
        assert_eq!(
            statuses(&records),
            [
                ("evaluate", "Succeeded"),
                ("train", "Succeeded"),
                ("gate", "Succeeded"),
                ("register", "Succeeded"),
                ("stop", "Skipped")
            ]
        );

        let recorder = Recorder::default();
        let records = run_definition(&gated(0.95), &recorder, 4);
        assert_eq!(
            statuses(&records),
            [
                ("evaluate", "Succeeded"),
                ("train", "Succeeded"),
                ("gate", "Succeeded"),
                ("register", "Skipped"),
                ("stop", "Failed")
            ]
        );
        assert_eq!(records[4].failure_reason.as_deref(), Some("below 0.95"));
    }

    #[test]
    fn independent_steps_run_in_parallel_up_to_the_bound() {
        let definition = json!({"Steps": [job("a", json!({})), job("b", json!({})), job("c", json!({})), job("d", json!({})), job("e", json!({}))]});
        for bound in [1, 2, 3] {
            let recorder = Recorder::default();
            let records = run_definition(&definition, &recorder, bound);
            assert!(records.iter().all(|r| r.status == Status::Succeeded));
            assert_eq!(recorder.peak.load(Ordering::SeqCst), bound, "bound {bound}");
        }
    }

    #[test]
    fn a_failure_starts_nothing_new_and_skips_the_rest() {
        let definition = json!({"Steps": [
            job("first", json!({})),
            {"Name": "second", "Type": "Processing", "Arguments": {}, "DependsOn": ["first"]},
            job("third", json!({"X": {"Get": "Steps.second.Out"}}))
        ]});
        let recorder = Recorder {
            fail: vec!["first"],
            ..Recorder::default()
        };
        let records = run_definition(&definition, &recorder, 2);
        assert_eq!(
            statuses(&records),
            [
                ("first", "Failed"),
                ("second", "Skipped"),
                ("third", "Skipped")
            ]
        );
        assert_eq!(records[0].failure_reason.as_deref(), Some("first broke"));
    }

    #[test]
    fn unknown_references_and_cycles_are_refused() {
        let unknown = json!({"Steps": [job("a", json!({"X": {"Get": "Steps.nope.Out"}}))]});
        assert!(
            steps_of(&unknown)
                .unwrap_err()
                .contains("`nope`, which is not a step")
        );
        let cycle = json!({"Steps": [job("a", json!({"X": {"Get": "Steps.b.Out"}})), job("b", json!({"X": {"Get": "Steps.a.Out"}}))]});
        assert!(
            steps_of(&cycle)
                .unwrap_err()
                .contains("a, b depend on each other")
        );
    }

    #[test]
    fn a_step_type_mlopsc_never_writes_is_refused_before_anything_runs() {
        let definition = json!({"Steps": [
            job("a", json!({})),
            {"Name": "tune", "Type": "Tuning", "Arguments": {}},
        ]});
        let error = steps_of(&definition).unwrap_err();
        assert_eq!(
            error,
            "`mlopsc run --local` cannot run Tuning steps (step `tune`); run this pipeline on SageMaker"
        );
    }
}
