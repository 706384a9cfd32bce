//! The access matrix (issue 4): one table of who × where × what, every case asserting allow or
//! deny with its code, over real HTTP. The expectations are written here from DESIGN.md's
//! "Access control" table, independently of the server's policy module. Later issues add their
//! writes to `Op` and `expected`.

use crate::common::TestApp;
use api::auth::{Principal, PrincipalKind, TokenService};
use api::services::units;
use chrono::{NaiveDate, Utc};
use entity::enums::{AssignmentStatus, PlanKind, PlanStatus, ReportStatus, Role, Visibility};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait};
use serde_json::{Value, json};
use std::collections::HashMap;

const SECRET: &str = "an-access-matrix-test-secret-of-32-bytes";

/// Who asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    User(Role),
    Service,
}

/// The principal's home level (there are no district users).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Home {
    National,
    Province,
    Commune,
}

/// Where the object sits, seen from the principal's home.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Own,
    Child,
    Parent,
    Sibling,
    OtherProvince,
    HistoricalWhole,
    HistoricalPart,
}

/// What is asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    ReadUnit,
    ReadAgency,
    ReadPublicPlan,
    ReadDraftPlan,
    ReadIssuedInternalPlan,
    ReadProgressReport,
    ReadUser,
    ReadServiceAccount,
    CreateUser,
    UpdateUser,
    DeactivateUser,
    CreateServiceAccount,
    RevokeServiceAccount,
    CreateAgency,
    UpdateAgency,
    CreatePlan,
    AddTarget,
    SubmitProgressReport,
    ReviewProgressReport,
    ReadAuditTrail,
    ReadPublishedValue,
    ReadSubmittedValue,
    SubmitValue,
    ApproveValue,
}

const OPS: [Op; 24] = [
    Op::ReadUnit,
    Op::ReadAgency,
    Op::ReadPublicPlan,
    Op::ReadDraftPlan,
    Op::ReadIssuedInternalPlan,
    Op::ReadProgressReport,
    Op::ReadUser,
    Op::ReadServiceAccount,
    Op::CreateUser,
    Op::UpdateUser,
    Op::DeactivateUser,
    Op::CreateServiceAccount,
    Op::RevokeServiceAccount,
    Op::CreateAgency,
    Op::UpdateAgency,
    Op::CreatePlan,
    Op::AddTarget,
    Op::SubmitProgressReport,
    Op::ReviewProgressReport,
    Op::ReadAuditTrail,
    Op::ReadPublishedValue,
    Op::ReadSubmittedValue,
    Op::SubmitValue,
    Op::ApproveValue,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Allow,
    Unauthenticated,
    Forbidden,
}

/// A unit of the demo area: a code on a day (none: national).
type UnitRef = Option<(&'static str, &'static str)>;

const TODAY: &str = "today";
const Y2024: &str = "2024-06-01";

/// The table of places: which unit each place is, for each home. `None`: no such place.
fn unit_at(home: Home, place: Place) -> Option<UnitRef> {
    use Place::*;
    match (home, place) {
        (Home::National, Own) => Some(None),
        (Home::National, Child) => Some(Some(("79", TODAY))),
        (Home::National, HistoricalWhole) => Some(Some(("27034", Y2024))),
        (Home::National, HistoricalPart) => Some(Some(("27022", Y2024))),
        (Home::National, _) => None,
        (Home::Province, Own) => Some(Some(("79", TODAY))),
        (Home::Province, Child) => Some(Some(("27559", TODAY))),
        (Home::Province, Parent) => Some(None),
        (Home::Province, Sibling) => Some(Some(("01", TODAY))),
        (Home::Province, OtherProvince) => Some(Some(("82", TODAY))),
        // Xã Tân Hiệp merged whole into Xã Hóc Môn; Phường Linh Trung split between two
        // wards, both of HCMC.
        (Home::Province, HistoricalWhole) => Some(Some(("27562", Y2024))),
        (Home::Province, HistoricalPart) => Some(Some(("26818", Y2024))),
        (Home::Commune, Own) => Some(Some(("27031", TODAY))),
        (Home::Commune, Child) => None,
        (Home::Commune, Parent) => Some(Some(("79", TODAY))),
        (Home::Commune, Sibling) => Some(Some(("27559", TODAY))),
        (Home::Commune, OtherProvince) => Some(Some(("30037", TODAY))),
        // Phường Tân Thành merged whole into Phường Tân Phú; Phường Phú Thọ Hòa went to three
        // wards, Tân Phú among them.
        (Home::Commune, HistoricalWhole) => Some(Some(("27034", Y2024))),
        (Home::Commune, HistoricalPart) => Some(Some(("27022", Y2024))),
    }
}

