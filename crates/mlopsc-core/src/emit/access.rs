//! A static access check: would AWS let each role of the template do what the system asks
//! of it?
//!
//! cfn-lint and checkov check each resource on its own; neither sees that a pipeline step
//! writes to a bucket its role may only read. This check reads the template alone (the
//! pipeline and the state machine are embedded in it, so it checks what is deployed), lists
//! every request the system makes (each step's S3 reads and writes, KMS keys, job creation
//! and role passing; the state machine's pipeline and SNS calls; EventBridge starting the
//! state machine) and evaluates each against the Allow statements of the role that makes it.
//!
//! The model of IAM is deliberately small: identity policies only (the stack's key and
//! buckets delegate to IAM), conditions assumed to hold, and run-time values (an execution
//! id, a job name) replaced by a sample, so that a policy must cover every value they take.

pub mod cross_account;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde_json::{Map, Value};

use crate::definition::StepType;
use crate::definition::expression::{self, DefinitionScope, all_steps};
use crate::emit::artifacts::TEMPLATE;
use crate::emit::check::EmitError;

/// Pseudo parameters and run-time values, replaced by fixed samples on both sides.
const PARTITION: &str = "aws";
const REGION: &str = "region-1";
const ACCOUNT: &str = "111122223333";
/// What a run-time value (an execution id, a job name) stands for in a request.
const RUNTIME: &str = "runtime-value";

/// One request that no statement of the role allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// The logical id of the role that makes the request.
    pub role: String,
    /// Who makes it: a pipeline step, the state machine, an EventBridge rule.
    pub caller: String,
    pub action: String,
    pub resource: String,
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (role {}) may not {} on {}",
            self.caller, self.role, self.action, self.resource
        )
    }
}

/// The outcome: the requests checked, who made them, and those denied.
#[derive(Debug, Default)]
pub struct Report {
    pub checked: usize,
    pub callers: std::collections::BTreeSet<String>,
    pub denials: Vec<Denial>,
}

/// Checks every request the template's system makes against its roles' policies.
pub fn check(template: &Value) -> Report {
    let Some(resources) = template["Resources"].as_object() else {
        return Report::default();
    };
    let names = Names::new(resources);
    let mut requests = Vec::new();
    pipeline_requests(&names, &mut requests);
    state_machine_requests(&names, &mut requests);
    rule_requests(&names, &mut requests);
    schedule_requests(&names, &mut requests);
    monitoring_requests(&names, &mut requests);
    model_requests(&names, &mut requests);
    let policies = role_policies(&names);
    let mut report = Report::default();
    // Steps repeat the same requests (every custom step logs and reads the same code): decide
    // each distinct one once, which keeps a spec of hundreds of steps linear in its policies.
    let mut decided: HashMap<(&str, &str, &str, Option<&str>), bool> = HashMap::new();
    let verdicts: Vec<bool> = requests
        .iter()
        .map(|request| {
            let key = (
                request.role.as_str(),
                request.action.as_str(),
                request.resource.as_str(),
                request.namespace.as_deref(),
            );
            *decided.entry(key).or_insert_with(|| {
                // IAM matches actions case-insensitively; statements hold theirs lowercased.
                let action = request.action.to_ascii_lowercase();
                policies
                    .get(&request.role)
                    .is_some_and(|statements| statements.iter().any(|s| s.allows(request, &action)))
            })
        })
        .collect();
    for (request, allowed) in requests.into_iter().zip(verdicts) {
        report.checked += 1;
        if !report.callers.contains(&request.caller) {
            report.callers.insert(request.caller.clone());
        }
        if !allowed {
            let resource = match request.namespace {
                Some(namespace) => format!("{} in namespace {namespace}", request.resource),
                None => request.resource,
            };
            report.denials.push(Denial {
                role: request.role,
                caller: request.caller,
                action: request.action,
                resource,
            });
        }
    }
    report
}

/// [`check`] as a build step: a template whose roles would be denied a request fails with
/// A001, naming every denial, before anything is written.
pub fn verify(template: &Value) -> Result<(), EmitError> {
    let report = check(template);
    if report.denials.is_empty() {
        return Ok(());
    }
    let denials: Vec<String> = report.denials.iter().map(ToString::to_string).collect();
    Err(EmitError {
        artifact: TEMPLATE.path.to_string(),
        message: format!(
            "its roles would be denied what the system asks of them: {}",
            denials.join("; ")
        ),
        code: Some(crate::diagnostics::Code::A001),
    })
}

/// A request: `role` calls `action` on `resource` on behalf of `caller`.
#[derive(Debug, Clone)]
struct Request {
    role: String,
    caller: String,
    action: String,
    resource: String,
    /// For `cloudwatch:PutMetricData`, the namespace when the caller's is known: checked
    /// against a statement's `cloudwatch:namespace` condition.
    namespace: Option<String>,
}

/// One Allow statement, with its resources resolved to ARN patterns.
#[derive(Debug, Clone)]
struct Statement {
    /// Lowercased once: IAM matches actions case-insensitively.
    actions: Vec<String>,
    resources: Vec<String>,
    /// The namespaces of a `cloudwatch:namespace` condition; `None` without one.
    namespaces: Option<Vec<String>>,
}

impl Statement {
    /// Whether this statement allows `request`, whose action lowercased is `action`.
    fn allows(&self, request: &Request, action: &str) -> bool {
        let namespace = match (&self.namespaces, &request.namespace) {
            (Some(patterns), Some(namespace)) => patterns.iter().any(|p| glob(p, namespace)),
            _ => true,
        };
        if !namespace {
            return false;
        }
        self.actions.iter().any(|a| glob(a, action))
            && self.resources.iter().any(|r| glob(r, &request.resource))
    }
}

/// The namespaces a statement's `StringEquals` or `StringLike` condition on
/// `cloudwatch:namespace` allows.
fn condition_namespaces(statement: &Value) -> Option<Vec<String>> {
    let condition = &statement["Condition"];
    let values = ["StringEquals", "StringLike"]
        .iter()
        .map(|operator| &condition[operator]["cloudwatch:namespace"])
        .find(|v| !v.is_null())?;
    Some(
        one_or_many(values)
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
    )
}

