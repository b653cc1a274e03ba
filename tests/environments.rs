//! `environments:`: the merged spec of each environment, where its diagnostics point, `--env`,
//! and the output directories `build` writes for them.

use std::path::{Path, PathBuf};

use mlopsc::diagnostics::{Code, SourceFile, render_human};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/environments")
        .join(name)
}

/// The fixture's text with prod's misspelled instance type corrected: a valid spec.
fn valid_text() -> String {
    std::fs::read_to_string(fixture("override-span.yaml"))
        .expect("fixture")
        .replace("ml.g5.2xlarg\n", "ml.g5.2xlarge\n")
}

fn source(text: String) -> SourceFile {
    SourceFile {
        name: "tests/fixtures/environments/override-span.yaml".into(),
        text,
    }
}

#[path = "common/in_process.rs"]
mod in_process;

/// Runs mlopsc in this process with `dir` as its working directory.
fn mlopsc(args: &[&str], dir: &Path) -> in_process::Ran {
    in_process::mlopsc()
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
}

/// A temporary project directory with the valid spec and the minimal example's step code.
fn project() -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("a temporary directory");
    let dir = root.path();
    std::fs::create_dir_all(dir.join("code")).expect("mkdir");
    let code = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/minimal/code");
    for entry in std::fs::read_dir(&code).expect("example code") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("type").is_file() {
            std::fs::copy(entry.path(), dir.join("code").join(entry.file_name())).expect("copy");
        }
    }
    std::fs::write(dir.join("mlops.yaml"), valid_text()).expect("write spec");
    root
}

#[test]
fn a_problem_in_an_overridden_value_points_at_the_override() {
    let source = source(std::fs::read_to_string(fixture("override-span.yaml")).expect("fixture"));
    let validated = mlopsc::validate::validate_environment(&source, Some("prod"));
    let codes: Vec<Code> = validated.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::I001], "{:#?}", validated.diagnostics);
    let span = validated.diagnostics[0].span;
    assert_eq!(source.line_column(span.start), (30, 23));
    assert_eq!(&source.text[span.start..span.end], "ml.g5.2xlarg");
    // Without --env the base and every environment are checked: the same one problem.
    let all = mlopsc::validate::validate(&source).diagnostics;
    assert_eq!(all, validated.diagnostics);
    // The base alone and dev are valid.
    let dev = mlopsc::validate::validate_environment(&source, Some("dev"));
    assert!(dev.diagnostics.is_empty(), "{:#?}", dev.diagnostics);
    insta::assert_snapshot!(
        "override-span",
        render_human(&source, &validated.diagnostics, false)
    );
}

#[test]
fn an_environment_is_the_base_with_its_overrides_account_region_and_registry() {
    let source = source(valid_text());
    let prod = mlopsc::validate::validate_environment(&source, Some("prod"));
    let spec = prod.spec.expect("prod is a spec");
    assert!(prod.diagnostics.is_empty(), "{:#?}", prod.diagnostics);
    assert_eq!(spec.project.name, "minimal-prod");
    assert_eq!(spec.project.region, "us-east-1");
    assert_eq!(spec.project.account.as_deref(), Some("210987654321"));
    assert_eq!(spec.training.instance_type, "ml.g5.2xlarge");
    assert_eq!(spec.storage.buckets.models, "minimal-models-prod");
    // Untouched values come from the base.
    assert_eq!(spec.evaluation.instance_type, "ml.m5.large");
    assert!(spec.environments.is_empty());
    // dev deploys from prod's group (in the same region), which prod shares with dev.
    let shared: Vec<&str> = spec
        .registry
        .shared_with_accounts
        .iter()
        .map(|a| a.0.as_str())
        .collect();
    assert_eq!(shared, ["123456789012"]);
    assert_eq!(spec.registry.central, None);
    let dev = mlopsc::validate::validate_environment(&source, Some("dev"))
        .spec
        .expect("dev is a spec");
    assert_eq!(dev.project.name, "minimal-dev");
    assert_eq!(dev.project.region, "us-east-1");
    let central = dev.registry.central.expect("dev deploys from prod's group");
    assert_eq!(
        central.group_arn,
        "arn:aws:sagemaker:us-east-1:210987654321:model-package-group/minimal-models"
    );
    assert_eq!(central.models_bucket, "minimal-models-prod");
}

