//! The pages people read: sign-in and consent, the device code pages, logout. They answer in
//! the reader's language and fail with the error page (`PageError`).

pub mod authorize;
pub mod device;
pub mod initiate_login;
pub mod logout;
pub mod passkey;
pub mod second_factor;
pub mod session;
pub mod upstream;
