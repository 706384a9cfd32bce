//! The stored rows and enums as the layers above the services see them. GraphQL types wrap
//! these rows (they never become GraphQL types themselves), and nothing above `services`
//! reaches into `entity` or `sea_orm` directly: this facade and [`crate::db::Pool`] are the
//! only names those layers use for storage.

pub use entity::enums;
pub use entity::{
    DecimalText, admin_unit, agency, app_user, assignment, audit_event, indicator, indicator_value,
    indicator_value_revision, plan, progress_report, reporting_duty, service_account, target,
};