const PLACES: [Place; 7] = [
    Place::Own,
    Place::Child,
    Place::Parent,
    Place::Sibling,
    Place::OtherProvince,
    Place::HistoricalWhole,
    Place::HistoricalPart,
];

/// DESIGN.md's table, written out: the expected outcome of one case.
fn expected(who: Who, home: Home, place: Place, op: Op) -> Outcome {
    let in_scope = home == Home::National
        || matches!(
            place,
            Place::Own | Place::Child | Place::HistoricalWhole | Place::HistoricalPart
        );
    let historical = matches!(place, Place::HistoricalWhole | Place::HistoricalPart);
    let deny = match who {
        Who::Anonymous => Outcome::Unauthenticated,
        _ => Outcome::Forbidden,
    };
    let allow_if = |ok: bool| if ok { Outcome::Allow } else { deny };
    // The service accounts of the matrix hold `plans:read` and `values:read`.
    let reads_scope = who != Who::Anonymous;
    let admin = who == Who::User(Role::Admin);
    match op {
        Op::ReadUnit | Op::ReadAgency | Op::ReadPublicPlan => Outcome::Allow,
        Op::ReadDraftPlan | Op::ReadProgressReport => allow_if(reads_scope && in_scope),
        // Issued plans of the units above: what the home unit implements.
        Op::ReadIssuedInternalPlan => allow_if(
            reads_scope && (in_scope || (place == Place::Parent && home != Home::National)),
        ),
        Op::ReadUser | Op::ReadServiceAccount => allow_if(admin && in_scope),
        // Historical units are read-only: nothing new there, no edits of what they hold…
        Op::CreateUser
        | Op::CreateServiceAccount
        | Op::CreateAgency
        | Op::UpdateUser
        | Op::UpdateAgency => allow_if(admin && in_scope && !historical),
        // …but an admin may wind down what they hold.
        Op::DeactivateUser | Op::RevokeServiceAccount => allow_if(admin && in_scope),
        // Plans are written by a manager of their own unit (national managers and admins:
        // anywhere), never at historical units.
        Op::CreatePlan | Op::AddTarget => allow_if(
            !historical
                && match (who, home) {
                    (Who::User(Role::Manager | Role::Admin), Home::National) => true,
                    (Who::User(Role::Manager), _) => place == Place::Own,
                    _ => false,
                },
        ),
        // Progress on a task led by an agency of the caller's scope: reporters and managers
        // (and national admins); late reports for historical units too.
        Op::SubmitProgressReport => allow_if(match (who, home) {
            (Who::User(Role::Admin), Home::National) => true,
            (Who::User(Role::Reporter | Role::Manager), _) => in_scope,
            _ => false,
        }),
        // Reviews by a manager of the issuing unit (national managers and admins: any).
        Op::ReviewProgressReport => allow_if(match (who, home) {
            (Who::User(Role::Manager | Role::Admin), Home::National) => true,
            (Who::User(Role::Manager), _) => place == Place::Own,
            _ => false,
        }),
        // Values: published ones for anyone; the others in the scope of users and of service
        // accounts with `values:read` (the matrix's have it).
        Op::ReadPublishedValue => Outcome::Allow,
        Op::ReadSubmittedValue => allow_if(reads_scope && in_scope),
        // Reporters and managers submit for their scope, late figures for historical units
        // included; national admins too; the matrix's service accounts lack `values:write`.
        Op::SubmitValue => allow_if(match (who, home) {
            (Who::User(Role::Admin), Home::National) => true,
            (Who::User(Role::Reporter | Role::Manager), _) => in_scope,
            _ => false,
        }),
        // Managers review the values of units strictly below their own (national ones: all).
        Op::ApproveValue => allow_if(match (who, home) {
            (Who::User(Role::Manager | Role::Admin), Home::National) => true,
            (Who::User(Role::Manager), _) => in_scope && place != Place::Own,
            _ => false,
        }),
        // The trail: managers and admins whose scope holds the entity.
        Op::ReadAuditTrail => {
            allow_if(matches!(who, Who::User(Role::Manager | Role::Admin)) && in_scope)
        }
    }
}

