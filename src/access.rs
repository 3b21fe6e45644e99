//! The access policy: one table that answers every role and ownership question of the server,
//! and the access matrix of `docs/security.md`, which is rendered from it (a test compares).
//!
//! Route-wide checks are the `Authed<…>` markers of `auth::principal`, each bound to a row
//! here; checks that depend on the request (whose agent, whose secret, which settings path)
//! are handlers asking [`allows`], [`may_act_for`], [`own_only`] or [`require`]. Nothing else
//! looks at a principal's roles.

use botmox_contract::auth::Role;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, ErrorCode};

/// Everything the policy decides: one row of the access matrix each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    SharedDocuments,
    PairAgent,
    Register,
    SeeAgents,
    QueueCommand,
    PrivilegedCommand,
    PrivilegedRoutes,
    UpdateCommand,
    RegisterVm,
    IssueLease,
    ReplaceProvisioning,
    Infra,
    CreateSecret,
    ChangeSecret,
    ShareTenantSecrets,
    ReadSecretValue,
    TenantChannels,
    NotificationEvents,
    ConnectionSettings,
    TenantAdmin,
    RotateVaultKey,
    GrantOperator,
}

/// How much of an action a role gives, from nothing to everything in the tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grant {
    /// Refused (403, or 404 for another scope's ids).
    No,
    /// Only on the caller's own objects (an agent, a secret they created, their own user).
    Own,
    /// On anything of the tenant.
    All,
}

/// What the installation operator flag adds to a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operator {
    /// Nothing: inside a tenant the operator has what their roles give.
    AsRole,
    /// The action is the operator's alone, whatever the roles.
    Only,
    /// Nobody through the API (the host's CLI does it).
    Nobody,
}

