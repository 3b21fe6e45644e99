//! The pure name generator: syllable tables per race and gender (`assets/names/*.txt`,
//! compiled in), joined at random and kept only when the result is a legal, pronounceable name.

use std::collections::HashSet;
use std::sync::LazyLock;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// Names each batch adds.
pub const BATCH_SIZE: usize = 10;
/// Batches actually run, whatever was asked (the contract allows asking up to 20).
pub const MAX_BATCHES: usize = 5;
/// Names actually returned, whatever was asked (the contract allows asking up to 100).
pub const MAX_COUNT: usize = 50;

/// Random joins tried per wanted name. Most joins pass; the bound only matters for a table
/// too small to fill an answer, which then comes back short instead of spinning.
const TRIES_PER_NAME: usize = 50;
/// One name in this many gets a middle syllable, for some longer names.
const MIDDLE_ONE_IN: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Race {
    Human,
    Dwarf,
    NightElf,
    Gnome,
    Draenei,
    Orc,
    Undead,
    Tauren,
    Troll,
    BloodElf,
}

impl Race {
    pub const ALL: [Race; 10] = [
        Race::Human,
        Race::Dwarf,
        Race::NightElf,
        Race::Gnome,
        Race::Draenei,
        Race::Orc,
        Race::Undead,
        Race::Tauren,
        Race::Troll,
        Race::BloodElf,
    ];

    /// The query value, also the asset file's stem.
    pub fn as_str(self) -> &'static str {
        match self {
            Race::Human => "human",
            Race::Dwarf => "dwarf",
            Race::NightElf => "night_elf",
            Race::Gnome => "gnome",
            Race::Draenei => "draenei",
            Race::Orc => "orc",
            Race::Undead => "undead",
            Race::Tauren => "tauren",
            Race::Troll => "troll",
            Race::BloodElf => "blood_elf",
        }
    }

    pub fn parse(value: &str) -> Option<Race> {
        Race::ALL.into_iter().find(|race| race.as_str() == value)
    }

    fn source(self) -> &'static str {
        match self {
            Race::Human => include_str!("../../assets/names/human.txt"),
            Race::Dwarf => include_str!("../../assets/names/dwarf.txt"),
            Race::NightElf => include_str!("../../assets/names/night_elf.txt"),
            Race::Gnome => include_str!("../../assets/names/gnome.txt"),
            Race::Draenei => include_str!("../../assets/names/draenei.txt"),
            Race::Orc => include_str!("../../assets/names/orc.txt"),
            Race::Undead => include_str!("../../assets/names/undead.txt"),
            Race::Tauren => include_str!("../../assets/names/tauren.txt"),
            Race::Troll => include_str!("../../assets/names/troll.txt"),
            Race::BloodElf => include_str!("../../assets/names/blood_elf.txt"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    pub const ALL: [Gender; 2] = [Gender::Male, Gender::Female];

    pub fn parse(value: &str) -> Option<Gender> {
        match value {
            "male" => Some(Gender::Male),
            "female" => Some(Gender::Female),
            _ => None,
        }
    }
}

/// What to generate. `None` race or gender means a mix: each name draws its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameParams {
    /// Batches to run; clamped to 1..=[`MAX_BATCHES`].
    pub batches: usize,
    /// Keep only the first names; clamped to [`MAX_COUNT`]. `None` keeps every batch's names.
    pub count: Option<usize>,
    pub race: Option<Race>,
    pub gender: Option<Gender>,
    /// Same params with the same seed give the same names (within one build: `StdRng`'s
    /// algorithm may change with `rand`).
    pub seed: Option<u64>,
}

/// Distinct names, [`BATCH_SIZE`] per batch, cut to `count`. Because the cut comes last, a
/// seeded answer with `count` is a prefix of the same answer without it.
pub fn generate(params: &NameParams) -> Vec<String> {
    let mut rng = rng(params.seed);
    let wanted = params.batches.clamp(1, MAX_BATCHES) * BATCH_SIZE;
    let mut seen = HashSet::with_capacity(wanted);
    let mut names = Vec::with_capacity(wanted);
    for _ in 0..wanted * TRIES_PER_NAME {
        if names.len() == wanted {
            break;
        }
        let Some(name) = compose(&mut rng, params.race, params.gender).filter(|n| is_legal(n)) else {
            continue;
        };
        if seen.insert(name.clone()) {
            names.push(name);
        }
    }
    if let Some(count) = params.count {
        names.truncate(count.min(MAX_COUNT));
    }
    names
}

