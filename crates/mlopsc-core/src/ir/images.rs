//! Container image URIs for the spec's framework and region.

use crate::catalog;
use crate::spec::{self, Framework, Spec};

/// Container image URIs for the spec's framework and region.
pub(super) struct Images<'a> {
    spec: &'a Spec,
    region: &'a str,
}

impl<'a> Images<'a> {
    pub(super) fn new(spec: &'a Spec) -> Self {
        Images {
            spec,
            region: &spec.project.region,
        }
    }

    pub(super) fn ecr(&self, container: &spec::Container) -> String {
        format!(
            "${{AWS::AccountId}}.dkr.ecr.{}.amazonaws.com/{}:{}",
            self.region, container.repository, container.tag
        )
    }

    fn dlc(&self, repository: &str, gpu: bool) -> String {
        let model = &self.spec.model;
        format!(
            "{}.dkr.ecr.{}.amazonaws.com/{repository}:{}-{}-{}",
            catalog::DLC_ACCOUNT,
            self.region,
            model.framework_version,
            if gpu { "gpu" } else { "cpu" },
            model.python_version
        )
    }

    fn first_party(&self, repository: &str, tag: &str) -> String {
        format!(
            "{}.dkr.ecr.{}.amazonaws.com/{repository}:{tag}",
            catalog::first_party_account(self.region),
            self.region
        )
    }

    pub(super) fn training(&self, gpu: bool) -> String {
        if let Some(c) = &self.spec.model.container {
            return self.ecr(c);
        }
        let version = &self.spec.model.framework_version;
        match self.spec.model.framework {
            Framework::Pytorch => self.dlc("pytorch-training", gpu),
            Framework::Tensorflow => self.dlc("tensorflow-training", gpu),
            Framework::Xgboost => self.first_party("sagemaker-xgboost", version),
            Framework::Sklearn => {
                self.first_party("sagemaker-scikit-learn", &format!("{version}-cpu-py3"))
            }
        }
    }

    /// Processing runs the step scripts in the training image, which has the framework.
    pub(super) fn processing(&self, gpu: bool) -> String {
        self.training(gpu)
    }

    pub(super) fn inference(&self, gpu: bool) -> String {
        if let Some(c) = &self.spec.model.container {
            return self.ecr(c);
        }
        match self.spec.model.framework {
            Framework::Pytorch => self.dlc("pytorch-inference", gpu),
            Framework::Tensorflow => self.dlc("tensorflow-inference", gpu),
            Framework::Xgboost | Framework::Sklearn => self.training(false),
        }
    }
}