/// One role's cell: its grant and what qualifies it in the docs.
#[derive(Clone, Copy, Debug)]
struct Cell(Grant, &'static str);

const YES: Cell = Cell(Grant::All, "");
const OWN: Cell = Cell(Grant::Own, "");
const NO: Cell = Cell(Grant::No, "");

struct Rule {
    action: Action,
    /// The row's first column.
    what: &'static str,
    api: Cell,
    admin: Cell,
    infra: Cell,
    operator: Operator,
    /// Agents act with their own token (`agents::principal`); this column documents what
    /// that extractor and the agent routes allow.
    agent: &'static str,
    /// The message of a refusal by [`require`].
    refusal: &'static str,
}

const MATRIX: &[Rule] = &[
    Rule {
        action: Action::SharedDocuments,
        what: "shared tenant documents (bots, resources, workspace, finance), settings tree outside the rows below",
        api: YES,
        admin: YES,
        infra: YES,
        operator: Operator::AsRole,
        agent: "–",
        refusal: "",
    },
    Rule {
        action: Action::PairAgent,
        what: "create a pairing (pair an agent)",
        api: Cell(Grant::Own, "(owner = self)"),
        admin: Cell(Grant::All, "any owner of the tenant"),
        infra: Cell(Grant::All, "any owner"),
        operator: Operator::AsRole,
        agent: "–",
        refusal: "owner_user_id override is not allowed",
    },
    Rule {
        action: Action::Register,
        what: "register / quick-pair (public; quick-pair shares the sign-in limits)",
        api: YES,
        admin: YES,
        infra: YES,
        operator: Operator::AsRole,
        agent: "–",
        refusal: "",
    },
    Rule {
        action: Action::SeeAgents,
        what: "list / get agents; heartbeat",
        api: OWN,
        admin: Cell(Grant::All, "tenant"),
        infra: Cell(Grant::All, "tenant"),
        operator: Operator::AsRole,
        agent: "self",
        refusal: "",
    },
    Rule {
        action: Action::QueueCommand,
        what: "queue `proxmox.*` commands (the agent's catalogue); see, cancel and follow them",
        api: Cell(Grant::Own, "agents; commands they created"),
        admin: YES,
        infra: YES,
        operator: Operator::AsRole,
        agent: "–",
        refusal: "",
    },
    Rule {
        action: Action::PrivilegedCommand,
        what: "`allowUnsafe`, `proxmox.ssh-write-config` (VM config file), `args`/`hookscript` in a config update",
        api: Cell(Grant::No, "(`allowUnsafe` dropped, the others 403)"),
        admin: YES,
        infra: YES,
        operator: Operator::AsRole,
        agent: "–",
        refusal: "",
    },
    Rule {
        action: Action::PrivilegedRoutes,
        what: "revoke an agent; raw `POST /vm-ops/commands`; artifacts releases and assignments, lease revoke",
        api: NO,
        admin: YES,
        infra: YES,
        operator: Operator::AsRole,
        agent: "–",
        refusal: "",
    },
    Rule {
        action: Action::UpdateCommand,
        what: "update any command",
        api: NO,
        admin: YES,
        infra: YES,
        operator: Operator::AsRole,
        agent: "own queue",
        refusal: "Only the command's agent or admin/infra can update it",
    },
    Rule {
        action: Action::RegisterVm,
        what: "register a VM (`/vm/register`) for another user of the tenant (`user_id`)",
        api: OWN,
        admin: YES,
        infra: YES,
        operator: Operator::AsRole,
        agent: "✓ (named user or its owner)",
        refusal: "user_id override is not allowed",
    },
    Rule {
        action: Action::IssueLease,
        what: "issue a lease for another user; heartbeat a lease",
        api: OWN,
        admin: YES,
        infra: YES,
        operator: Operator::AsRole,
        agent: "own leases",
        refusal: "user_id override is not allowed",
    },
    Rule {
        action: Action::ReplaceProvisioning,
        what: "replace a VM's provisioning token",
        api: Cell(Grant::Own, "(a token they hold)"),
        admin: YES,
        infra: YES,
        operator: Operator::AsRole,
        agent: "–",
        refusal: "Another user of your tenant provisions this VM",
    },
    Rule {
        action: Action::Infra,
        what: "`/infra/*`, service-UI gateway",
        api: NO,
        admin: NO,
        infra: YES,
        operator: Operator::AsRole,
        agent: "–",
        refusal: "",
    },
    Rule {
        action: Action::CreateSecret,
        what: "create secrets, list metadata",
        api: YES,
        admin: YES,
        infra: YES,
        operator: Operator::AsRole,
        agent: "–",
        refusal: "",
    },
    Rule {
        action: Action::ChangeSecret,
        what: "rotate, delete, bind a secret",
        api: Cell(Grant::Own, "(creator)"),
        admin: YES,
        infra: OWN,
        operator: Operator::AsRole,
        agent: "–",
        refusal: "Only the secret's creator or an admin can change it",
    },
    Rule {
        action: Action::ShareTenantSecrets,
        what: "whose agents may read secrets bound to the whole tenant (the agent's owner)",
        api: NO,
        admin: YES,
        infra: YES,
        operator: Operator::AsRole,
        agent: "–",
        refusal: "",
    },
    Rule {
        action: Action::ReadSecretValue,
        what: "read a secret's **value**",
        api: NO,
        admin: NO,
        infra: NO,
        operator: Operator::AsRole,
        agent: "bound to it by name; bound to the tenant only if its owner is admin/infra; audited, refusals too",
        refusal: "",
    },
    Rule {
        action: Action::TenantChannels,
        what: "API keys (IP quality, Telegram token, chat), notification webhook",
        api: NO,
        admin: YES,
        infra: NO,
        operator: Operator::AsRole,
        agent: "–",
        refusal: "Only an admin may change API keys and notification channels (Telegram, webhook)",
    },
    Rule {
        action: Action::NotificationEvents,
        what: "notification events, daily report; send a test",
        api: YES,
        admin: YES,
        infra: YES,
        operator: Operator::AsRole,
        agent: "–",
        refusal: "",
    },
    Rule {
        action: Action::ConnectionSettings,
        what: "`vmgenerator.services` / `vmgenerator.proxmox` settings",
        api: NO,
        admin: YES,
        infra: YES,
        operator: Operator::AsRole,
        agent: "–",
        refusal: "Only admin or infra users may change vmgenerator.services or vmgenerator.proxmox: \
                  the gateway and agents' pairing hints connect to those addresses",
    },
    Rule {
        action: Action::TenantAdmin,
        what: "manage the tenant's users, audit trail, client logs, licences, delivery history",
        api: NO,
        admin: YES,
        infra: NO,
        operator: Operator::AsRole,
        agent: "–",
        refusal: "",
    },
    Rule {
        action: Action::RotateVaultKey,
        what: "rotate the vault key (`POST /admin/vault/rotate`)",
        api: NO,
        admin: NO,
        infra: NO,
        operator: Operator::Only,
        agent: "–",
        refusal: "",
    },
    Rule {
        action: Action::GrantOperator,
        what: "grant or revoke operator",
        api: NO,
        admin: NO,
        infra: NO,
        operator: Operator::Nobody,
        agent: "–",
        refusal: "",
    },
];

fn rule(action: Action) -> &'static Rule {
    MATRIX
        .iter()
        .find(|r| r.action == action)
        .expect("every action has a row (checked by a test)")
}

