//! Administrative units through time: Province, District and Commune share the `AdminUnit`
//! interface; every unit object carries the date it is looked at, so nested relations answer
//! for the same day (or, for a unit reached through lineage, the nearest day of its validity).

pub mod query;

use super::pagination::{self, PageArgs};
use super::scalars::Date;
use crate::connection;
use crate::error::AppError;
use crate::model::admin_unit;
use crate::model::enums;
use crate::services::units::{Direction, clamp_to_validity};
use async_graphql::{Context, Enum, ID, Interface, Object, Result, SimpleObject};
use chrono::NaiveDate;
use std::collections::HashSet;
use std::sync::Arc;

/// Level of an administrative unit.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AdminLevel {
    /// Tỉnh / Thành phố trực thuộc Trung ương.
    Province,
    /// Quận, Huyện, Thị xã, Thành phố thuộc tỉnh (until 30 June 2025).
    District,
    /// Phường, Xã, Thị trấn, Đặc khu.
    Commune,
}

impl From<enums::AdminLevel> for AdminLevel {
    fn from(l: enums::AdminLevel) -> Self {
        match l {
            enums::AdminLevel::Province => Self::Province,
            enums::AdminLevel::District => Self::District,
            enums::AdminLevel::Commune => Self::Commune,
        }
    }
}

impl From<AdminLevel> for enums::AdminLevel {
    fn from(l: AdminLevel) -> Self {
        match l {
            AdminLevel::Province => Self::Province,
            AdminLevel::District => Self::District,
            AdminLevel::Commune => Self::Commune,
        }
    }
}

/// How a unit became (part of) another.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum LineageChange {
    /// The whole unit went into the successor.
    MergedWhole,
    /// Part of the unit went into the successor (see `splitCount`).
    MergedPart,
    /// The unit was divided into successors that took in nothing else.
    Split,
    /// Same code, new name.
    Renamed,
    /// Same code, new type word or level.
    Retyped,
    /// Same code, new parent.
    Reparented,
    /// The area did not change.
    Unchanged,
}

/// How sure a lineage link is, and where it comes from.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum LineageEvidence {
    /// The official NSO old → new mapping of 1 July 2025.
    Official,
    /// Two consecutive official lists: the same code with a new name, type or parent.
    Lists,
    /// Derived from the links of the communes below (districts and provinces).
    Derived,
    /// The derived 2024–2025 merger list, from a row that cites its source (`sourceUrl`).
    Cited,
    /// The derived merger list: the successor bears the old commune's name.
    NameContinuity,
    /// The derived merger list, from a source that cites nothing.
    Uncited,
    /// The derived merger list: the only unexplained change in the same district.
    Inferred,
}

impl From<enums::LineageEvidence> for LineageEvidence {
    fn from(e: enums::LineageEvidence) -> Self {
        use enums::LineageEvidence as E;
        match e {
            E::Official => Self::Official,
            E::Lists => Self::Lists,
            E::Derived => Self::Derived,
            E::Cited => Self::Cited,
            E::NameContinuity => Self::NameContinuity,
            E::Uncited => Self::Uncited,
            E::Inferred => Self::Inferred,
        }
    }
}

impl From<enums::LineageChange> for LineageChange {
    fn from(c: enums::LineageChange) -> Self {
        use enums::LineageChange as E;
        match c {
            E::MergedWhole => Self::MergedWhole,
            E::MergedPart => Self::MergedPart,
            E::Split => Self::Split,
            E::Renamed => Self::Renamed,
            E::Retyped => Self::Retyped,
            E::Reparented => Self::Reparented,
            E::Unchanged => Self::Unchanged,
        }
    }
}

/// A unit row seen at a date.
#[derive(Clone, Debug)]
pub struct UnitNode {
    /// The stored row.
    pub unit: Arc<admin_unit::Model>,
    /// The date relations are resolved at.
    pub as_of: NaiveDate,
}

