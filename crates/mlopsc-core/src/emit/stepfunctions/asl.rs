//! A typed model of the Amazon States Language, as much of it as the two machines use.
//!
//! A transition can only name a [`StateName`], and a `StateName` only comes from
//! [`Builder::declare`]; [`Builder::finish`] refuses a declared state that is not defined
//! exactly once, and a name declared by another builder. So every `Next`, `Default` and
//! catcher goes to a state of the machine, `StartAt` is one, every state has its transition,
//! and every Task catches `States.ALL`: what the self-check used to look for in the JSON by
//! key. Request bodies (`Parameters`,
//! `Arguments`) and the values choice rules compare with stay `serde_json::Value`.
//!
//! Serialization writes the keys in the order AWS documents them and the artifacts have
//! always had: `generated/` does not change.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;

/// The name of a declared state. Only [`Builder::declare`] makes one, so a transition cannot
/// name a state nobody declared; it carries its builder's mark, so that a name of another
/// machine is refused too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct StateName {
    name: &'static str,
    /// Appended to `name`: the states [`Builder::declare_for`] makes for another state.
    suffix: &'static str,
    machine: MachineMark,
}

/// Which builder declared a name: unique per [`Builder`] in the process, never serialized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct MachineMark(u64);

impl std::fmt::Display for StateName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.name, self.suffix)
    }
}

impl Serialize for StateName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A whole state machine: top level only, no Parallel or Map.
#[derive(Debug)]
pub struct StateMachine {
    comment: String,
    start_at: StateName,
    timeout_seconds: u32,
    states: Vec<(StateName, State)>,
}

impl StateMachine {
    pub fn start_at(&self) -> StateName {
        self.start_at
    }

    /// The states in the order they were defined, which is their order in the JSON.
    pub fn states(&self) -> impl Iterator<Item = (StateName, &State)> {
        self.states.iter().map(|(name, state)| (*name, state))
    }

    /// The definition as JSON, for the artifact and the template's `DefinitionString`.
    pub fn to_json(&self) -> Result<Value, String> {
        serde_json::to_value(self).map_err(|e| e.to_string())
    }
}

impl Serialize for StateMachine {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("Comment", &self.comment)?;
        map.serialize_entry("StartAt", &self.start_at)?;
        map.serialize_entry("TimeoutSeconds", &self.timeout_seconds)?;
        map.serialize_entry("States", &States(&self.states))?;
        map.end()
    }
}

/// The `States` object, keyed by name in definition order.
struct States<'a>(&'a [(StateName, State)]);

impl Serialize for States<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, state) in self.0 {
            map.serialize_entry(name, state)?;
        }
        map.end()
    }
}

