//! The domain: incidents, countries and regions, and the rules their input must follow.

pub mod actors;
pub mod country;
pub mod example;
pub mod history;
pub mod incident;
pub mod json;
pub mod validate;
pub mod wire;
