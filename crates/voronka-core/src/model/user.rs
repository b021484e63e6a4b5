use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    SalesManager,
    Salesperson,
    Marketer,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::SalesManager,
        Role::Salesperson,
        Role::Marketer,
        Role::Viewer,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::SalesManager => "sales_manager",
            Role::Salesperson => "salesperson",
            Role::Marketer => "marketer",
            Role::Viewer => "viewer",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }
    /// Who may see personal data of leads at all.
    pub fn reads_leads(self) -> bool {
        !matches!(self, Role::Marketer)
    }
    /// Who may change leads (stage, notes, owner).
    pub fn writes_leads(self) -> bool {
        matches!(self, Role::Admin | Role::SalesManager | Role::Salesperson)
    }
    /// Who may reassign leads to other people.
    pub fn assigns_leads(self) -> bool {
        matches!(self, Role::Admin | Role::SalesManager)
    }
    pub fn manages_forms(self) -> bool {
        matches!(self, Role::Admin | Role::Marketer | Role::SalesManager)
    }
    /// Export of personal data.
    pub fn exports_leads(self) -> bool {
        matches!(self, Role::Admin | Role::SalesManager)
    }
    pub fn is_admin(self) -> bool {
        matches!(self, Role::Admin)
    }
}

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "leads:read")]
    LeadsRead,
    #[serde(rename = "leads:write")]
    LeadsWrite,
    #[serde(rename = "forms:write")]
    FormsWrite,
    /// Sends behaviour events (a site's backend, the mailing system).
    #[serde(rename = "events:write")]
    EventsWrite,
    /// Reads the operational metrics (`/metrics`, for Prometheus): no personal data.
    #[serde(rename = "metrics:read")]
    MetricsRead,
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 6] = [
        Scope::LeadsRead,
        Scope::LeadsWrite,
        Scope::FormsWrite,
        Scope::EventsWrite,
        Scope::MetricsRead,
        Scope::Admin,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::LeadsRead => "leads:read",
            Scope::LeadsWrite => "leads:write",
            Scope::FormsWrite => "forms:write",
            Scope::EventsWrite => "events:write",
            Scope::MetricsRead => "metrics:read",
            Scope::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }
}

/// A set of scopes; `admin` implies every other scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    pub fn new(mut scopes: Vec<Scope>) -> Self {
        scopes.sort_by_key(|s| s.as_str());
        scopes.dedup();
        ScopeSet(scopes)
    }
    pub fn all() -> Self {
        ScopeSet(Scope::ALL.to_vec())
    }
    pub fn allows(&self, s: Scope) -> bool {
        self.0.contains(&Scope::Admin) || self.0.contains(&s)
    }
    pub fn as_slice(&self) -> &[Scope] {
        &self.0
    }
    /// Space-separated form used in storage.
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
    pub fn from_text(s: &str) -> Self {
        ScopeSet::new(s.split_whitespace().filter_map(Scope::parse).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_scope_implies_others() {
        let s = ScopeSet::new(vec![Scope::Admin]);
        assert!(s.allows(Scope::LeadsWrite));
        let r = ScopeSet::new(vec![Scope::LeadsRead, Scope::LeadsRead]);
        assert!(r.allows(Scope::LeadsRead));
        assert!(!r.allows(Scope::LeadsWrite));
        assert_eq!(ScopeSet::from_text(&r.to_text()), r);
    }

    #[test]
    fn roles_parse() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert!(!Role::Marketer.reads_leads());
        assert!(!Role::Viewer.writes_leads());
    }
}
