//! A compact ISO 9660 writer with the Joliet extension: the per-VM config ISO.
//!
//! A provisioning ISO is a handful of small files in one flat root directory, so this writes
//! exactly that: the primary volume descriptor (ISO 9660 level 2 names, upper case), a Joliet
//! supplementary descriptor (UCS-2 names as given, which Windows Setup reads), both path
//! tables (L and M) of each, one root directory per tree, and the file extents, which both
//! trees share. No Rock Ridge, no El Torito, no subdirectories: nothing here needs them.

const SECTOR: usize = 2048;
/// Sectors 0-15 are the system area; descriptors start at 16.
const FIRST_DESCRIPTOR: usize = 16;
const VOLUME_ID: &str = "PROVISION";
/// Joliet allows 64 UCS-2 characters per name.
const MAX_NAME: usize = 64;

#[derive(Debug, PartialEq, Eq)]
pub enum IsoError {
    /// A name outside `[A-Za-z0-9._-]`, empty, longer than 64 or starting with `.`.
    InvalidName(String),
    /// Two names that are the same once upper-cased for the primary tree.
    DuplicateName(String),
}

impl std::fmt::Display for IsoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IsoError::InvalidName(n) => write!(f, "file name {n:?} must be 1-64 characters of [A-Za-z0-9._-]"),
            IsoError::DuplicateName(n) => write!(f, "file name {n:?} appears twice (names are compared without case)"),
        }
    }
}

struct Entry<'a> {
    primary: Vec<u8>,
    joliet: Vec<u8>,
    data: &'a [u8],
    lba: u32,
}

/// Builds the image of `files` (name, bytes) with the volume label `PROVISION`; `unix_secs`
/// is the recording time of every record.
pub fn build(files: &[(&str, &[u8])], unix_secs: i64) -> Result<Vec<u8>, IsoError> {
    let mut entries = Vec::with_capacity(files.len());
    for (name, data) in files {
        let ok = !name.is_empty()
            && name.len() <= MAX_NAME
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            return Err(IsoError::InvalidName((*name).to_owned()));
        }
        entries.push(Entry {
            primary: primary_name(name),
            joliet: ucs2(&format!("{name};1")),
            data,
            lba: 0,
        });
    }
    entries.sort_by(|a, b| a.primary.cmp(&b.primary));
    if let Some(w) = entries.windows(2).find(|w| w[0].primary == w[1].primary) {
        return Err(IsoError::DuplicateName(
            String::from_utf8_lossy(&w[0].primary).into_owned(),
        ));
    }
    let when = recording_date(unix_secs);

    // Layout: descriptors (PVD, Joliet SVD, terminator), four one-sector path tables, the two
    // root directories, then each file from a sector boundary.
    let path_tables = FIRST_DESCRIPTOR + 3;
    let primary_root = path_tables + 4;
    let primary_root_len = dir_sectors(entries.iter().map(|e| e.primary.len()));
    let joliet_root = primary_root + primary_root_len;
    let joliet_root_len = dir_sectors(entries.iter().map(|e| e.joliet.len()));
    let mut next = joliet_root + joliet_root_len;
    for entry in &mut entries {
        entry.lba = next as u32;
        next += entry.data.len().div_ceil(SECTOR);
    }
    let total = next;
    let mut image = vec![0u8; total * SECTOR];

    let roots = [
        (primary_root, primary_root_len, false),
        (joliet_root, joliet_root_len, true),
    ];
    for (i, &(root, root_len, joliet)) in roots.iter().enumerate() {
        let root_record = record(&[0], root as u32, (root_len * SECTOR) as u32, true, &when);
        let descriptor = volume_descriptor(
            joliet,
            total as u32,
            (path_tables + 2 * i) as u32,
            &root_record,
            unix_secs,
        );
        put(&mut image, (FIRST_DESCRIPTOR + i) * SECTOR, &descriptor);
        put(
            &mut image,
            (path_tables + 2 * i) * SECTOR,
            &path_table_root(root as u32, false),
        );
        put(
            &mut image,
            (path_tables + 2 * i + 1) * SECTOR,
            &path_table_root(root as u32, true),
        );
        let records = entries.iter().map(|e| {
            let name = if joliet { &e.joliet } else { &e.primary };
            record(name, e.lba, e.data.len() as u32, false, &when)
        });
        let parent = record(&[1], root as u32, (root_len * SECTOR) as u32, true, &when);
        write_directory(
            &mut image,
            root,
            [root_record.clone(), parent].into_iter().chain(records),
        );
    }
    let mut terminator = [0u8; 7];
    terminator[0] = 255;
    terminator[1..6].copy_from_slice(b"CD001");
    terminator[6] = 1;
    put(&mut image, (FIRST_DESCRIPTOR + 2) * SECTOR, &terminator);
    for entry in &entries {
        put(&mut image, entry.lba as usize * SECTOR, entry.data);
    }
    Ok(image)
}

