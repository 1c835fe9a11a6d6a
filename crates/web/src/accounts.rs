//! Passwords, tokens and the first admin.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use domain::{EmailAddress, Role, User, UserId};
use rand::Rng;
use sha2::{Digest, Sha256};
use store::{PrincipalRef, Store, StoreError};

use crate::error::ApiError;

pub const SESSION_COOKIE: &str = "sb_session";
/// Prefix of personal API tokens, so a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "sbp_";
pub const MIN_PASSWORD_LEN: usize = 10;

/// A random secret of 32 bytes, hex-encoded.
pub fn random_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// A password people can type: 20 characters from an unambiguous alphabet.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}

/// Tokens and session ids are stored only as their SHA-256.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Argon2id, off the async threads.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// Checks a password against its hash. With no hash (unknown account) it
/// checks against a throwaway one, so an unknown address takes as long to
/// refuse as a wrong password and does not reveal which accounts exist.
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let known = hash.is_some();
    tokio::task::spawn_blocking(move || {
        let hash = hash.unwrap_or_else(|| {
            DUMMY
                .get_or_init(|| {
                    Argon2::default()
                        .hash_password(random_secret().as_bytes())
                        .map(|h| h.to_string())
                        .unwrap_or_default()
                })
                .clone()
        });
        known && Argon2::default().verify_password(password.as_bytes(), hash.as_str()).is_ok()
    })
    .await
    .unwrap_or(false)
}

pub fn check_password_strength(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ApiError::invalid("password", format!("must be at least {MIN_PASSWORD_LEN} characters")));
    }
    Ok(())
}

/// Creates a staff user with a random password and returns the password;
/// used by the first start and by `switchboard admin create`.
pub async fn create_staff_with_password(
    store: &dyn Store,
    email: &str,
    name: &str,
    role: Role,
    now: i64,
) -> Result<(UserId, String), ApiError> {
    let email = EmailAddress::parse(email)?;
    let password = random_password();
    let hash = hash_password(password.clone()).await?;
    let user = User {
        id: UserId(0),
        email: email.to_string(),
        name: domain::directory::parse_name("name", name)?,
        role,
        active: true,
        reports_to: None,
        time_zone: None,
        created_at: now,
        updated_at: now,
    };
    let id = store.create_user(user, Some(hash), None).await?.id;
    Ok((id, password))
}

/// On a database with no staff at all, creates `admin@localhost`'s account
/// and returns its one-time password to print.
pub async fn ensure_first_admin(
    store: &dyn Store,
    email: &str,
    now: i64,
) -> Result<Option<(String, String)>, ApiError> {
    if store.user_count().await? > 0 {
        return Ok(None);
    }
    match create_staff_with_password(store, email, "Administrator", Role::Admin, now).await {
        Ok((_, password)) => Ok(Some((email.to_string(), password))),
        // Another node created it first.
        Err(ApiError::Conflict { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Sets a new password and ends every session of its owner.
pub async fn set_password(store: &dyn Store, who: PrincipalRef, password: &str) -> Result<(), ApiError> {
    check_password_strength(password)?;
    let hash = hash_password(password.to_string()).await?;
    store.set_password(who, &hash).await?;
    store.delete_sessions_of(who).await.map_err(|e: StoreError| ApiError::from(e))
}
