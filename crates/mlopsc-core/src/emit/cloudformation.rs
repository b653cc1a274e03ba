//! `template.yaml`: the CloudFormation template of the whole retraining system.
//!
//! The template is built as a JSON value (the caller serializes it to YAML without anchors)
//! from resource groups, one submodule each, through a `Template` builder: references
//! take a typed `LogicalId`, and the builder's `finish` rejects one that names nothing it
//! added, so a dangling `Ref`, `Fn::GetAtt` or `${Id.Attribute}` never reaches a file.

mod check;
mod events;
mod iam;
mod sagemaker;
mod storage;

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value, json};

use crate::emit::check::{self as text_check, EmitError};
use crate::ir::{Kms, System};

pub use check::check;
use check::{PSEUDO_PARAMETERS, sub_variables};

/// Logical IDs shared between resource groups: declared here so that a group can name a
/// resource another group adds; [`Template::finish`] rejects a name that nothing added.
pub(crate) mod ids {
    use super::LogicalId;

    pub const KEY: LogicalId = LogicalId::fixed("EncryptionKey");
    pub const KEY_ALIAS: LogicalId = LogicalId::fixed("EncryptionKeyAlias");
    pub const DATA_BUCKET: LogicalId = LogicalId::fixed("DataBucket");
    pub const MODELS_BUCKET: LogicalId = LogicalId::fixed("ModelsBucket");
    pub const LOGS_BUCKET: LogicalId = LogicalId::fixed("LogsBucket");
    pub const PIPELINE_BUCKET: LogicalId = LogicalId::fixed("PipelineBucket");
    pub const EXECUTION_ROLE: LogicalId = LogicalId::fixed("SageMakerExecutionRole");
    pub const STATE_MACHINE_ROLE: LogicalId = LogicalId::fixed("StateMachineRole");
    pub const EVENTS_ROLE: LogicalId = LogicalId::fixed("EventsRole");
    pub const ENDPOINT_ROLE: LogicalId = LogicalId::fixed("EndpointRole");
    pub const MONITORING_ROLE: LogicalId = LogicalId::fixed("MonitoringRole");
    pub const SCHEDULER_ROLE: LogicalId = LogicalId::fixed("SchedulerRole");
    pub const MONITORING_PIPELINE: LogicalId = LogicalId::fixed("MonitoringPipeline");
    pub const MODEL_PACKAGE_GROUP: LogicalId = LogicalId::fixed("ModelPackageGroup");
    pub const PIPELINE: LogicalId = LogicalId::fixed("Pipeline");
    pub const STATE_MACHINE: LogicalId = LogicalId::fixed("StateMachine");
    pub const NEW_DATA_QUEUE: LogicalId = LogicalId::fixed("NewDataQueue");
    pub const STATE_MACHINE_LOGS: LogicalId = LogicalId::fixed("StateMachineLogGroup");
    pub const DEPLOY_STATE_MACHINE: LogicalId = LogicalId::fixed("DeployStateMachine");
    pub const DEPLOY_STATE_MACHINE_LOGS: LogicalId = LogicalId::fixed("DeployStateMachineLogGroup");
    pub const DEPLOY_STATE_MACHINE_ROLE: LogicalId = LogicalId::fixed("DeployStateMachineRole");
    pub const DEPLOY_EVENTS_ROLE: LogicalId = LogicalId::fixed("DeployEventsRole");
    pub const TOPIC: LogicalId = LogicalId::fixed("NotificationTopic");
    pub const DASHBOARD: LogicalId = LogicalId::fixed("Dashboard");
}

/// The logical ID of a resource. References take one, so the
/// template can record every name they use and check it in [`Template::finish`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct LogicalId(Cow<'static, str>);

impl LogicalId {
    pub(crate) const fn fixed(name: &'static str) -> Self {
        LogicalId(Cow::Borrowed(name))
    }

    /// The ID of a per-element resource (an alarm, a rule, a repository).
    pub fn new(name: impl Into<String>) -> Self {
        LogicalId(Cow::Owned(name.into()))
    }

