//! AWS clients with bounded timeouts, AWS errors as [`DeployError`]s, and the time spent
//! awaiting AWS (what `--timings` reports).

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::error::Error as StdError;
use std::future::Future;
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_cloudformation::config::ProvideCredentials;
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};

use super::DeployError;

/// TCP connect: an unreachable endpoint fails fast instead of hanging.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Finding credentials (a profile, SSO, IMDS) must not hang either.
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(15);

/// The clients of one command, and the time it spent waiting for them.
pub struct Clients {
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub s3: aws_sdk_s3::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub sts: aws_sdk_sts::Client,
    pub region: String,
    /// `--endpoint-url` is plain `http://` (a local emulator): nothing over it can be TLS.
    pub plain_http: bool,
    /// Where the calls go, for errors: "the endpoint <--endpoint-url>" or AWS in the region.
    endpoint: String,
    call_timeout: Duration,
    waited: Cell<Duration>,
    calls: Cell<u32>,
}

/// A failed AWS call: the error code AWS sent, if any, and the message.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsFailure {
    pub operation: &'static str,
    pub code: Option<String>,
    pub message: String,
}

impl AwsFailure {
    /// CloudFormation, SageMaker and Step Functions each say "not found" differently.
    pub fn is_not_found(&self) -> bool {
        let code = self.code.as_deref().unwrap_or_default();
        let message = self.message.to_ascii_lowercase();
        matches!(
            code,
            "ResourceNotFound"
                | "StateMachineDoesNotExist"
                | "NoSuchBucket"
                | "NoSuchKey"
                | "NotFound"
        ) || ((code == "ValidationError" || code == "ValidationException")
            && (message.contains("does not exist") || message.contains("could not find")))
    }
}

impl From<AwsFailure> for DeployError {
    fn from(f: AwsFailure) -> DeployError {
        DeployError::Aws {
            operation: f.operation.to_string(),
            code: f.code,
            message: f.message,
        }
    }
}

/// Where AWS is: the standard chain (env, profile, SSO, IMDS) with these on top. A plain
/// struct, so that the client code does not depend on the CLI's argument parser.
#[derive(Debug, Clone)]
pub struct AwsOptions {
    /// The region; `None`: the spec's.
    pub region: Option<String>,
    /// A named profile from ~/.aws/config.
    pub profile: Option<String>,
    /// Send every AWS call here instead (an emulator such as moto_server).
    pub endpoint_url: Option<String>,
    /// Give up on one AWS call, retries included, after this long (at least a second).
    pub call_timeout: Duration,
    /// The invocation's environment variables (its AWS_* ones and HOME). aws-config's whole
    /// chain reads these and never the process's: credentials, AWS_PROFILE and the files it
    /// names (~/.aws under this HOME, AWS_CONFIG_FILE), SSO, web identity, the container
    /// and IMDS settings, AWS_ENDPOINT_URL. A command run in process uses its own variables,
    /// not those of the process it runs in.
    pub env: BTreeMap<String, String>,
}

impl AwsOptions {
    /// A variable of [`AwsOptions::env`], if set and not empty.
    fn var(&self, name: &str) -> Option<&str> {
        self.env
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `--endpoint-url`, else AWS_ENDPOINT_URL.
    fn endpoint(&self) -> Option<String> {
        self.endpoint_url
            .clone()
            .or_else(|| self.var("AWS_ENDPOINT_URL").map(str::to_string))
    }
}

impl Clients {
    /// Loads the standard configuration chain with `--region`, `--profile` and
    /// `--endpoint-url` on top, and checks that credentials exist before any call.
    pub async fn connect(
        options: &AwsOptions,
        default_region: &str,
    ) -> Result<Clients, DeployError> {
        let call_timeout = options.call_timeout.max(Duration::from_secs(1));
        let region = options
            .region
            .clone()
            .unwrap_or_else(|| default_region.to_string());
        let loader = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new(region.clone()))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT.min(call_timeout))
                    .operation_attempt_timeout(call_timeout / 3)
                    .operation_timeout(call_timeout)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(3));
        let env: HashMap<String, String> = options.env.clone().into_iter().collect();
        let mut loader = loader.env(aws_types::os_shim_internal::Env::from(env));
        // --profile over AWS_PROFILE, which the chain reads from `env` itself.
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        let profile = options.profile.as_deref().or(options.var("AWS_PROFILE"));
        let endpoint_url = options.endpoint();
        if let Some(url) = &endpoint_url {
            loader = loader.endpoint_url(url);
        }

        let config = loader.load().await;
        let provider = config.credentials_provider().ok_or_else(|| {
            DeployError::Credentials("no credentials provider is configured".into())
        })?;
        match tokio::time::timeout(CREDENTIALS_TIMEOUT, provider.provide_credentials()).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => {
                // aws-config says only that its profile provider "was not enabled".
                let why = match profile {
                    Some(profile) => format!("none in the profile {profile}: {}", chain(&err)),
                    None => chain(&err),
                };
                return Err(DeployError::Credentials(why));
            }
            Err(_) => {
                return Err(DeployError::Credentials(format!(
                    "the credential chain gave no answer within {}s",
                    CREDENTIALS_TIMEOUT.as_secs()
                )));
            }
        }
        // moto and other emulators serve buckets by path, not by virtual host.
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(endpoint_url.is_some())
            .build();
        let endpoint = match &endpoint_url {
            Some(url) => format!("the endpoint {url}"),
            None => format!("the AWS endpoints of {region}"),
        };
        Ok(Clients {
            cloudformation: aws_sdk_cloudformation::Client::new(&config),
            sagemaker: aws_sdk_sagemaker::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            sfn: aws_sdk_sfn::Client::new(&config),
            sts: aws_sdk_sts::Client::new(&config),
            region,
            plain_http: endpoint_url
                .as_deref()
                .is_some_and(|u| u.starts_with("http://")),
            endpoint,
            call_timeout,
            waited: Cell::new(Duration::ZERO),
            calls: Cell::new(0),
        })
    }

    /// Awaits one AWS call, adds its time to the total, and turns its error into an
    /// [`AwsFailure`] that says what AWS said (or why it could not be reached).
    pub async fn call<T, E, R>(
        &self,
        operation: &'static str,
        request: impl Future<Output = Result<T, SdkError<E, R>>>,
    ) -> Result<T, AwsFailure>
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        R: std::fmt::Debug + 'static,
    {
        let started = Instant::now();
        let result = request.await;
        self.waited.set(self.waited.get() + started.elapsed());
        self.calls.set(self.calls.get() + 1);
        result.map_err(|err| failure(operation, &err, self.call_timeout, &self.endpoint))
    }

    /// Time spent awaiting AWS, and the number of calls.
    pub fn waited(&self) -> (Duration, u32) {
        (self.waited.get(), self.calls.get())
    }

    /// Sleeps between polls; counted as waiting for AWS, since AWS is what is being waited on.
    pub async fn pause(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
        self.waited.set(self.waited.get() + duration);
    }
}

