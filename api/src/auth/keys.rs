//! Signing and verification keys, and the token service built on them.

use super::{Principal, PrincipalKind};
use crate::config::JwtSettings;
use entity::enums::Role;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, Jwk, JwkSet, KeyAlgorithm, OctetKeyPairParameters,
    OctetKeyPairType, PublicKeyUse, RSAKeyParameters, RSAKeyType,
};
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Why the keys could not be set up: one line naming the setting.
#[derive(Debug)]
pub struct KeyError {
    /// The setting at fault.
    pub setting: &'static str,
    /// What is wrong (never the key material).
    pub reason: String,
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "configuration error: {}: {}", self.setting, self.reason)
    }
}

fn key_error(setting: &'static str, reason: impl Into<String>) -> KeyError {
    KeyError {
        setting,
        reason: reason.into(),
    }
}

/// A token that does not verify; which check failed is not told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidToken;

/// The claims of an access token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// Subject: the row id of the user or service account.
    pub sub: String,
    /// `user` or `service`.
    pub kind: PrincipalKind,
    /// Role word.
    pub role: String,
    /// Home unit row id (absent: national).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<i64>,
    /// Agency row id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<i64>,
    /// Scopes of a service account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Token version of the subject when the token was issued.
    pub ver: i32,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Expiry (seconds since the epoch).
    pub exp: u64,
    /// Not before.
    pub nbf: u64,
    /// Issued at.
    pub iat: u64,
    /// Token id.
    pub jti: String,
}

impl Claims {
    /// The principal the claims describe, if they are well formed.
    pub fn principal(&self) -> Option<Principal> {
        use sea_orm::ActiveEnum;
        Some(Principal {
            id: self.sub.parse().ok()?,
            kind: self.kind,
            role: Role::try_from_value(&self.role).ok()?,
            home_unit_id: self.unit,
            agency_id: self.agency,
            scopes: self.scopes.clone(),
        })
    }
}

struct VerifyKey {
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Issues and verifies access tokens.
pub struct TokenService {
    signing: (String, Algorithm, EncodingKey),
    verifying: HashMap<String, VerifyKey>,
    jwks: JwkSet,
    issuer: String,
    audience: String,
    ttl_seconds: u64,
    /// Whether the signing key was generated at start (dev only).
    pub generated: bool,
}

fn read_pem(setting: &'static str, path: &str) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path.trim()).map_err(|e| key_error(setting, format!("cannot read {path}: {e}")))
}

/// The public JWK of a verification key (asymmetric keys only).
fn public_jwk(kid: &str, algorithm: Algorithm, key: &DecodingKey) -> Option<Jwk> {
    let DecodingKeyKind::SecretOrDer(der) = key.kind() else {
        return None;
    };
    let algorithm_parameters = match algorithm {
        Algorithm::RS256 => {
            // PKCS#1 RSAPublicKey: SEQUENCE { modulus INTEGER, publicExponent INTEGER }.
            let blocks = simple_asn1::from_der(der).ok()?;
            let simple_asn1::ASN1Block::Sequence(_, items) = blocks.first()? else {
                return None;
            };
            let int = |i: usize| match items.get(i) {
                Some(simple_asn1::ASN1Block::Integer(_, v)) => Some(v.to_bytes_be().1),
                _ => None,
            };
            AlgorithmParameters::RSA(RSAKeyParameters {
                key_type: RSAKeyType::RSA,
                n: b64(&int(0)?),
                e: b64(&int(1)?),
            })
        }
        Algorithm::EdDSA => AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
            key_type: OctetKeyPairType::OctetKeyPair,
            curve: jsonwebtoken::jwk::EllipticCurve::Ed25519,
            x: b64(der),
        }),
        _ => return None,
    };
    Some(Jwk {
        common: CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_id: Some(kid.to_string()),
            key_algorithm: Some(match algorithm {
                Algorithm::EdDSA => KeyAlgorithm::EdDSA,
                _ => KeyAlgorithm::RS256,
            }),
            ..Default::default()
        },
        algorithm: algorithm_parameters,
    })
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A public key PEM as a verification key: RS256 or EdDSA, whichever it is.
fn public_key(setting: &'static str, pem: &[u8]) -> Result<(Algorithm, DecodingKey), KeyError> {
    if let Ok(k) = DecodingKey::from_rsa_pem(pem) {
        return Ok((Algorithm::RS256, k));
    }
    if let Ok(k) = DecodingKey::from_ed_pem(pem) {
        return Ok((Algorithm::EdDSA, k));
    }
    Err(key_error(
        setting,
        "not an RSA or Ed25519 public key in PEM form",
    ))
}

