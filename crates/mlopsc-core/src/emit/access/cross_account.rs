//! The access check across accounts: an environment that deploys another's models
//! (`modelsFrom`) calls that account's model registry and reads its bucket and key.
//!
//! AWS allows a call across accounts only when both sides do: the caller's identity policy
//! and the resource's own policy (the package group's, the bucket's, the key's), whose
//! principal must name the caller's account or role. [`super::check`] sees one template, so
//! it cannot see the second half; this check reads both templates, lists every call the
//! consumer makes on the owner's resources, and decides each on both sides. Deny statements
//! are left out, as in [`super::check`]: the templates' only ones refuse plain HTTP.

use serde_json::{Map, Value};

use super::{
    Denial, Names, PARTITION, RUNTIME, Report, Request, Statement, allow_statement, collect_states,
    glob, machine_definition, one_or_many, package_group, registered_objects, role_policies,
    s3_requests,
};

/// A template and the account and region it is deployed to.
#[derive(Clone, Copy)]
pub struct Deployed<'a> {
    pub template: &'a Value,
    pub account: &'a str,
    pub region: &'a str,
}

/// A resource policy of the owner's template: what it covers, and each Allow statement with
/// the principals it names.
struct ResourcePolicy {
    id: String,
    covers: Vec<String>,
    statements: Vec<(Statement, Vec<String>)>,
}

/// Checks every call `consumer` makes on resources of `owner`, on both sides.
pub fn check(consumer: Deployed, owner: Deployed) -> Report {
    let empty = Map::new();
    let consumer_resources = consumer.template["Resources"].as_object().unwrap_or(&empty);
    let owner_resources = owner.template["Resources"].as_object().unwrap_or(&empty);
    let consumer_names = Names::deployed(consumer_resources, consumer.account, consumer.region);
    let owner_names = Names::deployed(owner_resources, owner.account, owner.region);
    let identities = role_policies(&consumer_names);
    let policies = resource_policies(&owner_names);
    let account_principals = [
        format!("arn:{PARTITION}:iam::{}:root", consumer.account),
        consumer.account.to_string(),
        "*".to_string(),
    ];
    let mut report = Report::default();
    for request in requests(&consumer_names, &owner_names) {
        report.checked += 1;
        report.callers.insert(request.caller.clone());
        let action = request.action.to_ascii_lowercase();
        let identity_allows = identities
            .get(&request.role)
            .is_some_and(|statements| statements.iter().any(|s| s.allows(&request, &action)));
        if !identity_allows {
            report.denials.push(Denial {
                role: request.role.clone(),
                caller: request.caller.clone(),
                action: request.action.clone(),
                resource: request.resource.clone(),
            });
        }
        let role_arn = consumer_names.arn(&request.role);
        let governing: Vec<&ResourcePolicy> = policies
            .iter()
            .filter(|p| p.covers.iter().any(|c| glob(c, &request.resource)))
            .collect();
        let resource_allows = governing.iter().any(|policy| {
            policy.statements.iter().any(|(statement, principals)| {
                statement.allows(&request, &action)
                    && principals.iter().any(|p| {
                        account_principals.contains(p) || role_arn.as_deref() == Some(p.as_str())
                    })
            })
        });
        if !resource_allows {
            let by = governing.first().map_or_else(
                || "no resource policy".to_string(),
                |p| format!("the resource policy of {}", p.id),
            );
            report.denials.push(Denial {
                role: request.role,
                caller: format!("{}, by {by} in account {}", request.caller, owner.account),
                action: request.action,
                resource: request.resource,
            });
        }
    }
    report
}

