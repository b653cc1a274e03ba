//! `template.yaml`: the CloudFormation template of the whole retraining system.
//!
//! The template is built as a JSON value (the caller serializes it to YAML without anchors)
//! from resource groups, one submodule each. Logical IDs are constants here so that the
//! groups refer to each other by name and [`check`] can prove every reference resolves.

mod check;
mod events;
mod iam;
mod sagemaker;
mod storage;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{EmitError, check as text_check};
use crate::ir::{Kms, System};

pub use check::check;
pub use events::{MetricAlarm, alarms};
pub(crate) use sagemaker::higher_is_better;
pub use sagemaker::{VARIANT, endpoint_config};

/// Logical IDs shared between resource groups.
pub(crate) mod ids {
    pub const KEY: &str = "EncryptionKey";
    pub const KEY_ALIAS: &str = "EncryptionKeyAlias";
    pub const DATA_BUCKET: &str = "DataBucket";
    pub const MODELS_BUCKET: &str = "ModelsBucket";
    pub const LOGS_BUCKET: &str = "LogsBucket";
    pub const PIPELINE_BUCKET: &str = "PipelineBucket";
    pub const EXECUTION_ROLE: &str = "SageMakerExecutionRole";
    pub const STATE_MACHINE_ROLE: &str = "StateMachineRole";
    pub const EVENTS_ROLE: &str = "EventsRole";
    pub const ENDPOINT_ROLE: &str = "EndpointRole";
    pub const MONITORING_ROLE: &str = "MonitoringRole";
    pub const SCHEDULER_ROLE: &str = "SchedulerRole";
    pub const MONITORING_PIPELINE: &str = "MonitoringPipeline";
    pub const MODEL_PACKAGE_GROUP: &str = "ModelPackageGroup";
    pub const PIPELINE: &str = "Pipeline";
    pub const STATE_MACHINE: &str = "StateMachine";
    pub const STATE_MACHINE_LOGS: &str = "StateMachineLogGroup";
    pub const DEPLOY_STATE_MACHINE: &str = "DeployStateMachine";
    pub const DEPLOY_STATE_MACHINE_LOGS: &str = "DeployStateMachineLogGroup";
    pub const DEPLOY_STATE_MACHINE_ROLE: &str = "DeployStateMachineRole";
    pub const DEPLOY_EVENTS_ROLE: &str = "DeployEventsRole";
    pub const TOPIC: &str = "NotificationTopic";
    pub const MODEL: &str = "Model";
    pub const ENDPOINT_CONFIG: &str = "EndpointConfig";
    pub const ENDPOINT: &str = "Endpoint";
    pub const DASHBOARD: &str = "Dashboard";
    /// The template parameter naming the approved model package to deploy.
    pub const MODEL_PACKAGE_ARN: &str = "ModelPackageArn";
    /// True when `ModelPackageArn` is set: the endpoint and its monitors exist.
    pub const HAS_MODEL: &str = "HasModelPackage";
}

/// The tag every taggable resource carries, so a project's resources can be found.
pub const PROJECT_TAG: &str = "mlopsc:project";

/// The template, as a JSON value serialized to YAML by the caller.
///
/// `pipeline` and `state_machine` are embedded as text: the pipeline through `Fn::Sub` for
/// its `${KmsKeyArn}`/`${ExecutionRoleArn}` placeholders, the state machine as
/// `DefinitionString` with `DefinitionSubstitutions` so linters can read it.
/// `support` holds the bytes of the [`support_objects`]: the template refers to each by
/// its content-hash key ([`super::support_key`]).
pub fn template(
    system: &System,
    pipeline: &Value,
    state_machine: &Value,
    deploy_machine: Option<&Value>,
    dashboard: &Value,
    support: &BTreeMap<String, Vec<u8>>,
) -> Value {
    let mut t = Template::new(system, support);
    if system.endpoint.is_some() {
        t.parameters.insert(
            ids::MODEL_PACKAGE_ARN.into(),
            json!({
                "Type": "String",
                "Default": "",
                "AllowedPattern": "^(|arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:model-package/.+)$",
                "Description": "An approved model package to deploy to the endpoint; empty until a pipeline run registers and someone approves a model.",
            }),
        );
        t.conditions.insert(
            ids::HAS_MODEL.into(),
            json!({"Fn::Not": [{"Fn::Equals": [{"Ref": ids::MODEL_PACKAGE_ARN}, ""]}]}),
        );
    }
    storage::add(&mut t);
    iam::add(&mut t);
    sagemaker::add(&mut t, pipeline);
    events::add(&mut t, state_machine, deploy_machine, dashboard);
    t.finish()
}

