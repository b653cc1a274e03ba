//! KMS and S3: the key that encrypts everything and the four buckets.

use serde_json::{Value, json};

use super::{Attribute, LogicalId, Sub, Template, ids, suppressions};
use std::collections::BTreeSet;

use crate::ir::{Kms, split_s3_uri};

pub(super) fn add(t: &mut Template) {
    if t.system.kms == Kms::Create {
        key(t);
    }
    let buckets = t.system.buckets.clone();
    logs_bucket(t, &buckets.logs);
    for (id, name, output) in [
        (&ids::DATA_BUCKET, &buckets.data, "DataBucketName"),
        (&ids::MODELS_BUCKET, &buckets.models, "ModelsBucketName"),
        (
            &ids::PIPELINE_BUCKET,
            &buckets.pipeline,
            "PipelineBucketName",
        ),
    ] {
        bucket(t, id, name);
        let bucket = t.reference(id);
        t.output(output, &format!("The S3 bucket {name}"), bucket);
    }
    let logs_bucket = t.reference(&ids::LOGS_BUCKET);
    t.output(
        "LogsBucketName",
        "The S3 bucket of access logs",
        logs_bucket,
    );
    let key_arn = t.key_arn();
    t.output(
        "KmsKeyArn",
        "The KMS key that encrypts the system's data",
        key_arn,
    );
}

/// A customer-managed key with rotation. IAM policies grant the roles their use of it (the
/// account statement delegates to IAM); services that act on their own behalf (CloudWatch
/// Logs, and CloudWatch alarms publishing to the encrypted topic) are named
/// in the key policy, scoped to this account.
fn key(t: &mut Template) {
    let project = t.system.project.clone();
    // The log groups of the state machines: the retraining one, and the deploy one with an
    // endpoint.
    let mut machines = vec![&t.system.names.state_machine];
    if t.system.endpoint.is_some() {
        machines.push(&t.system.names.deploy_state_machine);
    }
    let log_groups: Vec<Value> = machines
        .into_iter()
        .map(|name| {
            let group = super::events::state_machine_log_group(name);
            t.arn("logs", &format!("log-group:{group}"))
        })
        .collect();
    let log_groups = match <[Value; 1]>::try_from(log_groups) {
        Ok([one]) => one,
        Err(many) => Value::Array(many),
    };
    let mut key = json!({
            "Type": "AWS::KMS::Key",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Description": format!("mlopsc {project}: encrypts data, models, logs, pipeline artifacts and notifications"),
                "EnableKeyRotation": true,
                "KeyPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountAdministersAndDelegatesToIam",
                            "Effect": "Allow",
                            "Principal": {"AWS": t.sub(Sub::text("arn:${AWS::Partition}:iam::${AWS::AccountId}:root"))},
                            "Action": "kms:*",
                            "Resource": "*",
                        },
                        {
                            "Sid": "CloudWatchLogsEncryptsTheStateMachineLogs",
                            "Effect": "Allow",
                            "Principal": {"Service": t.sub(Sub::text("logs.${AWS::Region}.amazonaws.com"))},
                            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                            "Resource": "*",
                            "Condition": {"ArnEquals": {
                                "kms:EncryptionContext:aws:logs:arn": log_groups,
                            }},
                        },
                        service_uses_the_key("AlarmsPublishToTheEncryptedTopic", "cloudwatch.amazonaws.com"),
                    ],
                },
                "Tags": t.tags(),
            },
    });
    if t.system.queues_new_data()
        && let Some(statements) = key["Properties"]["KeyPolicy"]["Statement"].as_array_mut()
    {
        // EventBridge puts new-data events on the encrypted queue.
        statements.push(service_uses_the_key(
            "EventBridgeQueuesNewData",
            "events.amazonaws.com",
        ));
    }
    if !t.system.registry.shared_with_accounts.is_empty()
        && let Some(statements) = key["Properties"]["KeyPolicy"]["Statement"].as_array_mut()
    {
        // The consuming accounts' endpoints decrypt the model artifacts through S3.
        statements.push(json!({
            "Sid": "ConsumerAccountsDecryptModelArtifacts",
            "Effect": "Allow",
            "Principal": {"AWS": t.account_principals(&t.system.registry.shared_with_accounts)},
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": t.sub(Sub::text("s3.${AWS::Region}.amazonaws.com"))}},
        }));
    }
    t.resource(&ids::KEY, key);
    let alias = json!({
        "Type": "AWS::KMS::Alias",
        "Properties": {
            "AliasName": t.system.names.kms_alias,
            "TargetKeyId": t.reference(&ids::KEY),
        },
    });
    t.resource(&ids::KEY_ALIAS, alias);
}

