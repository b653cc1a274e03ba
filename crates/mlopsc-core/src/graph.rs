//! `mlopsc graph`: diagrams drawn from the compiled artifacts, so that they can never
//! disagree with what is deployed.
//!
//! The pipeline diagram is read from `pipeline.json` (steps, the references between them,
//! condition branches, property files); the architecture diagram from `template.yaml` (the
//! resources and which one refers to which); the monitoring loop from the spec's deployment,
//! monitoring, retraining and registry sections, which it compiles into those resources. Both render as Mermaid, which GitHub shows in
//! Markdown, as Graphviz DOT, or as SVG laid out by [`svg`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value;

use crate::definition::StepType;
use crate::definition::expression::all_steps;
use crate::suggest::plural;

mod svg;

/// Which diagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Kind {
    /// The SageMaker pipeline's step DAG, with condition branches and property files.
    Pipeline,
    /// The AWS resources of the stack and which one uses which.
    Architecture,
    /// The loop from the endpoint's captured requests through the drift and quality checks
    /// and their alarms to retraining, registration and approval.
    Monitoring,
}

/// How much of the architecture is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Detail {
    /// The parts a person draws: data, training pipeline, registry, deployment, endpoint,
    /// monitoring, retraining, notifications; roles, the key, log groups and alarms folded
    /// into the part they serve.
    #[default]
    Overview,
    /// Every resource the stack declares and which one uses which.
    Full,
}

/// How a diagram is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum GraphFormat {
    /// Mermaid flowchart, rendered by GitHub in a ```mermaid block.
    Mermaid,
    /// Graphviz DOT, for `dot -Tsvg`.
    Dot,
    /// A standalone SVG image, laid out by mlopsc itself: no Graphviz, no network.
    Svg,
}

/// How a node is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Box,
    /// A decision: a Condition step.
    Decision,
    /// The end of a branch: a Fail step.
    Stop,
    /// A file a step writes and others read: a property file.
    Document,
}

/// How an edge is drawn, and what it says.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Line {
    /// Data flows, or one resource uses another.
    Solid,
    /// Only an order (`DependsOn`), or a property file written and read.
    Dotted,
    /// A condition's branch.
    Labelled(String),
}

#[derive(PartialEq)]
struct Node {
    label: Vec<String>,
    shape: Shape,
}

/// Nodes in insertion order, optionally grouped, and edges between them, deduplicated.
/// Comparable, so that a graph drawn again (an environment's, like the base's) is rendered once.
#[derive(Default, PartialEq)]
pub struct Graph {
    name: &'static str,
    nodes: Vec<Node>,
    /// Named groups of node indices, drawn as subgraphs; nodes in no group stand alone.
    groups: Vec<(String, Vec<usize>)>,
    edges: BTreeSet<(usize, usize, Line)>,
    /// Edges drawn against the reading direction, right to left: the return row of a loop,
    /// so that a cycle is drawn as a ring rather than a strip.
    backward: BTreeSet<(usize, usize)>,
}

/// Draws `kind` from the spec and the documents it reads, as values rather than a compiled
/// build: `emit` draws the diagrams into the build, so this module sits below it. A system
/// without a training pipeline (`definition` is `None`) has no pipeline diagram.
pub fn draw(
    kind: Kind,
    detail: Detail,
    spec: &crate::spec::Spec,
    definition: Option<&Value>,
    template: &Value,
) -> Option<Graph> {
    match (kind, detail) {
        (Kind::Monitoring, _) => Some(monitoring(spec)),
        (Kind::Pipeline, _) => definition.map(pipeline),
        (Kind::Architecture, Detail::Overview) => Some(overview(template)),
        (Kind::Architecture, Detail::Full) => Some(architecture(template)),
    }
}