#[test]
fn an_environment_that_keeps_the_base_buckets_is_n003_at_the_inherited_value() {
    let text = valid_text().replace(
        "        buckets: {data: minimal-data-dev, models: minimal-models-dev, logs: minimal-logs-dev, pipeline: minimal-pipeline-dev}\n",
        "        buckets: {data: minimal-data-dev, models: minimal-models-0001, logs: minimal-logs-dev, pipeline: minimal-pipeline-dev}\n",
    );
    let source = source(text);
    let diagnostics = mlopsc::validate::validate(&source).diagnostics;
    let codes: Vec<Code> = diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::N003], "{diagnostics:#?}");
    let span = diagnostics[0].span;
    assert_eq!(source.line_column(span.start).0, 22);
    assert!(diagnostics[0].message.contains("environment `dev`"));
    // Checking dev alone (`--env dev`) finds it too.
    let dev = mlopsc::validate::validate_environment(&source, Some("dev")).diagnostics;
    assert_eq!(dev, diagnostics);
    // prod, which names its own buckets, is fine alone.
    let prod = mlopsc::validate::validate_environment(&source, Some("prod")).diagnostics;
    assert!(prod.is_empty(), "{prod:#?}");
}

#[test]
fn an_unknown_env_is_r001_at_environments_naming_the_declared_ones() {
    let root = project();
    let dir = root.path();
    let output = mlopsc(&["validate", "mlops.yaml", "--env", "stage"], dir);
    assert_eq!(output.code, 1);
    let stderr = output.stderr;
    insta::assert_snapshot!("unknown-env", stderr);
}

#[test]
fn build_writes_the_base_and_each_environment_keeps_them_and_refuses_a_stale_one() {
    let root = project();
    let dir = root.path();
    let output = mlopsc(&["build", "mlops.yaml"], dir);
    assert_eq!(output.code, 0, "{output:?}");
    let generated = dir.join("generated/minimal");
    for sub in ["", "dev/", "prod/"] {
        let manifest = generated.join(format!("{sub}manifest.json"));
        assert!(manifest.is_file(), "{} missing", manifest.display());
    }
    let prod_template =
        std::fs::read_to_string(generated.join("prod/template.yaml")).expect("prod template");
    assert!(prod_template.contains("minimal-prod-pipeline"));
    // Dev deploys prod's packages (`modelsFrom`): prod trains, dev has no pipeline of its own.
    assert!(generated.join("prod/pipeline.json").is_file());
    assert!(!generated.join("dev/pipeline.json").exists());
    // Rebuilding the base alone keeps the environments' directories.
    let mut text = valid_text();
    text = text.replace("threshold: 0.7", "threshold: 0.75");
    std::fs::write(dir.join("mlops.yaml"), &text).expect("write");
    let output = mlopsc(&["build", "mlops.yaml", "--env", "dev"], dir);
    assert_eq!(output.code, 0, "{output:?}");
    assert!(generated.join("prod/manifest.json").is_file());
    // --check covers every directory: base and prod are now stale, dev is not.
    let output = mlopsc(&["build", "mlops.yaml", "--check"], dir);
    assert_eq!(output.code, 1);
    let stderr = &output.stderr;
    assert!(
        stderr.contains("generated/minimal/dev: up to date"),
        "{stderr}"
    );
    assert!(
        stderr.contains("generated/minimal/prod is not what"),
        "{stderr}"
    );
    let output = mlopsc(&["build", "mlops.yaml"], dir);
    assert_eq!(output.code, 0, "{output:?}");
    assert!(generated.join("dev/manifest.json").is_file());
    assert!(generated.join("prod/manifest.json").is_file());
    let output = mlopsc(&["build", "mlops.yaml", "--check"], dir);
    assert_eq!(output.code, 0, "{output:?}");
    // An environment that is no longer declared: its directory is refused, not deleted.
    let without_dev = text.replace(
        "  dev:\n    account: \"123456789012\"\n",
        "  qa:\n    account: \"123456789012\"\n",
    );
    std::fs::write(dir.join("mlops.yaml"), without_dev).expect("write");
    let output = mlopsc(&["build", "mlops.yaml"], dir);
    assert_eq!(output.code, 2, "{output:?}");
    let stderr = &output.stderr;
    assert!(stderr.contains("`dev/`"), "{stderr}");
    assert!(generated.join("dev/manifest.json").is_file());
    assert!(!generated.join("qa").exists());
}