/// Declares state names, then takes one definition for each.
#[derive(Debug)]
pub struct Builder {
    machine: MachineMark,
    declared: Vec<StateName>,
    states: Vec<(StateName, State)>,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// An empty machine, with a mark of its own for the names it declares.
    pub fn new() -> Builder {
        static BUILDERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Builder {
            machine: MachineMark(BUILDERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)),
            declared: Vec::new(),
            states: Vec::new(),
        }
    }

    /// A handle for a state that [`Builder::define`] must define before [`Builder::finish`].
    pub fn declare(&mut self, name: &'static str) -> StateName {
        self.declare_name(name, "")
    }

    /// A state that belongs to `owner`, named after it: `owner` then `suffix`.
    pub fn declare_for(&mut self, owner: StateName, suffix: &'static str) -> StateName {
        self.declare_name(owner.name, suffix)
    }

    fn declare_name(&mut self, name: &'static str, suffix: &'static str) -> StateName {
        let name = StateName {
            name,
            suffix,
            machine: self.machine,
        };
        self.declared.push(name);
        name
    }

    /// Defines `name`; the states appear in the JSON in the order of these calls.
    pub fn define(&mut self, name: StateName, state: State) {
        self.states.push((name, state));
    }

    /// The machine, or what keeps it from being one: a state declared twice, defined
    /// twice or never defined, a name another builder declared, or no time limit.
    pub fn finish(
        self,
        comment: String,
        start_at: StateName,
        timeout_seconds: u32,
    ) -> Result<StateMachine, String> {
        let mut problems = Vec::new();
        for (index, name) in self.declared.iter().enumerate() {
            if self.declared[..index].contains(name) {
                problems.push(format!("`{name}` is declared twice"));
                continue;
            }
            match self.states.iter().filter(|(n, _)| n == name).count() {
                0 => problems.push(format!("`{name}` is declared but not defined")),
                1 => {}
                _ => problems.push(format!("`{name}` is defined twice")),
            }
        }
        let foreign = |name: &StateName| name.machine != self.machine;
        let named = self
            .states
            .iter()
            .flat_map(|(name, state)| std::iter::once(*name).chain(state.transitions()));
        for name in std::iter::once(start_at).chain(named).filter(foreign) {
            let problem = format!("`{name}` is a state of another machine");
            if !problems.contains(&problem) {
                problems.push(problem);
            }
        }
        if timeout_seconds == 0 {
            problems.push("the machine has no TimeoutSeconds".into());
        }
        if problems.is_empty() {
            Ok(StateMachine {
                comment,
                start_at,
                timeout_seconds,
                states: self.states,
            })
        } else {
            Err(problems.join("; "))
        }
    }
}

/// One state. Each kind but Succeed and Fail names where it goes next; no state ends the
/// execution through `End`.
#[derive(Debug, Serialize)]
#[serde(tag = "Type")]
pub enum State {
    Task(Task),
    /// A Task whose fields are JSONata expressions (`QueryLanguage` first).
    #[serde(rename = "Task")]
    JsonataTask(JsonataTask),
    Choice(Choice),
    Pass(Pass),
    Wait(Wait),
    Succeed(Succeed),
    Fail(Fail),
}

impl State {
    /// Every state this one can go to.
    pub fn transitions(&self) -> Vec<StateName> {
        match self {
            State::Task(task) => vec![task.next, task.catch.next],
            State::JsonataTask(task) => vec![task.next, task.catch.next],
            State::Choice(choice) => choice
                .choices
                .iter()
                .map(|rule| rule.next)
                .chain([choice.default])
                .collect(),
            State::Pass(pass) => vec![pass.next],
            State::Wait(wait) => vec![wait.next],
            State::Succeed(_) | State::Fail(_) => Vec::new(),
        }
    }

    /// Whether reaching this state ends the execution.
    pub fn ends(&self) -> bool {
        matches!(self, State::Succeed(_) | State::Fail(_))
    }
}

/// A JSONPath Task. Its one catcher catches everything, so a Task cannot leave the machine
/// without the failure path hearing of it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Task {
    pub resource: &'static str,
    pub parameters: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_selector: Option<Value>,
    /// `None` is `null`: the result is dropped and the input passes on.
    pub result_path: Option<&'static str>,
    pub retry: Vec<Retrier>,
    #[serde(serialize_with = "one_catcher")]
    pub catch: Catcher,
    pub next: StateName,
}

/// A JSONata Task: `Arguments` and `Output` instead of `Parameters` and paths.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct JsonataTask {
    pub query_language: QueryLanguage,
    pub resource: &'static str,
    pub arguments: Value,
    pub output: &'static str,
    pub retry: Vec<Retrier>,
    #[serde(serialize_with = "one_catcher")]
    pub catch: Catcher,
    pub next: StateName,
}

/// The query language of a state that does not use the machine's JSONPath.
#[derive(Clone, Copy, Debug, Serialize)]
pub enum QueryLanguage {
    #[serde(rename = "JSONata")]
    Jsonata,
}

fn one_catcher<S: Serializer>(catcher: &Catcher, serializer: S) -> Result<S::Ok, S::Error> {
    [catcher].serialize(serializer)
}