impl UnitNode {
    /// Wraps a row reached from a request dated `as_of`.
    pub fn new(unit: Arc<admin_unit::Model>, as_of: NaiveDate) -> Self {
        let as_of = clamp_to_validity(&unit, as_of);
        Self { unit, as_of }
    }

    fn key(&self) -> pagination::Key {
        (self.unit.sort_key.clone(), self.unit.id)
    }
}

/// The global id of a unit row.
pub fn global_id(id: i64) -> ID {
    super::scalars::node_id("AdminUnit", id)
}

/// A province-level unit.
#[derive(Clone, Debug)]
pub struct Province(pub UnitNode);
/// A district-level unit (until 30 June 2025).
#[derive(Clone, Debug)]
pub struct District(pub UnitNode);
/// A commune-level unit.
#[derive(Clone, Debug)]
pub struct Commune(pub UnitNode);

/// An administrative unit at any level: one version of it, valid from `validFrom` to `validTo`.
// The interface's `field(...)` lists repeat `ty = …` by design of the derive.
#[allow(clippy::duplicated_attributes)]
#[derive(Interface, Clone, Debug)]
#[graphql(
    field(
        name = "id",
        ty = "ID",
        desc = "Global id of this version of the unit."
    ),
    field(
        name = "code",
        ty = "String",
        desc = "Official GSO/NSO code, with leading zeros."
    ),
    field(
        name = "name",
        ty = "String",
        desc = "Official name with its type word, in NFC."
    ),
    field(
        name = "kind",
        ty = "String",
        desc = "Official type word: \"Huyện\", \"Phường\", \"Đặc khu\", …"
    ),
    field(name = "level", ty = "AdminLevel", desc = "Level in the hierarchy."),
    field(
        name = "valid_from",
        ty = "Option<Date>",
        desc = "First day of this version; null when it predates the first list loaded."
    ),
    field(
        name = "valid_to",
        ty = "Option<Date>",
        desc = "Last day of this version; null while current."
    ),
    field(
        name = "parent",
        ty = "Option<AdminUnit>",
        desc = "The unit directly above, on the same day."
    ),
    field(
        name = "ancestors",
        ty = "Vec<AdminUnit>",
        desc = "Every unit above, from the province down to the parent."
    ),
    field(
        name = "children",
        ty = "AdminUnitConnection",
        desc = "Units directly below on the same day, in Vietnamese order.",
        arg(
            name = "first",
            ty = "Option<i32>",
            desc = "At most this many from the start."
        ),
        arg(
            name = "after",
            ty = "Option<String>",
            desc = "Items after this cursor."
        ),
        arg(
            name = "last",
            ty = "Option<i32>",
            desc = "At most this many from the end."
        ),
        arg(
            name = "before",
            ty = "Option<String>",
            desc = "Items before this cursor."
        )
    ),
    field(
        name = "predecessors",
        ty = "Vec<LineageLink>",
        desc = "Units this one was formed from.",
        arg(
            name = "transitive",
            ty = "bool",
            default = false,
            desc = "Follow links back through every earlier change."
        )
    ),
    field(
        name = "successors",
        ty = "Vec<LineageLink>",
        desc = "Units that took this one over.",
        arg(
            name = "transitive",
            ty = "bool",
            default = false,
            desc = "Follow links on through every later change."
        )
    ),
    field(
        name = "plans",
        ty = "Vec<super::plans::Plan>",
        desc = "Documents issued at this version of the unit that you may read, newest first."
    )
)]
pub enum AdminUnit {
    /// A province.
    Province(Province),
    /// A district.
    District(District),
    /// A commune.
    Commune(Commune),
}

/// An object with a global id.
#[derive(Interface, Clone)]
#[graphql(field(name = "id", ty = "ID", desc = "Global id, for `node(id:)`."))]
pub enum Node {
    /// A province.
    Province(Province),
    /// A district.
    District(District),
    /// A commune.
    Commune(Commune),
    /// A plan.
    Plan(super::plans::Plan),
    /// A target.
    Target(super::plans::Target),
    /// An assignment.
    Assignment(super::plans::Assignment),
    /// A reporting duty.
    ReportingDuty(super::plans::ReportingDuty),
    /// A progress report.
    ProgressReport(super::plans::ProgressReport),
    /// A user.
    User(super::accounts::User),
    /// A service account.
    ServiceAccount(super::accounts::ServiceAccount),
    /// An agency.
    Agency(super::plans::Agency),
    /// An indicator.
    Indicator(super::plans::Indicator),
    /// An indicator value.
    IndicatorValue(super::values::IndicatorValue),
}

