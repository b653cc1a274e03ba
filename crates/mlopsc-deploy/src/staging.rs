//! The template staging bucket: how a template over CloudFormation's 51,200-byte inline
//! limit reaches CloudFormation.
//!
//! CloudFormation takes a larger template only by `TemplateURL` from S3, and the stack's own
//! buckets do not exist before its first create. So, like SAM and CDK, mlopsc keeps one
//! bucket outside every stack, named from the account and region, creates it on demand
//! (encrypted, public access blocked, TLS only), and uploads the template under its content
//! hash. `destroy` never deletes it: other stacks of the same account and region share it.

use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};

use super::DeployError;
use super::aws::{Clients, put_if_absent};
use mlopsc_core::build::sha256_hex;

/// CloudFormation's limit on an inline `TemplateBody`; a larger template goes through S3.
pub const TEMPLATE_BODY_LIMIT: usize = 51_200;

/// The staging bucket of an account in a region. Bucket names are global, so both are in it.
pub fn bucket_name(account: &str, region: &str) -> String {
    format!("mlopsc-staging-{account}-{region}")
}

/// The template's key: its content hash, so that a plan never overwrites the template an
/// earlier, still pending change set refers to.
pub fn template_key(template: &str) -> String {
    format!("templates/{}.yaml", sha256_hex(template.as_bytes()))
}

/// The virtual-hosted URL CloudFormation reads the template from.
pub fn template_url(bucket: &str, region: &str, key: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://{bucket}.s3.{region}.{suffix}/{key}")
}

/// The ARN partition of a region.
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// A bucket policy that denies every request not made over TLS.
fn tls_only_policy(bucket: &str, region: &str) -> String {
    let partition = partition(region);
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [
                format!("arn:{partition}:s3:::{bucket}"),
                format!("arn:{partition}:s3:::{bucket}/*"),
            ],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        }]
    })
    .to_string()
}

/// Where a template over the inline limit was staged.
#[derive(Debug, Clone, PartialEq)]
pub struct Staged {
    pub bucket: String,
    pub key: String,
    pub url: String,
    /// The bucket did not exist and this command created it.
    pub created_bucket: bool,
}

/// The caller's account id, from STS GetCallerIdentity.
pub async fn account(clients: &Clients) -> Result<String, DeployError> {
    let out = clients
        .call(
            "GetCallerIdentity",
            clients.sts.get_caller_identity().send(),
        )
        .await?;
    out.account()
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .ok_or_else(|| DeployError::Aws {
            operation: "GetCallerIdentity".into(),
            code: None,
            message: "the answer names no account".into(),
        })
}

/// Uploads the template to the staging bucket (creating the bucket first when needed) and
/// returns where it is. An object already under the key is the same bytes, so is kept.
pub async fn stage_template(clients: &Clients, template: &str) -> Result<Staged, DeployError> {
    let account = account(clients).await?;
    let bucket = bucket_name(&account, &clients.region);
    let created_bucket = ensure_bucket(clients, &bucket).await?;
    let key = template_key(template);
    put_if_absent(
        clients,
        &bucket,
        &key,
        template.as_bytes().to_vec(),
        "application/x-yaml",
    )
    .await?;
    Ok(Staged {
        url: template_url(&bucket, &clients.region, &key),
        bucket,
        key,
        created_bucket,
    })
}

/// Creates the staging bucket when it does not exist; true when it was created.
async fn ensure_bucket(clients: &Clients, bucket: &str) -> Result<bool, DeployError> {
    match clients
        .call("HeadBucket", clients.s3.head_bucket().bucket(bucket).send())
        .await
    {
        Ok(_) => return Ok(false),
        Err(f) if f.is_not_found() => {}
        Err(f) => return Err(f.into()),
    }
    let mut create = clients.s3.create_bucket().bucket(bucket);
    // us-east-1 is the one region that refuses an explicit location constraint.
    if clients.region != "us-east-1" {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(clients.region.as_str()))
                .build(),
        );
    }
    match clients.call("CreateBucket", create.send()).await {
        Ok(_) => {}
        // Another command created it in between: it is ours all the same.
        Err(f) if f.code.as_deref() == Some("BucketAlreadyOwnedByYou") => {}
        Err(f) => return Err(f.into()),
    }
    let encryption = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(
                    ServerSideEncryptionByDefault::builder()
                        .sse_algorithm(ServerSideEncryption::Aes256)
                        .build()
                        .map_err(build_error)?,
                )
                .build(),
        )
        .build()
        .map_err(build_error)?;
    clients
        .call(
            "PutBucketEncryption",
            clients
                .s3
                .put_bucket_encryption()
                .bucket(bucket)
                .server_side_encryption_configuration(encryption)
                .send(),
        )
        .await?;
    clients
        .call(
            "PutPublicAccessBlock",
            clients
                .s3
                .put_public_access_block()
                .bucket(bucket)
                .public_access_block_configuration(
                    PublicAccessBlockConfiguration::builder()
                        .block_public_acls(true)
                        .ignore_public_acls(true)
                        .block_public_policy(true)
                        .restrict_public_buckets(true)
                        .build(),
                )
                .send(),
        )
        .await?;
    // Over a plain-http endpoint (an emulator) a TLS-only policy would lock mlopsc out of
    // its own bucket: no request there is TLS.
    if clients.plain_http {
        return Ok(true);
    }
    clients
        .call(
            "PutBucketPolicy",
            clients
                .s3
                .put_bucket_policy()
                .bucket(bucket)
                .policy(tls_only_policy(bucket, &clients.region))
                .send(),
        )
        .await?;
    Ok(true)
}

fn build_error(err: aws_sdk_s3::error::BuildError) -> DeployError {
    DeployError::Io(format!("cannot build an S3 request: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keys_and_urls() {
        assert_eq!(
            bucket_name("123456789012", "eu-west-1"),
            "mlopsc-staging-123456789012-eu-west-1"
        );
        let key = template_key("Resources: {}\n");
        assert!(key.starts_with("templates/") && key.ends_with(".yaml"));
        assert_eq!(key.len(), "templates/".len() + 64 + ".yaml".len());
        assert_eq!(
            template_url("b", "eu-west-1", "templates/x.yaml"),
            "https://b.s3.eu-west-1.amazonaws.com/templates/x.yaml"
        );
        assert_eq!(
            template_url("b", "cn-north-1", "k"),
            "https://b.s3.cn-north-1.amazonaws.com.cn/k"
        );
    }

    #[test]
    fn the_policy_denies_plain_http() {
        let policy: serde_json::Value =
            serde_json::from_str(&tls_only_policy("b", "us-east-1")).unwrap();
        let statement = &policy["Statement"][0];
        assert_eq!(statement["Effect"], "Deny");
        assert_eq!(
            statement["Condition"]["Bool"]["aws:SecureTransport"],
            "false"
        );
        assert_eq!(statement["Resource"][1], "arn:aws:s3:::b/*");
    }
}