/// Compiles one environment of an example as `mlopsc build --env` does.
/// `build` compiles each environment from what validating the whole spec checked
/// (`Validated::environments`), without parsing it again: the artifacts are byte for byte
/// those of the environment compiled alone.
#[test]
fn an_environment_compiled_from_the_whole_specs_validation_is_the_environment_compiled_alone() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/skin-lesion/mlops.yaml");
    let source = read(&path);
    let dir = path.parent().expect("the example has a folder");
    let validated = mlopsc::validate::validate(&source);
    assert!(!validated.has_errors(), "{:?}", validated.diagnostics);
    let names: Vec<&str> = validated
        .environments
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(names, ["dev", "prod"]);
    for (name, checked) in validated.environments {
        let alone = compile_environment("skin-lesion", &name);
        let from_check = mlopsc::build::compile_validated(
            checked,
            dir,
            &source,
            Some(&name),
            &mlopsc::emit::Rendered::default(),
        )
        .unwrap_or_else(|err| panic!("{name}: {err:?}"));
        assert_eq!(from_check.system.project, alone.system.project);
        let files = |compiled: &mlopsc::build::Compiled| -> Vec<(String, Vec<u8>)> {
            compiled
                .artifacts
                .iter()
                .map(|(file, artifact)| (file.to_string(), artifact.bytes.clone()))
                .collect()
        };
        assert_eq!(files(&from_check), files(&alone), "{name}");
    }
}

fn compile_environment(example: &str, environment: &str) -> mlopsc::build::Compiled {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(example)
        .join("mlops.yaml");
    let source = read(&path);
    let dir = path.parent().expect("the example has a folder");
    mlopsc::build::compile_environment(&source, dir, Some(environment))
        .unwrap_or_else(|err| panic!("{example} --env {environment}: {err:?}"))
}

/// Every example declares environments, each compiles (the static access check included) and
/// its committed directory, `generated/<project>/<env>/`, is exactly what it compiles to.
#[test]
fn every_environment_of_every_example_compiles_to_its_committed_directory() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let examples = [
        ("skin-lesion", "skin-lesion", &["dev", "prod"][..]),
        ("minimal", "minimal", &["staging"][..]),
        ("churn-tabular", "churn-xgb", &["prod", "staging"][..]),
    ];
    for (example, project, environments) in examples {
        let base = read(&root.join("examples").join(example).join("mlops.yaml"));
        let validated = mlopsc::validate::validate(&base);
        let declared: Vec<&String> = validated
            .spec
            .as_ref()
            .expect("valid")
            .environments
            .keys()
            .collect();
        assert_eq!(declared, environments, "{example}");
        for environment in environments {
            let compiled = compile_environment(example, environment);
            assert_eq!(compiled.system.project, format!("{project}-{environment}"));
            let dir = root.join("generated").join(project).join(environment);
            let differences =
                mlopsc::build::differences(&dir, &dir, None, &compiled.artifacts, &[])
                    .expect("the directory is readable");
            assert!(
                differences.is_empty(),
                "{}: {differences:?}; run mlopsc build examples/{example}/mlops.yaml",
                dir.display()
            );
        }
    }
}

