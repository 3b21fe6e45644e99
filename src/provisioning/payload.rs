//! `provision.json` and the bootstrap `START.ps1` (`api-ops.md` §8.3), and the file set of a
//! config ISO.

use std::net::Ipv4Addr;

use serde_json::{json, Value};

use super::profile::Resolved;
use super::{unattend, BOOTSTRAP_FILE, PROVISION_FILE};

pub const XML_FILE: &str = "autounattend.xml";
pub const PLAYBOOK_FILE: &str = "playbook.yml";

/// The static address a VM gets.
pub struct Ip {
    pub address: Ipv4Addr,
    pub netmask: Ipv4Addr,
    pub gateway: Ipv4Addr,
    pub dns: Vec<Ipv4Addr>,
}

/// The prefix length of a contiguous netmask (`255.255.255.0` → 24).
pub fn prefix_len(netmask: Ipv4Addr) -> Result<u8, &'static str> {
    let bits = u32::from(netmask);
    let ones = bits.leading_ones();
    if bits.checked_shl(ones).unwrap_or(0) == 0 && ones > 0 {
        Ok(ones as u8)
    } else {
        Err("netmask must be a contiguous mask such as 255.255.255.0")
    }
}

/// The answer file's view of `ip` (its netmask already checked).
pub fn network(ip: &Ip) -> unattend::Network {
    unattend::Network {
        address: ip.address.to_string(),
        prefix_len: prefix_len(ip.netmask).expect("the netmask was checked"),
        gateway: ip.gateway.to_string(),
        dns: ip.dns.iter().map(ToString::to_string).collect(),
    }
}

/// `provision.json`: what the bootstrap needs to reach the server as this VM.
pub fn provision_json(vm_uuid: &str, ip: &Ip, token: &str, api_endpoint: &str) -> Value {
    json!({
        "version": 1,
        "vm_uuid": vm_uuid,
        "ip": {
            "address": ip.address.to_string(),
            "netmask": ip.netmask.to_string(),
            "gateway": ip.gateway.to_string(),
            "dns": ip.dns.iter().map(ToString::to_string).collect::<Vec<_>>(),
        },
        "token": token,
        // The object store is served by this server: downloads are signed links on it.
        "s3_endpoint": api_endpoint,
        "api_endpoint": api_endpoint,
        "bootstrap_url": "/provisioning/validate-token",
    })
}

/// The files of one VM's config ISO, in ISO order: the answer file, `provision.json`, the
/// bootstrap and, when one is attached, the playbook.
pub fn files(
    resolved: &Resolved,
    vm_uuid: &str,
    ip: &Ip,
    token: &str,
    api_endpoint: &str,
    playbook: Option<&str>,
) -> Vec<(&'static str, Vec<u8>)> {
    let network = network(ip);
    let provision = provision_json(vm_uuid, ip, token, api_endpoint);
    let mut files = vec![
        (XML_FILE, unattend::autounattend(resolved, &network).into_bytes()),
        (
            PROVISION_FILE,
            serde_json::to_vec_pretty(&provision).expect("JSON serialises"),
        ),
        (BOOTSTRAP_FILE, BOOTSTRAP_SCRIPT.as_bytes().to_vec()),
    ];
    if let Some(playbook) = playbook {
        files.push((PLAYBOOK_FILE, playbook.as_bytes().to_vec()));
    }
    files
}

/// The bootstrap, the same for every VM: everything specific is read from `provision.json`.
pub const BOOTSTRAP_SCRIPT: &str = r#"# Bot-Mox bootstrap: static network, token check, progress, runner download.
$ErrorActionPreference = 'Stop'
$config = $null
foreach ($drive in Get-PSDrive -PSProvider FileSystem) {
    $candidate = Join-Path $drive.Root 'provision.json'
    if (Test-Path -LiteralPath $candidate) { $configPath = $candidate; $config = Get-Content -Raw -LiteralPath $candidate | ConvertFrom-Json; break }
}
if (-not $config) { throw 'provision.json not found on any drive' }

$prefix = 0
foreach ($octet in $config.ip.netmask.Split('.')) { $prefix += [Convert]::ToString([int]$octet, 2).Replace('0', '').Length }
$adapter = Get-NetAdapter | Where-Object { $_.Status -eq 'Up' } | Select-Object -First 1
if ($adapter) {
    Get-NetIPAddress -InterfaceIndex $adapter.ifIndex -AddressFamily IPv4 -ErrorAction SilentlyContinue | Remove-NetIPAddress -Confirm:$false -ErrorAction SilentlyContinue
    Get-NetRoute -InterfaceIndex $adapter.ifIndex -DestinationPrefix '0.0.0.0/0' -ErrorAction SilentlyContinue | Remove-NetRoute -Confirm:$false -ErrorAction SilentlyContinue
    New-NetIPAddress -InterfaceIndex $adapter.ifIndex -IPAddress $config.ip.address -PrefixLength $prefix -DefaultGateway $config.ip.gateway | Out-Null
    Set-DnsClientServerAddress -InterfaceIndex $adapter.ifIndex -ServerAddresses $config.ip.dns
}

# The SMBIOS UUID as Proxmox shows it: the first three groups byte-reversed, lower case.
$raw = (Get-CimInstance Win32_ComputerSystemProduct).UUID
$g = $raw.Split('-')
function Swap($s) { $pairs = @(for ($i = 0; $i -lt $s.Length; $i += 2) { $s.Substring($i, 2) }); [array]::Reverse($pairs); -join $pairs }
$smbios = (@((Swap $g[0]), (Swap $g[1]), (Swap $g[2]), $g[3], $g[4]) -join '-').ToLower()
Write-Host "SMBIOS UUID: $smbios; provisioning VM: $($config.vm_uuid)"

$api = $config.api_endpoint.TrimEnd('/') + '/api/v1'
function Send-Progress($step, $status, $details) {
    $body = @{ token = $config.token; vm_uuid = $config.vm_uuid; step = $step; status = $status; details = $details } | ConvertTo-Json -Depth 5
    Invoke-RestMethod -Method Post -Uri "$api/provisioning/report-progress" -ContentType 'application/json' -Body $body | Out-Null
}
$check = @{ token = $config.token; vm_uuid = $config.vm_uuid } | ConvertTo-Json
$valid = (Invoke-RestMethod -Method Post -Uri ($api + $config.bootstrap_url) -ContentType 'application/json' -Body $check).data
Send-Progress 'windows_installed' 'completed' @{ computer = $env:COMPUTERNAME }

if ($config.s3_endpoint -and $valid.bootstrap_url) {
    Send-Progress 'downloader_ready' 'running' @{}
    $exe = 'C:\WindowsSetup\downloader.exe'
    $url = if ($valid.bootstrap_url -match '^https?://') { $valid.bootstrap_url } else { $config.s3_endpoint.TrimEnd('/') + $valid.bootstrap_url }
    Invoke-WebRequest -Uri $url -OutFile $exe
    Start-Process -FilePath $exe -ArgumentList '--config', $configPath -Wait
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_lengths_come_from_contiguous_masks_only() {
        assert_eq!(prefix_len("255.255.255.0".parse().unwrap()), Ok(24));
        assert_eq!(prefix_len("255.255.255.255".parse().unwrap()), Ok(32));
        assert_eq!(prefix_len("255.128.0.0".parse().unwrap()), Ok(9));
        assert!(prefix_len("255.0.255.0".parse().unwrap()).is_err());
        assert!(prefix_len("0.0.0.0".parse().unwrap()).is_err());
    }
}
