//! The agent link: pairing, heartbeat and the frames of `/api/v1/agents/ws` (api-ops.md §1).
//!
//! The server answers with these types and the agent sends and parses them, over HTTP and over
//! the WebSocket alike.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AgentInfo {
    pub id: String,
    pub tenant_id: String,
    pub owner_user_id: Option<String>,
    pub name: String,
    /// `pending`, `active`, `offline` or `revoked`.
    pub status: String,
    /// Active and seen within the last 120 s.
    pub online: bool,
    pub version: Option<String>,
    pub platform: Option<String>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    pub last_seen_at: Option<String>,
    pub paired_at: Option<String>,
    pub revoked_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    pub created_at: String,
    pub updated_at: String,
}

/// What an agent says about the machine it runs on when it registers.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct MachineInfo {
    pub machine_name: Option<String>,
    pub version: Option<String>,
    pub platform: Option<String>,
    #[serde(default)]
    pub capabilities: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RegisterRequest {
    pub pairing_code: String,
    #[serde(flatten)]
    pub machine: MachineInfo,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct QuickPairRequest {
    /// The e-mail of a Bot-Mox user; the agent is theirs.
    pub login: String,
    pub password: String,
    pub name: Option<String>,
    /// The user's tenant (its id), needed only when the login and password open accounts in
    /// several tenants (409 `TENANT_REQUIRED`).
    #[serde(default)]
    pub tenant: Option<String>,
    #[serde(flatten)]
    pub machine: MachineInfo,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Registered {
    #[serde(flatten)]
    pub agent: AgentInfo,
    /// The agent's bearer token, shown once.
    pub agent_token: String,
    pub agent_token_expires_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct HeartbeatRequest {
    pub agent_id: String,
    /// Transport telemetry, merged into the agent's metadata.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct HeartbeatAck {
    pub id: String,
    pub status: String,
    pub last_seen_at: String,
}

/// The part of a command record an agent needs to run it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AssignedCommand {
    pub id: String,
    pub command_type: String,
    #[serde(default)]
    pub payload: Value,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// The heartbeat capability of an agent that takes pushed commands.
pub const PUSH: &str = "push";

/// Terminal outcomes an agent reports.
pub const OUTCOMES: [&str; 4] = ["succeeded", "failed", "expired", "cancelled"];

/// Agent → server frames. Each may carry a `request_id`, echoed in the reply.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type")]
pub enum AgentFrame {
    #[serde(rename = "heartbeat")]
    Heartbeat {
        #[serde(default)]
        request_id: Option<String>,
        /// Must be an object when present.
        #[serde(default)]
        metadata: Option<Value>,
        /// What this socket's agent can do; `"push"`: it takes `agent.command.assigned`
        /// frames it did not ask for. Without it, commands come only as the reply to
        /// `next_command`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        capabilities: Vec<String>,
    },
    /// Claim the oldest queued command, waiting up to `timeout_ms` (1000..120000).
    #[serde(rename = "next_command")]
    NextCommand {
        #[serde(default)]
        request_id: Option<String>,
        #[serde(default)]
        timeout_ms: Option<u64>,
    },
    #[serde(rename = "agent.command.ack")]
    Ack {
        #[serde(default)]
        request_id: Option<String>,
        command_id: String,
    },
    #[serde(rename = "agent.command.progress")]
    Progress {
        #[serde(default)]
        request_id: Option<String>,
        command_id: String,
        #[serde(default)]
        progress: Option<i64>,
        #[serde(default)]
        message: Option<String>,
    },
    #[serde(rename = "agent.command.result")]
    Result {
        #[serde(default)]
        request_id: Option<String>,
        command_id: String,
        status: String,
        /// `Some(Value::Null)` when the agent sent `"result": null`.
        #[serde(default, deserialize_with = "present")]
        result: Option<Value>,
        #[serde(default)]
        error_message: Option<String>,
    },
}

impl AgentFrame {
    pub fn request_id(&self) -> Option<&str> {
        match self {
            AgentFrame::Heartbeat { request_id, .. }
            | AgentFrame::NextCommand { request_id, .. }
            | AgentFrame::Ack { request_id, .. }
            | AgentFrame::Progress { request_id, .. }
            | AgentFrame::Result { request_id, .. } => request_id.as_deref(),
        }
    }
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Ok(Some(Value::deserialize(d)?))
}

/// Server → agent frames. Replies echo the `request_id` of the frame they answer; a pushed
/// `agent.command.assigned` has none. The server sends its whole command record (`C`); an agent
/// reads the part it needs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type")]
pub enum ServerFrame<C = AssignedCommand> {
    #[serde(rename = "connected")]
    Connected { ts: String, transport: String },
    #[serde(rename = "agent.command.assigned")]
    Assigned {
        ts: String,
        #[serde(default)]
        request_id: Option<String>,
        /// `None` when a `next_command` wait ended empty.
        command: Option<C>,
    },
    #[serde(rename = "agent.heartbeat")]
    Heartbeat {
        ts: String,
        #[serde(default)]
        request_id: Option<String>,
        agent_id: String,
        status: String,
    },
    #[serde(rename = "agent.command.ack")]
    Ack {
        ts: String,
        #[serde(default)]
        request_id: Option<String>,
        command_id: String,
        agent_id: String,
    },
    #[serde(rename = "agent.command.progress")]
    Progress {
        ts: String,
        #[serde(default)]
        request_id: Option<String>,
        command_id: String,
        agent_id: String,
        progress: Option<i64>,
        message: Option<String>,
    },
    #[serde(rename = "agent.command.result")]
    Result {
        ts: String,
        #[serde(default)]
        request_id: Option<String>,
        command_id: String,
        agent_id: String,
        status: String,
    },
    /// A refusal; with a `request_id` it answers (NACKs) that frame. `AGENT_REVOKED` ends the link.
    #[serde(rename = "error")]
    Error {
        #[serde(default)]
        ts: Option<String>,
        #[serde(default)]
        request_id: Option<String>,
        code: String,
        message: String,
    },
}

impl<C> ServerFrame<C> {
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ServerFrame::Connected { .. } => None,
            ServerFrame::Assigned { request_id, .. }
            | ServerFrame::Heartbeat { request_id, .. }
            | ServerFrame::Ack { request_id, .. }
            | ServerFrame::Progress { request_id, .. }
            | ServerFrame::Result { request_id, .. }
            | ServerFrame::Error { request_id, .. } => request_id.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn frames_keep_the_wire_names_and_tell_null_results_from_absent_ones() {
        let f: AgentFrame = serde_json::from_value(
            json!({"type": "agent.command.result", "command_id": "c", "status": "succeeded", "result": null}),
        )
        .unwrap();
        assert!(matches!(
            f,
            AgentFrame::Result {
                result: Some(Value::Null),
                ..
            }
        ));
        let f: AgentFrame =
            serde_json::from_value(json!({"type": "agent.command.result", "command_id": "c", "status": "failed"}))
                .unwrap();
        assert!(matches!(f, AgentFrame::Result { result: None, .. }));
        let s = serde_json::to_value(ServerFrame::<AssignedCommand>::Error {
            ts: None,
            request_id: Some("r".into()),
            code: "X".into(),
            message: "m".into(),
        })
        .unwrap();
        assert_eq!(s["type"], "error");
        assert_eq!(s["request_id"], "r");
    }
}