/// One of `names` at random ("" when there are none); seeded like [`generate`].
pub fn pick(names: &[String], seed: Option<u64>) -> String {
    names.choose(&mut rng(seed)).cloned().unwrap_or_default()
}

fn rng(seed: Option<u64>) -> StdRng {
    seed.map_or_else(StdRng::from_entropy, StdRng::seed_from_u64)
}

/// One random join, or `None` when its syllables meet badly.
fn compose(rng: &mut StdRng, race: Option<Race>, gender: Option<Gender>) -> Option<String> {
    let race = race.unwrap_or_else(|| *Race::ALL.choose(rng).expect("races are listed"));
    let gender = gender.unwrap_or_else(|| *Gender::ALL.choose(rng).expect("genders are listed"));
    let table = &TABLES[Race::ALL.iter().position(|r| *r == race).expect("every race is in ALL")];
    let parts = match gender {
        Gender::Male => &table.male,
        Gender::Female => &table.female,
    };
    let mut syllables = vec![*parts.start.choose(rng).expect("tables are checked non-empty")];
    if rng.gen_ratio(1, MIDDLE_ONE_IN) {
        syllables.extend(table.middle.choose(rng));
    }
    syllables.push(parts.end.choose(rng).expect("tables are checked non-empty"));
    // A repeated syllable (Grimgrim) reads as a stutter, not a name.
    let smooth = syllables
        .windows(2)
        .all(|pair| pair[0] != pair[1] && smooth_join(pair[0], pair[1]));
    smooth.then(|| capitalise(&syllables.concat()))
}

/// Vowel pairs that read well across a join (Baine, Maiev). Any other pair of vowels meeting
/// there stumbles (Taah, Shaoka), though the letter rules in [`is_legal`] would pass it.
const JOIN_VOWELS: [&str; 7] = ["ae", "ai", "ea", "ei", "ia", "ie", "io"];

fn smooth_join(left: &str, right: &str) -> bool {
    let vowel = |c: char| "aeiou".contains(c);
    match (left.chars().last(), right.chars().next()) {
        (Some(l), Some(r)) if vowel(l) && vowel(r) => JOIN_VOWELS.contains(&format!("{l}{r}").as_str()),
        _ => true,
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// The WoW name rules (3-12 letters, capitalised, no letter three times running) plus a
/// pronounceability guard for syllable joins: at most 3 consonants or 2 vowels in a row.
pub fn is_legal(name: &str) -> bool {
    let bytes = name.as_bytes();
    if !(3..=12).contains(&bytes.len())
        || !bytes[0].is_ascii_uppercase()
        || !bytes[1..].iter().all(u8::is_ascii_lowercase)
    {
        return false;
    }
    let lower = name.to_ascii_lowercase().into_bytes();
    let tripled = lower.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]);
    // 'y' counts as a vowel: Tyrande, Sylvanas.
    let is_vowel = |b: &u8| b"aeiouy".contains(b);
    let longest_run = |vowels: bool| {
        lower
            .split(|b| is_vowel(b) != vowels)
            .map(<[u8]>::len)
            .max()
            .unwrap_or(0)
    };
    !tripled && longest_run(false) <= 3 && longest_run(true) <= 2
}

struct Parts {
    start: Vec<&'static str>,
    end: Vec<&'static str>,
}

struct Table {
    male: Parts,
    female: Parts,
    middle: Vec<&'static str>,
}

/// Parsed on first use, in [`Race::ALL`] order. The files are compiled in, so a malformed one
/// is a build defect: parsing panics, and the tests below parse every file.
static TABLES: LazyLock<Vec<Table>> = LazyLock::new(|| {
    Race::ALL
        .iter()
        .map(|race| parse_table(race.as_str(), race.source()))
        .collect()
});