impl AdminUnit {
    /// Wraps a row as the object type of its level.
    pub fn from_node(node: UnitNode) -> Self {
        match node.unit.level {
            enums::AdminLevel::Province => Self::Province(Province(node)),
            enums::AdminLevel::District => Self::District(District(node)),
            enums::AdminLevel::Commune => Self::Commune(Commune(node)),
        }
    }

    fn node(&self) -> &UnitNode {
        match self {
            Self::Province(p) => &p.0,
            Self::District(d) => &d.0,
            Self::Commune(c) => &c.0,
        }
    }
}

impl From<AdminUnit> for Node {
    fn from(u: AdminUnit) -> Self {
        match u {
            AdminUnit::Province(p) => Self::Province(p),
            AdminUnit::District(d) => Self::District(d),
            AdminUnit::Commune(c) => Self::Commune(c),
        }
    }
}

/// A lineage link seen from one unit: the unit at the other end and what happened.
#[derive(SimpleObject, Clone, Debug)]
pub struct LineageLink {
    /// The unit at the other end of the link, seen during its own validity.
    pub unit: AdminUnit,
    /// What happened.
    pub change: LineageChange,
    /// The day the change took effect.
    pub effective_on: Date,
    /// Into how many units the predecessor went, where the source says.
    pub split_count: Option<i32>,
    /// How sure the link is and where it comes from; null for a link recorded before evidence
    /// was kept (importing its file again fills it in).
    pub evidence: Option<LineageEvidence>,
    /// The resolution that decided the change, when known (e.g. "1286/NQ-UBTVQH15").
    pub resolution: Option<String>,
    /// Where the evidence can be read, when the source gives it.
    pub source_url: Option<String>,
}

connection!(
    AdminUnitConnection,
    AdminUnitEdge,
    AdminUnit,
    "administrative units"
);
connection!(CommuneConnection, CommuneEdge, Commune, "communes");

pub(crate) use super::context::{loaders, max_page};

async fn load_unit(ctx: &Context<'_>, id: i64, as_of: NaiveDate) -> Result<Option<UnitNode>> {
    Ok(super::context::units(ctx)
        .await?
        .unit(id)
        .map(|u| UnitNode::new(u, as_of)))
}

impl UnitNode {
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<UnitNode>> {
        match self.unit.parent_id {
            Some(id) => load_unit(ctx, id, self.as_of).await,
            None => Ok(None),
        }
    }

    async fn ancestors(&self, ctx: &Context<'_>) -> Result<Vec<UnitNode>> {
        let mut out = Vec::new();
        let mut current = self.clone();
        while let Some(parent) = current.parent(ctx).await? {
            if out.len() > 4 {
                return Err(AppError::internal(format!(
                    "unit {} has a parent cycle",
                    self.unit.id
                ))
                .into());
            }
            out.push(parent.clone());
            current = parent;
        }
        out.reverse();
        Ok(out)
    }

    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<UnitNode>> {
        Ok(super::context::units(ctx)
            .await?
            .children_of(self.unit.id, self.as_of)
            .into_iter()
            .map(|u| UnitNode::new(u, self.as_of))
            .collect())
    }

