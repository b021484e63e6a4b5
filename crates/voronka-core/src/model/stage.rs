use serde::{Deserialize, Serialize};

/// Where a lead is in the funnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    New,
    Working,
    Mql,
    Sql,
    Converted,
    Refused,
    Junk,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageError {
    #[error("a lead cannot move from {from} to {to}")]
    Illegal { from: Stage, to: Stage },
    #[error("the lead is already {0}")]
    Same(Stage),
    #[error("moving to {0} needs a reason")]
    ReasonRequired(Stage),
    #[error("a lead becomes converted only through conversion, which creates the deal")]
    ConvertThroughConversion,
    #[error("unknown stage {0:?}")]
    Unknown(String),
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::New,
        Stage::Working,
        Stage::Mql,
        Stage::Sql,
        Stage::Converted,
        Stage::Refused,
        Stage::Junk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::Working => "working",
            Stage::Mql => "mql",
            Stage::Sql => "sql",
            Stage::Converted => "converted",
            Stage::Refused => "refused",
            Stage::Junk => "junk",
        }
    }

    pub fn parse(s: &str) -> Result<Self, StageError> {
        Stage::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| StageError::Unknown(s.to_string()))
    }

    /// Open stages are the ones a salesperson still works on.
    pub fn is_open(self) -> bool {
        matches!(self, Stage::New | Stage::Working | Stage::Mql | Stage::Sql)
    }

    fn rank(self) -> u8 {
        match self {
            Stage::New => 0,
            Stage::Working => 1,
            Stage::Mql => 2,
            Stage::Sql => 3,
            _ => 4,
        }
    }

    /// The funnel's rules for a manual stage change.
    ///
    /// Open stages move forward (skipping is allowed: a hot callback may be qualified at once)
    /// and MQL/SQL may be handed back to working. Any open lead may be refused or marked junk.
    /// A refused or junk lead comes back only to working. Converted is final and is reached only
    /// through conversion, which also creates the customer and the deal.
    pub fn check_transition(self, to: Stage) -> Result<(), StageError> {
        use Stage::*;
        if self == to {
            return Err(StageError::Same(to));
        }
        if to == Converted {
            return if self.is_open() {
                Err(StageError::ConvertThroughConversion)
            } else {
                Err(StageError::Illegal { from: self, to })
            };
        }
        let ok = match (self, to) {
            (from, to) if from.is_open() && to.is_open() => {
                to.rank() > from.rank() || (to == Working && matches!(from, Mql | Sql))
            }
            (from, Refused | Junk) => from.is_open(),
            (Refused | Junk, Working) => true,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(StageError::Illegal { from: self, to })
        }
    }

    /// Whether conversion is allowed from this stage.
    pub fn can_convert(self) -> bool {
        self.is_open()
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Temperature {
    #[default]
    Cold,
    Warm,
    Hot,
}

impl Temperature {
    pub const ALL: [Temperature; 3] = [Temperature::Cold, Temperature::Warm, Temperature::Hot];
    pub fn as_str(self) -> &'static str {
        match self {
            Temperature::Cold => "cold",
            Temperature::Warm => "warm",
            Temperature::Hot => "hot",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Temperature::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl std::fmt::Display for Temperature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Stage::*;
    use super::*;

    #[test]
    fn forward_moves_are_allowed() {
        assert!(New.check_transition(Working).is_ok());
        assert!(Working.check_transition(Mql).is_ok());
        assert!(Mql.check_transition(Sql).is_ok());
        assert!(New.check_transition(Sql).is_ok());
        assert!(Sql.check_transition(Working).is_ok());
    }

    #[test]
    fn illegal_moves_are_rejected() {
        assert_eq!(
            Sql.check_transition(New),
            Err(StageError::Illegal { from: Sql, to: New })
        );
        assert_eq!(
            Converted.check_transition(Working),
            Err(StageError::Illegal {
                from: Converted,
                to: Working
            })
        );
        assert_eq!(
            Working.check_transition(Converted),
            Err(StageError::ConvertThroughConversion)
        );
        assert!(Junk.check_transition(Refused).is_err());
        assert_eq!(New.check_transition(New), Err(StageError::Same(New)));
    }

    #[test]
    fn refused_and_junk_revive_to_working() {
        assert!(Refused.check_transition(Working).is_ok());
        assert!(Junk.check_transition(Working).is_ok());
        assert!(Refused.check_transition(Sql).is_err());
        assert!(Working.check_transition(Refused).is_ok());
    }

    #[test]
    fn parse_round_trips() {
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.as_str()).unwrap(), s);
        }
        assert!(Stage::parse("won").is_err());
    }
}
