//! Who may move a command from which status to which (§3.3, enforced).

use crate::error::{ApiError, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Queued,
    Dispatched,
    Running,
    Succeeded,
    Failed,
    Expired,
    Cancelled,
}

impl Status {
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "queued" => Status::Queued,
            "dispatched" => Status::Dispatched,
            "running" => Status::Running,
            "succeeded" => Status::Succeeded,
            "failed" => Status::Failed,
            "expired" => Status::Expired,
            "cancelled" => Status::Cancelled,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Dispatched => "dispatched",
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Expired => "expired",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Succeeded | Status::Failed | Status::Expired | Status::Cancelled
        )
    }
}

/// Who asks for a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The command's own agent (or an admin/infra user acting for it).
    Agent,
    /// A user cancelling.
    User,
}

/// Checks a requested transition; terminal commands never move again.
pub fn check(from: Status, to: Status, actor: Actor) -> Result<(), ApiError> {
    use Status::*;
    if from.is_terminal() {
        return Err(ApiError::new(ErrorCode::CommandAlreadyTerminal)
            .with_message(format!("The command already finished ({})", from.as_str())));
    }
    let allowed = match actor {
        Actor::Agent => match to {
            Running => matches!(from, Queued | Dispatched | Running),
            Succeeded => matches!(from, Dispatched | Running),
            Failed | Expired | Cancelled => true,
            Queued | Dispatched => false,
        },
        Actor::User => to == Cancelled && matches!(from, Queued | Dispatched),
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::CommandInvalidTransition).with_message(format!(
            "A command cannot go from {} to {}",
            from.as_str(),
            to.as_str()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::Status::*;
    use super::*;

    #[test]
    fn the_transition_table_holds() {
        let ok = [
            (Queued, Running, Actor::Agent),
            (Dispatched, Running, Actor::Agent),
            (Running, Running, Actor::Agent),
            (Running, Succeeded, Actor::Agent),
            (Dispatched, Failed, Actor::Agent),
            (Running, Expired, Actor::Agent),
            (Queued, Cancelled, Actor::User),
            (Dispatched, Cancelled, Actor::User),
        ];
        for (from, to, actor) in ok {
            assert!(check(from, to, actor).is_ok(), "{from:?} -> {to:?} by {actor:?}");
        }
        let refused = [
            (Queued, Succeeded, Actor::Agent),
            (Running, Queued, Actor::Agent),
            (Running, Cancelled, Actor::User),
            (Queued, Running, Actor::User),
        ];
        for (from, to, actor) in refused {
            assert_eq!(
                check(from, to, actor).unwrap_err().code,
                ErrorCode::CommandInvalidTransition,
                "{from:?} -> {to:?}"
            );
        }
        for terminal in [Succeeded, Failed, Expired, Cancelled] {
            assert_eq!(
                check(terminal, Running, Actor::Agent).unwrap_err().code,
                ErrorCode::CommandAlreadyTerminal
            );
        }
    }
}