/// The pipeline's steps, nested condition branches included, and their references.
pub fn pipeline(definition: &Value) -> Graph {
    let mut graph = Graph {
        name: "pipeline",
        ..Graph::default()
    };
    let steps = all_steps(definition);
    let mut index = BTreeMap::new();
    for step in &steps {
        let name = text(step.get("Name"));
        let kind = text(step.get("Type"));
        let shape = match StepType::of(step) {
            Some(StepType::Condition) => Shape::Decision,
            Some(StepType::Fail) => Shape::Stop,
            Some(
                StepType::Processing
                | StepType::Training
                | StepType::Transform
                | StepType::Model
                | StepType::RegisterModel,
            )
            | None => Shape::Box,
        };
        let node = graph.add(vec![name.to_string(), kind.to_string()], shape);
        index.insert(name.to_string(), node);
    }
    // Property files get their own node, between the step that writes and those that read.
    let mut property_files = BTreeMap::new();
    for step in &steps {
        let writer = index[text(step.get("Name"))];
        for file in array(step.get("PropertyFiles")) {
            let name = text(file.get("PropertyFileName"));
            let path = text(file.get("FilePath"));
            let node = graph.add(vec![name.to_string(), path.to_string()], Shape::Document);
            graph.edges.insert((writer, node, Line::Dotted));
            property_files.insert((writer, name.to_string()), node);
        }
    }
    for step in &steps {
        let reader = index[text(step.get("Name"))];
        for dependency in array(step.get("DependsOn")) {
            if let Some(&from) = index.get(text(Some(dependency))) {
                graph.edges.insert((from, reader, Line::Dotted));
            }
        }
        let mut references = Vec::new();
        step_references(step, &mut references);
        for reference in references {
            let mut parts = reference.splitn(4, '.');
            let (Some("Steps"), Some(source)) = (parts.next(), parts.next()) else {
                continue;
            };
            let Some(&from) = index.get(source) else {
                continue;
            };
            let file = match (parts.next(), parts.next()) {
                (Some("PropertyFiles"), Some(name)) => property_files.get(&(from, name.into())),
                _ => None,
            };
            match file {
                Some(&file) => graph.edges.insert((file, reader, Line::Dotted)),
                None => graph.edges.insert((from, reader, Line::Solid)),
            };
        }
        let arguments = step.get("Arguments");
        for (branch, label) in [("IfSteps", "true"), ("ElseSteps", "false")] {
            for target in array(arguments.and_then(|a| a.get(branch))) {
                if let Some(&to) = index.get(text(target.get("Name"))) {
                    graph
                        .edges
                        .insert((reader, to, Line::Labelled(label.into())));
                }
            }
        }
    }
    graph
}

/// Every `{"Get": "Steps.…"}` in a step, leaving out the branches' own steps.
fn step_references(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(path)) = map.get("Get")
                && path.starts_with("Steps.")
            {
                into.push(path.clone());
            }
            for (key, member) in map {
                if key != "IfSteps" && key != "ElseSteps" {
                    step_references(member, into);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| step_references(item, into)),
        _ => {}
    }
}