    /// The ID of a resource that belongs to this one, e.g. `ModelsBucketPolicy`.
    pub fn suffixed(&self, suffix: &str) -> Self {
        LogicalId::new(format!("{}{suffix}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LogicalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `Fn::GetAtt` attributes the template reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Attribute {
    Arn,
}

impl Attribute {
    fn as_str(self) -> &'static str {
        match self {
            Attribute::Arn => "Arn",
        }
    }
}

/// An `Fn::Sub` string from typed parts: literal text, which may name only pseudo
/// parameters (`${AWS::Region}`), and resource attributes, written `${Id.Attribute}`.
pub(crate) struct Sub {
    parts: Vec<SubPart>,
}

enum SubPart {
    Text(String),
    Attribute(LogicalId, Attribute),
    /// `${Id}`: what `Ref` returns, and a dependency CloudFormation orders by.
    Reference(LogicalId),
}

impl Sub {
    pub fn text(text: impl Into<String>) -> Sub {
        Sub {
            parts: vec![SubPart::Text(text.into())],
        }
    }

    pub fn attribute(id: &LogicalId, attribute: Attribute) -> Sub {
        Sub {
            parts: vec![SubPart::Attribute(id.clone(), attribute)],
        }
    }

    pub fn then(mut self, text: impl Into<String>) -> Sub {
        self.parts.push(SubPart::Text(text.into()));
        self
    }

    pub fn then_reference(mut self, id: &LogicalId) -> Sub {
        self.parts.push(SubPart::Reference(id.clone()));
        self
    }
}

/// The tag every taggable resource carries, so a project's resources can be found.
pub const PROJECT_TAG: &str = "mlopsc:project";

/// What the other emitters built, which the template embeds or refers to: each built once,
/// by its own emitter, and handed over here.
///
/// The pipelines are embedded as text through `Fn::Sub` for their placeholders
/// ([`PIPELINE_PLACEHOLDERS`](crate::emit::contract::PIPELINE_PLACEHOLDERS)), the state
/// machines as `DefinitionString` with `DefinitionSubstitutions` so linters can read them.
pub struct Embedded<'a> {
    /// `None` for a system that trains nothing ([`System::training_pipeline`]).
    pub pipeline: Option<&'a Value>,
    /// `None` unless the spec monitors images ([`System::image_monitoring`]).
    pub monitoring_pipeline: Option<&'a Value>,
    pub state_machine: Option<&'a Value>,
    /// `None` for a system without an endpoint.
    pub deploy_machine: Option<&'a Value>,
    pub dashboard: &'a Value,
    /// The bytes of the [`support_objects`]: the template refers to each by its content-hash
    /// key ([`support_key`](crate::emit::contract::support_key)).
    pub support: &'a BTreeMap<String, Vec<u8>>,
}

/// The template, as a JSON value serialized to YAML by the caller; an error names each
/// logical ID a reference used that the template never added.
pub fn template(system: &System, embedded: &Embedded) -> Result<Value, String> {
    let mut t = Template::new(system, embedded.support);
    storage::add(&mut t);
    iam::add(&mut t);
    sagemaker::add(&mut t, embedded.pipeline, embedded.monitoring_pipeline);
    events::add(
        &mut t,
        embedded.state_machine,
        embedded.deploy_machine,
        embedded.dashboard,
    );
    t.finish()
}

/// Files the template references, by path relative to the output directory.
///
/// A support file at `P` with bytes `B` belongs at `s3://<pipeline bucket>/`
/// [`support_key`](crate::emit::contract::support_key)`(P, B)`: the template points there and `apply`
/// uploads it there.
pub fn support_files(system: &System) -> Vec<(String, Value)> {
    sagemaker::support_files(system)
}

/// The [`support_files`] as the bytes that are written and uploaded.
pub fn support_objects(system: &System) -> Result<BTreeMap<String, Vec<u8>>, EmitError> {
    support_files(system)
        .into_iter()
        .map(|(name, value)| Ok((name.clone(), text_check::json_text(&name, &value)?)))
        .collect()
}

/// A template under construction: its sections, in the order they are written, and every
/// name its references used, which [`Template::finish`] checks were all added.
pub(crate) struct Template<'a> {
    pub system: &'a System,
    /// The support files' bytes, by path: what their content-hash keys are made from.
    pub support: &'a BTreeMap<String, Vec<u8>>,
    resources: Map<String, Value>,
    outputs: Map<String, Value>,
    /// Interior so that references can be made while the template is borrowed for `tags`,
    /// `system` and the like inside one `json!` body.
    named: RefCell<Vec<LogicalId>>,
    /// Faults found while adding: a duplicate ID, `Fn::Sub` text that names a variable.
    faults: RefCell<Vec<String>>,
}

