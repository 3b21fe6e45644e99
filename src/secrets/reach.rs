//! Which agent a secret's value reaches (pure; `routes.rs` audits the verdict).
//!
//! Any user may pair an agent of their own, so "every agent of the tenant" would mean every
//! user of it. An agent therefore reads a secret only where its owner could use it: a binding
//! that names the agent, or a tenant-wide binding when the owner is an admin or infra user.

use crate::error::{ApiError, ErrorCode};

/// The bindings of one secret that concern one agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bindings {
    /// A binding with `scope_type: agent` naming this agent.
    pub agent: bool,
    /// A binding with `scope_type: tenant` naming the agent's tenant.
    pub tenant: bool,
}

/// Why a value is refused; each refusal is audited with its own field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A user asked: values go to agents only.
    NotAnAgent,
    /// No secret of that id in the agent's tenant.
    NotFound,
    /// No binding concerns this agent.
    NotBound,
    /// Only a tenant-wide binding, and the agent's owner is neither admin nor infra (or the
    /// agent has no owner left).
    OwnerNotPrivileged,
}

impl Refusal {
    /// What the audit trail records for the refused read.
    pub fn audit_field(self) -> &'static str {
        match self {
            Refusal::NotAnAgent => "refused:not_an_agent",
            Refusal::NotFound => "refused:not_found",
            Refusal::NotBound => "refused:not_bound",
            Refusal::OwnerNotPrivileged => "refused:owner_not_privileged",
        }
    }

    /// The answer to the caller.
    pub fn error(self) -> ApiError {
        match self {
            Refusal::NotAnAgent => ApiError::new(ErrorCode::Forbidden)
                .with_message("Only agents can read secret values; users see metadata"),
            Refusal::NotFound => ErrorCode::SecretNotFound.into(),
            Refusal::NotBound => ErrorCode::SecretNotBound.into(),
            Refusal::OwnerNotPrivileged => ApiError::new(ErrorCode::SecretNotBound).with_message(
                "This secret is bound to the whole tenant, which reaches only agents of admin or infra \
                 users; bind it to this agent (scope_type agent) to hand it over",
            ),
        }
    }
}

/// `Ok` when the agent may read the value.
pub fn verdict(bindings: Bindings, owner_privileged: bool) -> Result<(), Refusal> {
    match bindings {
        Bindings { agent: true, .. } => Ok(()),
        Bindings { tenant: true, .. } if owner_privileged => Ok(()),
        Bindings { tenant: true, .. } => Err(Refusal::OwnerNotPrivileged),
        _ => Err(Refusal::NotBound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_agent_always_reads_and_a_tenant_binding_needs_a_privileged_owner() {
        let named = Bindings {
            agent: true,
            tenant: false,
        };
        let tenant = Bindings {
            agent: false,
            tenant: true,
        };
        let none = Bindings {
            agent: false,
            tenant: false,
        };
        assert_eq!(verdict(named, false), Ok(()));
        assert_eq!(verdict(tenant, true), Ok(()));
        assert_eq!(verdict(tenant, false), Err(Refusal::OwnerNotPrivileged));
        assert_eq!(verdict(none, true), Err(Refusal::NotBound));
    }
}