/// The name of an enum value as mlops.yaml spells it.
fn yaml_name<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The monitoring and retraining loop the spec describes.
pub fn monitoring(spec: &crate::spec::Spec) -> Graph {
    use crate::spec::TriggerKind;
    let mut graph = Graph {
        name: "monitoring",
        ..Graph::default()
    };
    // A system that deploys from a central registry trains nothing: its packages come from
    // that registry, and its alarms notify instead of starting a retraining.
    let (registry, retraining) = match &spec.registry.central {
        Some(central) => {
            // arn:aws:sagemaker:REGION:ACCOUNT:model-package-group/NAME, in two short lines.
            let arn = &central.group_arn;
            let name = arn.rsplit('/').next().unwrap_or(arn);
            let account = arn.split(':').nth(4).unwrap_or_default();
            let registry = graph.add(
                vec![
                    "central model registry".into(),
                    name.to_string(),
                    format!("account {account}"),
                ],
                Shape::Box,
            );
            (registry, None)
        }
        None => {
            let retraining = graph.add(
                vec!["retraining".into(), "Step Functions".into()],
                Shape::Box,
            );
            let pipeline = graph.add(
                vec![
                    "pipeline".into(),
                    "preprocess, train,".into(),
                    "evaluate, gate".into(),
                ],
                Shape::Box,
            );
            let registry = graph.add(
                vec![
                    "model registry".into(),
                    spec.registry.model_package_group.clone(),
                    "when the gates pass".into(),
                    format!("approval: {}", yaml_name(spec.registry.approval)),
                ],
                Shape::Box,
            );
            graph.edges.insert((retraining, pipeline, Line::Solid));
            graph.edges.insert((pipeline, registry, Line::Solid));
            (registry, Some(retraining))
        }
    };
    let triggers = match (&spec.retraining, retraining) {
        (Some(r), Some(_)) => r.triggers.as_slice(),
        _ => &[],
    };
    let has = |kind: TriggerKind| triggers.iter().any(|t| t.kind == kind);
    let mut notifications = None;
    // An alarm's edge: to the retraining machine when its trigger is declared, or to the
    // notifications of a system that retrains nothing.
    let mut trigger = |graph: &mut Graph, from: usize, kind: TriggerKind| match retraining {
        // An arrow into retraining is a trigger; the node it comes from says which.
        Some(retraining) if has(kind) => {
            graph.edges.insert((from, retraining, Line::Solid));
        }
        Some(_) => {}
        None => {
            let to = *notifications.get_or_insert_with(|| {
                graph.add(vec!["notifications".into(), "SNS topic".into()], Shape::Box)
            });
            // Drawn right to left, so that the notifications close the return row.
            graph.backward_edge(from, to);
        }
    };
    for t in triggers {
        match t.kind {
            TriggerKind::Schedule => {
                let expression = t.expression.clone().unwrap_or_default();
                let node = graph.add(vec!["schedule".into(), expression], Shape::Box);
                trigger(&mut graph, node, t.kind);
            }
            TriggerKind::NewData => {
                let uri = t.uri.clone().unwrap_or_default();
                let label = std::iter::once("new data".to_string())
                    .chain(uri_lines(&uri))
                    .collect();
                let node = graph.add(label, Shape::Document);
                trigger(&mut graph, node, t.kind);
            }
            TriggerKind::DataDrift | TriggerKind::ModelQuality => {}
        }
    }
    let mut first_watched = graph.nodes.len();
    if let Some(deployment) = &spec.deployment {
        let deploys = if retraining.is_some() {
            "deployed on approval"
        } else {
            "deployed when promoted by hand"
        };
        let endpoint = graph.add(
            vec![
                "endpoint".into(),
                deployment.endpoint_name.clone(),
                deploys.into(),
            ],
            Shape::Box,
        );
        graph.edges.insert((registry, endpoint, Line::Solid));
        // What watches the endpoint is the loop's return row, below what trains and deploys.
        first_watched = graph.nodes.len();
        let capture = deployment.data_capture.as_ref().map(|capture| {
            let node = graph.add(
                vec![
                    "captured requests".into(),
                    format!("{}% sampled", capture.sampling_percent),
                ],
                Shape::Document,
            );
            graph.backward_edge(endpoint, node);
            node
        });
        let monitoring = spec.monitoring.as_ref();
        if let Some(drift) = monitoring.and_then(|m| m.data_drift.as_ref()) {
            let check = graph.add(
                vec!["data drift check".into(), drift.schedule.clone()],
                Shape::Box,
            );
            let limits: Vec<String> = drift
                .checks
                .iter()
                .map(|c| format!("{} {}", yaml_name(c.statistic), c.threshold))
                .collect();
            let alarms = graph.add(
                std::iter::once("drift alarms".to_string())
                    .chain(limits)
                    .collect(),
                Shape::Decision,
            );
            if let Some(capture) = capture {
                graph.backward_edge(capture, check);
            }
            graph.backward_edge(check, alarms);
            trigger(&mut graph, alarms, TriggerKind::DataDrift);
        }
        if let Some(quality) = monitoring.and_then(|m| m.model_quality.as_ref()) {
            let truth = graph.add(
                std::iter::once("ground truth".to_string())
                    .chain(uri_lines(&quality.ground_truth_uri))
                    .collect(),
                Shape::Document,
            );
            let check = graph.add(
                vec!["model quality check".into(), quality.schedule.clone()],
                Shape::Box,
            );
            let alarm = graph.add(
                vec![
                    "quality alarm".into(),
                    format!("{} below {}", yaml_name(quality.metric), quality.threshold),
                ],
                Shape::Decision,
            );
            if let Some(capture) = capture {
                graph.backward_edge(capture, check);
            }
            graph.edges.insert((truth, check, Line::Solid));
            graph.backward_edge(check, alarm);
            trigger(&mut graph, alarm, TriggerKind::ModelQuality);
        }
    }
    let top: Vec<usize> = (0..first_watched).collect();
    let bottom: Vec<usize> = (first_watched..graph.nodes.len()).collect();
    if !bottom.is_empty() {
        graph.groups = vec![
            ("train and deploy".to_string(), top),
            ("watch the endpoint".to_string(), bottom),
        ];
    }
    graph
}

