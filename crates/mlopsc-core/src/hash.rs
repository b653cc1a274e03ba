//! Content hashes, at the bottom of the layers: `emit` names support files by them and `build`
//! fingerprints the step code with them, so neither has to depend on the other.

use sha2::{Digest, Sha256};

/// Hex-encodes a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The lowercase hex SHA-256 of `bytes`, the form manifests and S3 keys use.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}