/// The calls on the owner's resources: the deploy machine describes the owner's packages and
/// makes models of them, and copies their drift baselines (and an image model's archive);
/// SageMaker reads the model archive as the model's execution role. Reads of the owner's
/// objects decrypt with the owner's bucket key.
fn requests(consumer: &Names, owner: &Names) -> Vec<Request> {
    let Some(group) = package_group(owner) else {
        return Vec::new();
    };
    let package = format!(
        "arn:{PARTITION}:sagemaker:{}:{}:model-package/{group}/{RUNTIME}",
        owner.region, owner.account
    );
    let (baselines, models) = registered_objects(owner);
    // An object read across accounts: GetObject and the key's Decrypt (a copy does not list).
    let reads = |uris: &[String]| {
        let mut out = Vec::new();
        for uri in uris {
            s3_requests(owner, uri, false, &mut out);
        }
        out.retain(|(action, _)| action != "s3:ListBucket");
        out
    };
    let mut requests = Vec::new();
    let machines = consumer.with_role(|k| k == "AWS::StepFunctions::StateMachine", "RoleArn");
    for (id, properties, role) in machines {
        let Some(definition) = machine_definition(consumer, properties) else {
            continue;
        };
        let mut states = Vec::new();
        collect_states(&definition, &mut states);
        let calls = |resource: &str| {
            states
                .iter()
                .filter(|s| s["Resource"] == format!("arn:aws:states:::aws-sdk:{resource}"))
                .collect::<Vec<_>>()
        };
        if calls("sagemaker:describeModelPackage").is_empty() {
            continue;
        }
        let caller = format!("the state machine {id}");
        let mut push = |role: &str, caller: &str, action: &str, resource: String| {
            requests.push(Request {
                role: role.to_string(),
                caller: caller.to_string(),
                action: action.to_string(),
                resource,
                namespace: None,
            });
        };
        push(
            &role,
            &caller,
            "sagemaker:DescribeModelPackage",
            package.clone(),
        );
        for create in calls("sagemaker:createModel") {
            push(&role, &caller, "sagemaker:CreateModel", package.clone());
            let model_role = create["Parameters"]["ExecutionRoleArn"]
                .as_str()
                .and_then(|arn| consumer.role_with_arn(arn));
            if let Some(model_role) = model_role {
                let sagemaker = format!("SageMaker, making a model of a package as {model_role}");
                for (action, resource) in reads(&models) {
                    push(&model_role, &sagemaker, &action, resource);
                }
            }
        }
        for copy in calls("s3:copyObject") {
            let copies_model = copy["Arguments"]["CopySource"]
                .as_str()
                .is_some_and(|source| source.contains("ModelDataUrl"));
            let sources = if copies_model { &models } else { &baselines };
            for (action, resource) in reads(sources) {
                push(&role, &caller, &action, resource);
            }
        }
    }
    requests
}

/// The owner's resource policies: its package groups', buckets' and keys'.
fn resource_policies(names: &Names) -> Vec<ResourcePolicy> {
    let mut policies = Vec::new();
    for (id, resource) in names.resources {
        let properties = &resource["Properties"];
        let (document, covers) = match names.kind(id) {
            "AWS::SageMaker::ModelPackageGroup" => {
                let Some(group) = names.property(id, "ModelPackageGroupName") else {
                    continue;
                };
                let sagemaker = format!(
                    "arn:{PARTITION}:sagemaker:{}:{}",
                    names.region, names.account
                );
                (
                    &properties["ModelPackageGroupPolicy"],
                    vec![
                        format!("{sagemaker}:model-package-group/{group}"),
                        format!("{sagemaker}:model-package/{group}/*"),
                    ],
                )
            }
            "AWS::S3::BucketPolicy" => {
                let Some(bucket) = names.resolve(&properties["Bucket"]) else {
                    continue;
                };
                let arn = format!("arn:{PARTITION}:s3:::{bucket}");
                (
                    &properties["PolicyDocument"],
                    vec![arn.clone(), format!("{arn}/*")],
                )
            }
            "AWS::KMS::Key" => {
                let Some(arn) = names.arn(id) else {
                    continue;
                };
                (&properties["KeyPolicy"], vec![arn])
            }
            _ => continue,
        };
        let statements = one_or_many(&document["Statement"])
            .filter_map(|statement| {
                let allowed = allow_statement(names, statement)?;
                let principal = &statement["Principal"];
                let principals = if principal == "*" {
                    vec!["*".to_string()]
                } else {
                    one_or_many(&principal["AWS"])
                        .filter_map(|p| names.resolve(p))
                        .collect()
                };
                Some((allowed, principals))
            })
            .collect();
        policies.push(ResourcePolicy {
            id: id.clone(),
            covers,
            statements,
        });
    }
    policies
}