/// An S3 URI as two lines, the bucket and the key, so that a long one does not widen the ring.
fn uri_lines(uri: &str) -> Vec<String> {
    match uri
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
    {
        Some((bucket, key)) if !key.is_empty() => vec![format!("s3://{bucket}/"), key.to_string()],
        _ => vec![uri.to_string()],
    }
}

/// A part of the system as a person draws it, and what the overview says it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Data,
    Pipeline,
    Registry,
    Deployment,
    Endpoint,
    Monitoring,
    Retraining,
    Notifications,
    /// The key and the access-log bucket every other part uses: drawn apart, with no edges.
    Encryption,
}

/// The part a resource belongs to; `None` for the details of a part (roles, policies, log
/// groups, aliases, subscriptions), which the overview leaves to `--detail full`.
fn part_of(id: &str, kind: &str) -> Option<Part> {
    Some(match (kind, id) {
        ("AWS::S3::Bucket", "ModelsBucket") => Part::Registry,
        ("AWS::S3::Bucket", "PipelineBucket") => Part::Pipeline,
        ("AWS::S3::Bucket", "LogsBucket") | ("AWS::KMS::Key", _) => Part::Encryption,
        ("AWS::S3::Bucket", _) => Part::Data,
        ("AWS::SageMaker::Pipeline", "MonitoringPipeline") => Part::Monitoring,
        ("AWS::SageMaker::Pipeline", _) | ("AWS::ECR::Repository", _) => Part::Pipeline,
        ("AWS::CloudWatch::Alarm", "PipelineFailuresAlarm") => Part::Pipeline,
        ("AWS::SageMaker::ModelPackageGroup", _) => Part::Registry,
        ("AWS::StepFunctions::StateMachine", "DeployStateMachine")
        | ("AWS::Events::Rule", "ModelApprovedRule") => Part::Deployment,
        ("AWS::StepFunctions::StateMachine", _)
        | ("AWS::Events::Rule", _)
        | ("AWS::SQS::Queue", _) => Part::Retraining,
        ("AWS::Scheduler::Schedule", _)
        | ("AWS::CloudWatch::Alarm", _)
        | ("AWS::CloudWatch::Dashboard", _) => Part::Monitoring,
        ("AWS::SNS::Topic", _) => Part::Notifications,
        _ => return None,
    })
}