    async fn lineage(
        &self,
        ctx: &Context<'_>,
        direction: Direction,
        transitive: bool,
    ) -> Result<Vec<LineageLink>> {
        let snapshot = super::context::units(ctx).await?;
        let mut seen: HashSet<i64> = HashSet::from([self.unit.id]);
        let mut frontier = vec![self.unit.id];
        let mut links = Vec::new();
        // Real chains are one or two changes long.
        for _ in 0..8 {
            let mut next = Vec::new();
            for id in &frontier {
                for link in snapshot.lineage(*id, direction) {
                    let other = match direction {
                        Direction::Successors => link.successor_id,
                        Direction::Predecessors => link.predecessor_id,
                    };
                    if seen.insert(other) {
                        links.push(link.clone());
                        next.push(other);
                    }
                }
            }
            if !transitive || next.is_empty() {
                break;
            }
            frontier = next;
        }
        let ids: Vec<i64> = links
            .iter()
            .map(|l| match direction {
                Direction::Successors => l.successor_id,
                Direction::Predecessors => l.predecessor_id,
            })
            .collect();
        let mut out = Vec::new();
        for (link, id) in links.iter().zip(ids) {
            let unit = snapshot.unit(id).ok_or_else(|| {
                AppError::internal(format!("lineage {} names missing unit {id}", link.id))
            })?;
            out.push(LineageLink {
                unit: AdminUnit::from_node(UnitNode::new(unit.clone(), link.effective_on)),
                change: link.change.into(),
                effective_on: Date(link.effective_on),
                split_count: link.split_count,
                evidence: link.evidence.map(Into::into),
                resolution: link.resolution.as_deref().map(str::to_owned),
                source_url: link.source_url.as_deref().map(str::to_owned),
            });
        }
        Ok(out)
    }
}

/// Declares the object type of one level: the `AdminUnit` fields plus `$extra`.
macro_rules! unit_object {
    ($ty:ident, $doc:literal, { $($extra:tt)* }) => {
        #[doc = $doc]
        #[Object]
        impl $ty {
            /// Global id of this version of the unit.
            async fn id(&self) -> ID {
                global_id(self.0.unit.id)
            }
            /// Official GSO/NSO code, with leading zeros.
            async fn code(&self) -> String {
                self.0.unit.code.clone()
            }
            /// Official name with its type word, in NFC.
            async fn name(&self) -> String {
                self.0.unit.name.clone()
            }
            /// Official type word: "Huyện", "Phường", "Đặc khu", …
            async fn kind(&self) -> String {
                self.0.unit.kind.clone()
            }
            /// Level in the hierarchy.
            async fn level(&self) -> AdminLevel {
                self.0.unit.level.into()
            }
            /// First day of this version; null when it predates the first list loaded.
            async fn valid_from(&self) -> Option<Date> {
                self.0.unit.valid_from.map(Date)
            }
            /// Last day of this version; null while current.
            async fn valid_to(&self) -> Option<Date> {
                self.0.unit.valid_to.map(Date)
            }
            /// The unit directly above, on the same day.
            async fn parent(&self, ctx: &Context<'_>) -> Result<Option<AdminUnit>> {
                Ok(self.0.parent(ctx).await?.map(AdminUnit::from_node))
            }
            /// Every unit above, from the province down to the parent.
            async fn ancestors(&self, ctx: &Context<'_>) -> Result<Vec<AdminUnit>> {
                Ok(self.0.ancestors(ctx).await?.into_iter().map(AdminUnit::from_node).collect())
            }
            /// Units directly below on the same day, in Vietnamese order.
            async fn children(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "At most this many from the start.")] first: Option<i32>,
                #[graphql(desc = "Items after this cursor.")] after: Option<String>,
                #[graphql(desc = "At most this many from the end.")] last: Option<i32>,
                #[graphql(desc = "Items before this cursor.")] before: Option<String>,
            ) -> Result<AdminUnitConnection> {
                let all: Vec<AdminUnit> = self
                    .0
                    .children(ctx)
                    .await?
                    .into_iter()
                    .map(AdminUnit::from_node)
                    .collect();
                let args = PageArgs { after, before, first, last };
                let page = pagination::paginate(&all, |u| u.node().key(), &args, max_page(ctx))?;
                Ok(AdminUnitConnection { page })
            }
            /// Units this one was formed from.
            async fn predecessors(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "Follow links back through every earlier change.", default = false)]
                transitive: bool,
            ) -> Result<Vec<LineageLink>> {
                self.0.lineage(ctx, Direction::Predecessors, transitive).await
            }
            /// Units that took this one over.
            async fn successors(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "Follow links on through every later change.", default = false)]
                transitive: bool,
            ) -> Result<Vec<LineageLink>> {
                self.0.lineage(ctx, Direction::Successors, transitive).await
            }
            /// Documents issued at this version of the unit that you may read, newest first.
            async fn plans(&self, ctx: &Context<'_>) -> Result<Vec<super::plans::Plan>> {
                super::plans::plans_of_unit(ctx, self.0.unit.id).await
            }
            $($extra)*
        }
    };
}