/// Settings every bucket shares: no public access, owner-enforced objects, retained on
/// stack deletion so that data is never lost by a delete.
fn base_bucket(t: &Template, name: &str, encryption: Value, rules: Vec<Value>) -> Value {
    let storage = &t.system.storage;
    let mut properties = json!({
        "BucketName": name,
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [encryption]},
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": true,
            "BlockPublicPolicy": true,
            "IgnorePublicAcls": true,
            "RestrictPublicBuckets": true,
        },
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "VersioningConfiguration": {"Status": if storage.versioning { "Enabled" } else { "Suspended" }},
        "LifecycleConfiguration": {"Rules": rules},
    });
    if let Some(tiering) = &storage.intelligent_tiering {
        let tierings: Vec<Value> = [
            ("ARCHIVE_ACCESS", tiering.archive_access_days),
            ("DEEP_ARCHIVE_ACCESS", tiering.deep_archive_access_days),
        ]
        .into_iter()
        .filter_map(|(tier, days)| days.map(|d| json!({"AccessTier": tier, "Days": d})))
        .collect();
        // A configuration needs at least one archive tier; without one the lifecycle
        // transition alone moves objects into Intelligent-Tiering's automatic tiers.
        let prefixes = archived_prefixes(t, name);
        if !tierings.is_empty() && !prefixes.is_empty() {
            properties["IntelligentTieringConfigurations"] = prefixes
                .iter()
                .enumerate()
                .map(|(i, prefix)| {
                    let mut configuration = json!({"Id": format!("archive-{}", i + 1), "Status": "Enabled", "Tierings": tierings});
                    if !prefix.is_empty() {
                        configuration["Prefix"] = json!(prefix);
                    }
                    configuration
                })
                .collect();
        }
    }
    properties["Tags"] = t.tags();
    json!({
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    })
}

/// The prefixes of `bucket` whose objects may move to the archive tiers: the data sources'
/// raw data and the endpoint's captures, which are read rarely and can wait for a restore.
/// Never models or pipeline artifacts: an archived `model.tar.gz` cannot be read, so
/// scale-out and rollback would fail. An empty prefix is the whole bucket.
fn archived_prefixes(t: &Template, bucket: &str) -> BTreeSet<String> {
    let sources = t.system.data_sources.iter().map(|s| s.uri.as_str());
    let capture = t
        .system
        .endpoint
        .as_ref()
        .and_then(|e| e.capture.as_ref())
        .map(|c| c.destination_uri.as_str());
    sources
        .chain(capture)
        .filter_map(split_s3_uri)
        .filter(|(b, _)| b == bucket)
        .map(|(_, prefix)| prefix)
        .collect()
}