/// The architecture at the level a person draws it: each [`Part`] the template has, one box,
/// and the flow between them: data into training, the gate into the registry, approval into
/// the endpoint, its captures into monitoring, alarms into retraining and notifications.
pub fn overview(template: &Value) -> Graph {
    let mut graph = Graph {
        name: "architecture",
        ..Graph::default()
    };
    let resources = resources_of(template);
    let mut members: BTreeMap<Part, Vec<(&str, &Value)>> = BTreeMap::new();
    for (id, resource) in resources {
        if let Some(part) = part_of(id, text(resource.get("Type"))) {
            members
                .entry(part)
                .or_default()
                .push((id.as_str(), resource));
        }
    }
    let endpoint = template["Outputs"]["EndpointName"]["Value"].as_str();
    let has = |id: &str| resources.contains_key(id);
    let named = |part: Part, property: &str| {
        members
            .get(&part)
            .into_iter()
            .flatten()
            .find_map(|(_, r)| r["Properties"][property].as_str())
            .unwrap_or_default()
            .to_string()
    };
    let count = |part: Part, kind: &str| {
        members
            .get(&part)
            .into_iter()
            .flatten()
            .filter(|(_, r)| text(r.get("Type")) == kind)
            .count()
    };
    let present = |part: Part| members.contains_key(&part);
    // A system that deploys a central registry's packages trains nothing, so draws no data.
    let trains = has("Pipeline");
    let alarms = count(Part::Monitoring, "AWS::CloudWatch::Alarm");
    let schedules = count(Part::Monitoring, "AWS::Scheduler::Schedule");
    // What starts a retraining, named rather than drawn: an edge from the data into it
    // would cross the one from it into the pipeline.
    let starts_on: Vec<&str> = [
        (
            "schedule",
            resources
                .keys()
                .any(|id| id.starts_with("RetrainingSchedule")),
        ),
        ("drift", has("DataDriftRule")),
        ("quality", has("ModelQualityRule")),
        ("new data", has("NewDataQueue")),
    ]
    .into_iter()
    .filter_map(|(name, declared)| declared.then_some(name))
    .collect();
    let endpoint = endpoint.filter(|_| has("DeployStateMachine"));
    let parts: [(Part, bool, Vec<String>); 9] = [
        (
            Part::Data,
            present(Part::Data) && trains,
            vec![
                "data".into(),
                format!("S3 {}", named(Part::Data, "BucketName")),
            ],
        ),
        (
            Part::Pipeline,
            trains,
            vec![
                "training pipeline".into(),
                named(Part::Pipeline, "PipelineName"),
            ],
        ),
        (
            Part::Registry,
            count(Part::Registry, "AWS::SageMaker::ModelPackageGroup") > 0,
            vec![
                "model registry".into(),
                named(Part::Registry, "ModelPackageGroupName"),
                "when the gates pass".into(),
            ],
        ),
        (
            Part::Deployment,
            present(Part::Deployment),
            vec![
                "deployment".into(),
                "Step Functions".into(),
                if has("ModelApprovedRule") {
                    "when approved"
                } else {
                    "when started by hand"
                }
                .into(),
            ],
        ),
        (
            Part::Endpoint,
            endpoint.is_some(),
            vec![
                "endpoint".into(),
                endpoint.unwrap_or_default().to_string(),
                "captures requests".into(),
            ],
        ),
        (
            Part::Monitoring,
            has("MonitoringPipeline"),
            vec![
                "monitoring".into(),
                format!(
                    "{}, {}",
                    plural(schedules, "schedule"),
                    plural(alarms, "alarm")
                ),
                "drift and quality".into(),
            ],
        ),
        (
            Part::Retraining,
            present(Part::Retraining) && has("StateMachine"),
            std::iter::once("retraining".to_string())
                .chain(starts_on.chunks(2).enumerate().map(|(i, names)| {
                    format!("{}{}", if i == 0 { "on " } else { "" }, names.join(", "))
                }))
                .collect(),
        ),
        (
            Part::Notifications,
            present(Part::Notifications),
            vec!["notifications".into(), "SNS topic".into()],
        ),
        (
            Part::Encryption,
            present(Part::Encryption),
            vec![
                "encryption and access logs".into(),
                "KMS key, logs bucket: used by every part".into(),
            ],
        ),
    ];
    let mut node = BTreeMap::new();
    for (part, shown, label) in parts {
        if shown {
            node.insert(part, graph.add(label, Shape::Box));
        }
    }
    // The loop reads clockwise: training to the endpoint along the top, the endpoint's
    // monitoring back to retraining along the bottom, drawn right to left.
    let flows = [
        (Part::Data, Part::Pipeline, true),
        (Part::Pipeline, Part::Registry, true),
        (Part::Registry, Part::Deployment, true),
        (Part::Deployment, Part::Endpoint, true),
        (Part::Endpoint, Part::Monitoring, true),
        (
            Part::Monitoring,
            Part::Retraining,
            has("DataDriftRule") || has("ModelQualityRule"),
        ),
        (Part::Retraining, Part::Pipeline, true),
        (Part::Monitoring, Part::Notifications, true),
        (
            Part::Pipeline,
            Part::Notifications,
            !has("MonitoringPipeline"),
        ),
    ];
    let backward = [
        (Part::Endpoint, Part::Monitoring),
        (Part::Monitoring, Part::Retraining),
        (Part::Retraining, Part::Pipeline),
    ];
    for (from, to, drawn) in flows {
        if let (Some(&a), Some(&b), true) = (node.get(&from), node.get(&to), drawn) {
            graph.edges.insert((a, b, Line::Solid));
            if backward.contains(&(from, to)) {
                graph.backward.insert((a, b));
            }
        }
    }
    let band = |parts: &[Part]| {
        parts
            .iter()
            .filter_map(|p| node.get(p).copied())
            .collect::<Vec<_>>()
    };
    graph.groups = [
        (
            "train and release",
            band(&[Part::Data, Part::Pipeline, Part::Registry, Part::Deployment]),
        ),
        (
            "serve and watch",
            band(&[Part::Endpoint, Part::Monitoring, Part::Retraining]),
        ),
    ]
    .into_iter()
    .filter(|(_, members)| !members.is_empty())
    .map(|(name, members)| (name.to_string(), members))
    .collect();
    graph
}