/// Resolves CloudFormation values to the ARNs and names they will have.
struct Names<'a> {
    resources: &'a Map<String, Value>,
    /// What `AWS::AccountId` and `AWS::Region` resolve to: the samples, or the account and
    /// region an environment is deployed to, for the cross-account check.
    account: &'a str,
    region: &'a str,
    /// Each role's logical id by its ARN (the first role, in template order, of an ARN).
    roles_by_arn: HashMap<String, String>,
    /// The embedded pipeline definitions, parsed once: several kinds of request read them.
    pipelines: Vec<(Value, String)>,
    /// Each bucket's default KMS key ARN by the bucket's name (the first bucket, in template
    /// order, of a name); every S3 request asks for it.
    bucket_keys: HashMap<String, Option<String>>,
}

impl<'a> Names<'a> {
    fn new(resources: &'a Map<String, Value>) -> Self {
        Names::deployed(resources, ACCOUNT, REGION)
    }

    /// The names of a template deployed to `account` in `region`.
    fn deployed(resources: &'a Map<String, Value>, account: &'a str, region: &'a str) -> Self {
        let mut names = Names {
            resources,
            account,
            region,
            roles_by_arn: HashMap::new(),
            pipelines: Vec::new(),
            bucket_keys: HashMap::new(),
        };
        for (id, resource) in resources {
            match names.kind(id) {
                "AWS::IAM::Role" => {
                    if let Some(arn) = names.arn(id) {
                        names.roles_by_arn.entry(arn).or_insert_with(|| id.clone());
                    }
                }
                "AWS::S3::Bucket" => {
                    if let Some(bucket) = names.reference(id)
                        && !names.bucket_keys.contains_key(&bucket)
                    {
                        let encryption = &resource["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                            [0]["ServerSideEncryptionByDefault"];
                        let key = names.resolve(&encryption["KMSMasterKeyID"]);
                        names.bucket_keys.insert(bucket, key);
                    }
                }
                _ => {}
            }
        }
        names.pipelines = embedded_pipelines(&names);
        names
    }

    fn kind(&self, id: &str) -> &str {
        self.resources[id]["Type"].as_str().unwrap_or_default()
    }

    fn property(&self, id: &str, name: &str) -> Option<String> {
        self.resources
            .get(id)
            .and_then(|r| self.resolve(&r["Properties"][name]))
    }

    /// What `Ref` returns for a resource of this template.
    fn reference(&self, id: &str) -> Option<String> {
        match id {
            "AWS::Partition" => return Some(PARTITION.into()),
            "AWS::Region" => return Some(self.region.into()),
            "AWS::AccountId" => return Some(self.account.into()),
            _ => {}
        }
        self.resources.get(id)?;
        Some(match self.kind(id) {
            "AWS::S3::Bucket" => self.property(id, "BucketName")?,
            "AWS::IAM::Role" => self.property(id, "RoleName").unwrap_or(id.to_string()),
            "AWS::SageMaker::Pipeline" => self.property(id, "PipelineName")?,
            "AWS::SNS::Topic" | "AWS::StepFunctions::StateMachine" => self.arn(id)?,
            _ => id.to_string(),
        })
    }

    /// What `Fn::GetAtt [id, Arn]` returns.
    fn arn(&self, id: &str) -> Option<String> {
        self.resources.get(id)?;
        Some(match self.kind(id) {
            "AWS::S3::Bucket" => format!("arn:{PARTITION}:s3:::{}", self.reference(id)?),
            "AWS::IAM::Role" => format!(
                "arn:{PARTITION}:iam::{}:role/{}",
                self.account,
                self.reference(id)?
            ),
            "AWS::KMS::Key" => format!(
                "arn:{PARTITION}:kms:{}:{}:key/{id}",
                self.region, self.account
            ),
            "AWS::SQS::Queue" => format!(
                "arn:{PARTITION}:sqs:{}:{}:{}",
                self.region,
                self.account,
                self.property(id, "QueueName")?
            ),
            "AWS::SNS::Topic" => {
                format!("arn:{PARTITION}:sns:{}:{}:{id}", self.region, self.account)
            }
            "AWS::StepFunctions::StateMachine" => format!(
                "arn:{PARTITION}:states:{}:{}:stateMachine:{}",
                self.region,
                self.account,
                self.property(id, "StateMachineName")
                    .unwrap_or(id.to_string())
            ),
            _ => return None,
        })
    }

    /// A string value, `Ref`, `Fn::GetAtt` or `Fn::Sub`; anything else is unknown.
    fn resolve(&self, value: &Value) -> Option<String> {
        if let Some(text) = value.as_str() {
            return Some(text.to_string());
        }
        let object = value.as_object()?;
        if let Some(id) = object.get("Ref").and_then(Value::as_str) {
            return self.reference(id);
        }
        if let Some([id, attribute]) = object
            .get("Fn::GetAtt")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            return match attribute.as_str()? {
                "Arn" => self.arn(id.as_str()?),
                _ => None,
            };
        }
        match object.get("Fn::Sub")? {
            Value::String(text) => self.substitute(text, &Map::new()),
            Value::Array(parts) => {
                let variables = parts.get(1).and_then(Value::as_object)?;
                self.substitute(parts.first()?.as_str()?, variables)
            }
            _ => None,
        }
    }

    /// Fills `${Name}`, `${Name.Arn}` and the variables of an `Fn::Sub`.
    fn substitute(&self, text: &str, variables: &Map<String, Value>) -> Option<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}')? + start;
            let name = &rest[start + 2..end];
            let value = match variables.get(name) {
                Some(value) => self.resolve(value)?,
                None => match name.split_once('.') {
                    Some((id, "Arn")) => self.arn(id)?,
                    _ => self.reference(name)?,
                },
            };
            out.push_str(&value);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Some(out)
    }

    /// The resources whose type `kind` accepts, each with the properties and the logical id
    /// of the role its `role_property` names (those without one of this template's roles
    /// are left out: nothing here can check them).
    fn with_role<'b>(
        &'b self,
        kind: impl Fn(&str) -> bool,
        role_property: &str,
    ) -> Vec<(&'b String, &'b Value, String)> {
        self.resources
            .iter()
            .filter(|(id, _)| kind(self.kind(id)))
            .filter_map(|(id, resource)| {
                let properties = &resource["Properties"];
                let role = self
                    .resolve(&properties[role_property])
                    .and_then(|arn| self.role_with_arn(&arn))?;
                Some((id, properties, role))
            })
            .collect()
    }

    /// An EventBridge rule's or schedule's target: the ARN it starts and the logical id of
    /// the role it starts it as, when both resolve in this template.
    fn target(&self, target: &Value) -> Option<(String, String)> {
        let arn = self.resolve(&target["Arn"])?;
        let role = self.role_with_arn(&self.resolve(&target["RoleArn"])?)?;
        Some((arn, role))
    }

    /// The logical id of the role with this ARN.
    fn role_with_arn(&self, arn: &str) -> Option<String> {
        self.roles_by_arn.get(arn).cloned()
    }

    /// The KMS key ARN that encrypts a bucket of this template by default.
    fn bucket_key(&self, bucket: &str) -> Option<String> {
        self.bucket_keys.get(bucket).cloned().flatten()
    }
}

