//! N-codes: AWS naming rules, lengths and uniqueness.

use std::collections::HashMap;

use super::Rules;
use crate::diagnostics::Code;
use crate::ir::steps;
use crate::spec::{Pointer, Spec};

/// Subdirectories of `generated/<project>/` that mlopsc writes itself, so no environment may
/// be named after them.
pub const RESERVED_ENVIRONMENT_NAMES: &[&str] = &["diagrams"];

/// An environment's name is a directory under `generated/<project>/` and a suffix of the stack
/// name: lowercase letters, digits and hyphens, short enough to leave the project name room.
fn environment_name(name: &str, rules: &mut Rules) {
    let pointer = Pointer::root().key("environments").key(name);
    let valid = is_name(name, 16, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
    }) && name.starts_with(|c: char| c.is_ascii_lowercase());
    if !valid {
        rules.error_at_key(
            Code::N002,
            &pointer,
            format!("`{name}` is not a valid environment name"),
            "use 1-16 lowercase letters, digits and hyphens, starting with a letter: it names a directory and ends the stack name",
        );
    } else if RESERVED_ENVIRONMENT_NAMES.contains(&name) {
        rules.error_at_key(
            Code::N002,
            &pointer,
            format!("`{name}` is a directory mlopsc writes in generated/<project>/"),
            "choose another environment name",
        );
    }
}

pub(super) fn check(spec: &Spec, rules: &mut Rules) {
    project_name(&spec.project.name, rules);
    for name in spec.environments.keys() {
        environment_name(name, rules);
    }

    let buckets = &spec.storage.buckets;
    let bucket_fields = [
        ("data", &buckets.data),
        ("models", &buckets.models),
        ("logs", &buckets.logs),
        ("pipeline", &buckets.pipeline),
    ];
    for (field, name) in bucket_fields {
        if let Err(why) = bucket_name(name) {
            rules.error(
                Code::N001,
                &Pointer::root().key("storage").key("buckets").key(field),
                format!("`{name}` is not a valid S3 bucket name: {why}"),
                "bucket names are 3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit",
            );
        }
    }
    unique(
        rules,
        bucket_fields.iter().map(|(f, n)| {
            (
                n.as_str(),
                Pointer::root().key("storage").key("buckets").key(f),
            )
        }),
        "bucket",
    );

    for (i, source) in spec.data_sources.iter().enumerate() {
        if !is_name(&source.name, 64, |c| {
            c.is_ascii_alphanumeric() || c == '-' || c == '_'
        }) {
            rules.error(
                Code::N002,
                &Pointer::root().key("dataSources").index(i).key("name"),
                format!("`{}` is not a valid data source name", source.name),
                "use 1-64 letters, digits, `-` and `_`, starting with a letter or digit; it names a processing input channel",
            );
        }
    }
    unique(
        rules,
        spec.data_sources.iter().enumerate().map(|(i, s)| {
            (
                s.name.as_str(),
                Pointer::root().key("dataSources").index(i).key("name"),
            )
        }),
        "data source",
    );

    sagemaker_name(
        rules,
        &spec.registry.model_package_group,
        &Pointer::root().key("registry").key("modelPackageGroup"),
        "model package group",
    );
    if let Some(deployment) = &spec.deployment {
        sagemaker_name(
            rules,
            &deployment.endpoint_name,
            &Pointer::root().key("deployment").key("endpointName"),
            "endpoint",
        );
    }

    for (i, step) in spec.custom_steps.iter().enumerate() {
        let pointer = Pointer::root().key("customSteps").index(i).key("name");
        if !is_name(&step.name, 64, |c| {
            c.is_ascii_alphanumeric() || c == '-' || c == '_'
        }) {
            rules.error(
                Code::N002,
                &pointer,
                format!("`{}` is not a valid pipeline step name", step.name),
                "use 1-64 letters, digits, `-` and `_`",
            );
        }
        if steps::TRAINING_PIPELINE.contains(&step.name.as_str()) {
            rules.error(
                Code::N003,
                &pointer,
                format!("`{}` is the name of a built-in step", step.name),
                format!(
                    "built-in steps are {}; pick another name",
                    steps::TRAINING_PIPELINE.join(", ")
                ),
            );
        }
    }
    unique(
        rules,
        spec.custom_steps.iter().enumerate().map(|(i, s)| {
            (
                s.name.as_str(),
                Pointer::root().key("customSteps").index(i).key("name"),
            )
        }),
        "step",
    );

    for (i, alarm) in spec.alarms.iter().enumerate() {
        if !is_name(&alarm.name, 64, |c| {
            c.is_ascii_alphanumeric() || c == '-' || c == '_'
        }) {
            rules.error(
                Code::N002,
                &Pointer::root().key("alarms").index(i).key("name"),
                format!("`{}` is not a valid alarm name", alarm.name),
                "use 1-64 letters, digits, `-` and `_`; the alarm is named `<project>-<name>`",
            );
        }
    }
    unique(
        rules,
        spec.alarms.iter().enumerate().map(|(i, a)| {
            (
                a.name.as_str(),
                Pointer::root().key("alarms").index(i).key("name"),
            )
        }),
        "alarm",
    );

    let containers = std::iter::once((
        spec.model.container.as_ref(),
        Pointer::root().key("model").key("container"),
    ))
    .chain(spec.custom_steps.iter().enumerate().map(|(i, s)| {
        (
            s.container.as_ref(),
            Pointer::root().key("customSteps").index(i).key("container"),
        )
    }));
    for (container, pointer) in containers {
        let Some(container) = container else { continue };
        if !ecr_repository_name(&container.repository) {
            rules.error(
                Code::N002,
                &pointer.clone().key("repository"),
                format!(
                    "`{}` is not a valid ECR repository name",
                    container.repository
                ),
                "use 2-256 lowercase letters, digits and `._-/` separators, such as `team/trainer`",
            );
        }
        if !is_name(&container.tag, 128, |c| {
            c.is_ascii_alphanumeric() || "._-".contains(c)
        }) {
            rules.error(
                Code::N002,
                &pointer.clone().key("tag"),
                format!("`{}` is not a valid image tag", container.tag),
                "use 1-128 letters, digits, `.`, `_` and `-`",
            );
        }
    }

    for key in spec.project.tags.keys() {
        let pointer = Pointer::root().key("project").key("tags").key(key);
        if key.is_empty()
            || key.chars().count() > 128
            || key.to_ascii_lowercase().starts_with("aws:")
        {
            rules.error_at_key(
                Code::N002,
                &pointer,
                format!("`{key}` is not a valid tag key"),
                "tag keys are 1-128 characters and may not start with `aws:`",
            );
        }
    }
    for (key, value) in &spec.project.tags {
        if value.chars().count() > 256 {
            rules.error(
                Code::N002,
                &Pointer::root().key("project").key("tags").key(key),
                format!("the value of tag `{key}` is longer than 256 characters"),
                "shorten the tag value",
            );
        }
    }
}