/// The resource types the architecture shows, in the group they are drawn in. Others
/// (bucket and topic policies, aliases, log groups, job definitions, schedules) are
/// details of these: their references are drawn from the resource that uses them.
const SHOWN: [(&str, &str); 12] = [
    ("AWS::S3::Bucket", "Storage and encryption"),
    ("AWS::KMS::Key", "Storage and encryption"),
    ("AWS::ECR::Repository", "Storage and encryption"),
    ("AWS::IAM::Role", "Roles"),
    ("AWS::SageMaker::Pipeline", "SageMaker"),
    ("AWS::SageMaker::ModelPackageGroup", "SageMaker"),
    ("AWS::Events::Rule", "Retraining"),
    ("AWS::StepFunctions::StateMachine", "Retraining"),
    ("AWS::SNS::Topic", "Alerts and logs"),
    ("AWS::CloudWatch::Alarm", "Alerts and logs"),
    ("AWS::CloudWatch::Dashboard", "Alerts and logs"),
    ("AWS::Logs::LogGroup", "Alerts and logs"),
];

/// The stack's resources and which uses which (`Ref`, `Fn::GetAtt`, `${…}` in `Fn::Sub`).
pub fn architecture(template: &Value) -> Graph {
    let mut graph = Graph {
        name: "architecture",
        ..Graph::default()
    };
    let resources = resources_of(template);
    let group_of = |kind: &str| SHOWN.iter().find(|(t, _)| *t == kind).map(|(_, g)| *g);
    let mut index = BTreeMap::new();
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    // Groups in the order of SHOWN, resources in the template's order within each.
    for (_, group) in SHOWN {
        if groups.iter().any(|(name, _)| name == group) {
            continue;
        }
        let mut members = Vec::new();
        for (id, resource) in resources {
            let kind = text(resource.get("Type"));
            if group_of(kind) == Some(group) {
                let short = kind.rsplit("::").next().unwrap_or(kind);
                let node = graph.add(vec![id.clone(), short.to_string()], Shape::Box);
                index.insert(id.as_str(), node);
                members.push(node);
            }
        }
        if !members.is_empty() {
            groups.push((group.to_string(), members));
        }
    }
    // The endpoint is the deploy state machine's, not the stack's: drawn beside SageMaker's
    // resources, made by the machine.
    let endpoint = template["Outputs"]["EndpointName"]["Value"].as_str();
    if let (Some(name), Some(&machine)) = (endpoint, index.get("DeployStateMachine")) {
        let node = graph.add(
            vec![name.to_string(), "Endpoint (made on approval)".to_string()],
            Shape::Box,
        );
        if let Some((_, members)) = groups.iter_mut().find(|(g, _)| g == "SageMaker") {
            members.push(node);
        }
        graph.edges.insert((machine, node, Line::Solid));
    }
    graph.groups = groups;
    // What each resource refers to, directly, among all resources.
    let mut refers: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (id, resource) in resources {
        let mut names = BTreeSet::new();
        resource_references(resource.get("Properties"), &mut names);
        names.retain(|name| name != id && resources.contains_key(name));
        refers.insert(id, names);
    }
    for (id, &from) in &index {
        // Through hidden resources (a job definition, an endpoint config) to shown ones.
        let mut seen = BTreeSet::new();
        let mut pending: Vec<String> = refers.get(id).into_iter().flatten().cloned().collect();
        while let Some(name) = pending.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            match index.get(name.as_str()) {
                Some(&to) if to != from => {
                    graph.edges.insert((from, to, Line::Solid));
                }
                Some(_) => {}
                None => pending.extend(refers.get(name.as_str()).into_iter().flatten().cloned()),
            }
        }
    }
    graph
}

