//! sea-orm entities of the regional data platform.
//!
//! These types are the storage model only: the GraphQL layer in `api` maps them to its own types
//! and never exposes them. Enumerations are stored as short upper-case words on both backends.

pub mod decimal;
pub mod enums;

pub mod admin_unit;
pub mod admin_unit_lineage;
pub mod agency;
pub mod app_user;
pub mod assignment;
pub mod assignment_coordinator;
pub mod assignment_target;
pub mod audit_event;
pub mod change_counter;
pub mod idempotency_record;
pub mod indicator;
pub mod indicator_value;
pub mod indicator_value_change;
pub mod indicator_value_revision;
pub mod login_throttle;
pub mod plan;
pub mod plan_addressee;
pub mod plan_basis;
pub mod progress_report;
pub mod refresh_token;
pub mod reporting_duty;
pub mod service_account;
pub mod target;
pub mod unit_province;
pub mod unit_scope;

pub use decimal::DecimalText;