/// Catches `States.ALL` into `next`, the only catcher the machines need.
#[derive(Debug)]
pub struct Catcher {
    pub error: KeepError,
    pub next: StateName,
}

/// Where a catcher puts the error.
#[derive(Debug)]
pub enum KeepError {
    /// `ResultPath`: the error at this path of the state's input.
    At(&'static str),
    /// `Output`: a JSONata expression, for JSONata states.
    Output(&'static str),
}

impl Serialize for Catcher {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("ErrorEquals", &["States.ALL"])?;
        match self.error {
            KeepError::At(path) => map.serialize_entry("ResultPath", path)?,
            KeepError::Output(expression) => map.serialize_entry("Output", expression)?,
        }
        map.serialize_entry("Next", &self.next)?;
        map.end()
    }
}

/// A `Retry` entry.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Retrier {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<&'static str>,
    pub error_equals: &'static [&'static str],
    pub interval_seconds: u32,
    pub max_attempts: u32,
    pub backoff_rate: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_delay_seconds: Option<u32>,
    pub jitter_strategy: Jitter,
}

/// How retries spread their delays; full jitter keeps many executions from retrying in step.
#[derive(Clone, Copy, Debug, Serialize)]
pub enum Jitter {
    #[serde(rename = "FULL")]
    Full,
}

/// Goes to the first rule's `Next` whose condition holds, else to `Default`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Choice {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub choices: Vec<ChoiceRule>,
    pub default: StateName,
}

/// A top-level choice rule: a condition and where it leads.
#[derive(Debug)]
pub struct ChoiceRule {
    pub condition: Condition,
    pub next: StateName,
}

impl Serialize for ChoiceRule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.condition.entries(&mut map)?;
        map.serialize_entry("Next", &self.next)?;
        map.end()
    }
}

/// A choice rule's test. Nested rules have no `Next`, so they are conditions only.
#[derive(Debug)]
pub enum Condition {
    /// `Variable` tested by the comparison operator `test` (`StringEquals`, `IsPresent`...)
    /// against `value`.
    Test {
        variable: &'static str,
        test: &'static str,
        value: Value,
    },
    And(Vec<Condition>),
    Or(Vec<Condition>),
}

impl Condition {
    pub fn test(variable: &'static str, test: &'static str, value: impl Into<Value>) -> Condition {
        Condition::Test {
            variable,
            test,
            value: value.into(),
        }
    }

    fn entries<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        match self {
            Condition::Test {
                variable,
                test,
                value,
            } => {
                map.serialize_entry("Variable", variable)?;
                map.serialize_entry(test, value)
            }
            Condition::And(all) => map.serialize_entry("And", all),
            Condition::Or(any) => map.serialize_entry("Or", any),
        }
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.entries(&mut map)?;
        map.end()
    }
}

/// Reshapes the state with `Parameters`: the machines use it to build and count.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Pass {
    pub parameters: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_path: Option<&'static str>,
    pub next: StateName,
}

/// Waits between polls, and for a batch window.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Wait {
    #[serde(flatten)]
    pub duration: Duration,
    pub next: StateName,
}

/// How long a Wait state waits.
#[derive(Debug, Serialize)]
pub enum Duration {
    Seconds(u32),
    /// Read from the input at this path.
    SecondsPath(&'static str),
}

/// Ends the execution successfully.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Succeed {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<&'static str>,
}