/// The logical ids a value refers to.
fn resource_references(value: Option<&Value>, into: &mut BTreeSet<String>) {
    let Some(value) = value else { return };
    match value {
        Value::Object(map) => {
            if let Some(Value::String(name)) = map.get("Ref") {
                into.insert(name.clone());
            }
            match map.get("Fn::GetAtt") {
                Some(Value::Array(parts)) => {
                    into.insert(text(parts.first()).to_string());
                }
                Some(Value::String(path)) => {
                    into.insert(path.split('.').next().unwrap_or_default().to_string());
                }
                _ => {}
            }
            match map.get("Fn::Sub") {
                Some(Value::String(body)) => sub_names(body, &BTreeSet::new(), into),
                Some(Value::Array(parts)) => {
                    let local: BTreeSet<String> = parts
                        .get(1)
                        .and_then(Value::as_object)
                        .map(|vars| vars.keys().cloned().collect())
                        .unwrap_or_default();
                    sub_names(text(parts.first()), &local, into);
                }
                _ => {}
            }
            for member in map.values() {
                resource_references(Some(member), into);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| resource_references(Some(item), into)),
        _ => {}
    }
}

/// The `${Name}` and `${Name.Attribute}` of an `Fn::Sub` body, except its own variables,
/// pseudo parameters and `${!literal}`.
fn sub_names(body: &str, local: &BTreeSet<String>, into: &mut BTreeSet<String>) {
    let mut rest = body;
    while let Some(start) = rest.find("${") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find('}') else { break };
        let name = rest[..end].split('.').next().unwrap_or_default();
        if !name.starts_with('!') && !name.contains("::") && !local.contains(name) {
            into.insert(name.to_string());
        }
        rest = &rest[end + 1..];
    }
}

/// A template's `Resources`; empty when it has none.
fn resources_of(template: &Value) -> &serde_json::Map<String, Value> {
    static EMPTY: std::sync::OnceLock<serde_json::Map<String, Value>> = std::sync::OnceLock::new();
    template
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(serde_json::Map::new))
}

fn text(value: Option<&Value>) -> &str {
    value.and_then(Value::as_str).unwrap_or_default()
}

fn array(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

impl Graph {
    /// A solid edge on the return row of a loop, drawn right to left.
    fn backward_edge(&mut self, from: usize, to: usize) {
        self.edges.insert((from, to, Line::Solid));
        self.backward.insert((from, to));
    }

    fn add(&mut self, label: Vec<String>, shape: Shape) -> usize {
        self.nodes.push(Node { label, shape });
        self.nodes.len() - 1
    }

    /// A Mermaid flowchart.
    pub fn mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        let node = |out: &mut String, indent: &str, i: usize| {
            let label = self.nodes[i]
                .label
                .iter()
                .map(|line| mermaid_text(line))
                .collect::<Vec<_>>()
                .join("<br/>");
            let (open, close) = match self.nodes[i].shape {
                Shape::Box => ("[\"", "\"]"),
                Shape::Decision => ("{\"", "\"}"),
                Shape::Stop => ("([\"", "\"])"),
                Shape::Document => ("[/\"", "\"/]"),
            };
            let _ = writeln!(out, "{indent}n{i}{open}{label}{close}");
        };
        let grouped: BTreeSet<usize> = self.groups.iter().flat_map(|(_, m)| m.clone()).collect();
        for (g, (name, members)) in self.groups.iter().enumerate() {
            let _ = writeln!(out, "  subgraph g{g}[\"{}\"]", mermaid_text(name));
            for &i in members {
                node(&mut out, "    ", i);
            }
            out.push_str("  end\n");
        }
        for i in (0..self.nodes.len()).filter(|i| !grouped.contains(i)) {
            node(&mut out, "  ", i);
        }
        for (from, to, line) in &self.edges {
            let arrow = match line {
                Line::Solid => "-->".to_string(),
                Line::Dotted => "-.->".to_string(),
                Line::Labelled(label) => format!("-->|{}|", mermaid_text(label)),
            };
            let _ = writeln!(out, "  n{from} {arrow} n{to}");
        }
        out
    }

    /// A Graphviz digraph.
    pub fn dot(&self) -> String {
        let mut out = format!(
            "digraph {} {{\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n",
            self.name
        );
        let node = |out: &mut String, indent: &str, i: usize| {
            let label = self.nodes[i]
                .label
                .iter()
                .map(|line| dot_text(line))
                .collect::<Vec<_>>()
                .join("\\n");
            let shape = match self.nodes[i].shape {
                Shape::Box => "",
                Shape::Decision => ", shape=diamond",
                Shape::Stop => ", shape=octagon",
                Shape::Document => ", shape=note",
            };
            let _ = writeln!(out, "{indent}n{i} [label=\"{label}\"{shape}];");
        };
        let grouped: BTreeSet<usize> = self.groups.iter().flat_map(|(_, m)| m.clone()).collect();
        for (g, (name, members)) in self.groups.iter().enumerate() {
            let _ = writeln!(
                out,
                "  subgraph cluster_{g} {{\n    label=\"{}\";",
                dot_text(name)
            );
            for &i in members {
                node(&mut out, "    ", i);
            }
            out.push_str("  }\n");
        }
        for i in (0..self.nodes.len()).filter(|i| !grouped.contains(i)) {
            node(&mut out, "  ", i);
        }
        for (from, to, line) in &self.edges {
            let style = match line {
                Line::Solid => String::new(),
                Line::Dotted => " [style=dashed]".to_string(),
                Line::Labelled(label) => format!(" [label=\"{}\"]", dot_text(label)),
            };
            let _ = writeln!(out, "  n{from} -> n{to}{style};");
        }
        out.push_str("}\n");
        out
    }

    /// The diagram in `format`.
    pub fn render(&self, format: GraphFormat) -> String {
        match format {
            GraphFormat::Mermaid => self.mermaid(),
            GraphFormat::Dot => self.dot(),
            GraphFormat::Svg => svg::render(self),
        }
    }
}

