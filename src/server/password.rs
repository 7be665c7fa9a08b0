//! Password hashing with argon2id, always off the async runtime (it is deliberately slow).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand_core::OsRng;

/// A well-formed argon2id hash (default parameters) that matches no password anyone types;
/// verified against when a login names no account, so both cases cost the same time.
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$7Q0h1k3S9bQeYQ6vX1l2hG8m0k8xw1lW3oQ2o3z0H5Y";

/// Hashes `password` into a PHC string on a blocking thread.
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await?
}

/// Checks `password` against a PHC string on a blocking thread; a malformed hash is a mismatch.
pub async fn verify(password: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_dummy_hash_parses_so_verifying_it_costs_a_full_hash() {
        assert!(argon2::password_hash::PasswordHash::new(super::DUMMY_HASH).is_ok());
    }

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let h = super::hash("tsudoi-demo".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("tsudoi-demo".into(), h.clone()).await);
        assert!(!super::verify("wrong".into(), h).await);
        assert!(!super::verify("x".into(), "not a hash".into()).await);
    }
}