impl<'a> Template<'a> {
    fn new(system: &'a System, support: &'a BTreeMap<String, Vec<u8>>) -> Self {
        Template {
            system,
            support,
            resources: Map::new(),
            outputs: Map::new(),
            named: RefCell::new(Vec::new()),
            faults: RefCell::new(Vec::new()),
        }
    }

    /// Adds a resource; `resource` holds `Type`, `Properties` and any other attributes.
    pub fn resource(&mut self, id: &LogicalId, resource: Value) {
        if self.resources.contains_key(id.as_str()) {
            self.fault(format!("the logical ID {id} is added twice"));
        }
        self.resources.insert(id.to_string(), resource);
    }

    /// Adds an output exported under `<stack>-<name>`.
    pub fn output(&mut self, name: &str, description: &str, value: Value) {
        let output = json!({
            "Description": description,
            "Value": value,
            "Export": {"Name": self.sub(Sub::text(format!("${{AWS::StackName}}-{name}")))},
        });
        self.outputs.insert(name.to_string(), output);
    }

    fn fault(&self, fault: String) {
        self.faults.borrow_mut().push(fault);
    }

    fn name(&self, id: &LogicalId) {
        self.named.borrow_mut().push(id.clone());
    }

    /// `{"Ref": id}` of a resource.
    pub fn reference(&self, id: &LogicalId) -> Value {
        self.name(id);
        json!({"Ref": id.as_str()})
    }

    pub fn get_att(&self, id: &LogicalId, attribute: Attribute) -> Value {
        self.name(id);
        json!({"Fn::GetAtt": [id.as_str(), attribute.as_str()]})
    }

    /// A `DependsOn` list.
    pub fn depends_on(&self, ids: &[&LogicalId]) -> Value {
        for id in ids {
            self.name(id);
        }
        Value::Array(ids.iter().map(|id| json!(id.as_str())).collect())
    }

    /// `{"Fn::Sub": text}`, its `${…}` written from the typed parts.
    pub fn sub(&self, sub: Sub) -> Value {
        let mut text = String::new();
        for part in sub.parts {
            match part {
                SubPart::Text(literal) => {
                    for variable in sub_variables(&literal) {
                        if !PSEUDO_PARAMETERS.contains(&variable.as_str()) {
                            self.fault(format!(
                                "the Fn::Sub text {literal:?} names ${{{variable}}}, which is no pseudo parameter"
                            ));
                        }
                    }
                    text.push_str(&literal);
                }
                SubPart::Attribute(id, attribute) => {
                    self.name(&id);
                    text.push_str(&format!("${{{id}.{}}}", attribute.as_str()));
                }
                SubPart::Reference(id) => {
                    self.name(&id);
                    text.push_str(&format!("${{{id}}}"));
                }
            }
        }
        json!({"Fn::Sub": text})
    }

    /// The tags of every taggable resource: the project tag, then the spec's tags.
    pub fn tags(&self) -> Value {
        let mut tags = vec![json!({"Key": PROJECT_TAG, "Value": self.system.project})];
        tags.extend(
            self.system
                .tags
                .iter()
                .map(|(k, v)| json!({"Key": k, "Value": v})),
        );
        Value::Array(tags)
    }

    /// The KMS key's ARN: the stack's own key, or the spec's existing one.
    pub fn key_arn(&self) -> Value {
        match &self.system.kms {
            Kms::Create => self.get_att(&ids::KEY, Attribute::Arn),
            Kms::Existing { arn } => Value::String(arn.clone()),
        }
    }

    /// An ARN in this stack's partition, region and account: `arn:…:<service>:…:<resource>`.
    pub fn arn(&self, service: &str, resource: &str) -> Value {
        self.sub(Sub::text(format!(
            "arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"
        )))
    }

    /// The root principals of other accounts, for resource policies that share with them.
    pub fn account_principals(&self, accounts: &[String]) -> Value {
        Value::Array(
            accounts
                .iter()
                .map(|account| {
                    self.sub(Sub::text(format!(
                        "arn:${{AWS::Partition}}:iam::{account}:root"
                    )))
                })
                .collect(),
        )
    }

