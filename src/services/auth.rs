//! Users, passwords (argon2id), API tokens and browser sessions, and who may do what.
//! Tokens are 256 random bits shown once; only their SHA-256 is stored, which is enough
//! for high-entropy secrets and lets a lookup be one indexed query.
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, Set,
};
use sha2::{Digest, Sha256};

use crate::domain::kinds::Role;
use crate::domain::text;
use crate::error::{Error, Result};
use crate::store::{self, api_token, app_user, scope::Scope, unit};

/// Prefix of every token hoinghi issues, so that a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "hn_";
/// How long a browser session lasts.
pub const SESSION_HOURS: i64 = 12;

/// The signed-in user of a request.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user_id: i64,
    pub login: String,
    pub role: Role,
    pub unit_id: Option<i64>,
    /// The units this user may act on; empty for an admin (who may act on all).
    pub scope: Scope,
}

impl Principal {
    /// The operator at the command line, who may act on everything (like an admin).
    pub fn operator() -> Self {
        Self {
            user_id: 0,
            login: "cli".into(),
            role: Role::Admin,
            unit_id: None,
            scope: Scope::default(),
        }
    }
}

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// A generated password for a new user: 16 characters, no look-alike letters.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// `bytes` random bytes as hex: the secret of a link (RSVP, calendar feed).
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

pub(crate) fn token_hash(raw: &str) -> String {
    hex::encode(Sha256::digest(raw.as_bytes()))
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(e.to_string()))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Creates a user. Non-admin users must belong to a unit, which bounds their scope.
pub async fn create_user(
    db: &impl ConnectionTrait,
    login: &str,
    password: &str,
    role: Role,
    unit_id: Option<i64>,
) -> Result<app_user::Model> {
    let login = text::nfc(login);
    let valid_login = !login.is_empty()
        && login.len() <= 64
        && login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
    if !valid_login {
        return Err(Error::field(
            "login",
            "invalid_login",
            "Tên đăng nhập chỉ gồm chữ cái không dấu, chữ số và . _ - @ (tối đa 64 ký tự).",
        ));
    }
    if password.chars().count() < 8 {
        return Err(Error::field(
            "password",
            "too_short",
            "Mật khẩu phải có ít nhất 8 ký tự.",
        ));
    }
    match (role, unit_id) {
        (Role::Admin, _) => {}
        (_, None) => {
            return Err(Error::field(
                "unit",
                "required",
                "Người dùng không phải quản trị phải thuộc một đơn vị.",
            ));
        }
        (_, Some(u)) => {
            if unit::Entity::find_by_id(u).one(db).await?.is_none() {
                return Err(Error::field(
                    "unit",
                    "not_found",
                    format!("Không có đơn vị mã {u}."),
                ));
            }
        }
    }
    if app_user::Entity::find()
        .filter(app_user::Column::Login.eq(&login))
        .one(db)
        .await?
        .is_some()
    {
        return Err(Error::Conflict {
            field: Some("login".into()),
            message: format!("Tên đăng nhập «{login}» đã có người dùng."),
        });
    }
    let now = store::now();
    let user = app_user::ActiveModel {
        id: NotSet,
        login: Set(login),
        display_name: Set(None),
        password_hash: Set(hash_password(password)?),
        role: Set(role),
        unit_id: Set(unit_id),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Ok(user.insert(db).await?)
}

/// Finds a user by login.
pub async fn find_user(db: &impl ConnectionTrait, login: &str) -> Result<Option<app_user::Model>> {
    Ok(app_user::Entity::find()
        .filter(app_user::Column::Login.eq(text::nfc(login)))
        .one(db)
        .await?)
}

/// Issues a token for `user_id`; returns the row and the secret, which is never stored.
pub async fn create_token(
    db: &impl ConnectionTrait,
    user_id: i64,
    kind: &str,
    name: Option<String>,
    expires_in: Option<Duration>,
) -> Result<(api_token::Model, String)> {
    let secret = random_secret();
    let now = store::now();
    let row = api_token::ActiveModel {
        id: NotSet,
        user_id: Set(user_id),
        kind: Set(kind.to_owned()),
        name: Set(name.map(|n| text::nfc(&n))),
        token_hash: Set(token_hash(&secret)),
        expires_at: Set(expires_in.map(|d| Utc::now() + d)),
        revoked_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok((row, secret))
}

/// Revokes a token of `user_id` (admins may revoke any). Revoking twice is harmless.
pub async fn revoke_token(db: &impl ConnectionTrait, who: &Principal, token_id: i64) -> Result<()> {
    let Some(t) = api_token::Entity::find_by_id(token_id).one(db).await? else {
        return Err(not_found_token(token_id));
    };
    if t.user_id != who.user_id && who.role != Role::Admin {
        return Err(not_found_token(token_id));
    }
    if t.revoked_at.is_none() {
        let mut am: api_token::ActiveModel = t.into();
        am.revoked_at = Set(Some(Utc::now()));
        am.updated_at = Set(store::now());
        am.update(db).await?;
    }
    Ok(())
}

fn not_found_token(id: i64) -> Error {
    Error::NotFound {
        entity: "api token",
        label: "mã truy cập",
        id,
    }
}

/// Resolves a presented secret into a principal, or `Unauthenticated`.
pub async fn authenticate(db: &impl ConnectionTrait, secret: &str) -> Result<Principal> {
    Ok(authenticate_until(db, secret).await?.0)
}

/// A principal from a secret, and when the secret expires (`None`: only by revocation).
pub async fn authenticate_until(
    db: &impl ConnectionTrait,
    secret: &str,
) -> Result<(Principal, Option<DateTime<Utc>>)> {
    if !secret.starts_with(TOKEN_PREFIX) {
        return Err(Error::Unauthenticated);
    }
    let Some(token) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token_hash(secret)))
        .one(db)
        .await?
    else {
        return Err(Error::Unauthenticated);
    };
    let live = token.revoked_at.is_none() && token.expires_at.is_none_or(|e| e > Utc::now());
    if !live {
        return Err(Error::Unauthenticated);
    }
    let Some(user) = app_user::Entity::find_by_id(token.user_id).one(db).await? else {
        return Err(Error::Unauthenticated);
    };
    if user.disabled {
        return Err(Error::Unauthenticated);
    }
    Ok((principal_of(db, user).await?, token.expires_at))
}