/// Files the template references, by path relative to the output directory.
///
/// A support file at `P` with bytes `B` belongs at `s3://<pipeline bucket>/`
/// [`support_key`](super::support_key)`(P, B)`: the template points there and `apply`
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

/// A template under construction: its sections, in the order they are written.
pub(crate) struct Template<'a> {
    pub system: &'a System,
    /// The support files' bytes, by path: what their content-hash keys are made from.
    pub support: &'a BTreeMap<String, Vec<u8>>,
    pub parameters: Map<String, Value>,
    pub conditions: Map<String, Value>,
    pub resources: Map<String, Value>,
    pub outputs: Map<String, Value>,
}

impl<'a> Template<'a> {
    fn new(system: &'a System, support: &'a BTreeMap<String, Vec<u8>>) -> Self {
        Template {
            system,
            support,
            parameters: Map::new(),
            conditions: Map::new(),
            resources: Map::new(),
            outputs: Map::new(),
        }
    }

    /// Adds a resource; `resource` holds `Type`, `Properties` and any other attributes.
    pub fn resource(&mut self, id: &str, resource: Value) {
        self.resources.insert(id.to_string(), resource);
    }

    /// Adds an output exported under `<stack>-<id>`.
    pub fn output(&mut self, id: &str, description: &str, value: Value) {
        self.outputs.insert(
            id.to_string(),
            json!({
                "Description": description,
                "Value": value,
                "Export": {"Name": {"Fn::Sub": format!("${{AWS::StackName}}-{id}")}},
            }),
        );
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
            Kms::Create => get_att(ids::KEY, "Arn"),
            Kms::Existing { arn } => Value::String(arn.clone()),
        }
    }

    fn finish(self) -> Value {
        let mut root = Map::new();
        root.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
        root.insert(
            "Description".into(),
            json!(format!(
                "mlopsc: the SageMaker retraining system of {} (generated; do not edit)",
                self.system.project
            )),
        );
        for (name, section) in [
            ("Parameters", self.parameters),
            ("Conditions", self.conditions),
            ("Resources", self.resources),
            ("Outputs", self.outputs),
        ] {
            if !section.is_empty() {
                root.insert(name.into(), Value::Object(section));
            }
        }
        Value::Object(root)
    }
}

pub(crate) fn reference(id: &str) -> Value {
    json!({"Ref": id})
}

pub(crate) fn get_att(id: &str, attribute: &str) -> Value {
    json!({"Fn::GetAtt": [id, attribute]})
}

pub(crate) fn sub(text: impl Into<String>) -> Value {
    json!({"Fn::Sub": text.into()})
}

/// An ARN in this stack's partition, region and account: `arn:…:<service>:…:<resource>`.
pub(crate) fn arn(service: &str, resource: &str) -> Value {
    sub(format!(
        "arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"
    ))
}

/// The root principals of other accounts, for resource policies that share with them.
pub(crate) fn account_principals(accounts: &[String]) -> Value {
    Value::Array(
        accounts
            .iter()
            .map(|account| sub(format!("arn:${{AWS::Partition}}:iam::{account}:root")))
            .collect(),
    )
}

/// An S3 bucket's ARN and the ARN of its objects under `prefix` (empty for all).
pub(crate) fn bucket_arns(bucket_id: &str, prefix: &str) -> [Value; 2] {
    [
        get_att(bucket_id, "Arn"),
        sub(format!("${{{bucket_id}.Arn}}/{prefix}*")),
    ]
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
    let mut uris: Vec<&str> = vec![
        &system.preprocess.image_uri,
        &system.training.image_uri,
        &system.evaluation.image_uri,
        &system.registry.inference_image_uri,
    ];
    uris.extend(system.custom_steps.iter().map(|s| s.image_uri.as_str()));
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

    pub fn arn(&self) -> Value {
        sub(format!(
            "arn:${{AWS::Partition}}:ecr:{}:{}:repository/{}",
            self.region, self.account, self.repository
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