impl TokenService {
    /// Builds the keys from the settings. Without any key, `dev` generates an HS256 secret
    /// (tokens then end with the process); `prod` refuses.
    pub fn from_settings(s: &JwtSettings, allow_generated: bool) -> Result<Self, KeyError> {
        let mut verifying = HashMap::new();
        let mut jwks = Vec::new();
        let mut generated = false;
        let kid = s.kid.clone().unwrap_or_else(|| "k1".to_string());
        let signing = match (&s.secret, &s.private_key) {
            (Some(_), Some(_)) => {
                return Err(key_error(
                    "JWT_SECRET",
                    "set either JWT_SECRET or JWT_PRIVATE_KEY, not both",
                ));
            }
            (Some(secret), None) => {
                if secret.len() < 32 {
                    return Err(key_error("JWT_SECRET", "must be at least 32 bytes"));
                }
                verifying.insert(
                    kid.clone(),
                    VerifyKey {
                        algorithm: Algorithm::HS256,
                        key: DecodingKey::from_secret(secret.as_bytes()),
                    },
                );
                (
                    kid,
                    Algorithm::HS256,
                    EncodingKey::from_secret(secret.as_bytes()),
                )
            }
            (None, Some(path)) => {
                let pem = read_pem("JWT_PRIVATE_KEY", path)?;
                let (algorithm, key) = match EncodingKey::from_rsa_pem(&pem) {
                    Ok(k) => (Algorithm::RS256, k),
                    Err(_) => match EncodingKey::from_ed_pem(&pem) {
                        Ok(k) => (Algorithm::EdDSA, k),
                        Err(_) => {
                            return Err(key_error(
                                "JWT_PRIVATE_KEY",
                                "not an RSA or Ed25519 private key in PEM form",
                            ));
                        }
                    },
                };
                let mut jwk = Jwk::from_encoding_key(&key, algorithm)
                    .map_err(|_| key_error("JWT_PRIVATE_KEY", "cannot derive its public key"))?;
                jwk.common.key_id = Some(kid.clone());
                jwk.common.public_key_use = Some(PublicKeyUse::Signature);
                let decoding = DecodingKey::from_jwk(&jwk)
                    .map_err(|_| key_error("JWT_PRIVATE_KEY", "cannot derive its public key"))?;
                jwks.push(jwk);
                verifying.insert(
                    kid.clone(),
                    VerifyKey {
                        algorithm,
                        key: decoding,
                    },
                );
                (kid, algorithm, key)
            }
            (None, None) if allow_generated => {
                let mut secret = [0u8; 32];
                getrandom::fill(&mut secret)
                    .map_err(|e| key_error("JWT_SECRET", format!("no randomness: {e}")))?;
                generated = true;
                verifying.insert(
                    kid.clone(),
                    VerifyKey {
                        algorithm: Algorithm::HS256,
                        key: DecodingKey::from_secret(&secret),
                    },
                );
                (kid, Algorithm::HS256, EncodingKey::from_secret(&secret))
            }
            (None, None) => {
                return Err(key_error(
                    "JWT_SECRET",
                    "the prod profile needs a signing key: set JWT_SECRET or JWT_PRIVATE_KEY",
                ));
            }
        };
        // Older public keys that still verify: `kid=path,kid=path`.
        for entry in s.public_keys.iter().flat_map(|v| v.split(',')) {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let (kid, path) = entry
                .split_once('=')
                .ok_or_else(|| key_error("JWT_PUBLIC_KEYS", "expected kid=path entries"))?;
            if verifying.contains_key(kid.trim()) {
                return Err(key_error(
                    "JWT_PUBLIC_KEYS",
                    format!("kid {kid} is used twice"),
                ));
            }
            let pem = read_pem("JWT_PUBLIC_KEYS", path)?;
            let (algorithm, key) = public_key("JWT_PUBLIC_KEYS", &pem)?;
            if let Some(jwk) = public_jwk(kid.trim(), algorithm, &key) {
                jwks.push(jwk);
            }
            verifying.insert(kid.trim().to_string(), VerifyKey { algorithm, key });
        }
        Ok(Self {
            signing,
            verifying,
            jwks: JwkSet { keys: jwks },
            issuer: s.issuer.clone(),
            audience: s.audience.clone(),
            ttl_seconds: s.ttl_seconds,
            generated,
        })
    }

    /// The public keys of the asymmetric keys, for `/.well-known/jwks.json`.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// Access tokens' lifetime in seconds.
    pub fn ttl_seconds(&self) -> u64 {
        self.ttl_seconds
    }

    /// Issues an access token for a principal at a token version.
    pub fn issue(
        &self,
        p: &Principal,
        version: i32,
    ) -> Result<(String, u64), jsonwebtoken::errors::Error> {
        use sea_orm::ActiveEnum;
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: p.id.to_string(),
            kind: p.kind,
            role: p.role.to_value(),
            unit: p.home_unit_id,
            agency: p.agency_id,
            scopes: p.scopes.clone(),
            ver: version,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + self.ttl_seconds,
            nbf: now,
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let (kid, algorithm, key) = &self.signing;
        let mut header = Header::new(*algorithm);
        header.kid = Some(kid.clone());
        Ok((jsonwebtoken::encode(&header, &claims, key)?, claims.exp))
    }

    /// Verifies a token's signature (with the algorithm pinned to its key), expiry, start,
    /// issuer and audience. The error is deliberately uninformative.
    pub fn verify(&self, token: &str) -> Result<Claims, InvalidToken> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| InvalidToken)?;
        let key = match &header.kid {
            Some(kid) => self.verifying.get(kid).ok_or(InvalidToken)?,
            None if self.verifying.len() == 1 => {
                self.verifying.values().next().ok_or(InvalidToken)?
            }
            None => return Err(InvalidToken),
        };
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = 60;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map(|d| d.claims)
            .map_err(|_| InvalidToken)
    }
}