/// Fails the execution with the error and cause found at these paths.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Fail {
    pub error_path: &'static str,
    pub cause_path: &'static str,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn succeed() -> State {
        State::Succeed(Succeed { comment: None })
    }

    #[test]
    fn a_state_declared_but_not_defined_is_refused() {
        let mut asl = Builder::new();
        let start = asl.declare("Start");
        let missing = asl.declare("Missing");
        asl.define(
            start,
            State::Pass(Pass {
                parameters: json!({}),
                result_path: None,
                next: missing,
            }),
        );
        let message = asl
            .finish(String::new(), start, 60)
            .expect_err("a transition to an undefined state passed");
        assert_eq!(message, "`Missing` is declared but not defined");
    }

    #[test]
    fn a_state_defined_or_declared_twice_is_refused() {
        let mut asl = Builder::new();
        let start = asl.declare("Start");
        asl.define(start, succeed());
        asl.define(start, succeed());
        let message = asl.finish(String::new(), start, 60).expect_err("passed");
        assert_eq!(message, "`Start` is defined twice");

        let mut asl = Builder::new();
        let start = asl.declare("Start");
        asl.declare("Start");
        asl.define(start, succeed());
        let message = asl.finish(String::new(), start, 60).expect_err("passed");
        assert_eq!(message, "`Start` is declared twice");
    }

    /// A name declared by another builder is refused, even when this machine has a state of
    /// the same name: the handle says which machine it belongs to.
    #[test]
    fn a_state_of_another_machine_is_refused() {
        let mut other = Builder::new();
        let elsewhere = other.declare("Done");
        let mut asl = Builder::new();
        let start = asl.declare("Start");
        let done = asl.declare("Done");
        asl.define(
            start,
            State::Pass(Pass {
                parameters: json!({}),
                result_path: None,
                next: elsewhere,
            }),
        );
        asl.define(done, succeed());
        let message = asl.finish(String::new(), start, 60).expect_err("passed");
        assert_eq!(message, "`Done` is a state of another machine");

        let mut asl = Builder::new();
        let start = asl.declare("Start");
        asl.define(start, succeed());
        let message = asl
            .finish(String::new(), elsewhere, 60)
            .expect_err("passed");
        assert_eq!(message, "`Done` is a state of another machine");
    }

    #[test]
    fn a_machine_without_a_time_limit_is_refused() {
        let mut asl = Builder::new();
        let start = asl.declare("Start");
        asl.define(start, succeed());
        let message = asl.finish(String::new(), start, 0).expect_err("passed");
        assert_eq!(message, "the machine has no TimeoutSeconds");
    }

    /// Key order is part of the artifact: `Type` first, the catcher's `ErrorEquals` first.
    #[test]
    fn serializes_in_the_documented_key_order() -> Result<(), String> {
        let mut asl = Builder::new();
        let start = asl.declare("Start");
        let wait = asl.declare("Wait");
        let failed = asl.declare("Failed");
        asl.define(
            start,
            State::Task(Task {
                resource: "arn:aws:states:::sns:publish",
                parameters: json!({"Message": "hi"}),
                result_selector: None,
                result_path: None,
                retry: Vec::new(),
                catch: Catcher {
                    error: KeepError::At("$.Error"),
                    next: failed,
                },
                next: wait,
            }),
        );
        asl.define(
            wait,
            State::Wait(Wait {
                duration: Duration::SecondsPath("$.Delay"),
                next: failed,
            }),
        );
        asl.define(
            failed,
            State::Fail(Fail {
                error_path: "$.Error.Error",
                cause_path: "$.Error.Cause",
            }),
        );
        let text = serde_json::to_string(&asl.finish("c".into(), start, 60)?.to_json()?)
            .map_err(|e| e.to_string())?;
        assert_eq!(
            text,
            concat!(
                r#"{"Comment":"c","StartAt":"Start","TimeoutSeconds":60,"States":{"#,
                r#""Start":{"Type":"Task","Resource":"arn:aws:states:::sns:publish","#,
                r#""Parameters":{"Message":"hi"},"ResultPath":null,"Retry":[],"#,
                r#""Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.Error","Next":"Failed"}],"#,
                r#""Next":"Wait"},"#,
                r#""Wait":{"Type":"Wait","SecondsPath":"$.Delay","Next":"Failed"},"#,
                r#""Failed":{"Type":"Fail","ErrorPath":"$.Error.Error","CausePath":"$.Error.Cause"}}}"#,
            )
        );
        Ok(())
    }
}
