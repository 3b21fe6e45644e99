//! What a VM identifier may be; pure, shared by the registry, provisioning, leases and the
//! artifact resolve.

/// A parsed VM UUID.
pub struct VmUuid(pub(super) String);

impl VmUuid {
    pub fn parse(raw: &str) -> Result<VmUuid, &'static str> {
        let uuid = raw.trim().to_ascii_lowercase();
        let ok_chars = uuid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-'));
        if (8..=128).contains(&uuid.len()) && ok_chars {
            Ok(VmUuid(uuid))
        } else {
            Err("vm_uuid must be 8-128 characters of letters, digits, ':', '_' and '-'")
        }
    }

    pub fn into_string(self) -> String {
        self.0
    }
}