    /// An S3 bucket's ARN and the ARN of its objects under `prefix` (empty for all).
    pub fn bucket_arns(&self, bucket: &LogicalId, prefix: &str) -> [Value; 2] {
        [
            self.get_att(bucket, Attribute::Arn),
            self.sub(Sub::attribute(bucket, Attribute::Arn).then(format!("/{prefix}*"))),
        ]
    }

    /// The template, or every name a reference used that was never added and every fault,
    /// each with the logical ID at fault.
    fn finish(self) -> Result<Value, String> {
        let mut faults = self.faults.into_inner();
        let mut named = self.named.into_inner();
        named.sort();
        named.dedup();
        for id in named {
            if !self.resources.contains_key(id.as_str()) {
                faults.push(format!(
                    "{id} is referenced but no resource of that name was added"
                ));
            }
        }
        if !faults.is_empty() {
            return Err(faults.join("; "));
        }
        let mut root = Map::new();
        root.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
        root.insert(
            "Description".into(),
            json!(format!(
                "mlopsc: the SageMaker retraining system of {} (generated; do not edit)",
                self.system.project
            )),
        );
        for (name, section) in [("Resources", self.resources), ("Outputs", self.outputs)] {
            if !section.is_empty() {
                root.insert(name.into(), Value::Object(section));
            }
        }
        Ok(Value::Object(root))
    }
}

/// `{"Ref": "AWS::AccountId"}`, the stack's account: the one `Ref` to a pseudo parameter
/// the template makes, kept here so that no resource group writes a `Ref` by hand.
pub(crate) fn account_id() -> Value {
    json!({"Ref": "AWS::AccountId"})
}

/// The `cfn-lint`/`checkov` Metadata of a resource: suppressed rules, each with its reason.
pub(crate) fn suppressions(cfn_lint: &[(&str, &str)], checkov: &[(&str, &str)]) -> Value {
    let mut metadata = Map::new();
    if !cfn_lint.is_empty() {
        let reasons: Vec<String> = cfn_lint
            .iter()
            .map(|(id, why)| format!("{id}: {why}"))
            .collect();
        metadata.insert(
            "cfn-lint".into(),
            json!({"config": {"ignore_checks": cfn_lint.iter().map(|(id, _)| *id).collect::<Vec<_>>()}}),
        );
        metadata.insert("Comment".into(), json!(reasons.join(" ")));
    }
    if !checkov.is_empty() {
        metadata.insert(
            "checkov".into(),
            json!({"skip": checkov.iter().map(|(id, why)| json!({"id": id, "comment": why})).collect::<Vec<_>>()}),
        );
    }
    Value::Object(metadata)
}

/// `arn:…:ecr:<region>:<account>:repository/<name>` of every image the system pulls, and
/// the repositories the stack creates (those in the stack's own account), sorted.
pub(crate) fn images(system: &System) -> Vec<Image> {
    let mut uris: Vec<&str> = vec![&system.registry.inference_image_uri];
    if let Some(pipeline) = &system.training_pipeline {
        uris.extend([
            pipeline.preprocess.image_uri.as_str(),
            &pipeline.training.image_uri,
            &pipeline.evaluation.image_uri,
        ]);
        uris.extend(pipeline.custom_steps.iter().map(|s| s.image_uri.as_str()));
    }
    if let Some(d) = &system.data_drift {
        uris.push(&d.image_uri);
    }
    if let Some(q) = &system.model_quality {
        uris.push(&q.image_uri);
    }
    let mut images: Vec<Image> = uris.into_iter().filter_map(Image::parse).collect();
    images.sort();
    images.dedup();
    images
}

/// A container image repository, parsed from `<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Image {
    /// An account ID, or `${AWS::AccountId}` for the stack's own repositories.
    pub account: String,
    pub region: String,
    pub repository: String,
}

impl Image {
    fn parse(uri: &str) -> Option<Image> {
        let (host, path) = uri.split_once('/')?;
        let (account, rest) = host.split_once(".dkr.ecr.")?;
        let region = rest.strip_suffix(".amazonaws.com")?;
        let repository = path.split_once(':').map_or(path, |(r, _)| r);
        Some(Image {
            account: account.to_string(),
            region: region.to_string(),
            repository: repository.to_string(),
        })
    }

    /// Whether the stack owns the repository (it lives in the stack's account).
    pub fn is_own(&self) -> bool {
        self.account == "${AWS::AccountId}"
    }

