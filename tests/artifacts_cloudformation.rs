//! `template.yaml`, `dashboard.json` and the monitors' constraints files of every example:
//! snapshots, plus the properties that make the template secure by default.

use mlopsc::build::Compiled;
use mlopsc::emit::{DASHBOARD, DeployedAs, TEMPLATE, cloudformation, sagemaker};
use mlopsc::spec::yaml::Document;
use serde_json::{Value, json};

const EXAMPLES: [&str; 3] = ["skin-lesion", "churn-tabular", "minimal"];

mod common;

fn compiled(example: &str) -> Compiled {
    common::compile_example(example)
}

/// The flagship with SageMaker Model Monitor instead of its image monitoring (what a tabular
/// spec gets, and an image spec with `monitoring.kind: tabular`), for the Model Monitor tests.
fn compile_flagship_with_model_monitor() -> Compiled {
    let path = common::example_spec("skin-lesion");
    let text = std::fs::read_to_string(&path).expect("the flagship spec");
    let (start, end) = (
        text.find("\nmonitoring:\n").expect("a monitoring section"),
        text.find("\nretraining:\n").expect("a retraining section"),
    );
    let tabular = "
monitoring:
  kind: tabular
  dataDrift:
    schedule: cron(0 * ? * * *)
    instanceType: ml.m5.xlarge
    checks:
      - statistic: distributionDistance
        threshold: 0.2
      - statistic: completeness
        threshold: 0.99
    alarmFeatures: [prediction_confidence]
  modelQuality:
    schedule: cron(0 0 ? * * *)
    instanceType: ml.m5.xlarge
    problemType: multiclassClassification
    groundTruthUri: s3://skin-lesion-data-123456789012/ground-truth/
    metric: accuracy
    threshold: 0.8
";
    let source = mlopsc::diagnostics::SourceFile {
        name: path.display().to_string(),
        text: format!("{}{tabular}{}", &text[..start], &text[end..]),
    };
    match mlopsc::build::compile(&source, path.parent().expect("the example has a folder")) {
        Ok(compiled) => compiled,
        Err(err) => panic!("the flagship with Model Monitor does not compile: {err:?}"),
    }
}

fn text(c: &Compiled, name: &str) -> String {
    common::artifact_text(c, name)
}

fn template(c: &Compiled) -> Value {
    Document::parse(&text(c, TEMPLATE.path))
        .expect("YAML")
        .to_json()
}