/// Lifecycle rules of a data-holding bucket: into Intelligent-Tiering, expire the endpoint's
/// captures after their retention (at 1 request/s, 20 % sampled and 200 KB an image, captures
/// grow by about 3.5 GB a day), expire old versions, abort abandoned uploads.
fn lifecycle_rules(t: &Template, bucket: &str) -> Vec<Value> {
    let storage = &t.system.storage;
    let mut rules = Vec::new();
    let capture = t.system.endpoint.as_ref().and_then(|e| e.capture.as_ref());
    if let Some(capture) = capture
        && let Some((capture_bucket, prefix)) = split_s3_uri(&capture.destination_uri)
        && capture_bucket == bucket
    {
        rules.push(json!({
            "Id": "expire-captures",
            "Status": "Enabled",
            "Prefix": prefix,
            "ExpirationInDays": capture.retention_days,
        }));
    }
    if storage.intelligent_tiering.is_some() {
        rules.push(json!({
            "Id": "intelligent-tiering",
            "Status": "Enabled",
            "Transitions": [{"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 0}],
        }));
    }
    rules.extend(common_rules(t));
    rules
}

fn common_rules(t: &Template) -> Vec<Value> {
    let storage = &t.system.storage;
    let mut rules = Vec::new();
    if storage.versioning {
        rules.push(json!({
            "Id": "expire-noncurrent-versions",
            "Status": "Enabled",
            "NoncurrentVersionExpiration": {"NoncurrentDays": storage.noncurrent_version_expiration_days},
        }));
    }
    rules.push(json!({
        "Id": "abort-incomplete-uploads",
        "Status": "Enabled",
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": storage.abort_incomplete_upload_days},
    }));
    rules
}

/// A data, models or pipeline bucket: SSE-KMS with a bucket key, access logs to the logs
/// bucket, EventBridge notifications when a new-data trigger watches it.
fn bucket(t: &mut Template, id: &LogicalId, name: &str) {
    let encryption = json!({
        "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": t.key_arn()},
        "BucketKeyEnabled": true,
    });
    let mut resource = base_bucket(t, name, encryption, lifecycle_rules(t, name));
    let properties = &mut resource["Properties"];
    properties["LoggingConfiguration"] = json!({
        "DestinationBucketName": t.reference(&ids::LOGS_BUCKET),
        "LogFilePrefix": format!("s3-access/{name}/"),
    });
    let watched = t
        .system
        .retraining
        .as_ref()
        .is_some_and(|r| r.new_data.iter().any(|n| n.bucket == name));
    if watched {
        properties["NotificationConfiguration"] =
            json!({"EventBridgeConfiguration": {"EventBridgeEnabled": true}});
    }
    if !t.system.storage.versioning {
        resource["Metadata"] = suppressions(
            &[],
            &[(
                "CKV_AWS_21",
                "the spec turns versioning off (storage.versioning: false)",
            )],
        );
    }
    t.resource(id, resource);
    let mut shares = Vec::new();
    if *id == ids::MODELS_BUCKET && !t.system.registry.shared_with_accounts.is_empty() {
        // The consuming accounts' endpoints read the model artifacts of approved packages, and
        // their deploy state machines the packages' drift baselines.
        shares.push(json!({
            "Sid": "ConsumerAccountsReadModelArtifacts",
            "Effect": "Allow",
            "Principal": {"AWS": t.account_principals(&t.system.registry.shared_with_accounts)},
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": [
                t.get_att(id, Attribute::Arn),
                t.sub(Sub::attribute(id, Attribute::Arn).then(format!("/{}*", crate::emit::contract::MODELS_PREFIX))),
                t.sub(Sub::attribute(id, Attribute::Arn).then(format!("/{}*", crate::ir::BASELINES_PREFIX))),
            ],
        }));
    }
    let policy = bucket_policy(t, id, shares);
    t.resource(&id.suffixed("Policy"), policy);
}

/// The logs bucket receives S3 server access logs, which S3 delivers only to buckets
/// encrypted with SSE-S3: it holds access logs only, and expires them.
fn logs_bucket(t: &mut Template, name: &str) {
    let encryption = json!({"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}});
    let mut rules = vec![json!({
        "Id": "expire-logs",
        "Status": "Enabled",
        "ExpirationInDays": t.system.storage.log_expiration_days,
    })];
    rules.extend(common_rules(t));
    let mut resource = base_bucket(t, name, encryption, rules);
    let mut skips = vec![(
        "CKV_AWS_18",
        "this is the access-log destination; logging it into itself would loop",
    )];
    if !t.system.storage.versioning {
        skips.push((
            "CKV_AWS_21",
            "the spec turns versioning off (storage.versioning: false)",
        ));
    }
    resource["Metadata"] = suppressions(&[], &skips);
    t.resource(&ids::LOGS_BUCKET, resource);
    let sources: Vec<Value> = [ids::DATA_BUCKET, ids::MODELS_BUCKET, ids::PIPELINE_BUCKET]
        .iter()
        .map(|id| t.get_att(id, Attribute::Arn))
        .collect();
    let delivery = json!({
        "Sid": "S3ServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": t.sub(Sub::attribute(&ids::LOGS_BUCKET, Attribute::Arn).then("/s3-access/*")),
        "Condition": {
            "ArnLike": {"aws:SourceArn": sources},
            "StringEquals": {"aws:SourceAccount": super::account_id()},
        },
    });
    let policy = bucket_policy(t, &ids::LOGS_BUCKET, vec![delivery]);
    t.resource(&ids::LOGS_BUCKET.suffixed("Policy"), policy);
}

/// Denies every request that does not use TLS, plus any extra statements.
fn bucket_policy(t: &Template, bucket: &LogicalId, extra: Vec<Value>) -> Value {
    let mut statements = vec![json!({
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": t.bucket_arns(bucket, ""),
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    })];
    statements.extend(extra);
    json!({
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": t.reference(bucket),
            "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
        },
    })
}

/// A key-policy statement that lets an AWS service of this account encrypt with the key and
/// decrypt: CloudWatch for the alarms' topic, EventBridge for the new-data queue.
fn service_uses_the_key(sid: &str, service: &str) -> Value {
    json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": super::account_id()}},
    })
}