/// Text inside a quoted Mermaid label: quotes and markup characters as entities.
fn mermaid_text(text: &str) -> String {
    text.replace('&', "#amp;")
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

/// Text inside a quoted DOT string.
fn dot_text(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn condition_branches_property_files_and_references_become_edges() {
        let definition = json!({"Steps": [
            {"Name": "prep", "Type": "Processing", "Arguments": {}},
            {"Name": "eval", "Type": "Processing",
             "Arguments": {"In": {"Get": "Steps.prep.ProcessingOutputConfig.Outputs['x'].S3Output.S3Uri"}},
             "PropertyFiles": [{"PropertyFileName": "Report", "FilePath": "evaluation.json"}]},
            {"Name": "gate", "Type": "Condition", "Arguments": {
                "Conditions": [{"LeftValue": {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.eval.PropertyFiles.Report"}}}}],
                "IfSteps": [{"Name": "ok", "Type": "RegisterModel", "Arguments": {}}],
                "ElseSteps": [{"Name": "stop", "Type": "Fail", "Arguments": {}}]}},
            {"Name": "extra", "Type": "Processing", "DependsOn": ["eval"], "Arguments": {}}
        ]});
        let graph = pipeline(&definition);
        // prep 0, eval 1, gate 2, ok 3, stop 4, extra 5, Report 6
        let edges: Vec<(usize, usize, Line)> = graph.edges.iter().cloned().collect();
        assert_eq!(
            edges,
            [
                (0, 1, Line::Solid),
                (1, 5, Line::Dotted),
                (1, 6, Line::Dotted),
                (2, 3, Line::Labelled("true".into())),
                (2, 4, Line::Labelled("false".into())),
                (6, 2, Line::Dotted),
            ]
        );
        assert_eq!(graph.nodes[2].shape, Shape::Decision);
        assert_eq!(graph.nodes[4].shape, Shape::Stop);
        assert_eq!(graph.nodes[6].shape, Shape::Document);
    }

    #[test]
    fn references_through_hidden_resources_reach_the_shown_ones() {
        let template = json!({"Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
            "Data": {"Type": "AWS::S3::Bucket", "Properties": {"Enc": {"Fn::GetAtt": ["Key", "Arn"]}}},
            "Policy": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": "Data"}}},
            "Job": {"Type": "AWS::SageMaker::DataQualityJobDefinition",
                    "Properties": {"Out": {"Fn::Sub": "s3://${Data}/x/${AWS::Region}/${!Literal}"}}},
            "Pipeline": {"Type": "AWS::SageMaker::Pipeline",
                         "Properties": {"Job": {"Fn::Sub": ["${Name}", {"Name": {"Fn::GetAtt": "Job.JobDefinitionName"}}]}}}
        }});
        let graph = architecture(&template);
        let labels: Vec<&str> = graph.nodes.iter().map(|n| n.label[0].as_str()).collect();
        assert_eq!(labels, ["Key", "Data", "Pipeline"]);
        let edges: Vec<(usize, usize)> = graph.edges.iter().map(|(f, t, _)| (*f, *t)).collect();
        // Data uses Key; Pipeline uses Data through the job definition; the policy is hidden.
        assert_eq!(edges, [(1, 0), (2, 1)]);
    }

    #[test]
    fn labels_are_escaped_for_each_format() {
        assert_eq!(mermaid_text("a \"b\" <c>"), "a #quot;b#quot; #lt;c#gt;");
        assert_eq!(dot_text("a \"b\" \\"), "a \\\"b\\\" \\\\");
    }
}