impl Rule {
    fn cell(&self, role: Role) -> Cell {
        match role {
            Role::Api => self.api,
            Role::Admin => self.admin,
            Role::Infra => self.infra,
        }
    }
}

/// The most any of `roles` gives for `action` (the operator flag aside).
pub fn grant(roles: &[Role], action: Action) -> Grant {
    let rule = rule(action);
    roles.iter().map(|r| rule.cell(*r).0).max().unwrap_or(Grant::No)
}

/// What a user with these roles and operator flag may do.
pub fn grant_with(roles: &[Role], operator: bool, action: Action) -> Grant {
    match rule(action).operator {
        Operator::Only if operator => Grant::All,
        Operator::Only | Operator::Nobody => Grant::No,
        Operator::AsRole => grant(roles, action),
    }
}

fn grant_of(me: &Principal, action: Action) -> Grant {
    grant_with(&me.roles, me.operator, action)
}

/// On anything of the tenant?
pub fn allows(me: &Principal, action: Action) -> bool {
    grant_of(me, action) == Grant::All
}

/// On an object owned by (or created by) `owner`?
pub fn may_act_for(me: &Principal, action: Action, owner: &str) -> bool {
    match grant_of(me, action) {
        Grant::All => true,
        Grant::Own => owner == me.user_id,
        Grant::No => false,
    }
}

/// The owner a listing is narrowed to: `None` for a caller who sees the whole tenant.
pub fn own_only(me: &Principal, action: Action) -> Option<String> {
    (!allows(me, action)).then(|| me.user_id.clone())
}

/// `Ok` when the caller may do `action` on anything of the tenant, else the row's refusal.
pub fn require(me: &Principal, action: Action) -> ApiResult<()> {
    if allows(me, action) {
        return Ok(());
    }
    Err(refusal(action))
}

/// The refusal of `action`: its own message, or for a route-wide row the roles it takes.
pub fn refusal(action: Action) -> ApiError {
    let rule = rule(action);
    if rule.operator == Operator::Only {
        return ErrorCode::OperatorRequired.into();
    }
    let message = match rule.refusal {
        "" => format!("One of roles is required: {}", roles_for(action).join(", ")),
        text => text.to_owned(),
    };
    ApiError::new(ErrorCode::Forbidden).with_message(message)
}

/// The roles that give `action` on the whole tenant, in the table's order.
fn roles_for(action: Action) -> Vec<&'static str> {
    let rule = rule(action);
    [Role::Admin, Role::Infra, Role::Api]
        .into_iter()
        .filter(|r| rule.cell(*r).0 == Grant::All)
        .map(Role::as_str)
        .collect()
}