/// The key a secret is remembered under: its hash, so that no secret stays in memory.
pub fn cache_key(secret: &str) -> String {
    token_hash(secret)
}

pub(crate) async fn principal_of(
    db: &impl ConnectionTrait,
    user: app_user::Model,
) -> Result<Principal> {
    let scope = match (user.role, user.unit_id) {
        (Role::Admin, _) | (_, None) => Scope::default(),
        (_, Some(u)) => Scope::of_unit(db, u).await?,
    };
    Ok(Principal {
        user_id: user.id,
        login: user.login,
        role: user.role,
        unit_id: user.unit_id,
        scope,
    })
}

/// Checks a login and password and opens a browser session; returns its secret.
pub async fn login(
    db: &impl ConnectionTrait,
    login: &str,
    password: &str,
) -> Result<(Principal, String)> {
    let user = find_user(db, login).await?;
    // Verify against a dummy hash when the user is unknown, so timing does not reveal logins.
    let hash = user
        .as_ref()
        .map_or(DUMMY_HASH, |u| u.password_hash.as_str());
    let ok = verify_password(password, hash);
    match user {
        Some(u) if ok && !u.disabled => {
            let (_, secret) = create_token(
                db,
                u.id,
                "session",
                None,
                Some(Duration::hours(SESSION_HOURS)),
            )
            .await?;
            Ok((principal_of(db, u).await?, secret))
        }
        _ => Err(Error::Unauthenticated),
    }
}

/// Ends the session or revokes the token whose secret is presented.
pub async fn logout(db: &impl ConnectionTrait, secret: &str) -> Result<()> {
    if let Some(t) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token_hash(secret)))
        .one(db)
        .await?
    {
        let mut am: api_token::ActiveModel = t.into();
        am.revoked_at = Set(Some(Utc::now()));
        am.update(db).await?;
    }
    Ok(())
}

const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8qvDjNVaPpHBO4Z2bPEyYkWGAc3ZbVJ9c8u4Pfr7w7c";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_verifies_and_rejects() {
        let h = hash_password("mật khẩu dài").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("mật khẩu dài", &h));
        assert!(!verify_password("mat khau dai", &h));
        assert!(!verify_password("x", DUMMY_HASH));
    }

    #[test]
    fn secrets_are_prefixed_random_and_hashed() {
        let (a, b) = (random_secret(), random_secret());
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == 3 + 64);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn generated_passwords_are_long_enough() {
        let p = generate_password();
        assert_eq!(p.chars().count(), 16);
    }
}
