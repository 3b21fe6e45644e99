//! The playbooks' table of owner-scoped records, read by provisioning for a VM's config ISO.

use crate::error::ErrorCode;
use crate::provisioning::records::Kind;
use crate::provisioning::store::Table;

pub static PLAYBOOKS: Kind = Kind {
    table: Table {
        table: "playbooks",
        body: "content",
    },
    noun: "Playbook",
    not_found: ErrorCode::PlaybookNotFound,
    invalid_id: ErrorCode::PlaybookInvalidId,
};