/// The access matrix as markdown, the table `docs/security.md` shows.
pub fn matrix_markdown() -> String {
    let cell = |c: Cell| {
        let mark = match c.0 {
            Grant::All => "✓",
            Grant::Own => "own",
            Grant::No => "–",
        };
        match c.1 {
            "" => mark.to_owned(),
            note => format!("{mark} {note}"),
        }
    };
    let mut out = String::from("| action | api | admin | infra | operator | agent |\n|---|---|---|---|---|---|\n");
    for rule in MATRIX {
        let operator = match rule.operator {
            Operator::AsRole => "as role",
            Operator::Only => "✓",
            Operator::Nobody => "– (CLI on the host only)",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {operator} | {} |\n",
            rule.what,
            cell(rule.api),
            cell(rule.admin),
            cell(rule.infra),
            rule.agent
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(roles: &[Role], operator: bool) -> Principal {
        Principal {
            user_id: "u1".into(),
            session_id: "s".into(),
            email: "u@example.com".into(),
            roles: roles.to_vec(),
            tenant_id: "t".into(),
            csrf_token: None,
            operator,
        }
    }

    #[test]
    fn every_action_has_exactly_one_row() {
        for rule in MATRIX {
            assert_eq!(
                MATRIX.iter().filter(|r| r.action == rule.action).count(),
                1,
                "{:?}",
                rule.action
            );
        }
    }

    #[test]
    fn roles_add_up_and_ownership_narrows() {
        let api = principal(&[Role::Api], false);
        let infra = principal(&[Role::Api, Role::Infra], false);
        let admin = principal(&[Role::Api, Role::Admin], true);
        assert!(!allows(&api, Action::QueueCommand) && allows(&infra, Action::QueueCommand));
        assert_eq!(own_only(&api, Action::SeeAgents).as_deref(), Some("u1"));
        assert_eq!(own_only(&admin, Action::SeeAgents), None);
        assert!(may_act_for(&infra, Action::ChangeSecret, "u1") && !may_act_for(&infra, Action::ChangeSecret, "u2"));
        assert!(may_act_for(&admin, Action::ChangeSecret, "u2"));
        assert!(!may_act_for(&api, Action::UpdateCommand, "u1"));
        assert!(allows(&admin, Action::RotateVaultKey) && !allows(&infra, Action::RotateVaultKey));
        assert!(!allows(&admin, Action::GrantOperator));
        assert!(require(&infra, Action::TenantChannels).is_err() && require(&admin, Action::TenantChannels).is_ok());
    }

    #[test]
    fn a_route_wide_refusal_names_the_roles_that_would_pass() {
        let message = |a| refusal(a).message.into_owned();
        assert_eq!(
            message(Action::PrivilegedRoutes),
            "One of roles is required: admin, infra"
        );
        assert_eq!(message(Action::TenantAdmin), "One of roles is required: admin");
        assert_eq!(message(Action::Infra), "One of roles is required: infra");
        assert_eq!(refusal(Action::RotateVaultKey).code, ErrorCode::OperatorRequired);
    }

    /// Role checks live here only: a handler that tested roles itself would bypass the table
    /// (and the matrix the docs render from it).
    #[test]
    fn no_module_outside_the_policy_tests_roles() {
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("src/access.rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for (n, line) in text.lines().enumerate() {
                        if ["roles.contains(", "roles.iter().any(", "is_privileged("]
                            .iter()
                            .any(|p| line.contains(p))
                        {
                            found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                        }
                    }
                }
            }
        }
        let mut found = Vec::new();
        walk(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
            &mut found,
        );
        assert!(found.is_empty(), "ask crate::access instead:\n{}", found.join("\n"));
    }

    /// The access matrix of `docs/security.md` is this table; on a change, paste the expected
    /// text the failure prints.
    #[test]
    fn the_security_guide_shows_the_access_matrix_of_the_policy() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/security.md")).unwrap();
        let expected = matrix_markdown();
        assert!(
            doc.contains(&expected),
            "docs/security.md, \"Access matrix\", must hold this table (generated from src/access.rs):\n\n{expected}"
        );
    }
}