fn template(compiled: &mlopsc::build::Compiled) -> serde_json::Value {
    let text = String::from_utf8(
        compiled
            .artifacts
            .get("template.yaml")
            .expect("a template")
            .to_vec(),
    )
    .expect("UTF-8");
    mlopsc::spec::yaml::Document::parse(&text)
        .expect("the template is YAML")
        .to_json()
}

/// The flagship's prod deploys from dev's registry: dev's group, models bucket and key share
/// read access with prod's account, and prod's deploy and endpoint roles read dev's packages
/// and artifacts. The base, with no consumer, has none of it.
#[test]
fn the_central_registry_is_shared_with_the_consuming_account() {
    let dev = template(&compile_environment("skin-lesion", "dev"));
    let resources = &dev["Resources"];
    let policy = &resources["ModelPackageGroup"]["Properties"]["ModelPackageGroupPolicy"];
    let principal =
        serde_json::json!([{"Fn::Sub": "arn:${AWS::Partition}:iam::210987654321:root"}]);
    let statements = policy["Statement"].as_array().expect("a group policy");
    let actions: Vec<&serde_json::Value> = statements.iter().map(|s| &s["Action"]).collect();
    assert_eq!(
        actions,
        [
            &serde_json::json!("sagemaker:DescribeModelPackageGroup"),
            &serde_json::json!([
                "sagemaker:DescribeModelPackage",
                "sagemaker:ListModelPackages",
                "sagemaker:CreateModel"
            ])
        ]
    );
    assert!(
        statements
            .iter()
            .all(|s| s["Principal"]["AWS"] == principal)
    );
    let bucket_policy =
        resources["ModelsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
            .as_array()
            .expect("statements");
    assert!(
        bucket_policy
            .iter()
            .any(|s| s["Sid"] == "ConsumerAccountsReadModelArtifacts"
                && s["Principal"]["AWS"] == principal)
    );
    let key_policy = resources["EncryptionKey"]["Properties"]["KeyPolicy"]["Statement"]
        .as_array()
        .expect("statements");
    assert!(
        key_policy
            .iter()
            .any(|s| s["Sid"] == "ConsumerAccountsDecryptModelArtifacts"
                && s["Principal"]["AWS"] == principal)
    );

    let prod = template(&compile_environment("skin-lesion", "prod"));
    let text = serde_json::to_string(&prod["Resources"]).expect("JSON");
    assert!(text.contains(
        "arn:aws:sagemaker:us-east-1:123456789012:model-package/skin-lesion-classifier/*"
    ));
    assert!(text.contains("skin-lesion-dev-models-123456789012/models/*"));
    // Prod shares nothing: it has no package group of its own.
    assert!(prod["Resources"].get("ModelPackageGroup").is_none());

    let base = template(&mlopsc_base("skin-lesion"));
    let text = serde_json::to_string(&base).expect("JSON");
    assert!(!text.contains("ConsumerAccounts"));
    assert!(!text.contains("210987654321"));
}

/// An environment that deploys from another's registry retrains nothing itself: dev keeps
/// every retraining rule, prod none, and prod's drift and quality alarms still notify.
#[test]
fn a_consuming_environment_notifies_and_never_retrains_into_its_own_registry() {
    let retraining_rules = |t: &serde_json::Value| -> Vec<String> {
        let mut rules: Vec<String> = t["Resources"]
            .as_object()
            .expect("resources")
            .iter()
            .filter(|(_, r)| r["Type"] == "AWS::Events::Rule")
            .filter(|(id, _)| id.as_str() != "ModelApprovedRule")
            .map(|(id, _)| id.clone())
            .collect();
        rules.sort();
        rules
    };
    let dev = template(&compile_environment("skin-lesion", "dev"));
    assert_eq!(
        retraining_rules(&dev),
        [
            "DataDriftRule",
            "ModelQualityRule",
            "NewDataCheck",
            "NewDataRule1",
            "RetrainingSchedule1"
        ]
    );
    let prod_build = compile_environment("skin-lesion", "prod");
    let prod = template(&prod_build);
    assert_eq!(retraining_rules(&prod), Vec::<String>::new());
    assert!(prod["Resources"].get("EventsRole").is_none());
    // No second registry and nothing that trains into one: dev has every one of these, prod
    // none. Prod deploys dev's packages when started with one (no approval rule of its own).
    let training = [
        "Pipeline",
        "ModelPackageGroup",
        "SageMakerExecutionRole",
        "StateMachine",
        "StateMachineRole",
        "StateMachineLogGroup",
        "PipelineFailuresAlarm",
        "ModelApprovedRule",
        "DeployEventsRole",
    ];
    for id in training {
        assert!(dev["Resources"].get(id).is_some(), "dev lacks {id}");
        assert!(prod["Resources"].get(id).is_none(), "prod has {id}");
    }
    for output in ["PipelineName", "ModelPackageGroupName", "StateMachineArn"] {
        assert!(dev["Outputs"].get(output).is_some(), "dev lacks {output}");
        assert!(prod["Outputs"].get(output).is_none(), "prod has {output}");
    }
    for file in [
        "pipeline.json",
        "retraining.asl.json",
        "diagrams/pipeline.mmd",
    ] {
        assert!(!prod_build.artifacts.contains(file), "prod has {file}");
    }
    for kept in [
        "DeployStateMachine",
        "MonitoringPipeline",
        "MonitoringSchedule1",
    ] {
        assert!(prod["Resources"].get(kept).is_some(), "prod lacks {kept}");
    }
    let dashboard = prod["Resources"]["Dashboard"]["Properties"]["DashboardBody"].to_string();
    assert!(
        !dashboard.contains("skin-lesion-prod-pipeline"),
        "{dashboard}"
    );
    for alarm in ["DataDriftEmbeddingDriftAlarm", "ModelQualityAlarm"] {
        assert_eq!(
            prod["Resources"][alarm]["Properties"]["AlarmActions"],
            serde_json::json!([{"Ref": "NotificationTopic"}]),
            "{alarm}"
        );
    }
}

fn mlopsc_base(example: &str) -> mlopsc::build::Compiled {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(example)
        .join("mlops.yaml");
    let source = read(&path);
    mlopsc::build::compile(&source, path.parent().expect("folder")).expect("compiles")
}

fn read(path: &Path) -> SourceFile {
    SourceFile {
        name: path.display().to_string(),
        text: std::fs::read_to_string(path).expect("the spec is readable"),
    }
}

/// Both sides of the flagship's calls across accounts: prod (210987654321) into dev's
/// (123456789012) registry, models bucket and key, as `build` checks them.
fn cross_account_check(
    prod: &serde_json::Value,
    dev: &serde_json::Value,
) -> mlopsc::emit::access::Report {
    use mlopsc::emit::access::cross_account::{Deployed, check};
    check(
        Deployed {
            template: prod,
            account: "210987654321",
            region: "us-east-1",
        },
        Deployed {
            template: dev,
            account: "123456789012",
            region: "us-east-1",
        },
    )
}

fn cross_account_denials(prod: &serde_json::Value, dev: &serde_json::Value) -> Vec<String> {
    let report = cross_account_check(prod, dev);
    assert!(report.checked > 0, "no call across accounts was found");
    report.denials.iter().map(ToString::to_string).collect()
}

/// Removes the statement `sid` wherever it is in the resource `id`.
fn without_statement(template: &serde_json::Value, id: &str, sid: &str) -> serde_json::Value {
    fn strip(value: &mut serde_json::Value, sid: &str) -> bool {
        match value {
            serde_json::Value::Array(items) => {
                let before = items.len();
                items.retain(|item| item["Sid"] != sid);
                let mut found = items.len() != before;
                for item in items {
                    found |= strip(item, sid);
                }
                found
            }
            serde_json::Value::Object(map) => {
                let mut found = false;
                for item in map.values_mut() {
                    found |= strip(item, sid);
                }
                found
            }
            _ => false,
        }
    }
    let mut changed = template.clone();
    assert!(
        strip(&mut changed["Resources"][id], sid),
        "{id} has no statement {sid}"
    );
    changed
}

/// Every call prod's deploy machine and its models' role make on dev's resources is allowed
/// by prod's own policies and by dev's resource policies: describing and making models of
/// dev's packages, copying their drift baselines and model archives, decrypting them.
#[test]
fn prods_calls_into_devs_registry_are_allowed_on_both_sides() {
    let dev = template(&compile_environment("skin-lesion", "dev"));
    let prod = template(&compile_environment("skin-lesion", "prod"));
    let report = cross_account_check(&prod, &dev);
    let denials: Vec<String> = report.denials.iter().map(ToString::to_string).collect();
    assert_eq!(denials, Vec::<String>::new());
    let callers: Vec<&str> = report.callers.iter().map(String::as_str).collect();
    assert_eq!(
        callers,
        [
            "SageMaker, making a model of a package as EndpointRole",
            "the state machine DeployStateMachine"
        ]
    );
    // Describe and CreateModel on the package; GetObject and Decrypt of the baseline and
    // the model archive (copied, and read by SageMaker).
    assert_eq!(report.checked, 8, "{report:?}");
}

/// Each half of a call across accounts is needed, and the check names the side that refuses:
/// dev's group, bucket and key policies, and prod's deploy role.
#[test]
fn a_cross_account_call_is_denied_when_either_side_does_not_allow_it() {
    let dev = template(&compile_environment("skin-lesion", "dev"));
    let prod = template(&compile_environment("skin-lesion", "prod"));
    let cases = [
        (
            without_statement(
                &dev,
                "ModelPackageGroup",
                "ConsumerAccountsDeployItsPackages",
            ),
            prod.clone(),
            "by the resource policy of ModelPackageGroup in account 123456789012 (role DeployStateMachineRole) may not sagemaker:CreateModel on arn:aws:sagemaker:us-east-1:123456789012:model-package/skin-lesion-classifier/runtime-value",
        ),
        (
            without_statement(
                &dev,
                "EncryptionKey",
                "ConsumerAccountsDecryptModelArtifacts",
            ),
            prod.clone(),
            "by the resource policy of EncryptionKey in account 123456789012 (role EndpointRole) may not kms:Decrypt",
        ),
        (
            without_statement(
                &dev,
                "ModelsBucketPolicy",
                "ConsumerAccountsReadModelArtifacts",
            ),
            prod.clone(),
            "by the resource policy of ModelsBucketPolicy in account 123456789012 (role EndpointRole) may not s3:GetObject on arn:aws:s3:::skin-lesion-dev-models-123456789012/models/",
        ),
        (
            dev.clone(),
            without_statement(
                &prod,
                "DeployStateMachineRole",
                "CreateModelsOfCentralPackages",
            ),
            "the state machine DeployStateMachine (role DeployStateMachineRole) may not sagemaker:CreateModel on arn:aws:sagemaker:us-east-1:123456789012:model-package/skin-lesion-classifier/runtime-value",
        ),
    ];
    for (dev, prod, denied) in cases {
        let denials = cross_account_denials(&prod, &dev);
        assert!(
            denials.iter().any(|d| d.contains(denied)),
            "expected a denial containing {denied:?}, got {denials:#?}"
        );
    }
}