/// Whether an operation has an object at a national place (no unit): only accounts do.
fn exists_nationally(op: Op) -> bool {
    matches!(
        op,
        Op::ReadUser
            | Op::ReadServiceAccount
            | Op::CreateUser
            | Op::UpdateUser
            | Op::DeactivateUser
            | Op::CreateServiceAccount
            | Op::RevokeServiceAccount
    )
}

/// The objects placed at one unit.
#[derive(Default, Clone)]
struct Objects {
    unit: Option<String>,
    agency: Option<String>,
    public_plan: Option<String>,
    draft_plan: Option<String>,
    issued_internal_plan: Option<String>,
    report: Option<String>,
    task: Option<String>,
    published_value: Option<String>,
    submitted_value: Option<String>,
    value_period: &'static str,
    unit_code: Option<String>,
    indicator_code: String,
    user: String,
    service_account: String,
}

fn gid(kind: &str, id: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"))
}

async fn resolve(db: &DatabaseConnection, unit: UnitRef) -> Option<entity::admin_unit::Model> {
    let (code, day) = unit?;
    let day = if day == TODAY {
        api::clock::today()
    } else {
        day.parse::<NaiveDate>().unwrap()
    };
    Some(
        units::by_code(db, code, day, None)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no unit {code} on {day}")),
    )
}