/// `endpoint` is named when the call did not get an answer, so that a wrong or closed
/// `--endpoint-url` is recognisable.
fn failure<E, R>(
    operation: &'static str,
    err: &SdkError<E, R>,
    timeout: Duration,
    endpoint: &str,
) -> AwsFailure
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: std::fmt::Debug + 'static,
{
    let (code, message) = match err {
        SdkError::ServiceError(_) => (
            err.code().map(str::to_string),
            err.message()
                .map(str::to_string)
                .unwrap_or_else(|| chain(err)),
        ),
        SdkError::TimeoutError(_) => (
            None,
            format!(
                "no answer within {}s from {endpoint} (is it reachable?)",
                timeout.as_secs()
            ),
        ),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => (
            None,
            format!(
                "timed out (call timeout {}s) on {endpoint}: {}",
                timeout.as_secs(),
                chain(err)
            ),
        ),
        SdkError::DispatchFailure(_) => (None, format!("cannot reach {endpoint}: {}", chain(err))),
        _ => (None, chain(err)),
    };
    AwsFailure {
        operation,
        code,
        message,
    }
}

/// An error and its sources as one line, without the Debug dumps the SDK adds.
fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// The account and partition in a stack ARN (`arn:aws:cloudformation:region:account:stack/…`),
/// from which the ARNs of the state machine and the execution role follow.
pub fn arn_parts(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.split(':');
    let (_, partition, _, _, account) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    (!partition.is_empty() && !account.is_empty()).then_some((partition, account))
}

/// Uploads `bytes` under `key` unless the key already holds an object. Keys name their
/// content by hash, so an existing object is the same bytes. True when it uploaded.
pub async fn put_if_absent(
    clients: &Clients,
    bucket: &str,
    key: &str,
    bytes: Vec<u8>,
    content_type: &str,
) -> Result<bool, DeployError> {
    let present = clients
        .call(
            "HeadObject",
            clients.s3.head_object().bucket(bucket).key(key).send(),
        )
        .await;
    match present {
        Ok(_) => Ok(false),
        Err(f) if f.is_not_found() => {
            clients
                .call(
                    "PutObject",
                    clients
                        .s3
                        .put_object()
                        .bucket(bucket)
                        .key(key)
                        .content_type(content_type)
                        .body(aws_sdk_s3::primitives::ByteStream::from(bytes))
                        .send(),
                )
                .await?;
            Ok(true)
        }
        Err(f) => Err(f.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_parts_reads_partition_and_account() {
        assert_eq!(
            arn_parts("arn:aws:cloudformation:us-east-1:123456789012:stack/demo/abc"),
            Some(("aws", "123456789012"))
        );
        assert_eq!(arn_parts("not-an-arn"), None);
    }

    #[test]
    fn not_found_is_recognised_across_services() {
        let f = |code: &str, message: &str| AwsFailure {
            operation: "X",
            code: Some(code.into()),
            message: message.into(),
        };
        assert!(f("ValidationError", "Stack with id demo does not exist").is_not_found());
        assert!(f("ValidationException", "Could not find pipeline with name p").is_not_found());
        assert!(f("StateMachineDoesNotExist", "").is_not_found());
        assert!(!f("ValidationError", "Template format error").is_not_found());
    }
}