/// The project name prefixes every derived resource name, so it is kept short and plain.
fn project_name(name: &str, rules: &mut Rules) {
    let valid = name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && !name.contains("--")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        rules.error(
            Code::N002,
            &Pointer::root().key("project").key("name"),
            format!("`{name}` is not a valid project name"),
            "use 1-40 lowercase letters, digits and single hyphens, starting with a letter; it prefixes the stack, pipeline, role and topic names",
        );
    }
}

/// SageMaker's `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`.
fn sagemaker_name(rules: &mut Rules, name: &str, pointer: &Pointer, what: &str) {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !valid {
        rules.error(
            Code::N002,
            pointer,
            format!("`{name}` is not a valid {what} name"),
            "SageMaker names are 1-63 letters, digits and hyphens, starting and ending with a letter or digit",
        );
    }
}

fn is_name(name: &str, max: usize, allowed: impl Fn(char) -> bool) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name.chars().all(allowed)
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
}

fn ecr_repository_name(name: &str) -> bool {
    (2..=256).contains(&name.len())
        && name.split('/').all(|part| {
            !part.is_empty()
                && part.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && part.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        })
}

/// S3's bucket naming rules; the error says which rule broke.
pub fn bucket_name(name: &str) -> Result<(), &'static str> {
    if !(3..=63).contains(&name.len()) {
        return Err("it must be 3 to 63 characters long");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
    {
        return Err("only lowercase letters, digits, dots and hyphens are allowed");
    }
    let edge = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !name.starts_with(edge) || !name.ends_with(edge) {
        return Err("it must start and end with a letter or digit");
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return Err("dots may not be next to other dots or hyphens");
    }
    if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return Err("it must not look like an IP address");
    }
    if name.starts_with("xn--") || name.starts_with("sthree-") {
        return Err("the prefixes `xn--` and `sthree-` are reserved");
    }
    if name.ends_with("-s3alias") || name.ends_with("--ol-s3") {
        return Err("the suffixes `-s3alias` and `--ol-s3` are reserved");
    }
    Ok(())
}

/// Reports every repeat of a name after its first use.
fn unique<'a>(rules: &mut Rules, names: impl Iterator<Item = (&'a str, Pointer)>, what: &str) {
    let mut seen: HashMap<&str, Pointer> = HashMap::new();
    for (name, pointer) in names {
        if let Some(first) = seen.get(name) {
            rules.error(
                Code::N003,
                &pointer,
                format!("the {what} name `{name}` is used twice"),
                format!(
                    "it is first used at `{}`; names must be unique",
                    crate::spec::schema::dotted(first)
                ),
            );
        } else {
            seen.insert(name, pointer);
        }
    }
}