    pub fn arn(&self, t: &Template) -> Value {
        t.sub(Sub::text(format!(
            "arn:${{AWS::Partition}}:ecr:{}:{}:repository/{}",
            self.region, self.account, self.repository
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::SourceFile;

    fn minimal() -> System {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/minimal/mlops.yaml"
        ))
        .expect("the minimal example");
        let source = SourceFile {
            name: "mlops.yaml".into(),
            text,
        };
        let validated = crate::validate::validate(&source);
        let Some(spec) = &validated.spec else {
            panic!("the spec validates: {:?}", validated.diagnostics);
        };
        crate::ir::resolve(
            spec,
            &crate::ir::StepCode {
                sha256: "code".into(),
                has_requirements: false,
            },
        )
    }

    fn topic() -> Value {
        json!({"Type": "AWS::SNS::Topic"})
    }

    #[test]
    fn references_may_come_before_what_they_name() {
        let system = minimal();
        let support = BTreeMap::new();
        let mut t = Template::new(&system, &support);
        let queue = json!({
            "Type": "AWS::SQS::Queue",
            "DependsOn": t.depends_on(&[&ids::TOPIC]),
            "Properties": {
                "A": t.reference(&ids::TOPIC),
                "B": t.get_att(&ids::TOPIC, Attribute::Arn),
                "C": t.sub(Sub::text("${AWS::Region}/").then_reference(&ids::TOPIC).then("/${!Literal}")),
            },
        });
        t.resource(&LogicalId::new("Queue"), queue);
        t.resource(&ids::TOPIC, topic());
        let template = t.finish().expect("every name was added");
        assert_eq!(
            template["Resources"]["Queue"]["Properties"]["C"],
            json!({"Fn::Sub": "${AWS::Region}/${NotificationTopic}/${!Literal}"})
        );
        assert_eq!(
            template["Resources"]["Queue"]["DependsOn"],
            json!(["NotificationTopic"])
        );
    }

    #[test]
    fn finish_rejects_a_name_never_added() {
        let system = minimal();
        let support = BTreeMap::new();
        let expected = "NotificationTopic is referenced but no resource of that name was added";
        for by_attribute in [false, true] {
            let mut t = Template::new(&system, &support);
            let value = if by_attribute {
                t.sub(Sub::attribute(&ids::TOPIC, Attribute::Arn))
            } else {
                t.reference(&ids::TOPIC)
            };
            t.resource(
                &ids::KEY,
                json!({"Type": "AWS::KMS::Key", "Properties": {"X": value}}),
            );
            assert_eq!(t.finish(), Err(expected.to_string()));
        }
    }

    #[test]
    fn finish_rejects_a_duplicate_id() {
        let system = minimal();
        let support = BTreeMap::new();
        let mut t = Template::new(&system, &support);
        t.resource(&ids::TOPIC, topic());
        t.resource(&ids::TOPIC, topic());
        assert_eq!(
            t.finish(),
            Err("the logical ID NotificationTopic is added twice".into())
        );
    }

    #[test]
    fn sub_text_names_only_pseudo_parameters() {
        let system = minimal();
        let support = BTreeMap::new();
        let mut t = Template::new(&system, &support);
        let sub = t.sub(Sub::text(
            "arn:${AWS::Partition}:sns:${NotificationTopic.Arn}",
        ));
        t.resource(
            &ids::TOPIC,
            json!({"Type": "AWS::SNS::Topic", "Properties": {"X": sub}}),
        );
        assert_eq!(
            t.finish(),
            Err("the Fn::Sub text \"arn:${AWS::Partition}:sns:${NotificationTopic.Arn}\" names ${NotificationTopic.Arn}, which is no pseudo parameter".into())
        );
    }

    #[test]
    fn parses_image_uris() {
        let own =
            Image::parse("${AWS::AccountId}.dkr.ecr.us-east-1.amazonaws.com/team/gradcam:1.2")
                .expect("an ECR URI");
        assert!(own.is_own());
        assert_eq!(own.repository, "team/gradcam");
        let dlc = Image::parse(
            "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.3.0-gpu-py311",
        )
        .expect("an ECR URI");
        assert!(!dlc.is_own());
        assert_eq!(dlc.region, "eu-west-1");
        assert_eq!(Image::parse("docker.io/library/python:3"), None);
    }
}
