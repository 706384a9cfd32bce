//! Services: queries and transactions over the storage model. They take any connection
//! (`ConnectionTrait`) so that a caller can run several in one transaction.

pub mod achievement;
pub mod agencies;
pub mod audit;
pub mod idempotency;
pub mod page;
pub mod plan_import;
pub mod plan_writes;
pub mod plans;
pub mod rows;
pub mod scope;
pub mod service_accounts;
pub mod sql;
pub mod targets;
pub mod unit_files;
pub mod unit_import;
pub mod unit_search;
pub mod unit_snapshot;
pub mod units;
pub mod users;
pub mod validity;
pub mod value_aggregate;
pub mod value_export;
pub mod value_stage;
pub mod values;