/// ISO 9660 level 2 allows 30 characters for name and extension together.
const MAX_PRIMARY: usize = 30;

/// Upper case, `-` and inner dots as `_`, the last `.` kept, at most 30 characters (the name
/// part is shortened), then `;1`: d-characters only.
fn primary_name(name: &str) -> Vec<u8> {
    let map = |part: &str| -> Vec<u8> {
        part.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    b.to_ascii_uppercase()
                } else {
                    b'_'
                }
            })
            .collect()
    };
    let (base, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    let mut ext = map(ext);
    ext.truncate(MAX_PRIMARY - 1);
    let mut out = map(base);
    out.truncate(MAX_PRIMARY - 1 - ext.len());
    out.push(b'.');
    out.extend_from_slice(&ext);
    out.extend_from_slice(b";1");
    out
}

fn ucs2(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

fn record_len(name_len: usize) -> usize {
    33 + name_len + (name_len + 1) % 2
}

/// Sectors a directory needs: records never straddle a sector boundary.
fn dir_sectors(names: impl Iterator<Item = usize>) -> usize {
    let (mut sectors, mut used) = (1, 2 * record_len(1));
    for len in names {
        let len = record_len(len);
        if used + len > SECTOR {
            sectors += 1;
            used = 0;
        }
        used += len;
    }
    sectors
}

fn write_directory(image: &mut [u8], first: usize, records: impl Iterator<Item = Vec<u8>>) {
    let mut at = first * SECTOR;
    for record in records {
        if at % SECTOR + record.len() > SECTOR {
            at = at.next_multiple_of(SECTOR);
        }
        put(image, at, &record);
        at += record.len();
    }
}

fn record(name: &[u8], lba: u32, size: u32, dir: bool, when: &[u8; 7]) -> Vec<u8> {
    let mut r = vec![0u8; record_len(name.len())];
    r[0] = r.len() as u8;
    r[2..10].copy_from_slice(&both32(lba));
    r[10..18].copy_from_slice(&both32(size));
    r[18..25].copy_from_slice(when);
    r[25] = if dir { 2 } else { 0 };
    r[28..32].copy_from_slice(&both16(1));
    r[32] = name.len() as u8;
    r[33..33 + name.len()].copy_from_slice(name);
    r
}

/// The path table of a tree with only its root: one 10-byte record.
fn path_table_root(lba: u32, big_endian: bool) -> [u8; 10] {
    let mut t = [0u8; 10];
    t[0] = 1;
    t[2..6].copy_from_slice(&if big_endian {
        lba.to_be_bytes()
    } else {
        lba.to_le_bytes()
    });
    t[6..8].copy_from_slice(&if big_endian {
        1u16.to_be_bytes()
    } else {
        1u16.to_le_bytes()
    });
    t
}

fn volume_descriptor(joliet: bool, total: u32, path_table: u32, root: &[u8], unix_secs: i64) -> Vec<u8> {
    let mut d = vec![0u8; SECTOR];
    d[0] = if joliet { 2 } else { 1 };
    d[1..6].copy_from_slice(b"CD001");
    d[6] = 1;
    let text = |d: &mut [u8], at: usize, len: usize, value: &str| {
        let field = &mut d[at..at + len];
        if joliet {
            // UCS-2 spaces; an odd-length field (the 37-byte file ids) ends in one zero byte.
            for pair in field.chunks_exact_mut(2) {
                pair.copy_from_slice(&[0, b' ']);
            }
            if len % 2 == 1 {
                field[len - 1] = 0;
            }
            let bytes = ucs2(value);
            field[..bytes.len()].copy_from_slice(&bytes);
        } else {
            field.fill(b' ');
            field[..value.len()].copy_from_slice(value.as_bytes());
        }
    };
    text(&mut d, 8, 32, "");
    text(&mut d, 40, 32, VOLUME_ID);
    d[80..88].copy_from_slice(&both32(total));
    if joliet {
        // UCS-2 level 3.
        d[88..91].copy_from_slice(b"%/E");
    }
    d[120..124].copy_from_slice(&both16(1));
    d[124..128].copy_from_slice(&both16(1));
    d[128..132].copy_from_slice(&both16(SECTOR as u16));
    d[132..140].copy_from_slice(&both32(10));
    d[140..144].copy_from_slice(&path_table.to_le_bytes());
    d[148..152].copy_from_slice(&(path_table + 1).to_be_bytes());
    d[156..190].copy_from_slice(root);
    for (at, len) in [
        (190, 128),
        (318, 128),
        (446, 128),
        (574, 128),
        (702, 37),
        (739, 37),
        (776, 37),
    ] {
        text(&mut d, at, len, "");
    }
    text(&mut d, 574, 128, "BOTMOX");
    let stamp = volume_date(unix_secs);
    d[813..830].copy_from_slice(&stamp);
    d[830..847].copy_from_slice(&stamp);
    let never = *b"0000000000000000\0";
    d[847..864].copy_from_slice(&never);
    d[864..881].copy_from_slice(&never);
    d[881] = 1;
    d
}

fn utc(unix_secs: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix_secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// The 7-byte date of a directory record (years since 1900, …, offset 0 = UTC).
fn recording_date(unix_secs: i64) -> [u8; 7] {
    let t = utc(unix_secs);
    [
        (t.year() - 1900).clamp(0, 255) as u8,
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        0,
    ]
}

/// The 17-byte date of a volume descriptor: `YYYYMMDDHHMMSScc` and the UTC offset.
fn volume_date(unix_secs: i64) -> [u8; 17] {
    let t = utc(unix_secs);
    let digits = format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}00",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let mut out = [0u8; 17];
    out[..16].copy_from_slice(digits.as_bytes());
    out
}

fn both16(v: u16) -> [u8; 4] {
    let (le, be) = (v.to_le_bytes(), v.to_be_bytes());
    [le[0], le[1], be[0], be[1]]
}

fn both32(v: u32) -> [u8; 8] {
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&v.to_le_bytes());
    out[4..].copy_from_slice(&v.to_be_bytes());
    out
}

