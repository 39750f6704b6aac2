//! Integrations: what answers a matched route. `handler` integrations are generated calls into
//! the user's trait (see [`crate::handler`]); the others live here.

pub mod http;
pub mod mock;
