//! The indicator catalogue: national, so created by managers and admins and changed by
//! national ones only (a province's manager may add an indicator his plans need; changing the
//! meaning of one shared by every province is national work).

use super::{Caller, Trail, audited};
use crate::error::{AppError, AppResult};
use crate::text;
use chrono::Utc;
use entity::enums::{Aggregation, Direction, IndicatorCategory, Role};
use entity::indicator;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    QueryFilter,
};

impl Trail for indicator::Model {
    const KIND: &'static str = "indicator";
    fn row(&self) -> i64 {
        self.id
    }
    fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.code, "name": self.name, "description": self.description,
            "unitOfMeasure": self.unit_of_measure, "category": self.category.to_value(),
            "direction": self.direction.to_value(), "aggregation": self.aggregation.to_value(),
            "disaggregations": allowed_disaggregations(self),
        })
    }
}

/// An indicator's fields; `None` leaves a field as it is (on update).
#[derive(Default)]
pub struct IndicatorFields {
    /// Name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Unit of measure ("%", "tỷ đồng").
    pub unit_of_measure: Option<String>,
    /// Category.
    pub category: Option<IndicatorCategory>,
    /// Whether higher or lower is better.
    pub direction: Option<Direction>,
    /// How lower units' values combine.
    pub aggregation: Option<Aggregation>,
    /// The disaggregations allowed besides `total`: `Some(None)` takes any, `Some(Some(list))`
    /// only those.
    pub disaggregations: Option<Option<Vec<String>>>,
}

/// The most disaggregations an indicator declares.
pub const MAX_DISAGGREGATIONS: usize = 200;

/// The disaggregations an indicator allows besides `total`, in their order; `None` when it
/// declares none and takes any.
pub fn allowed_disaggregations(i: &indicator::Model) -> Option<Vec<String>> {
    i.disaggregations
        .as_deref()
        .map(|s| serde_json::from_str(s).unwrap_or_default())
}