fn parse_table(file: &str, text: &'static str) -> Table {
    let mut sections: [(&str, Vec<&'static str>); 5] = [
        ("male_start", Vec::new()),
        ("male_end", Vec::new()),
        ("female_start", Vec::new()),
        ("female_end", Vec::new()),
        ("middle", Vec::new()),
    ];
    let mut current = None;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(
                sections
                    .iter()
                    .position(|(name, _)| *name == header)
                    .unwrap_or_else(|| panic!("names/{file}.txt: unknown section [{header}]")),
            );
            continue;
        }
        for syllable in line.split_whitespace() {
            let index = current.unwrap_or_else(|| panic!("names/{file}.txt: '{syllable}' is outside a section"));
            assert!(
                syllable.bytes().all(|b| b.is_ascii_lowercase()),
                "names/{file}.txt: '{syllable}' is not lowercase letters"
            );
            sections[index].1.push(syllable);
        }
    }
    let [male_start, male_end, female_start, female_end, middle] = sections.map(|(name, syllables)| {
        assert!(
            name == "middle" || !syllables.is_empty(),
            "names/{file}.txt: [{name}] is empty"
        );
        syllables
    });
    Table {
        male: Parts {
            start: male_start,
            end: male_end,
        },
        female: Parts {
            start: female_start,
            end: female_end,
        },
        middle,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(batches: usize, count: Option<usize>, race: Option<Race>, gender: Option<Gender>) -> NameParams {
        NameParams {
            batches,
            count,
            race,
            gender,
            seed: Some(42),
        }
    }

    #[test]
    fn every_table_parses() {
        assert_eq!(TABLES.len(), Race::ALL.len());
    }

    #[test]
    fn the_same_seed_gives_the_same_names() {
        let p = params(3, None, None, None);
        assert_eq!(generate(&p), generate(&p));
        assert_eq!(pick(&generate(&p), p.seed), pick(&generate(&p), p.seed));
        let other = NameParams {
            seed: Some(43),
            ..p.clone()
        };
        assert_ne!(generate(&p), generate(&other));
    }

    #[test]
    fn count_keeps_a_prefix_of_the_uncut_answer() {
        let all = generate(&params(2, None, None, None));
        assert_eq!(generate(&params(2, Some(7), None, None)), all[..7]);
    }

    #[test]
    fn batches_and_count_are_capped() {
        assert_eq!(generate(&params(1, None, None, None)).len(), BATCH_SIZE);
        assert_eq!(generate(&params(20, None, None, None)).len(), MAX_BATCHES * BATCH_SIZE);
        assert_eq!(generate(&params(20, Some(100), None, None)).len(), MAX_COUNT);
        // count cuts, it does not add batches.
        assert_eq!(generate(&params(1, Some(30), None, None)).len(), BATCH_SIZE);
        // Unseeded answers are full too.
        let unseeded = NameParams {
            seed: None,
            ..params(2, None, None, None)
        };
        assert_eq!(generate(&unseeded).len(), 2 * BATCH_SIZE);
    }

    /// The smallest table must still fill the largest answer, distinct and legal.
    #[test]
    fn every_race_and_gender_fills_the_largest_answer_with_distinct_legal_names() {
        for race in Race::ALL {
            for gender in Gender::ALL {
                for seed in 0..20 {
                    let p = NameParams {
                        seed: Some(seed),
                        ..params(MAX_BATCHES, None, Some(race), Some(gender))
                    };
                    let names = generate(&p);
                    assert_eq!(names.len(), MAX_BATCHES * BATCH_SIZE, "{race:?} {gender:?} seed {seed}");
                    let distinct: HashSet<_> = names.iter().collect();
                    assert_eq!(distinct.len(), names.len(), "{race:?} {gender:?}: {names:?}");
                    assert!(names.iter().all(|n| is_legal(n)), "{race:?} {gender:?}: {names:?}");
                }
            }
        }
    }

    #[test]
    fn legality_rules() {
        for good in ["Thrall", "Jaina", "Tyrande", "Kaelthas", "Ana", "Grommashzug"] {
            assert!(is_legal(good), "{good}");
        }
        for bad in [
            "Al",            // too short
            "Abcdefghijklm", // too long (and consonant runs)
            "jaina",         // not capitalised
            "JAina",         // capital inside
            "Zul'jin",       // not letters only
            "Jaïna",         // not ASCII
            "Baaad",         // three of a kind
            "Thrrak",        // four consonants
            "Aeia",          // three vowels
            "",
        ] {
            assert!(!is_legal(bad), "{bad}");
        }
    }

    #[test]
    fn joins_keep_only_smooth_vowel_pairs() {
        assert!(smooth_join("ba", "ine"));
        assert!(smooth_join("gar", "ok"));
        assert!(smooth_join("mu", "ka"));
        assert!(!smooth_join("ta", "ah"));
        assert!(!smooth_join("sha", "oka"));
    }

    #[test]
    fn pick_is_one_of_the_names_or_empty() {
        let names = generate(&params(1, None, None, None));
        assert!(names.contains(&pick(&names, None)));
        assert_eq!(pick(&[], Some(1)), "");
    }

    #[test]
    fn race_and_gender_parse_their_query_values() {
        for race in Race::ALL {
            assert_eq!(Race::parse(race.as_str()), Some(race));
        }
        assert_eq!(Race::parse("Orc"), None);
        assert_eq!(Gender::parse("female"), Some(Gender::Female));
        assert_eq!(Gender::parse("other"), None);
    }
}