fn put(image: &mut [u8], at: usize, bytes: &[u8]) {
    image[at..at + bytes.len()].copy_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the root directory a volume descriptor points at: (identifier, lba, size).
    fn root_entries(image: &[u8], descriptor: usize) -> Vec<(Vec<u8>, usize, usize)> {
        let d = &image[descriptor * SECTOR..];
        let root = &d[156..190];
        let lba = u32::from_le_bytes(root[2..6].try_into().unwrap()) as usize;
        let size = u32::from_le_bytes(root[10..14].try_into().unwrap()) as usize;
        let dir = &image[lba * SECTOR..lba * SECTOR + size];
        let mut out = Vec::new();
        let mut at = 0;
        while at < dir.len() {
            let len = dir[at] as usize;
            if len == 0 {
                at = (at / SECTOR + 1) * SECTOR;
                continue;
            }
            let r = &dir[at..at + len];
            let name = r[33..33 + r[32] as usize].to_vec();
            let lba = u32::from_le_bytes(r[2..6].try_into().unwrap()) as usize;
            let size = u32::from_le_bytes(r[10..14].try_into().unwrap()) as usize;
            out.push((name, lba, size));
            at += len;
        }
        out
    }

    #[test]
    fn both_trees_list_every_file_and_share_its_bytes() {
        let big = vec![7u8; 5000];
        let files: [(&str, &[u8]); 3] = [("autounattend.xml", b"<x/>"), ("START.ps1", &big), ("empty-file", b"")];
        let image = build(&files, 1_700_000_000).unwrap();
        assert_eq!(image.len() % SECTOR, 0);
        assert_eq!(&image[16 * SECTOR + 1..16 * SECTOR + 6], b"CD001");
        assert_eq!(&image[17 * SECTOR + 88..17 * SECTOR + 91], b"%/E");
        assert_eq!(image[18 * SECTOR], 255);
        let primary = root_entries(&image, 16);
        let names: Vec<_> = primary
            .iter()
            .skip(2)
            .map(|e| String::from_utf8(e.0.clone()).unwrap())
            .collect();
        assert_eq!(names, ["AUTOUNATTEND.XML;1", "EMPTY_FILE.;1", "START.PS1;1"]);
        let joliet = root_entries(&image, 17);
        for (name, bytes) in files {
            let want = ucs2(&format!("{name};1"));
            let (_, lba, size) = joliet.iter().find(|e| e.0 == want).expect("listed in Joliet");
            assert_eq!(&image[lba * SECTOR..lba * SECTOR + size], bytes);
        }
    }

    #[test]
    fn many_files_spill_the_directory_into_more_sectors() {
        let names: Vec<String> = (0..60)
            .map(|i| format!("file-number-{i:02}-with-a-long-name.txt"))
            .collect();
        let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), n.as_bytes())).collect();
        let image = build(&files, 0).unwrap();
        assert_eq!(root_entries(&image, 17).len(), 62);
        assert_eq!(root_entries(&image, 16).len(), 62);
    }

    #[test]
    fn bad_and_clashing_names_are_refused() {
        assert!(matches!(build(&[("a/b", b"")], 0), Err(IsoError::InvalidName(_))));
        assert!(matches!(build(&[(".hidden", b"")], 0), Err(IsoError::InvalidName(_))));
        assert!(matches!(
            build(&[("a.txt", b""), ("A.TXT", b"")], 0),
            Err(IsoError::DuplicateName(_))
        ));
    }
}