/// A declared list, cleaned (NFC, spaces), without `total` and repeats: its stored JSON.
fn declared(list: Option<Vec<String>>) -> AppResult<Option<String>> {
    let Some(list) = list else { return Ok(None) };
    if list.len() > MAX_DISAGGREGATIONS {
        return Err(AppError::bad_input(
            "disaggregations",
            format!("at most {MAX_DISAGGREGATIONS}"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for d in list {
        let d = text::clean(&d);
        if d.is_empty() || d.chars().count() > 64 {
            return Err(AppError::bad_input(
                "disaggregations",
                "each one 1 to 64 characters (`urban`, `female`)",
            ));
        }
        if d != "total" && !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(Some(
        serde_json::to_string(&out).map_err(|e| AppError::internal(e.to_string()))?,
    ))
}

fn manager_or_admin(caller: &Caller, national: bool) -> AppResult<()> {
    let p = caller.access.require()?;
    let ok = p.kind == crate::auth::PrincipalKind::User
        && matches!(p.role, Role::Manager | Role::Admin)
        && (!national || p.home_unit_id.is_none());
    if ok {
        Ok(())
    } else if national {
        Err(AppError::Forbidden(
            "only national managers and admins change an indicator".into(),
        ))
    } else {
        Err(AppError::Forbidden(
            "only managers and admins add indicators".into(),
        ))
    }
}

fn valid_code(code: &str) -> bool {
    (2..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && code.as_bytes()[0].is_ascii_uppercase()
}

/// `createIndicator`.
pub async fn create(
    db: &DatabaseConnection,
    caller: &Caller,
    code: &str,
    f: IndicatorFields,
) -> AppResult<indicator::Model> {
    manager_or_admin(caller, false)?;
    let code = code.trim().to_string();
    if !valid_code(&code) {
        return Err(AppError::bad_input(
            "code",
            "upper-case ASCII letters, digits and _, starting with a letter (GRDP_GROWTH)",
        ));
    }
    let name = text::clean(f.name.as_deref().unwrap_or_default());
    if name.is_empty() {
        return Err(AppError::bad_input("name", "must not be empty"));
    }
    let unit = text::clean(f.unit_of_measure.as_deref().unwrap_or_default());
    if unit.is_empty() {
        return Err(AppError::bad_input("unitOfMeasure", "must not be empty"));
    }
    let disaggregations = declared(f.disaggregations.clone().flatten())?;
    if indicator::Entity::find()
        .filter(indicator::Column::Code.eq(code.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!("indicator {code} exists")));
    }
    audited(db, caller, "indicator.create", None, async |txn| {
        Ok(indicator::ActiveModel {
            search_key: Set(text::fold(&format!("{code} {name}"))),
            code: Set(code.clone()),
            name: Set(name.clone()),
            description: Set(f
                .description
                .as_deref()
                .map(text::clean)
                .filter(|d| !d.is_empty())),
            unit_of_measure: Set(unit.clone()),
            category: Set(f.category.unwrap_or(IndicatorCategory::Economy)),
            direction: Set(f.direction.unwrap_or(Direction::HigherIsBetter)),
            aggregation: Set(f.aggregation.unwrap_or(Aggregation::None)),
            disaggregations: Set(disaggregations.clone()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(txn)
        .await?)
    })
    .await
}

/// `updateIndicator` (national managers and admins).
pub async fn update(
    db: &DatabaseConnection,
    caller: &Caller,
    code: &str,
    f: IndicatorFields,
) -> AppResult<indicator::Model> {
    manager_or_admin(caller, true)?;
    let old = indicator::Entity::find()
        .filter(indicator::Column::Code.eq(code.trim()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no indicator {code}")))?;
    let before = old.snapshot();
    audited(db, caller, "indicator.update", Some(before), async |txn| {
        let mut m = old.clone().into_active_model();
        let name = f
            .name
            .as_deref()
            .map(text::clean)
            .unwrap_or(old.name.clone());
        if name.is_empty() {
            return Err(AppError::bad_input("name", "must not be empty"));
        }
        m.search_key = Set(text::fold(&format!("{} {name}", old.code)));
        m.name = Set(name);
        if let Some(d) = &f.description {
            m.description = Set(Some(text::clean(d)).filter(|d| !d.is_empty()));
        }
        if let Some(u) = &f.unit_of_measure {
            let u = text::clean(u);
            if u.is_empty() {
                return Err(AppError::bad_input("unitOfMeasure", "must not be empty"));
            }
            m.unit_of_measure = Set(u);
        }
        if let Some(c) = f.category {
            m.category = Set(c);
        }
        if let Some(d) = f.direction {
            m.direction = Set(d);
        }
        if let Some(a) = f.aggregation {
            m.aggregation = Set(a);
        }
        if let Some(list) = f.disaggregations.clone() {
            let stored = declared(list)?;
            if let Some(json) = &stored {
                let keep: Vec<String> = serde_json::from_str(json).unwrap_or_default();
                in_use_elsewhere(txn, &old, &keep).await?;
            }
            m.disaggregations = Set(stored);
        }
        Ok(m.update(txn).await?)
    })
    .await
}

/// Refuses a list that leaves out a disaggregation stored values of `ind` use.
async fn in_use_elsewhere(
    txn: &sea_orm::DatabaseTransaction,
    ind: &indicator::Model,
    keep: &[String],
) -> AppResult<()> {
    use entity::indicator_value as iv;
    use sea_orm::QuerySelect;
    let used: Option<String> = iv::Entity::find()
        .select_only()
        .column(iv::Column::Disaggregation)
        .filter(iv::Column::IndicatorId.eq(ind.id))
        .filter(iv::Column::Deleted.eq(false))
        .filter(iv::Column::Disaggregation.ne("total"))
        .filter(iv::Column::Disaggregation.is_not_in(keep.iter().map(String::as_str)))
        .limit(1)
        .into_tuple()
        .one(txn)
        .await?;
    match used {
        Some(d) => Err(AppError::bad_input(
            "disaggregations",
            format!(
                "values of {} use `{d}`: keep it in the list, or delete those values first",
                ind.code
            ),
        )),
        None => Ok(()),
    }
}
