//! The audit trail: one `audit_event` row per write, in the write's own transaction.

use crate::auth::{Principal, PrincipalKind};
use crate::error::AppResult;
use chrono::Utc;
use entity::audit_event;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ConnectionTrait};

/// Who did it, for the trail.
#[derive(Clone, Debug)]
pub struct Actor {
    /// `user:<id>`, `service:<id>` or `cli`.
    pub name: String,
    /// The user's id, when a user acted.
    pub user_id: Option<i64>,
    /// The request id, when it came through the API.
    pub request_id: Option<String>,
}

impl Actor {
    /// The operator at the command line.
    pub fn cli() -> Self {
        Self {
            name: "cli".into(),
            user_id: None,
            request_id: None,
        }
    }

    /// A principal acting through a request.
    pub fn of(p: &Principal, request_id: Option<String>) -> Self {
        let (name, user_id) = match p.kind {
            PrincipalKind::User => (format!("user:{}", p.id), Some(p.id)),
            PrincipalKind::Service => (format!("service:{}", p.id), None),
        };
        Self {
            name,
            user_id,
            request_id,
        }
    }
}

/// Records one write. `before` and `after` are JSON snapshots without secrets.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    action: &str,
    entity_type: &str,
    entity_id: i64,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> AppResult<()> {
    audit_event::ActiveModel {
        at: Set(Utc::now()),
        actor: Set(actor.name.clone()),
        actor_user_id: Set(actor.user_id),
        action: Set(action.to_string()),
        entity_type: Set(entity_type.to_string()),
        entity_id: Set(entity_id.to_string()),
        before: Set(before.map(|v| v.to_string())),
        after: Set(after.map(|v| v.to_string())),
        request_id: Set(actor.request_id.clone()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// One page of the trail of an entity, oldest first.
pub async fn page(
    db: &sea_orm::DatabaseConnection,
    entity_type: &str,
    entity_id: i64,
    page: &super::page::PageRequest,
) -> AppResult<(super::page::Rows<audit_event::Model>, super::page::Total)> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let select = audit_event::Entity::find()
        .filter(audit_event::Column::EntityType.eq(entity_type))
        .filter(audit_event::Column::EntityId.eq(entity_id.to_string()));
    let rows = super::page::fetch(
        db,
        select.clone(),
        &super::page::ById(audit_event::Column::Id),
        page,
    )
    .await?;
    Ok((rows, super::page::Total::count_of(db, select)))
}

/// The latest snapshot the trail holds of an entity (for one that no longer exists).
pub async fn last_snapshot<C: ConnectionTrait>(
    db: &C,
    entity_type: &str,
    entity_id: i64,
) -> AppResult<Option<serde_json::Value>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let row = audit_event::Entity::find()
        .filter(audit_event::Column::EntityType.eq(entity_type))
        .filter(audit_event::Column::EntityId.eq(entity_id.to_string()))
        .order_by_desc(audit_event::Column::Id)
        .one(db)
        .await?;
    Ok(row
        .and_then(|r| r.after.or(r.before))
        .and_then(|t| serde_json::from_str(&t).ok()))
}

/// Whether `actor` wrote anything since `since` (an indexed probe of the primary).
pub async fn wrote_since<C: ConnectionTrait>(
    db: &C,
    actor: &str,
    since: chrono::DateTime<Utc>,
) -> AppResult<bool> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    Ok(audit_event::Entity::find()
        .select_only()
        .column(audit_event::Column::Id)
        .filter(audit_event::Column::Actor.eq(actor))
        .filter(audit_event::Column::At.gt(since))
        .limit(1)
        .into_tuple::<i64>()
        .one(db)
        .await?
        .is_some())
}