async fn plan(
    db: &DatabaseConnection,
    unit: i64,
    title: &str,
    status: PlanStatus,
    visibility: Visibility,
) -> entity::plan::Model {
    let now = Utc::now();
    entity::plan::ActiveModel {
        kind: Set(PlanKind::Plan),
        title: Set(title.into()),
        admin_unit_id: Set(unit),
        status: Set(status),
        visibility: Set(visibility),
        version: Set(1),
        search_key: Set(api::text::fold(title)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
}

/// Places the test objects at a unit (none: national: only accounts).
async fn place_objects(db: &DatabaseConnection, unit: UnitRef, n: usize) -> Objects {
    let now = Utc::now();
    let row = resolve(db, unit).await;
    let user = crate::common::insert_user(
        db,
        format!("placed.user.{n}"),
        Role::Viewer,
        row.as_ref().map(|u| u.id),
    )
    .await;
    let account = entity::service_account::ActiveModel {
        name: Set(format!("placed-account-{n}")),
        secret_hash: Set("not-a-hash".into()),
        scopes: Set("values:read".into()),
        home_unit_id: Set(row.as_ref().map(|u| u.id)),
        token_version: Set(0),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let mut objects = Objects {
        user: gid("User", user.id),
        service_account: gid("ServiceAccount", account.id),
        ..Default::default()
    };
    let Some(u) = row else {
        return objects;
    };
    let agency = entity::agency::ActiveModel {
        name: Set(format!("Văn phòng thử {n}")),
        kind: Set("OFFICE".into()),
        admin_unit_id: Set(u.id),
        search_key: Set(format!("van phong thu {n}")),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let public = plan(
        db,
        u.id,
        "Kế hoạch công khai",
        PlanStatus::Issued,
        Visibility::Public,
    )
    .await;
    let draft = plan(
        db,
        u.id,
        "Dự thảo nội bộ",
        PlanStatus::Draft,
        Visibility::Internal,
    )
    .await;
    let internal = plan(
        db,
        u.id,
        "Kế hoạch nội bộ",
        PlanStatus::Issued,
        Visibility::Internal,
    )
    .await;
    let task = entity::assignment::ActiveModel {
        plan_id: Set(public.id),
        position: Set(1),
        title: Set("Nhiệm vụ".into()),
        lead_agency_id: Set(agency.id),
        status: Set(AssignmentStatus::InProgress),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let report = entity::progress_report::ActiveModel {
        assignment_id: Set(Some(task.id)),
        period: Set("2025Q3".into()),
        status: Set(ReportStatus::Submitted),
        percent_complete: Set(Some(40)),
        narrative: Set(Some("Nội bộ: đang triển khai".into())),
        reported_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    objects.unit = Some(gid("AdminUnit", u.id));
    objects.agency = Some(gid("Agency", agency.id));
    objects.public_plan = Some(gid("Plan", public.id));
    objects.draft_plan = Some(gid("Plan", draft.id));
    objects.issued_internal_plan = Some(gid("Plan", internal.id));
    objects.report = Some(gid("ProgressReport", report.id));
    objects.task = Some(gid("Assignment", task.id));
    // Values: a period whose end the unit was valid at.
    let period = if u.valid_to.is_some() { "2024" } else { "2025" };
    let ind = entity::indicator::Entity::find()
        .one(db)
        .await
        .unwrap()
        .expect("the demo has indicators");
    let value = |status: entity::enums::ValueStatus, disaggregation: &str| {
        entity::indicator_value::ActiveModel {
            indicator_id: Set(ind.id),
            admin_unit_id: Set(u.id),
            period: Set(period.into()),
            disaggregation: Set(disaggregation.into()),
            value: Set(Some(entity::DecimalText::new(rust_decimal::Decimal::new(
                65, 1,
            )))),
            status: Set(status),
            version: Set(1),
            deleted: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
    };
    let published = value(entity::enums::ValueStatus::Published, "total")
        .insert(db)
        .await
        .unwrap();
    let submitted = value(entity::enums::ValueStatus::Submitted, "urban")
        .insert(db)
        .await
        .unwrap();
    objects.published_value = Some(gid("IndicatorValue", published.id));
    objects.submitted_value = Some(gid("IndicatorValue", submitted.id));
    objects.value_period = period;
    objects.unit_code = Some(u.code.clone());
    objects.indicator_code = ind.code.clone();
    objects
}

/// A principal of the matrix, with its token.
async fn principal(app: &TestApp, tokens: &TokenService, who: Who, home: Home) -> Option<String> {
    let unit = match home {
        Home::National => None,
        Home::Province => resolve(&app.db, Some(("79", TODAY))).await,
        Home::Commune => resolve(&app.db, Some(("27031", TODAY))).await,
    };
    let now = Utc::now();
    let p = match who {
        Who::Anonymous => return None,
        Who::User(role) => {
            let user = crate::common::insert_user(
                &app.db,
                format!("matrix.{role:?}.{home:?}").to_lowercase(),
                role,
                unit.as_ref().map(|u| u.id),
            )
            .await;
            Principal {
                id: user.id,
                kind: PrincipalKind::User,
                role,
                home_unit_id: user.home_unit_id,
                agency_id: None,
                scopes: Vec::new(),
            }
        }
        Who::Service => {
            let account = entity::service_account::ActiveModel {
                name: Set(format!("matrix-service-{home:?}").to_lowercase()),
                secret_hash: Set("not-a-hash".into()),
                scopes: Set("plans:read values:read".into()),
                home_unit_id: Set(unit.as_ref().map(|u| u.id)),
                token_version: Set(0),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&app.db)
            .await
            .unwrap();
            api::services::service_accounts::principal_of(&account)
        }
    };
    Some(tokens.issue(&p, 0).unwrap().0)
}

const NODE: &str = "query($id: ID!) { node(id: $id) { id } }";

/// The current version of the draft plan at a place (writes of earlier cases moved it).
async fn draft_version(db: &DatabaseConnection, o: &Objects) -> i32 {
    let Some(id) = &o.draft_plan else { return 1 };
    let id = decode_gid(id);
    entity::plan::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .version
}

fn decode_gid(id: &str) -> i64 {
    use base64::Engine;
    let text = String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(id)
            .unwrap(),
    )
    .unwrap();
    text.rsplit(':').next().unwrap().parse().unwrap()
}

/// A fresh submitted value at the place (each approval case its own).
async fn fresh_value(db: &DatabaseConnection, o: &Objects, n: usize) -> Option<String> {
    let model =
        entity::indicator_value::Entity::find_by_id(decode_gid(o.submitted_value.as_ref()?))
            .one(db)
            .await
            .unwrap()
            .unwrap();
    let now = Utc::now();
    let v = entity::indicator_value::ActiveModel {
        indicator_id: Set(model.indicator_id),
        admin_unit_id: Set(model.admin_unit_id),
        period: Set(model.period.clone()),
        disaggregation: Set(format!("case-{n}")),
        value: Set(model.value.clone()),
        status: Set(entity::enums::ValueStatus::Submitted),
        version: Set(1),
        deleted: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    Some(gid("IndicatorValue", v.id))
}

/// A fresh submitted report on the task placed with a report (each review case its own).
async fn fresh_report(db: &DatabaseConnection, o: &Objects) -> Option<String> {
    let report = decode_gid(o.report.as_ref()?);
    let task = entity::progress_report::Entity::find_by_id(report)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .assignment_id;
    let r = entity::progress_report::ActiveModel {
        assignment_id: Set(task),
        period: Set("2025Q4".into()),
        status: Set(ReportStatus::Submitted),
        percent_complete: Set(Some(60)),
        reported_at: Set(Utc::now()),
        version: Set(1),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    Some(gid("ProgressReport", r.id))
}

/// The request of one case; `None` when the object does not exist at that place. `version`:
/// the draft plan's current version; `fresh`: a report not reviewed yet.
fn request(
    op: Op,
    o: &Objects,
    unit: Option<&str>,
    n: usize,
    version: i32,
    fresh: Option<&str>,
) -> Option<(&'static str, Value)> {
    let read = |id: &Option<String>| id.as_ref().map(|id| (NODE, json!({"id": id})));
    match op {
        Op::ReadUnit => read(&o.unit),
        Op::ReadAgency => read(&o.agency),
        Op::ReadPublicPlan => read(&o.public_plan),
        Op::ReadDraftPlan => read(&o.draft_plan),
        Op::ReadIssuedInternalPlan => read(&o.issued_internal_plan),
        Op::ReadProgressReport => read(&o.report),
        Op::ReadUser => Some((NODE, json!({"id": o.user}))),
        Op::ReadServiceAccount => Some((NODE, json!({"id": o.service_account}))),
        Op::CreateUser => Some((
            "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }",
            json!({"i": {"username": format!("created.{n}"), "password": "a-long-initial-password",
                         "role": "VIEWER", "homeUnitId": unit}}),
        )),
        Op::UpdateUser => Some((
            "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { id } } }",
            json!({"i": {"id": o.user, "displayName": format!("Đổi tên {n}")}}),
        )),
        Op::DeactivateUser => Some((
            "mutation($i: DeactivateUserInput!) { deactivateUser(input: $i) { user { id } } }",
            json!({"i": {"id": o.user}}),
        )),
        Op::CreateServiceAccount => Some((
            "mutation($i: CreateServiceAccountInput!) { createServiceAccount(input: $i) { serviceAccount { id } secret } }",
            json!({"i": {"name": format!("created-{n}"), "scopes": ["values:read"], "homeUnitId": unit}}),
        )),
        Op::RevokeServiceAccount => Some((
            "mutation($i: RevokeServiceAccountInput!) { revokeServiceAccount(input: $i) { serviceAccount { id } } }",
            json!({"i": {"id": o.service_account}}),
        )),
        Op::CreateAgency => unit.map(|u| {
            (
                "mutation($i: CreateAgencyInput!) { createAgency(input: $i) { agency { id } } }",
                json!({"i": {"name": format!("Phòng mới {n}"), "kind": "OFFICE", "unitId": u}}),
            )
        }),
        Op::UpdateAgency => o.agency.as_ref().map(|a| {
            (
                "mutation($i: UpdateAgencyInput!) { updateAgency(input: $i) { agency { id } } }",
                json!({"i": {"id": a, "shortName": format!("P{n}")}}),
            )
        }),
        Op::CreatePlan => unit.map(|u| {
            (
                "mutation($i: CreatePlanInput!) { createPlan(input: $i) { plan { id } } }",
                json!({"i": {"kind": "PLAN", "title": format!("Kế hoạch {n}"), "unitId": u}}),
            )
        }),
        Op::AddTarget => o.draft_plan.as_ref().map(|p| {
            (
                "mutation($i: AddTargetInput!) { addTarget(input: $i) { target { id } } }",
                json!({"i": {"planId": p, "expectedVersion": version,
                             "terms": {"wording": format!("Chỉ tiêu {n}")}}}),
            )
        }),
        Op::SubmitProgressReport => o.task.as_ref().map(|t| {
            (
                "mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) { progressReport { id } } }",
                json!({"i": {"assignmentId": t, "period": "2025Q4", "percentComplete": 50}}),
            )
        }),
        Op::ReviewProgressReport => fresh.map(|r| {
            (
                "mutation($i: ReviewProgressReportInput!) { reviewProgressReport(input: $i) { progressReport { id } } }",
                json!({"i": {"id": r, "expectedVersion": 1, "decision": "ACCEPT"}}),
            )
        }),
        Op::ReadPublishedValue => read(&o.published_value),
        Op::ReadSubmittedValue => read(&o.submitted_value),
        Op::SubmitValue => o.unit_code.as_ref().map(|u| {
            (
                "mutation($i: SubmitIndicatorValuesInput!) { submitIndicatorValues(input: $i) { created updated } }",
                json!({"i": {"values": [{"indicatorCode": o.indicator_code, "unitCode": u,
                    "period": o.value_period, "disaggregation": format!("sub-{n}"), "value": "7"}]}}),
            )
        }),
        Op::ApproveValue => fresh.map(|v| {
            (
                "mutation($i: IndicatorValueIdsInput!) { approveIndicatorValues(input: $i) { values { id } } }",
                json!({"i": {"ids": [v]}}),
            )
        }),
        Op::ReadAuditTrail => o.public_plan.as_ref().map(|p| {
            (
                "query($id: ID!) { auditEvents(entityType: PLAN, entityId: $id) { totalCount } }",
                json!({"id": p}),
            )
        }),
    }
}

fn outcome_of(body: &Value) -> Result<Outcome, String> {
    match body.get("errors").and_then(|e| e.as_array()) {
        None => Ok(Outcome::Allow),
        Some(errors) => match errors[0]["extensions"]["code"].as_str() {
            Some("UNAUTHENTICATED") => Ok(Outcome::Unauthenticated),
            Some("FORBIDDEN") => Ok(Outcome::Forbidden),
            _ => Err(format!("unexpected error: {body}")),
        },
    }
}

#[tokio::test]
async fn the_access_matrix_holds_case_by_case() {
    let app = TestApp::spawn_with_demo(|c| c.jwt.secret = Some(SECRET.into())).await;
    let tokens = TokenService::from_settings(&app.config.jwt, false).unwrap();

    // Objects at every unit any place names.
    let mut placed: HashMap<UnitRef, Objects> = HashMap::new();
    for home in [Home::National, Home::Province, Home::Commune] {
        for place in PLACES {
            if let Some(unit) = unit_at(home, place)
                && !placed.contains_key(&unit)
            {
                let n = placed.len();
                placed.insert(unit, place_objects(&app.db, unit, n).await);
            }
        }
    }

    let mut whos = vec![(Who::Anonymous, Home::Province)];
    for home in [Home::National, Home::Province, Home::Commune] {
        for role in [Role::Viewer, Role::Reporter, Role::Manager, Role::Admin] {
            whos.push((Who::User(role), home));
        }
        whos.push((Who::Service, home));
    }

    let mut cases = 0;
    let mut failures = Vec::new();
    for (who, home) in whos {
        let token = principal(&app, &tokens, who, home).await;
        for place in PLACES {
            let Some(unit) = unit_at(home, place) else {
                continue;
            };
            let objects = &placed[&unit];
            for op in OPS {
                if unit.is_none() && !exists_nationally(op) {
                    continue;
                }
                let version = if op == Op::AddTarget {
                    draft_version(&app.db, objects).await
                } else {
                    1
                };
                let fresh = match op {
                    Op::ReviewProgressReport => fresh_report(&app.db, objects).await,
                    Op::ApproveValue => fresh_value(&app.db, objects, cases).await,
                    _ => None,
                };
                let Some((query, vars)) = request(
                    op,
                    objects,
                    objects.unit.as_deref(),
                    cases,
                    version,
                    fresh.as_deref(),
                ) else {
                    continue;
                };
                cases += 1;
                let want = expected(who, home, place, op);
                let (_, body) = app.gql(token.as_deref(), query, vars).await;
                match outcome_of(&body) {
                    Ok(got) if got == want => {
                        if got == Outcome::Allow && query == NODE {
                            assert!(!body["data"]["node"].is_null(), "{body}");
                        }
                    }
                    Ok(got) => failures.push(format!(
                        "{who:?} at {home:?}, {op:?} at {place:?}: want {want:?}, got {got:?}: {body}"
                    )),
                    Err(e) => failures.push(format!(
                        "{who:?} at {home:?}, {op:?} at {place:?}: {e}"
                    )),
                }
            }
        }
    }
    eprintln!("access matrix: {cases} cases");
    assert!(cases >= 300, "only {cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Issues a token for a user homed at a unit valid today.
async fn user_token(
    app: &TestApp,
    tokens: &TokenService,
    name: &str,
    role: Role,
    code: &'static str,
) -> String {
    let unit = resolve(&app.db, Some((code, TODAY))).await.unwrap();
    let user = crate::common::insert_user(&app.db, name, role, Some(unit.id)).await;
    let p = Principal {
        id: user.id,
        kind: PrincipalKind::User,
        role,
        home_unit_id: Some(unit.id),
        agency_id: None,
        scopes: Vec::new(),
    };
    tokens.issue(&p, 0).unwrap().0
}

#[tokio::test]
async fn nested_queries_do_not_leak_a_sibling_communes_internal_data() {
    let app = TestApp::spawn_with_demo(|c| c.jwt.secret = Some(SECRET.into())).await;
    let tokens = TokenService::from_settings(&app.config.jwt, false).unwrap();
    let hcm = resolve(&app.db, Some(("79", TODAY))).await.unwrap();
    let city = plan(
        &app.db,
        hcm.id,
        "Kế hoạch của Thành phố",
        PlanStatus::Issued,
        Visibility::Public,
    )
    .await;
    // Tân Phú (the viewer's ward) and Xã Hóc Môn (a sibling) each get the same objects.
    let own = place_objects(&app.db, Some(("27031", TODAY)), 1).await;
    let sibling = place_objects(&app.db, Some(("27559", TODAY)), 2).await;
    let parent_of = |id: &str| {
        let row: i64 = {
            use base64::Engine;
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(id)
                .unwrap();
            String::from_utf8(raw)
                .unwrap()
                .split_once(':')
                .unwrap()
                .1
                .parse()
                .unwrap()
        };
        row
    };
    // Both wards' drafts implement the city's plan.
    for draft in [&own.draft_plan, &sibling.draft_plan] {
        let id = parent_of(draft.as_ref().unwrap());
        let mut m: entity::plan::ActiveModel = entity::plan::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .into();
        m.parent_plan_id = Set(Some(city.id));
        m.update(&app.db).await.unwrap();
    }
    let viewer = user_token(&app, &tokens, "tanphu.matrix", Role::Viewer, "27031").await;

    let walk = r#"{ province(code: "79") { communes(first: 500) { edges { node { code plans {
        id title assignments { edges { node { progressReports { narrative } } } } } } } } } }"#;
    let (_, body) = app.gql(Some(&viewer), walk, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let communes: Vec<Value> = body["data"]["province"]["communes"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    let of = |code: &str| {
        communes
            .iter()
            .find(|c| c["code"] == code)
            .unwrap_or_else(|| panic!("{code} in {body}"))["plans"]
            .as_array()
            .unwrap()
            .clone()
    };
    let ids = |plans: &[Value]| -> Vec<String> {
        plans
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect()
    };
    let reports = |plans: &[Value]| -> usize {
        plans
            .iter()
            .flat_map(|p| p["assignments"]["edges"].as_array().unwrap().clone())
            .map(|e| e["node"]["progressReports"].as_array().unwrap().len())
            .sum()
    };
    let mine = of("27031");
    let theirs = of("27559");
    // His own ward: all three plans and the progress report.
    for id in [&own.public_plan, &own.draft_plan, &own.issued_internal_plan] {
        assert!(ids(&mine).contains(id.as_ref().unwrap()), "{mine:?}");
    }
    assert_eq!(reports(&mine), 1);
    // The sibling's: its public plan only, without its internal progress report.
    assert_eq!(ids(&theirs), vec![sibling.public_plan.clone().unwrap()]);
    assert_eq!(reports(&theirs), 0, "{theirs:?}");

    // Through a plan's relations: the city plan lists his draft, not the sibling's.
    let (_, body) = app
        .gql(
            Some(&viewer),
            "query($id: ID!) { plan(id: $id) { implementingPlans { id } } }",
            json!({"id": gid("Plan", city.id)}),
        )
        .await;
    let implementing = body["data"]["plan"]["implementingPlans"].to_string();
    assert!(
        implementing.contains(own.draft_plan.as_ref().unwrap()),
        "{body}"
    );
    assert!(
        !implementing.contains(sibling.draft_plan.as_ref().unwrap()),
        "{body}"
    );

    // Through the list: a page holds only what he may read, and counts only that.
    let (_, body) = app
        .gql(
            Some(&viewer),
            r#"{ plans(first: 500, filter: {unitCode: "27559"}) { totalCount edges { node { id } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["plans"]["totalCount"], 1, "{body}");
    let (_, page) = app
        .gql(
            Some(&viewer),
            "{ plans(first: 2) { edges { node { id status visibility } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        page["data"]["plans"]["edges"].as_array().unwrap().len(),
        2,
        "{page}"
    );
    let (_, all) = app
        .gql(
            Some(&viewer),
            "{ plans(first: 500) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let all = all.to_string();
    assert!(all.contains(own.draft_plan.as_ref().unwrap()));
    assert!(!all.contains(sibling.draft_plan.as_ref().unwrap()));
    assert!(!all.contains(sibling.issued_internal_plan.as_ref().unwrap()));

    // And asked for directly: refused.
    let (_, body) = app
        .gql(Some(&viewer), NODE, json!({"id": sibling.draft_plan}))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    // An anonymous caller walking the same path sees only public documents.
    let (_, body) = app.gql(None, walk, json!({})).await;
    let anon = body.to_string();
    assert!(!anon.contains(own.draft_plan.as_ref().unwrap()));
    assert!(anon.contains(own.public_plan.as_ref().unwrap()));
    let public: Vec<Value> = body["data"]["province"]["communes"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["node"]["plans"].as_array().unwrap().clone())
        .collect();
    assert!(!public.is_empty());
    assert_eq!(reports(&public), 0, "progress reports are internal");
}

#[tokio::test]
async fn scoped_nested_reads_take_a_fixed_number_of_statements() {
    let app = TestApp::spawn_with_demo(|c| c.jwt.secret = Some(SECRET.into())).await;
    let tokens = TokenService::from_settings(&app.config.jwt, false).unwrap();
    for (n, code) in (10..).zip(["27031", "27559", "27019", "27022", "26800"]) {
        place_objects(&app.db, Some((code, TODAY)), n).await;
    }
    let viewer = user_token(&app, &tokens, "scoped.viewer", Role::Viewer, "27031").await;
    let fields = "plans { id parentPlan { id } implementingPlans { id } \
        assignments { edges { node { leadAgency { name } progressReports { narrative } } } } }";
    let count = |query: String| {
        let app = &app;
        let viewer = viewer.clone();
        async move {
            let before = app.statements.get();
            let (_, body) = app.gql(Some(&viewer), &query, json!({})).await;
            assert!(body.get("errors").is_none(), "{body}");
            app.statements.get() - before
        }
    };
    let one = count(format!("{{ commune(code: \"27031\") {{ {fields} }} }}")).await;
    let all = count(format!(
        "{{ province(code: \"79\") {{ communes(first: 500) {{ edges {{ node {{ {fields} }} }} }} }} }}"
    ))
    .await;
    eprintln!("scoped walk: one ward {one} statements, all 24 wards {all}");
    // The scope is read once per request; every relation is one batch whatever the width.
    assert!(all <= one + 8, "one ward {one}, all wards {all}");
}

const CITING: &str = r#"format = 1
[plan]
key = "79.plan.KEY"
kind = "PLAN"
title = "Kế hoạch thử KEY"
unit = "79"
issued_on = "2024-03-01"
issuer = "79.ubnd"
STATUS

[[referenced]]
key = "79.decision.99-qd-ubnd-2024"
kind = "DECISION"
number = "99/QĐ-UBND"
title = "Quyết định chỉ được trích dẫn"
unit = "79"
issued_on = "2024-02-01"
issuer = "79.ubnd"
"#;

#[tokio::test]
async fn a_citation_is_public_only_once_a_public_act_makes_it_and_lateness_is_internal() {
    use api::services::plan_import::import_plan_file;
    let mut app = TestApp::spawn_with_demo(|c| c.jwt.secret = Some(SECRET.into())).await;
    let cited = r#"{ planByNumber(number: "99/QĐ-UBND", unitCode: "79") { status } }"#;
    let internal = CITING
        .replace("KEY", "internal")
        .replace("STATUS", "status = \"DRAFT\"\nvisibility = \"INTERNAL\"");
    import_plan_file(&app.db, &internal).await.unwrap();
    let (_, body) = app.gql(None, cited, json!({})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{body}"
    );
    let public = CITING.replace("KEY", "public").replace("STATUS", "");
    import_plan_file(&app.db, &public).await.unwrap();
    let (_, body) = app.gql(None, cited, json!({})).await;
    assert_eq!(
        body["data"]["planByNumber"]["status"], "REFERENCED",
        "{body}"
    );

    // Lateness is read from progress reports, which are internal. (Tân Phú's six-month report
    // is one duty per ward: 11.)
    let late = r#"{ lateReportingDuties(unitCode: "767", asOf: "2022-06-01") { totalCount }
        planByNumber(number: "51/KH-UBND", unitCode: "767") { reportingDuties { late } } }"#;
    let (_, anonymous) = app.gql(None, late, json!({})).await;
    assert_eq!(
        anonymous["data"]["lateReportingDuties"]["totalCount"], 0,
        "{anonymous}"
    );
    assert!(
        anonymous["data"]["planByNumber"]["reportingDuties"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["late"].is_null()),
        "{anonymous}"
    );
    app.sign_in_nationally().await;
    let signed_in = app.data(late).await;
    assert_eq!(
        signed_in["lateReportingDuties"]["totalCount"], 11,
        "{signed_in}"
    );
    assert_eq!(
        signed_in["planByNumber"]["reportingDuties"][0]["late"],
        true
    );
}
