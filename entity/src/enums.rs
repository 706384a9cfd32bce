//! Enumerations stored as words.

use sea_orm::entity::prelude::*;

macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
        pub enum $name {
            $($(#[$vmeta])* #[sea_orm(string_value = $text)] $variant,)+
        }
    };
}

word_enum!(
    /// Level of an administrative unit.
    AdminLevel { Province = "PROVINCE", District = "DISTRICT", Commune = "COMMUNE" }
);
word_enum!(
    /// How a unit became (part of) another.
    LineageChange {
        MergedWhole = "MERGED_WHOLE",
        MergedPart = "MERGED_PART",
        Split = "SPLIT",
        Renamed = "RENAMED",
        Retyped = "RETYPED",
        Reparented = "REPARENTED",
        Unchanged = "UNCHANGED",
    }
);
word_enum!(
    /// How sure a lineage link is, and where it comes from.
    LineageEvidence {
        /// The official NSO old → new mapping.
        Official = "OFFICIAL",
        /// Two consecutive official lists, by code continuity (a rename, a new type or parent).
        Lists = "LISTS",
        /// Derived from the links of the communes below (districts and provinces).
        Derived = "DERIVED",
        /// A derived mapping row with a cited source.
        Cited = "CITED",
        /// A derived mapping row: the successor bears the same name.
        NameContinuity = "NAME_CONTINUITY",
        /// A derived mapping row from a source that cites nothing.
        Uncited = "UNCITED",
        /// A derived mapping row inferred from the only unexplained change nearby.
        Inferred = "INFERRED",
    }
);
word_enum!(
    /// Role of a user.
    Role { Viewer = "VIEWER", Reporter = "REPORTER", Manager = "MANAGER", Admin = "ADMIN" }
);
word_enum!(
    /// Kind of planning document.
    PlanKind {
        Plan = "PLAN",
        Resolution = "RESOLUTION",
        Directive = "DIRECTIVE",
        Programme = "PROGRAMME",
        Decision = "DECISION",
    }
);
word_enum!(
    /// Life-cycle status of a plan.
    PlanStatus {
        Referenced = "REFERENCED",
        Draft = "DRAFT",
        Issued = "ISSUED",
        Superseded = "SUPERSEDED",
        Cancelled = "CANCELLED",
    }
);
word_enum!(
    /// Who may read a plan.
    Visibility { Public = "PUBLIC", Internal = "INTERNAL" }
);
word_enum!(
    /// Indicator category.
    IndicatorCategory {
        Economy = "ECONOMY",
        CultureSociety = "CULTURE_SOCIETY",
        Environment = "ENVIRONMENT",
        NewRural = "NEW_RURAL",
        DefenceSecurity = "DEFENCE_SECURITY",
        Governance = "GOVERNANCE",
    }
);
word_enum!(
    /// Whether a higher or lower figure is better.
    Direction { HigherIsBetter = "HIGHER_IS_BETTER", LowerIsBetter = "LOWER_IS_BETTER" }
);
word_enum!(
    /// How values of lower units combine.
    Aggregation { Sum = "SUM", Average = "AVERAGE", None = "NONE" }
);
word_enum!(
    /// What a target measures: the figure itself or its change against the baseline.
    TargetMeasure { Level = "LEVEL", Increase = "INCREASE", Decrease = "DECREASE" }
);
word_enum!(
    /// Terms of a change target.
    ChangeUnit {
        Absolute = "ABSOLUTE",
        Percent = "PERCENT",
        PercentagePoint = "PERCENTAGE_POINT",
    }
);
word_enum!(
    /// Comparator of a target.
    Comparator {
        AtLeast = "AT_LEAST",
        Above = "ABOVE",
        AtMost = "AT_MOST",
        Below = "BELOW",
        Equal = "EQUAL",
        Between = "BETWEEN",
        Maintain = "MAINTAIN",
    }
);
word_enum!(
    /// Status of an assignment.
    AssignmentStatus {
        NotStarted = "NOT_STARTED",
        InProgress = "IN_PROGRESS",
        Done = "DONE",
        Cancelled = "CANCELLED",
    }
);
word_enum!(
    /// Status of a progress report.
    ReportStatus { Submitted = "SUBMITTED", Accepted = "ACCEPTED", Returned = "RETURNED" }
);
word_enum!(
    /// Status of an indicator value.
    ValueStatus {
        Draft = "DRAFT",
        Submitted = "SUBMITTED",
        Approved = "APPROVED",
        Rejected = "REJECTED",
        Published = "PUBLISHED",
    }
);