fn of_type<'a>(t: &'a Value, kind: &str) -> Vec<(&'a String, &'a Value)> {
    t["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .collect()
}

#[test]
fn snapshots() {
    for example in EXAMPLES {
        let c = compiled(example);
        insta::assert_snapshot!(format!("{example}-template.yaml"), text(&c, TEMPLATE.path));
        insta::assert_snapshot!(
            format!("{example}-dashboard.json"),
            text(&c, DASHBOARD.path)
        );
        for (name, artifact) in c.artifacts.iter() {
            if name.starts_with("monitoring/") {
                let snapshot = format!("{example}-{}", name.replace('/', "-"));
                insta::assert_snapshot!(snapshot, String::from_utf8_lossy(&artifact.bytes));
            }
        }
    }
}

#[test]
fn buckets_are_private_encrypted_tls_only_and_retained() {
    for example in EXAMPLES {
        let t = template(&compiled(example));
        let buckets = of_type(&t, "AWS::S3::Bucket");
        assert_eq!(buckets.len(), 4, "{example}");
        for (id, bucket) in &buckets {
            let p = &bucket["Properties"];
            assert_eq!(bucket["DeletionPolicy"], "Retain", "{id}");
            assert_eq!(bucket["UpdateReplacePolicy"], "Retain", "{id}");
            let block = &p["PublicAccessBlockConfiguration"];
            for flag in [
                "BlockPublicAcls",
                "BlockPublicPolicy",
                "IgnorePublicAcls",
                "RestrictPublicBuckets",
            ] {
                assert_eq!(block[flag], true, "{id} {flag}");
            }
            let sse = &p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
                ["SSEAlgorithm"];
            // S3 delivers access logs only to SSE-S3 buckets; every other bucket uses KMS.
            let expected = if *id == "LogsBucket" {
                "AES256"
            } else {
                "aws:kms"
            };
            assert_eq!(sse, expected, "{id}");
            if *id != "LogsBucket" {
                assert_eq!(
                    p["LoggingConfiguration"]["DestinationBucketName"],
                    json!({"Ref": "LogsBucket"})
                );
            }
            let policy = &t["Resources"][format!("{id}Policy")]["Properties"]["PolicyDocument"]["Statement"]
                [0];
            assert_eq!(
                policy["Condition"]["Bool"]["aws:SecureTransport"], "false",
                "{id}"
            );
            assert_eq!(policy["Effect"], "Deny", "{id}");
        }
    }
}

#[test]
fn every_taggable_resource_carries_the_project_tag() {
    let c = compiled("skin-lesion");
    let t = template(&c);
    let mut tagged = 0;
    for (id, resource) in t["Resources"].as_object().expect("resources") {
        if let Some(tags) = resource["Properties"].get("Tags") {
            assert_eq!(
                tags[0],
                json!({"Key": "mlopsc:project", "Value": "skin-lesion"}),
                "{id}"
            );
            assert!(
                tags.as_array()
                    .expect("a list")
                    .iter()
                    .any(|t| t["Key"] == "team"),
                "{id}"
            );
            tagged += 1;
        }
    }
    assert!(tagged > 15, "only {tagged} resources are tagged");
}

/// docs/deployment-guide.md, "Who owns the endpoint": the deploy state machine makes the
/// model, configuration and endpoint on approval, and registers autoscaling and Model
/// Monitor's schedules after it; the stack has none of them, and nothing of the stack waits
/// for a parameter to exist: the monitoring runs from the first deploy on.
#[test]
fn the_deploy_machine_owns_the_endpoint_and_the_monitoring_always_exists() {
    let t = template(&compiled("skin-lesion"));
    let model_monitor = template(&compile_flagship_with_model_monitor());
    for kind in [
        "AWS::SageMaker::Model",
        "AWS::SageMaker::EndpointConfig",
        "AWS::SageMaker::Endpoint",
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
    ] {
        assert!(of_type(&t, kind).is_empty(), "{kind}");
    }
    assert!(t.get("Parameters").is_none() && t.get("Conditions").is_none());
    for (id, r) in t["Resources"].as_object().unwrap() {
        assert!(r.get("Condition").is_none(), "{id}");
    }
    assert_eq!(of_type(&t, "AWS::Scheduler::Schedule").len(), 2);
    assert_eq!(
        t["Outputs"]["EndpointName"]["Value"],
        "skin-lesion-classifier"
    );
    // Model Monitor's job definitions are the stack's, named for the schedules the machine
    // makes; the schedules are not (SageMaker refuses one for an endpoint not yet there).
    assert!(of_type(&model_monitor, "AWS::SageMaker::MonitoringSchedule").is_empty());
    for (kind, name) in [
        (
            "AWS::SageMaker::DataQualityJobDefinition",
            "skin-lesion-data-drift",
        ),
        (
            "AWS::SageMaker::ModelQualityJobDefinition",
            "skin-lesion-model-quality",
        ),
    ] {
        let found = of_type(&model_monitor, kind);
        assert_eq!(found.len(), 1, "{kind}");
        assert_eq!(found[0].1["Properties"]["JobDefinitionName"], name);
    }
    let deploy: Value = serde_json::from_str(&text(
        &compile_flagship_with_model_monitor(),
        mlopsc::emit::DEPLOY_STATE_MACHINE.path,
    ))
    .unwrap();
    let schedule = &deploy["States"]["ScheduleDataQualityMonitoring"]["Parameters"];
    assert_eq!(schedule["MonitoringScheduleName"], "skin-lesion-data-drift");
    assert_eq!(
        schedule["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"],
        "skin-lesion-data-drift"
    );
    // "Already exists" moves on; throttling waits and creates again; anything else fails.
    let exists = &deploy["States"]["DataQualityScheduleExists"];
    assert_eq!(
        exists["Choices"][1]["Next"],
        "ScheduleDataQualityMonitoringBackoff"
    );
    assert_eq!(exists["Default"], "DataQualityScheduleFailed");
    let churn = template(&compiled("churn-tabular"));
    assert!(churn["Outputs"].get("EndpointName").is_none());
}

/// Each monitoring schedule starts the pipeline for what it measures: the hourly drift run
/// reads the last hour of captures and no labels, the daily quality run no drift window and
/// the last `labelLatencyDays` of captures. Model Monitor reads as far back (its offset).
#[test]
fn each_monitoring_schedule_measures_its_own_window() {
    let t = template(&compiled("skin-lesion"));
    let parameters = |id: &str| -> Vec<(String, String)> {
        t["Resources"][id]["Properties"]["Target"]["SageMakerPipelineParameters"]["PipelineParameterList"]
            .as_array()
            .unwrap_or_else(|| panic!("{id} passes parameters"))
            .iter()
            .map(|p| (p["Name"].as_str().unwrap().into(), p["Value"].as_str().unwrap().into()))
            .collect()
    };
    let pairs = |items: &[(&str, &str)]| -> Vec<(String, String)> {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        parameters("MonitoringSchedule1"),
        pairs(&[("WindowHours", "1"), ("LabelDays", "0")])
    );
    assert_eq!(
        parameters("MonitoringSchedule2"),
        pairs(&[("WindowHours", "0"), ("LabelDays", "30")])
    );
    let model_monitor = template(&compile_flagship_with_model_monitor());
    let input = &model_monitor["Resources"]["ModelQualityJobDefinition"]["Properties"]["ModelQualityJobInput"]
        ["EndpointInput"];
    assert_eq!(input["StartTimeOffset"], "-P30D");
}

#[test]
fn the_state_machine_is_the_asl_text_with_substitutions() {
    let c = compiled("skin-lesion");
    let t = template(&c);
    let machine = &t["Resources"]["StateMachine"]["Properties"];
    assert_eq!(
        machine["DefinitionString"].as_str(),
        Some(text(&c, mlopsc::emit::STATE_MACHINE.path).as_str())
    );
    assert_eq!(machine["TracingConfiguration"]["Enabled"], true);
    assert_eq!(machine["LoggingConfiguration"]["Level"], "ALL");
}

#[test]
fn placeholders_of_the_pipeline_and_state_machine_are_filled() {
    let c = compiled("skin-lesion");
    let pipeline = json!({"Steps": [{"Arguments": {"RoleArn": "${ExecutionRoleArn}", "KmsKeyId": "${KmsKeyArn}"}}]});
    let machine = json!({"States": {"Notify": {"Parameters": {"TopicArn": "${NotificationTopicArn}", "Name": "${PipelineName}"}}}});
    let deploy = json!({"States": {"Model": {"Parameters": {"ExecutionRoleArn": "${EndpointRoleArn}", "KmsKeyId": "${KmsKeyArn}"}}}});
    let support = cloudformation::support_objects(&c.system).expect("support files");
    let monitoring = sagemaker::monitoring_definition(&c.system).map(|d| d.to_value());
    let dashboard = json!({"widgets": []});
    let embedded = cloudformation::Embedded {
        pipeline: Some(&pipeline),
        monitoring_pipeline: monitoring.as_ref(),
        state_machine: Some(&machine),
        deploy_machine: Some(&deploy),
        dashboard: &dashboard,
        support: &support,
    };
    let t = cloudformation::template(&c.system, &embedded).expect("a template");
    assert_eq!(cloudformation::check(&t), Ok(()));
    let body = &t["Resources"]["Pipeline"]["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]
        ["Fn::Sub"];
    assert_eq!(
        body[1]["KmsKeyArn"],
        json!({"Fn::GetAtt": ["EncryptionKey", "Arn"]})
    );
    assert_eq!(
        body[1]["ExecutionRoleArn"],
        json!({"Fn::GetAtt": ["SageMakerExecutionRole", "Arn"]})
    );
    let substitutions = &t["Resources"]["StateMachine"]["Properties"]["DefinitionSubstitutions"];
    assert_eq!(
        substitutions["NotificationTopicArn"],
        json!({"Ref": "NotificationTopic"})
    );
    assert_eq!(substitutions["PipelineName"], "skin-lesion-pipeline");
    let substitutions =
        &t["Resources"]["DeployStateMachine"]["Properties"]["DefinitionSubstitutions"];
    assert_eq!(
        substitutions["EndpointRoleArn"],
        json!({"Fn::GetAtt": ["EndpointRole", "Arn"]})
    );
    assert_eq!(
        substitutions["KmsKeyArn"],
        json!({"Fn::GetAtt": ["EncryptionKey", "Arn"]})
    );

    let unknown = json!({"States": {"S": {"Parameters": {"X": "${Mystery}"}}}});
    let embedded = cloudformation::Embedded {
        state_machine: Some(&unknown),
        deploy_machine: None,
        ..embedded
    };
    let t = cloudformation::template(&c.system, &embedded).expect("a template");
    let error = cloudformation::check(&t).expect_err("an unmapped placeholder");
    assert!(error.contains("${Mystery}"), "{error}");
}

#[test]
fn an_existing_key_replaces_the_stack_key() {
    let t = template(&compiled("churn-tabular"));
    assert!(of_type(&t, "AWS::KMS::Key").is_empty());
    let arn = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    assert_eq!(
        t["Resources"]["NotificationTopic"]["Properties"]["KmsMasterKeyId"],
        arn
    );
    let flagship = template(&compiled("skin-lesion"));
    let key = &of_type(&flagship, "AWS::KMS::Key")[0].1["Properties"];
    assert_eq!(key["EnableKeyRotation"], true);
}

#[test]
fn model_monitors_carry_the_spec_thresholds() {
    let c = compile_flagship_with_model_monitor();
    let drift: Value = serde_json::from_slice(
        text(&c, "monitoring/data-drift/baseline/constraints.json").as_bytes(),
    )
    .expect("JSON");
    assert_eq!(
        drift["monitoring_config"]["distribution_constraints"]["comparison_threshold"],
        0.2
    );
    assert_eq!(drift["features"][0]["completeness"], 0.99);
    let quality: Value = serde_json::from_slice(
        text(&c, "monitoring/model-quality/baseline/constraints.json").as_bytes(),
    )
    .expect("JSON");
    assert_eq!(
        quality["multiclass_classification_constraints"]["accuracy"]["threshold"],
        0.8
    );
    let t = template(&c);
    let alarm = &t["Resources"]["ModelQualityAlarm"]["Properties"];
    assert_eq!(alarm["Threshold"], 0.8);
    assert_eq!(alarm["ComparisonOperator"], "LessThanThreshold");
    let dashboard: Value = serde_json::from_str(&text(&c, DASHBOARD.path)).expect("JSON");
    let annotated: Vec<&Value> = dashboard["widgets"]
        .as_array()
        .expect("widgets")
        .iter()
        .filter_map(|w| {
            w["properties"]["annotations"]["horizontal"][0]["value"]
                .as_f64()
                .map(|_| w)
        })
        .collect();
    assert_eq!(annotated.len(), 2);
}

/// The monitors read their constraints exactly where apply uploads them: both use
/// `emit::contract::support_key`, a key named by the file's content hash.
#[test]
fn model_monitors_read_their_constraints_where_apply_uploads_them() {
    let c = compile_flagship_with_model_monitor();
    let t = template(&c);
    let deployment = mlopsc::deploy::Deployment::of(&c, "");
    let uploaded: Vec<String> = deployment
        .uploads()
        .expect("uploads")
        .into_iter()
        .map(|u| format!("s3://{}/{}", c.system.buckets.pipeline, u.key))
        .collect();
    let mut read = Vec::new();
    for kind in ["DataQuality", "ModelQuality"] {
        for (_, job) in of_type(&t, &format!("AWS::SageMaker::{kind}JobDefinition")) {
            let uri =
                job["Properties"][format!("{kind}BaselineConfig")]["ConstraintsResource"]["S3Uri"]
                    .as_str()
                    .expect("a constraints URI")
                    .to_string();
            assert!(uri.contains("/support/"), "{uri}");
            assert!(
                uploaded.contains(&uri),
                "{uri} is not uploaded: {uploaded:?}"
            );
            read.push(uri);
        }
    }
    assert_eq!(read.len(), 2);
}

/// Every file of a build is declared with how it is deployed, and `apply` uploads exactly the
/// files declared as support objects, each under a key the template refers to: an artifact
/// of a new kind can no longer slip into S3 as a support file because a list missed it.
#[test]
fn apply_uploads_exactly_the_declared_support_objects() {
    let builds = EXAMPLES
        .iter()
        .map(|example| (example.to_string(), compiled(example)))
        .chain([(
            "model monitor".to_string(),
            compile_flagship_with_model_monitor(),
        )]);
    let mut support_objects = 0;
    for (name, c) in builds {
        let template = text(&c, TEMPLATE.path);
        let mut declared_support = Vec::new();
        for (path, artifact) in c.artifacts.iter() {
            if artifact.deployed_as == DeployedAs::SupportObject {
                let key = mlopsc::emit::contract::support_key(path, &artifact.bytes);
                assert!(template.contains(&key), "{name}: {key} is not referenced");
                declared_support.push(key);
            } else {
                assert_eq!(
                    mlopsc::emit::declared(path).map(|d| d.deployed_as),
                    Some(artifact.deployed_as),
                    "{name}: {path} is not in emit::FIXED with its deployment"
                );
            }
        }
        let code_prefix = format!("code/{}/", c.code.sha256());
        let uploaded: Vec<String> = mlopsc::deploy::Deployment::of(&c, "")
            .uploads()
            .expect("uploads")
            .into_iter()
            .map(|u| u.key)
            .filter(|key| !key.starts_with(&code_prefix))
            .collect();
        assert_eq!(uploaded, declared_support, "{name}");
        support_objects += declared_support.len();
    }
    assert!(support_objects >= 2, "the model monitor's constraints");
}

/// Image monitoring: one alarm per drift check at its threshold and one on the quality metric,
/// on the namespace and dimensions the monitor step is given, and the drift rule listens to
/// every drift alarm; the schedules start the monitoring pipeline with their own role.
#[test]
fn image_monitoring_alarms_watch_what_the_monitor_step_publishes() {
    let c = compiled("skin-lesion");
    let t = template(&c);
    let monitoring: Value =
        serde_json::from_str(&text(&c, mlopsc::emit::MONITORING_PIPELINE.path)).expect("JSON");
    let arguments = monitoring["Steps"][0]["Arguments"]["AppSpecification"]["ContainerArguments"]
        .as_array()
        .expect("arguments");
    let after = |flag: &str| {
        let at = arguments.iter().position(|a| a == flag).expect(flag);
        arguments[at + 1].as_str().expect("a string").to_string()
    };
    let checks: Vec<String> = arguments
        .windows(2)
        .filter(|pair| pair[0] == "--check")
        .map(|pair| pair[1].as_str().expect("a string").to_string())
        .collect();
    let dimensions: Value = serde_json::from_str(&after("--dimensions")).expect("JSON");
    let expected = [
        ("DataDriftEmbeddingDriftAlarm", "embedding_drift", 0.3),
        ("DataDriftBrightnessShiftAlarm", "brightness_shift", 0.5),
        ("DataDriftContrastShiftAlarm", "contrast_shift", 0.5),
        ("DataDriftColourShiftAlarm", "colour_shift", 0.5),
        ("DataDriftSharpnessShiftAlarm", "sharpness_shift", 0.5),
        ("DataDriftConfidenceShiftAlarm", "confidence_shift", 0.5),
    ];
    assert_eq!(checks.len(), expected.len());
    assert_eq!(after("--significance"), "0.01");
    for (id, metric, threshold) in expected {
        // The statistic beyond its threshold and its p-value (published as
        // `<metric>_p_value`) at most the significance, or no alarm.
        let alarm = &t["Resources"][id]["Properties"];
        let queries = alarm["Metrics"].as_array().expect("a metric-math alarm");
        let watched: Vec<(&Value, &Value, &Value)> = queries[..2]
            .iter()
            .map(|q| {
                let metric = &q["MetricStat"]["Metric"];
                (&q["Id"], &metric["MetricName"], &q["ReturnData"])
            })
            .collect();
        let p_value = format!("{metric}_p_value");
        assert_eq!(
            watched,
            [
                (&json!("statistic"), &json!(metric), &json!(false)),
                (&json!("pvalue"), &json!(p_value), &json!(false)),
            ],
            "{id}"
        );
        for query in &queries[..2] {
            let watched = &query["MetricStat"]["Metric"];
            assert_eq!(watched["Namespace"], after("--namespace"), "{id}");
            assert_eq!(watched["Dimensions"], dimensions, "{id}");
        }
        assert_eq!(
            queries[2]["Expression"],
            format!("IF(statistic > {threshold} AND pvalue <= 0.01, 1, 0)"),
            "{id}"
        );
        assert_eq!(queries[2]["ReturnData"], true, "{id}");
        assert_eq!(alarm["Threshold"], 1, "{id}");
        assert_eq!(
            alarm["ComparisonOperator"], "GreaterThanOrEqualToThreshold",
            "{id}"
        );
        assert!(
            checks.iter().any(|c| c.ends_with(&format!("={metric}"))),
            "{metric} in {checks:?}"
        );
    }
    let quality = &t["Resources"]["ModelQualityAlarm"]["Properties"];
    assert_eq!(quality["MetricName"], "accuracy");
    assert_eq!(quality["Threshold"], 0.8);
    assert_eq!(quality["ComparisonOperator"], "LessThanThreshold");
    assert_eq!(after("--quality-metric"), "accuracy");
    let drift_rule: Vec<&Value> =
        t["Resources"]["DataDriftRule"]["Properties"]["EventPattern"]["resources"]
            .as_array()
            .expect("alarm ARNs")
            .iter()
            .collect();
    assert_eq!(drift_rule.len(), expected.len());
    for (id, _, _) in expected {
        assert!(
            drift_rule.contains(&&json!({"Fn::GetAtt": [id, "Arn"]})),
            "{id}"
        );
    }
    let schedules = of_type(&t, "AWS::Scheduler::Schedule");
    assert_eq!(
        schedules.len(),
        2,
        "the hourly drift and the daily quality schedule"
    );
    for (id, schedule) in schedules {
        let target = &schedule["Properties"]["Target"];
        assert_eq!(
            target["RoleArn"],
            json!({"Fn::GetAtt": ["SchedulerRole", "Arn"]}),
            "{id}"
        );
        // A reference, so CloudFormation creates the pipeline first.
        assert_eq!(
            target["Arn"]["Fn::Sub"],
            "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:pipeline/${MonitoringPipeline}",
            "{id}"
        );
    }
    assert!(of_type(&t, "AWS::SageMaker::MonitoringSchedule").is_empty());
    assert_eq!(
        t["Resources"]["MonitoringPipeline"]["Properties"]["RoleArn"],
        json!({"Fn::GetAtt": ["MonitoringRole", "Arn"]})
    );
}

/// The prefixes a bucket's Intelligent-Tiering archive configurations cover, or `None` when it
/// has none.
fn archived_prefixes(t: &Value, bucket_id: &str) -> Option<Vec<String>> {
    let configurations = t["Resources"][bucket_id]["Properties"]
        .get("IntelligentTieringConfigurations")?
        .as_array()?;
    Some(
        configurations
            .iter()
            .map(|c| c["Prefix"].as_str().unwrap_or("<whole bucket>").to_string())
            .collect(),
    )
}

#[test]
fn only_raw_data_and_captures_are_archived_never_models() {
    // An archived model.tar.gz cannot be read without a restore: scale-out and rollback fail.
    let c = compiled("skin-lesion");
    let t = template(&c);
    assert_eq!(archived_prefixes(&t, "ModelsBucket"), None);
    assert_eq!(archived_prefixes(&t, "LogsBucket"), None);
    assert_eq!(
        archived_prefixes(&t, "DataBucket"),
        Some(vec![
            "raw/bcn20000/".to_string(),
            "raw/ham10000/".to_string(),
            "raw/isic2019/".to_string(),
        ]),
        "the data sources' prefixes, not processed/"
    );
    assert_eq!(
        archived_prefixes(&t, "PipelineBucket"),
        Some(vec!["data-capture/".to_string()]),
        "the endpoint's captures, not pipeline artifacts"
    );
    // Every bucket still moves objects into Intelligent-Tiering's instant-access tiers.
    for id in ["DataBucket", "ModelsBucket", "PipelineBucket"] {
        let rules = t["Resources"][id]["Properties"]["LifecycleConfiguration"]["Rules"]
            .as_array()
            .unwrap();
        assert!(
            rules.iter().any(|r| r["Id"] == "intelligent-tiering"),
            "{id}"
        );
    }
}

/// Whether a SEARCH term `Host=value` matches a host name, as CloudWatch matches it: a quoted
/// value matches the whole value exactly; an unquoted one matches when each of its tokens
/// (split at non-alphanumeric characters) is a token of the name.
fn search_host_term_matches(term: &str, host: &str) -> bool {
    let tokens = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    match term.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(exact) => exact == host,
        None => {
            let host_tokens = tokens(host);
            tokens(term).iter().all(|t| host_tokens.contains(t))
        }
    }
}

#[test]
fn the_training_widget_finds_pipeline_training_jobs() {
    // The Host dimension of a pipeline's training job, as SageMaker names it.
    let host = "pipelines-a1b2c3d4e5f6-train-Zx9Yw8Vu7T/algo-1";
    let c = compiled("skin-lesion");
    let dashboard: Value = serde_json::from_str(&text(&c, DASHBOARD.path)).unwrap();
    let expressions: Vec<String> = dashboard["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| {
            w["properties"]["metrics"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|m| m[0]["expression"].as_str().map(str::to_string))
        .filter(|e| e.contains("/aws/sagemaker/TrainingJobs"))
        .collect();
    assert!(
        !expressions.is_empty(),
        "the flagship has a training widget"
    );
    for expression in expressions {
        let term = expression
            .split_whitespace()
            .find_map(|w| w.strip_prefix("Host="))
            .unwrap_or_else(|| panic!("{expression} names the Host"))
            .trim_end_matches("',");
        let term = term.trim_end_matches('\'');
        assert!(
            search_host_term_matches(term, host),
            "{expression} does not match {host}"
        );
    }
}