/// One Allow statement of a policy document, its resources resolved.
fn allow_statement(names: &Names, statement: &Value) -> Option<Statement> {
    if statement["Effect"] != "Allow" {
        return None;
    }
    Some(Statement {
        actions: one_or_many(&statement["Action"])
            .filter_map(|a| a.as_str().map(str::to_ascii_lowercase))
            .collect(),
        resources: one_or_many(&statement["Resource"])
            .filter_map(|r| names.resolve(r))
            .collect(),
        namespaces: condition_namespaces(statement),
    })
}

/// Every Allow statement of every role: inline policies and standalone policies naming it.
fn role_policies(names: &Names) -> BTreeMap<String, Vec<Statement>> {
    let mut policies: BTreeMap<String, Vec<Statement>> = BTreeMap::new();
    for (id, resource) in names.resources {
        let documents: Vec<(&Value, Vec<String>)> = match names.kind(id) {
            "AWS::IAM::Role" => resource["Properties"]["Policies"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| (&p["PolicyDocument"], vec![id.clone()]))
                .collect(),
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => {
                let roles = resource["Properties"]["Roles"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r["Ref"].as_str().map(str::to_string))
                    .collect();
                vec![(&resource["Properties"]["PolicyDocument"], roles)]
            }
            "AWS::SQS::QueuePolicy" | "AWS::KMS::Key" => {
                service_grants(id, &resource["Properties"], &mut policies, names);
                continue;
            }
            _ => continue,
        };
        for (document, roles) in documents {
            for statement in one_or_many(&document["Statement"]) {
                let Some(statement) = allow_statement(names, statement) else {
                    continue;
                };
                for role in &roles {
                    policies
                        .entry(role.clone())
                        .or_default()
                        .push(statement.clone());
                }
            }
        }
    }
    policies
}

/// Who stands for an AWS service acting under a resource policy (`Principal: {Service}`):
/// EventBridge has no role of its own toward the queue it writes to.
fn service_grant(resource: &str, service: &str) -> String {
    format!("{service} under the policy of {resource}")
}

/// The Allow statements a queue policy or a key policy gives AWS services, as the pseudo-roles
/// [`service_grant`] names.
fn service_grants(
    id: &str,
    properties: &Value,
    policies: &mut BTreeMap<String, Vec<Statement>>,
    names: &Names,
) {
    let (document, resources): (&Value, Vec<String>) = match names.kind(id) {
        "AWS::SQS::QueuePolicy" => (
            &properties["PolicyDocument"],
            one_or_many(&properties["Queues"])
                .filter_map(|q| q["Ref"].as_str().map(str::to_string))
                .collect(),
        ),
        _ => (&properties["KeyPolicy"], vec![id.to_string()]),
    };
    for statement in one_or_many(&document["Statement"]) {
        let Some(allowed) = allow_statement(names, statement) else {
            continue;
        };
        for service in one_or_many(&statement["Principal"]["Service"]).filter_map(Value::as_str) {
            for resource in &resources {
                policies
                    .entry(service_grant(resource, service))
                    .or_default()
                    .push(allowed.clone());
            }
        }
    }
}

fn one_or_many(value: &Value) -> impl Iterator<Item = &Value> {
    match value {
        Value::Array(items) => items.iter().collect::<Vec<_>>().into_iter(),
        Value::Null => Vec::new().into_iter(),
        other => vec![other].into_iter(),
    }
}

/// IAM's wildcard match: `*` any run of characters, `?` any one.
fn glob(pattern: &str, text: &str) -> bool {
    // ARNs and actions are ASCII, where a byte is a character: match the bytes in place.
    if pattern.is_ascii() && text.is_ascii() {
        return wildcard(pattern.as_bytes(), text.as_bytes());
    }
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    wildcard(&p, &t)
}

/// [`glob`] over any characters: `*` matches a run, `?` one.
fn wildcard<C: Copy + PartialEq + From<u8>>(p: &[C], t: &[C]) -> bool {
    let (star_char, any_char) = (C::from(b'*'), C::from(b'?'));
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == any_char || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == star_char {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == star_char)
}

/// The pipeline definitions embedded in the template (the training pipeline and, for image
/// monitoring, the monitoring pipeline), placeholders filled, each with its role.
fn embedded_pipelines(names: &Names) -> Vec<(Value, String)> {
    names
        .resources
        .iter()
        .filter(|(id, _)| names.kind(id) == "AWS::SageMaker::Pipeline")
        .filter_map(|(_, resource)| {
            let body = &resource["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"];
            let text = match body {
                Value::String(text) => text.clone(),
                other => names.resolve(other)?,
            };
            let role = names.role_with_arn(&names.resolve(&resource["Properties"]["RoleArn"])?)?;
            Some((serde_json::from_str(&text).ok()?, role))
        })
        .collect()
}

/// Evaluates a pipeline expression to a concrete sample value: parameters take their
/// defaults, run-time values the sample, step properties the values their steps produce
/// (the core's evaluator, over what the definition alone says).
fn evaluate(pipeline: &Value, value: &Value) -> Option<String> {
    let scope = DefinitionScope {
        definition: pipeline,
        runtime: RUNTIME,
    };
    match expression::resolve(value, &scope).ok()? {
        Value::String(text) => Some(text),
        _ => None,
    }
}

