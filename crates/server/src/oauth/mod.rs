//! The OAuth 2.0 and OpenID Connect endpoints clients call: one file each.

pub mod device_authorization;
pub mod dpop;
pub mod introspect;
pub mod metadata;
pub mod par;
pub mod protected_resource;
pub mod register;
pub mod token;
pub mod userinfo;