fn expect_level<T>(node: UnitNode, level: enums::AdminLevel, wrap: fn(UnitNode) -> T) -> Result<T> {
    if node.unit.level == level {
        Ok(wrap(node))
    } else {
        Err(AppError::internal(format!("unit {} is not a {level:?}", node.unit.id)).into())
    }
}

unit_object!(
    Province,
    "A province-level unit (Tỉnh, Thành phố trực thuộc Trung ương).",
    {
        /// Its districts on the same day: none after 30 June 2025, when districts were abolished.
        async fn districts(&self, ctx: &Context<'_>) -> Result<Vec<District>> {
            Ok(self
                .0
                .children(ctx)
                .await?
                .into_iter()
                .filter(|u| u.unit.level == enums::AdminLevel::District)
                .map(District)
                .collect())
        }
        /// Its communes on the same day, whether under a district (before July 2025) or directly
        /// under the province (after), in Vietnamese order.
        async fn communes(
            &self,
            ctx: &Context<'_>,
            #[graphql(desc = "At most this many from the start.")] first: Option<i32>,
            #[graphql(desc = "Items after this cursor.")] after: Option<String>,
            #[graphql(desc = "At most this many from the end.")] last: Option<i32>,
            #[graphql(desc = "Items before this cursor.")] before: Option<String>,
        ) -> Result<CommuneConnection> {
            let all: Vec<Commune> = super::context::units(ctx)
                .await?
                .communes_of_province(self.0.unit.id, self.0.as_of)
                .into_iter()
                .map(|u| Commune(UnitNode::new(u, self.0.as_of)))
                .collect();
            let args = PageArgs {
                after,
                before,
                first,
                last,
            };
            let page = pagination::paginate(&all, |c| c.0.key(), &args, max_page(ctx))?;
            Ok(CommuneConnection { page })
        }
    }
);

unit_object!(
    District,
    "A district-level unit (Quận, Huyện, Thị xã, Thành phố thuộc tỉnh); districts ended on 30 June 2025.",
    {
        /// The province it belongs to.
        async fn province(&self, ctx: &Context<'_>) -> Result<Province> {
            let parent = self.0.parent(ctx).await?.ok_or_else(|| {
                AppError::internal(format!("district {} has no parent", self.0.unit.id))
            })?;
            expect_level(parent, enums::AdminLevel::Province, Province)
        }
        /// Its communes on the same day, in Vietnamese order.
        async fn communes(&self, ctx: &Context<'_>) -> Result<Vec<Commune>> {
            Ok(self
                .0
                .children(ctx)
                .await?
                .into_iter()
                .map(Commune)
                .collect())
        }
    }
);

unit_object!(
    Commune,
    "A commune-level unit (Phường, Xã, Thị trấn, Đặc khu).",
    {
        /// The district it belonged to; null after 30 June 2025.
        async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
            Ok(self
                .0
                .parent(ctx)
                .await?
                .filter(|p| p.unit.level == enums::AdminLevel::District)
                .map(District))
        }
        /// The province it belongs to, through its district or directly.
        async fn province(&self, ctx: &Context<'_>) -> Result<Province> {
            let ancestors = self.0.ancestors(ctx).await?;
            let top = ancestors.into_iter().next().ok_or_else(|| {
                AppError::internal(format!("commune {} has no parent", self.0.unit.id))
            })?;
            expect_level(top, enums::AdminLevel::Province, Province)
        }
    }
);