/// The requests of one S3 location: reading (or writing) every object below it, with the
/// bucket's KMS key.
fn s3_requests(names: &Names, uri: &str, write: bool, out: &mut Vec<(String, String)>) {
    let Some((bucket, key)) = uri
        .strip_prefix("s3://")
        .map(|r| r.split_once('/').unwrap_or((r, "")))
    else {
        return;
    };
    // A prefix stands for every object below it; an object key for itself.
    let object = if key.is_empty() || key.ends_with('/') {
        format!("{key}{RUNTIME}")
    } else {
        key.to_string()
    };
    let object_arn = format!("arn:{PARTITION}:s3:::{bucket}/{object}");
    if write {
        out.push(("s3:PutObject".into(), object_arn));
    } else {
        out.push(("s3:GetObject".into(), object_arn));
        out.push((
            "s3:ListBucket".into(),
            format!("arn:{PARTITION}:s3:::{bucket}"),
        ));
    }
    if let Some(key_arn) = names.bucket_key(bucket) {
        let action = if write {
            "kms:GenerateDataKey"
        } else {
            "kms:Decrypt"
        };
        out.push((action.into(), key_arn));
    }
}

/// What each step of each pipeline asks of its role, and what starting it asks of the
/// pipeline's.
fn pipeline_requests(names: &Names, requests: &mut Vec<Request>) {
    for (pipeline, pipeline_role) in &names.pipelines {
        steps_requests(names, pipeline, pipeline_role, requests);
    }
}

/// The value that follows `flag` in a processing step's container arguments.
fn argument_after(arguments: &Value, flag: &str) -> Option<String> {
    let list = arguments["AppSpecification"]["ContainerArguments"].as_array()?;
    let at = list.iter().position(|a| a == flag)?;
    list.get(at + 1)?.as_str().map(str::to_string)
}

/// The container arguments whose value is an S3 URI the step lists and reads itself.
const S3_READ_FLAGS: [&str; 4] = ["--captures", "--baseline", "--model", "--ground-truth"];

fn steps_requests(
    names: &Names,
    pipeline: &Value,
    pipeline_role: &str,
    requests: &mut Vec<Request>,
) {
    let pipeline_role = pipeline_role.to_string();
    for step in all_steps(pipeline) {
        let name = step["Name"].as_str().unwrap_or_default();
        let arguments = &step["Arguments"];
        let eval = |v: &Value| evaluate(pipeline, v);
        let mut own: Vec<(String, String)> = Vec::new();
        let mut reads: Vec<String> = Vec::new();
        let mut writes: Vec<String> = Vec::new();
        let mut keys: Vec<String> = Vec::new();
        let mut volume_keys: Vec<String> = Vec::new();
        let mut images: Vec<String> = Vec::new();
        // Only mlopsc's own definitions are checked, and it writes no other types
        // (`tests/artifacts_sagemaker.rs` reads every step of every example).
        let Some(kind) = StepType::of(step) else {
            continue;
        };
        // The job a step creates, and the role the pipeline's role passes to it: a transform
        // job passes none and runs with its model's role.
        let create = match kind {
            StepType::Processing => {
                for input in arguments["ProcessingInputs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    reads.extend(eval(&input["S3Input"]["S3Uri"]));
                }
                // A step that reads S3 itself is told where by its arguments (the monitor
                // step: `--captures URI` and the like).
                let container_arguments = arguments["AppSpecification"]["ContainerArguments"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                for pair in container_arguments.windows(2) {
                    if pair[0]
                        .as_str()
                        .is_some_and(|flag| S3_READ_FLAGS.contains(&flag))
                    {
                        reads.extend(eval(&pair[1]));
                    }
                }
                let outputs = &arguments["ProcessingOutputConfig"];
                for output in outputs["Outputs"].as_array().into_iter().flatten() {
                    writes.extend(eval(&output["S3Output"]["S3Uri"]));
                }
                keys.extend(eval(&outputs["KmsKeyId"]));
                volume_keys.extend(eval(
                    &arguments["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"],
                ));
                images.extend(eval(&arguments["AppSpecification"]["ImageUri"]));
                let role = eval(&arguments["RoleArn"]);
                Some(("sagemaker:CreateProcessingJob", "processing-job", role))
            }
            StepType::Training => {
                for channel in arguments["InputDataConfig"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    reads.extend(eval(&channel["DataSource"]["S3DataSource"]["S3Uri"]));
                }
                let output = &arguments["OutputDataConfig"];
                if let Some(path) = eval(&output["S3OutputPath"]) {
                    writes.push(format!(
                        "{}/{RUNTIME}/output/model.tar.gz",
                        path.trim_end_matches('/')
                    ));
                }
                keys.extend(eval(&output["KmsKeyId"]));
                if let Some(checkpoints) = eval(&arguments["CheckpointConfig"]["S3Uri"]) {
                    reads.push(checkpoints.clone());
                    writes.push(checkpoints);
                }
                reads.extend(eval(
                    &arguments["HyperParameters"]["sagemaker_submit_directory"],
                ));
                volume_keys.extend(eval(&arguments["ResourceConfig"]["VolumeKmsKeyId"]));
                images.extend(eval(&arguments["AlgorithmSpecification"]["TrainingImage"]));
                let role = eval(&arguments["RoleArn"]);
                Some(("sagemaker:CreateTrainingJob", "training-job", role))
            }
            StepType::Transform => {
                reads.extend(eval(
                    &arguments["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"],
                ));
                writes.extend(
                    eval(&arguments["TransformOutput"]["S3OutputPath"])
                        .map(|p| format!("{}/", p.trim_end_matches('/'))),
                );
                keys.extend(eval(&arguments["TransformOutput"]["KmsKeyId"]));
                let role = model_role(pipeline, &arguments["ModelName"]);
                Some(("sagemaker:CreateTransformJob", "transform-job", role))
            }
            StepType::Model => {
                let container = &arguments["PrimaryContainer"];
                reads.extend(eval(&container["ModelDataUrl"]));
                images.extend(eval(&container["Image"]));
                let role = eval(&arguments["ExecutionRoleArn"]);
                Some(("sagemaker:CreateModel", "model", role))
            }
            StepType::RegisterModel => {
                if let Some(group) = eval(&arguments["ModelPackageGroupName"]) {
                    requests.push(Request {
                        role: pipeline_role.clone(),
                        caller: format!("pipeline step {name}"),
                        action: "sagemaker:CreateModelPackage".into(),
                        resource: format!("arn:{PARTITION}:sagemaker:{REGION}:{ACCOUNT}:model-package/{group}/{RUNTIME}"),
                        namespace: None,
                    });
                }
                None
            }
            StepType::Condition | StepType::Fail => None,
        };
        let Some((action, job, step_role_arn)) = create else {
            continue;
        };
        let step_role_arn = step_role_arn.unwrap_or_default();
        let caller = format!("pipeline step {name}");
        requests.push(Request {
            role: pipeline_role.clone(),
            caller: caller.clone(),
            action: action.into(),
            resource: format!(
                "arn:{PARTITION}:sagemaker:{REGION}:{ACCOUNT}:{job}/pipelines-{RUNTIME}"
            ),
            namespace: None,
        });
        if kind != StepType::Transform {
            requests.push(Request {
                role: pipeline_role.clone(),
                caller: caller.clone(),
                action: "iam:PassRole".into(),
                resource: step_role_arn.clone(),
                namespace: None,
            });
        }
        let Some(step_role) = names.role_with_arn(&step_role_arn) else {
            requests.push(Request {
                role: format!("<{step_role_arn}>"),
                caller,
                action: "sts:AssumeRole".into(),
                resource: "a role of this template".into(),
                namespace: None,
            });
            continue;
        };
        for uri in &reads {
            s3_requests(names, uri, false, &mut own);
        }
        for uri in &writes {
            s3_requests(names, uri, true, &mut own);
        }
        for key in keys {
            own.push(("kms:GenerateDataKey".into(), key));
        }
        for key in volume_keys {
            own.push(("kms:CreateGrant".into(), key));
        }
        for image in images {
            if let Some(repository) = repository_arn(&image) {
                own.push(("ecr:BatchGetImage".into(), repository));
            }
        }
        if kind != StepType::Model {
            job_requests(&format!("{}Jobs", kind.name()), &mut own);
        }
        if kind == StepType::Training {
            own.push(("cloudwatch:PutMetricData".into(), "*".into()));
        }
        requests.extend(own.into_iter().map(|(action, resource)| Request {
            role: step_role.clone(),
            caller: caller.clone(),
            action,
            resource,
            namespace: None,
        }));
        // A step told `--namespace NS` (monitor.py) publishes its metrics there.
        if let Some(namespace) = argument_after(arguments, "--namespace") {
            requests.push(Request {
                role: step_role.clone(),
                caller: caller.clone(),
                action: "cloudwatch:PutMetricData".into(),
                resource: "*".into(),
                namespace: Some(namespace),
            });
        }
    }
}

/// The execution role of the Model step that `{"Get": "Steps.X.ModelName"}` names.
fn model_role(pipeline: &Value, model_name: &Value) -> Option<String> {
    let step_name = model_name["Get"]
        .as_str()?
        .strip_prefix("Steps.")?
        .strip_suffix(".ModelName")?;
    let step = all_steps(pipeline)
        .into_iter()
        .find(|s| s["Name"] == step_name)?;
    evaluate(pipeline, &step["Arguments"]["ExecutionRoleArn"])
}

/// What every SageMaker job asks of its role: its log stream, and a registry login.
fn job_requests(log_group: &str, own: &mut Vec<(String, String)>) {
    let stream = format!(
        "arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/{log_group}:log-stream:{RUNTIME}"
    );
    own.push(("logs:CreateLogStream".into(), stream.clone()));
    own.push(("logs:PutLogEvents".into(), stream));
    own.push(("ecr:GetAuthorizationToken".into(), "*".into()));
}

/// `<account>.dkr.ecr.<region>.amazonaws.com/<name>:<tag>` as the repository's ARN.
fn repository_arn(image: &str) -> Option<String> {
    let (registry, path) = image.split_once('/')?;
    let mut parts = registry.split('.');
    let (account, _, _, region) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let name = path.split([':', '@']).next()?;
    let region = if region == "${AWS::Region}" {
        REGION
    } else {
        region
    };
    Some(format!(
        "arn:{PARTITION}:ecr:{region}:{account}:repository/{name}"
    ))
}

/// A state machine's definition, its `DefinitionSubstitutions` filled in as CloudFormation
/// fills them.
fn machine_definition(names: &Names, properties: &Value) -> Option<Value> {
    let substitutions = properties["DefinitionSubstitutions"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let text = names.substitute(properties["DefinitionString"].as_str()?, &substitutions)?;
    serde_json::from_str(&text).ok()
}

/// What the state machines' tasks ask of their roles: the retraining machine's pipeline,
/// Step Functions and SNS calls; the deploy machine's package, model, endpoint, S3 and SNS
/// calls, and the endpoint role it passes.
fn state_machine_requests(names: &Names, requests: &mut Vec<Request>) {
    let machines = names.with_role(|k| k == "AWS::StepFunctions::StateMachine", "RoleArn");
    for (id, properties, role) in machines {
        let Some(definition) = machine_definition(names, properties) else {
            continue;
        };
        let caller = if id == "StateMachine" {
            "the retraining state machine".to_string()
        } else {
            format!("the state machine {id}")
        };
        let mut service = Vec::new();
        if properties["LoggingConfiguration"].is_object() {
            service.push("logs:CreateLogDelivery");
        }
        if properties["TracingConfiguration"]["Enabled"] == true {
            service.push("xray:PutTraceSegments");
        }
        requests.extend(service.into_iter().map(|action| Request {
            role: role.clone(),
            caller: caller.clone(),
            action: action.into(),
            resource: "*".into(),
            namespace: None,
        }));
        let mut states = Vec::new();
        collect_states(&definition, &mut states);
        // Calls on an execution act on the executions of the pipeline the machine starts.
        let pipeline = states
            .iter()
            .find_map(|s| s["Parameters"]["PipelineName"].as_str())
            .unwrap_or(RUNTIME)
            .to_string();
        // A configuration with a key makes SageMaker ask for grants on it for the endpoint.
        let config_key = states
            .iter()
            .find_map(|s| s["Parameters"]["KmsKeyId"].as_str())
            .map(str::to_string);
        // The role the models run as: guardrails read the rollback alarms as it, too.
        let model_role = states
            .iter()
            .find_map(|s| s["Parameters"]["ExecutionRoleArn"].as_str())
            .and_then(|arn| names.role_with_arn(arn));
        let mut guardrail_reads = Vec::new();
        for state in &states {
            let task = state["Resource"].as_str().unwrap_or_default();
            let parameters = &state["Parameters"];
            let mut push = |action: &str, resource: String| {
                requests.push(Request {
                    role: role.clone(),
                    caller: caller.clone(),
                    action: action.into(),
                    resource,
                    namespace: None,
                })
            };
            if let Some(call) = task.strip_prefix("arn:aws:states:::aws-sdk:sagemaker:") {
                let action = format!("sagemaker:{}{}", call[..1].to_ascii_uppercase(), &call[1..]);
                let sagemaker =
                    |path: &str| format!("arn:{PARTITION}:sagemaker:{REGION}:{ACCOUNT}:{path}");
                let named =
                    |key: &str| sample(&states, &parameters[key], &parameters[format!("{key}.$")]);
                let resource = match call {
                    "describeModelPackage" => match package_group(names) {
                        Some(group) => sagemaker(&format!("model-package/{group}/{RUNTIME}")),
                        // A template without a group of its own deploys another account's
                        // packages: the cross-account check decides that call on both sides.
                        None => continue,
                    },
                    "createModel" => {
                        if let Some(passed) = parameters["ExecutionRoleArn"].as_str() {
                            push("iam:PassRole", passed.to_string());
                        }
                        sagemaker(&format!("model/{}", named("ModelName")))
                    }
                    "createEndpointConfig" => {
                        sagemaker(&format!("endpoint-config/{}", named("EndpointConfigName")))
                    }
                    "createEndpoint" | "updateEndpoint" | "describeEndpoint" => {
                        if call != "describeEndpoint"
                            && let Some(key) = &config_key
                        {
                            push("kms:CreateGrant", key.clone());
                        }
                        // Auto-rollback reads the alarms it watches, as the caller and as
                        // the models' execution role.
                        for alarm in
                            parameters["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
                                .as_array()
                                .into_iter()
                                .flatten()
                        {
                            let Some(name) = alarm["AlarmName"].as_str() else {
                                continue;
                            };
                            let alarm = format!(
                                "arn:{PARTITION}:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"
                            );
                            if let Some(model_role) = &model_role {
                                guardrail_reads.push(Request {
                                    role: model_role.clone(),
                                    caller: format!("the deployment guardrails of {id}"),
                                    action: "cloudwatch:DescribeAlarms".into(),
                                    resource: alarm.clone(),
                                    namespace: None,
                                });
                            }
                            push("cloudwatch:DescribeAlarms", alarm);
                        }
                        sagemaker(&format!("endpoint/{}", named("EndpointName")))
                    }
                    // The model the endpoint serves, named as its configuration: a release;
                    // the previous release's, deleted once the new one serves.
                    "describeModel" | "deleteModel" => sagemaker(&format!(
                        "model/{}",
                        sample(&states, &Value::Null, &Value::from("$.Release.Name"))
                    )),
                    "deleteEndpointConfig" => sagemaker(&format!(
                        "endpoint-config/{}",
                        sample(&states, &Value::Null, &Value::from("$.Release.Name"))
                    )),
                    "createMonitoringSchedule" => sagemaker(&format!(
                        "monitoring-schedule/{}",
                        named("MonitoringScheduleName")
                    )),
                    _ if parameters["PipelineName"].is_string() => {
                        sagemaker(&format!("pipeline/{pipeline}"))
                    }
                    _ => sagemaker(&format!("pipeline/{pipeline}/execution/{RUNTIME}")),
                };
                push(&action, resource);
            } else if let Some(call) =
                task.strip_prefix("arn:aws:states:::aws-sdk:applicationautoscaling:")
            {
                // Application Auto Scaling checks the caller may do what it will do on its
                // behalf: describe and resize the variant, manage the target-tracking alarms.
                let action = format!(
                    "application-autoscaling:{}{}",
                    call[..1].to_ascii_uppercase(),
                    &call[1..]
                );
                push(
                    &action,
                    format!(
                        "arn:{PARTITION}:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/{RUNTIME}"
                    ),
                );
                let endpoint = parameters["ResourceId"]
                    .as_str()
                    .and_then(|id| id.strip_prefix("endpoint/"))
                    .and_then(|id| id.split('/').next())
                    .unwrap_or(RUNTIME);
                let sagemaker =
                    |path: &str| format!("arn:{PARTITION}:sagemaker:{REGION}:{ACCOUNT}:{path}");
                if call == "registerScalableTarget" {
                    push(
                        "sagemaker:DescribeEndpoint",
                        sagemaker(&format!("endpoint/{endpoint}")),
                    );
                    let release = sample(&states, &Value::Null, &Value::from("$.Release.Name"));
                    push(
                        "sagemaker:DescribeEndpointConfig",
                        sagemaker(&format!("endpoint-config/{release}")),
                    );
                    push(
                        "sagemaker:UpdateEndpointWeightsAndCapacities",
                        sagemaker(&format!("endpoint/{endpoint}")),
                    );
                    push(
                        "iam:CreateServiceLinkedRole",
                        format!(
                            "arn:{PARTITION}:iam::{ACCOUNT}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
                        ),
                    );
                } else {
                    let alarm = format!(
                        "arn:{PARTITION}:cloudwatch:{REGION}:{ACCOUNT}:alarm:TargetTracking-endpoint/{endpoint}-{RUNTIME}"
                    );
                    for action in [
                        "cloudwatch:PutMetricAlarm",
                        "cloudwatch:DescribeAlarms",
                        "cloudwatch:DeleteAlarms",
                    ] {
                        push(action, alarm.clone());
                    }
                }
            } else if let Some(call) = task.strip_prefix("arn:aws:states:::aws-sdk:sqs:") {
                // The new-data queue, named by its URL (`Ref`).
                let action = format!("sqs:{}{}", call[..1].to_ascii_uppercase(), &call[1..]);
                let url = parameters["QueueUrl"].as_str().unwrap_or_default();
                let queue = names.resources.keys().find(|queue| {
                    names.kind(queue) == "AWS::SQS::Queue"
                        && names.reference(queue).as_deref() == Some(url)
                });
                push(
                    &action,
                    queue.and_then(|q| names.arn(q)).unwrap_or(url.to_string()),
                );
            } else if task == "arn:aws:states:::aws-sdk:s3:copyObject" {
                // The source is what the pipeline registered with the model: its drift
                // baseline, or its model archive.
                let arguments = &state["Arguments"];
                let copies_model = arguments["CopySource"]
                    .as_str()
                    .is_some_and(|source| source.contains("ModelDataUrl"));
                let target = format!(
                    "s3://{}/{}",
                    arguments["Bucket"].as_str().unwrap_or_default(),
                    arguments["Key"].as_str().unwrap_or_default()
                );
                let mut own = Vec::new();
                let (baselines, models) = registered_objects(names);
                let sources = if copies_model || baselines.is_empty() {
                    models
                } else {
                    baselines
                };
                for source in sources {
                    s3_requests(names, &source, false, &mut own);
                }
                s3_requests(names, &target, true, &mut own);
                // A copy reads objects, it does not list them.
                for (action, resource) in own {
                    if action != "s3:ListBucket" {
                        push(&action, resource);
                    }
                }
            } else if task == "arn:aws:states:::sns:publish" {
                let Some(topic) = parameters["TopicArn"].as_str() else {
                    continue;
                };
                push("sns:Publish", topic.to_string());
                let topic_id = names.resources.keys().find(|id| {
                    names.kind(id) == "AWS::SNS::Topic" && names.arn(id).as_deref() == Some(topic)
                });
                if let Some(key) = topic_id.and_then(|id| names.property(id, "KmsMasterKeyId")) {
                    push("kms:GenerateDataKey", key.clone());
                    push("kms:Decrypt", key);
                }
            }
        }
        requests.append(&mut guardrail_reads);
    }
}

/// A sample of a name a task passes: the literal, or for `$.X.Y` the value the Pass state
/// that writes `$.X` builds for `Y`, with `States.Format`'s `{}` as a run-time value.
fn sample(states: &[&Value], literal: &Value, path: &Value) -> String {
    if let Some(text) = literal.as_str() {
        return text.to_string();
    }
    let Some((target, field)) = path.as_str().and_then(|p| p.rsplit_once('.')) else {
        return RUNTIME.to_string();
    };
    let built = states
        .iter()
        .find(|s| s["Type"] == "Pass" && s["ResultPath"] == target)
        .and_then(|s| s["Parameters"][format!("{field}.$")].as_str());
    let Some(format) = built
        .and_then(|b| b.strip_prefix("States.Format('"))
        .and_then(|b| b.split_once('\'').map(|(f, _)| f))
    else {
        return RUNTIME.to_string();
    };
    format.replace("{}", RUNTIME)
}

/// The model package group the template creates.
fn package_group(names: &Names) -> Option<String> {
    let id = names
        .resources
        .keys()
        .find(|id| names.kind(id) == "AWS::SageMaker::ModelPackageGroup")?;
    names.property(id, "ModelPackageGroupName")
}

/// What the pipelines register with each model: its drift baselines (`DriftCheckBaselines`
/// statistics) and its model archives.
fn registered_objects(names: &Names) -> (Vec<String>, Vec<String>) {
    let mut baselines = Vec::new();
    let mut models = Vec::new();
    for (pipeline, _) in &names.pipelines {
        for step in all_steps(pipeline)
            .into_iter()
            .filter(|s| StepType::of(s) == Some(StepType::RegisterModel))
        {
            let arguments = &step["Arguments"];
            let statistics =
                &arguments["DriftCheckBaselines"]["ModelDataQuality"]["Statistics"]["S3Uri"];
            baselines.extend(evaluate(pipeline, statistics));
            for container in arguments["InferenceSpecification"]["Containers"]
                .as_array()
                .into_iter()
                .flatten()
            {
                models.extend(evaluate(pipeline, &container["ModelDataUrl"]));
            }
        }
    }
    (baselines, models)
}

fn collect_states<'a>(definition: &'a Value, out: &mut Vec<&'a Value>) {
    for state in definition["States"]
        .as_object()
        .into_iter()
        .flat_map(|s| s.values())
    {
        out.push(state);
        for branch in state["Branches"].as_array().into_iter().flatten() {
            collect_states(branch, out);
        }
        if state["Iterator"].is_object() {
            collect_states(&state["Iterator"], out);
        }
    }
}

/// What EventBridge rules ask of the role they start their targets with.
fn rule_requests(names: &Names, requests: &mut Vec<Request>) {
    for (id, resource) in names.resources {
        if names.kind(id) != "AWS::Events::Rule" {
            continue;
        }
        for target in resource["Properties"]["Targets"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if target["RoleArn"].is_null() {
                queue_requests(names, id, target, requests);
                continue;
            }
            let Some((arn, role)) = names.target(target) else {
                continue;
            };
            if arn.contains(":states:") {
                requests.push(Request {
                    role,
                    caller: format!("the EventBridge rule {id}"),
                    action: "states:StartExecution".into(),
                    resource: arn,
                    namespace: None,
                });
            }
        }
    }
}

/// A rule's target without a role, a queue of this template: EventBridge sends to it under
/// the queue's policy, and encrypts with the queue's key under the key's policy.
fn queue_requests(names: &Names, rule: &str, target: &Value, requests: &mut Vec<Request>) {
    let Some(arn) = names.resolve(&target["Arn"]) else {
        return;
    };
    let Some(queue) = names
        .resources
        .keys()
        .find(|id| names.kind(id) == "AWS::SQS::Queue" && names.arn(id).as_deref() == Some(&arn))
    else {
        return;
    };
    const EVENTS: &str = "events.amazonaws.com";
    let caller = format!("the EventBridge rule {rule}");
    requests.push(Request {
        role: service_grant(queue, EVENTS),
        caller: caller.clone(),
        action: "sqs:SendMessage".into(),
        resource: arn,
        namespace: None,
    });
    let key_arn = names.property(queue, "KmsMasterKeyId");
    let key = names
        .resources
        .keys()
        .find(|id| names.kind(id) == "AWS::KMS::Key" && names.arn(id) == key_arn);
    if let (Some(key), Some(key_arn)) = (key, key_arn) {
        for action in ["kms:GenerateDataKey", "kms:Decrypt"] {
            requests.push(Request {
                role: service_grant(key, EVENTS),
                caller: caller.clone(),
                action: action.into(),
                resource: key_arn.clone(),
                namespace: None,
            });
        }
    }
}

/// What EventBridge Scheduler schedules ask of their role: starting their target pipeline,
/// and decrypting their input with their key.
fn schedule_requests(names: &Names, requests: &mut Vec<Request>) {
    for (id, resource) in names.resources {
        if names.kind(id) != "AWS::Scheduler::Schedule" {
            continue;
        }
        let properties = &resource["Properties"];
        let target = &properties["Target"];
        let Some((arn, role)) = names.target(target) else {
            continue;
        };
        let mut push = |action: &str, resource: String| {
            requests.push(Request {
                role: role.clone(),
                caller: format!("the schedule {id}"),
                action: action.into(),
                resource,
                namespace: None,
            })
        };
        if arn.contains(":sagemaker:") && arn.contains(":pipeline/") {
            push("sagemaker:StartPipelineExecution", arn);
        }
        if let Some(key) = names.resolve(&properties["KmsKeyArn"]) {
            push("kms:Decrypt", key);
        }
    }
}

/// What Model Monitor job definitions ask of their role: baselines, captures and ground
/// truth read, reports written, keys used, the analyzer image pulled.
fn monitoring_requests(names: &Names, requests: &mut Vec<Request>) {
    let captures: Vec<String> = names
        .resources
        .iter()
        .filter(|(id, _)| names.kind(id) == "AWS::SageMaker::EndpointConfig")
        .filter_map(|(_, r)| {
            names.resolve(&r["Properties"]["DataCaptureConfig"]["DestinationS3Uri"])
        })
        .collect();
    let monitors = names.with_role(
        |k| k.starts_with("AWS::SageMaker::") && k.ends_with("JobDefinition"),
        "RoleArn",
    );
    for (id, properties, role) in monitors {
        let mut own = Vec::new();
        for (section, value) in properties.as_object().into_iter().flatten() {
            let write = section.ends_with("OutputConfig");
            let mut uris = Vec::new();
            collect_key(value, "S3Uri", &mut uris);
            for uri in uris.iter().filter_map(|u| names.resolve(u)) {
                s3_requests(names, &uri, write, &mut own);
            }
            if section.ends_with("JobInput") && value["EndpointInput"].is_object() {
                for uri in &captures {
                    s3_requests(names, uri, false, &mut own);
                }
            }
            if write {
                own.extend(
                    names
                        .resolve(&value["KmsKeyId"])
                        .map(|k| ("kms:GenerateDataKey".to_string(), k)),
                );
            }
            if section.ends_with("AppSpecification") {
                own.extend(
                    names
                        .resolve(&value["ImageUri"])
                        .and_then(|i| repository_arn(&i))
                        .map(|r| ("ecr:BatchGetImage".to_string(), r)),
                );
            }
        }
        own.extend(
            names
                .resolve(&properties["JobResources"]["ClusterConfig"]["VolumeKmsKeyId"])
                .map(|k| ("kms:CreateGrant".to_string(), k)),
        );
        job_requests("ProcessingJobs", &mut own);
        // The analyzer publishes its statistics as CloudWatch metrics, which the alarms watch.
        own.push(("cloudwatch:PutMetricData".to_string(), "*".to_string()));
        requests.extend(own.into_iter().map(|(action, resource)| Request {
            role: role.clone(),
            caller: format!("the monitoring job {id}"),
            action,
            resource,
            namespace: None,
        }));
    }
}

/// What the endpoint's model asks of its role: the model data and image of the package it
/// serves (those the pipeline registers), its logs, and the data capture it writes.
fn model_requests(names: &Names, requests: &mut Vec<Request>) {
    let registered: Vec<(Option<String>, Option<String>)> = names
        .pipelines
        .iter()
        .flat_map(|(pipeline, _)| {
            all_steps(pipeline)
                .into_iter()
                .filter(|s| StepType::of(s) == Some(StepType::RegisterModel))
                .flat_map(|s| {
                    s["Arguments"]["InferenceSpecification"]["Containers"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                })
                .map(|c| {
                    (
                        evaluate(pipeline, &c["ModelDataUrl"]),
                        evaluate(pipeline, &c["Image"]),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    // The deploy machine makes the model from the package, its configuration and the
    // endpoint; the model runs as the role `CreateModel` passes.
    let machines = names.with_role(|k| k == "AWS::StepFunctions::StateMachine", "RoleArn");
    for (id, properties, _) in machines {
        let substitutions = properties["DefinitionSubstitutions"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let Some(definition) = properties["DefinitionString"]
            .as_str()
            .and_then(|t| names.substitute(t, &substitutions))
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        else {
            continue;
        };
        let mut states = Vec::new();
        collect_states(&definition, &mut states);
        let called = |call: &str| -> Vec<&Value> {
            let resource = format!("arn:aws:states:::aws-sdk:sagemaker:{call}");
            states
                .iter()
                .copied()
                .filter(|s| s["Resource"] == resource.as_str())
                .collect()
        };
        for model in called("createModel") {
            let parameters = &model["Parameters"];
            let Some(role) = parameters["ExecutionRoleArn"]
                .as_str()
                .and_then(|arn| names.role_with_arn(arn))
            else {
                continue;
            };
            let mut own = Vec::new();
            for (data, image) in &registered {
                if let Some(data) = data {
                    s3_requests(names, data, false, &mut own);
                }
                if let Some(repository) = image.as_deref().and_then(repository_arn) {
                    own.push(("ecr:BatchGetImage".to_string(), repository));
                }
            }
            // The endpoint's logs, and the data capture its configuration writes.
            for endpoint in called("createEndpoint") {
                if let Some(name) = endpoint["Parameters"]["EndpointName"].as_str() {
                    job_requests(&format!("Endpoints/{name}"), &mut own);
                }
            }
            for config in called("createEndpointConfig") {
                let capture = &config["Parameters"]["DataCaptureConfig"];
                if let Some(uri) = capture["DestinationS3Uri"].as_str() {
                    s3_requests(names, uri, true, &mut own);
                }
                if let Some(key) = capture["KmsKeyId"].as_str() {
                    own.push(("kms:GenerateDataKey".to_string(), key.to_string()));
                }
            }
            requests.extend(own.into_iter().map(|(action, resource)| Request {
                role: role.clone(),
                caller: format!("the model {id} deploys"),
                action,
                resource,
                namespace: None,
            }));
        }
    }
}

/// Every value of `key` anywhere below `value`.
fn collect_key<'a>(value: &'a Value, key: &str, out: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == key {
                    out.push(v);
                } else {
                    collect_key(v, key, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_key(v, key, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn glob_matches_as_iam_does() {
        assert!(glob("arn:aws:s3:::b/*", "arn:aws:s3:::b/raw/x"));
        assert!(glob("s3:Get*", "s3:GetObject"));
        assert!(glob("*", "anything"));
        assert!(glob("a?c", "abc"));
        assert!(!glob("arn:aws:s3:::b/raw/*", "arn:aws:s3:::b/processed/x"));
        assert!(!glob("arn:aws:s3:::b", "arn:aws:s3:::b/x"));
        // Beyond ASCII, `?` is one character, not one byte.
        assert!(glob("caf?", "café"));
        assert!(!glob("caf??", "café"));
    }
}
