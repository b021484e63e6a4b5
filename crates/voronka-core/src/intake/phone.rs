//! Phone numbers: parsing to E.164, validity and number type, with libphonenumber's rules.
//!
//! The numbering-plan data (number patterns, possible lengths, national and international
//! prefixes) is the copy of libphonenumber's metadata shipped inside the `phonenumber` crate. The
//! rules that interpret it are implemented here instead of using the crate's parser, because
//! that parser departs from libphonenumber in ways that matter for leads:
//!
//! - it strips the national (trunk) prefix even when that destroys a valid number, so
//!   "+7 800 100-00-00" and "8 (800) 100-00-00" became `+7001000000` instead of `+78001000000`
//!   (Russia/Kazakhstan toll-free, likewise Belarus 8-801, Lithuania 800);
//! - it drops a leading default country code that is really part of the national number
//!   (Rwanda "250 123 456");
//! - it rejects some inputs libphonenumber accepts ("+7 000 000-00-00", "0000000000" in France);
//! - it matches number patterns by prefix instead of in full and ignores the "possible lengths"
//!   that libphonenumber derives for a region's general description, and it gives the type
//!   UNKNOWN to valid numbers with a leading zero (Benin, Botswana, Belize, Congo …).
//!
//! Everything here follows libphonenumber's documented behaviour (`parse`, `isValidNumber`,
//! `getNumberType`); `tests/phone_vectors.rs` checks it row by row against libphonenumber's answers.

use phonenumber::metadata::{Descriptor, Metadata, DATABASE};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The kind of a phone number, as libphonenumber classifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PhoneType {
    FixedLine,
    Mobile,
    /// The region's plan does not tell fixed-line and mobile numbers apart (e.g. NANPA).
    FixedLineOrMobile,
    TollFree,
    PremiumRate,
    SharedCost,
    Voip,
    PersonalNumber,
    Pager,
    Uan,
    Voicemail,
    /// Not a valid number of any type.
    Unknown,
}

impl PhoneType {
    /// libphonenumber's name of the type (`FIXED_LINE`, `MOBILE`, `TOLL_FREE`, …).
    pub fn as_str(&self) -> &'static str {
        match self {
            PhoneType::FixedLine => "FIXED_LINE",
            PhoneType::Mobile => "MOBILE",
            PhoneType::FixedLineOrMobile => "FIXED_LINE_OR_MOBILE",
            PhoneType::TollFree => "TOLL_FREE",
            PhoneType::PremiumRate => "PREMIUM_RATE",
            PhoneType::SharedCost => "SHARED_COST",
            PhoneType::Voip => "VOIP",
            PhoneType::PersonalNumber => "PERSONAL_NUMBER",
            PhoneType::Pager => "PAGER",
            PhoneType::Uan => "UAN",
            PhoneType::Voicemail => "VOICEMAIL",
            PhoneType::Unknown => "UNKNOWN",
        }
    }
}

impl std::fmt::Display for PhoneType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed phone number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedPhone {
    /// `+` country code national number, e.g. `+78001234567`; also for invalid numbers.
    pub e164: String,
    pub country_code: u16,
    /// The national significant number (digits only, leading zeros kept).
    pub national_number: String,
    /// An extension written after the number ("доб. 12", "ext. 12", "x12"), digits only.
    pub extension: Option<String>,
    /// Whether the number matches a known number range of its region.
    pub valid: bool,
    pub kind: PhoneType,
    /// The region the number belongs to ("RU", "KZ", "001" for non-geographic numbers), when known.
    pub region: Option<String>,
}

/// Returns (E.164, valid) or `None` when the input is not a phone number at all.
pub fn parse(raw: &str, region: &str) -> Option<(String, bool)> {
    parse_number(raw, region).map(|p| (p.e164, p.valid))
}

/// The type of the number, or `None` when the input is not a phone number at all.
pub fn number_type(raw: &str, region: &str) -> Option<PhoneType> {
    parse_number(raw, region).map(|p| p.kind)
}

/// Parses `raw` as written by someone in `region` (ISO 3166 alpha-2, case-insensitive; may be
/// empty or unknown when the number is written with a `+`). `None` when it is not a number.
pub fn parse_number(raw: &str, region: &str) -> Option<ParsedPhone> {
    if raw.chars().count() > MAX_INPUT_CHARS {
        return None;
    }
    let region = region.trim().to_ascii_uppercase();
    let tables = tables();
    // "001" is the code of non-geographic entities, not a region someone dials from.
    let default = tables.region(&region);

    let mut national = national_number_for_parsing(raw)?;
    if !is_viable(&national) {
        return None;
    }
    if default.is_none() && !starts_with_plus(&national) {
        return None;
    }
    let extension = strip_extension(&mut national);

    let extracted = match extract_country_code(&national, default) {
        Err(CodeError::Invalid) if starts_with_plus(&national) => {
            // "++", "+ +" and similar: drop the pluses and read the rest as a number with a code.
            let rest = national.trim_start_matches(is_plus);
            match extract_country_code(rest, default).ok()? {
                (0, _) => return None,
                found => found,
            }
        }
        other => other.ok()?,
    };
    let (mut country_code, mut nsn) = extracted;
    let mut plan = default;
    if country_code != 0 {
        let main = tables.main_region(country_code);
        if main.map(|r| r.id.as_str()) != Some(region.as_str()) {
            plan = main;
        }
    } else {
        nsn = normalize(&national);
        country_code = default?.country_code;
    }
    if nsn.len() < MIN_NSN_LENGTH {
        return None;
    }
    if let Some(plan) = plan {
        let mut potential = nsn.clone();
        plan.strip_national_prefix(&mut potential);
        if !matches!(
            plan.test_length(&potential),
            LengthCheck::TooShort | LengthCheck::LocalOnly | LengthCheck::InvalidLength
        ) {
            nsn = potential;
        }
    }
    if nsn.len() < MIN_NSN_LENGTH || nsn.len() > MAX_NSN_LENGTH {
        return None;
    }

    let owner = tables.region_for_number(country_code, &nsn);
    let kind = owner.map_or(PhoneType::Unknown, |r| r.number_type(&nsn));
    Some(ParsedPhone {
        e164: format!("+{country_code}{nsn}"),
        country_code,
        national_number: nsn,
        extension,
        valid: kind != PhoneType::Unknown,
        kind,
        region: owner.map(|r| r.id.clone()),
    })
}

// ---------------------------------------------------------------------------------------------
// Constants of libphonenumber's parser.

const MAX_INPUT_CHARS: usize = 250;
const MIN_NSN_LENGTH: usize = 2;
const MAX_NSN_LENGTH: usize = 17;
const MAX_COUNTRY_CODE_LENGTH: usize = 3;
const NON_GEO_REGION: &str = "001";

const PLUS_CHARS: &str = "+\u{FF0B}";
/// Punctuation allowed between the digits of a number.
const PUNCTUATION: &str = "-x\u{2010}-\u{2015}\u{2212}\u{30FC}\u{FF0D}-\u{FF0F} \u{A0}\u{AD}\u{200B}\u{2060}\u{3000}()\u{FF08}\u{FF09}\u{FF3B}\u{FF3D}.\\[\\]/~\u{2053}\u{223C}\u{FF5E}";

fn is_plus(c: char) -> bool {
    PLUS_CHARS.contains(c)
}

fn starts_with_plus(s: &str) -> bool {
    s.starts_with(is_plus)
}

/// `(\p{Nd}{1,max})`: the captured digits of an extension.
fn extension_digits(max: usize) -> String {
    format!("(\\p{{Nd}}{{1,{max}}})")
}

/// The ways an extension can be written after a number, each capturing its digits.
fn extension_patterns() -> String {
    // Labels that can only mean "extension": ext, extn, extension, extensión, доб, anexo, ｅｘｔ.
    let explicit = "(?:e?xt(?:ensi(?:o\u{301}?|\u{F3}))?n?|\u{FF45}?\u{FF58}\u{FF54}\u{FF4E}?|\u{434}\u{43E}\u{431}|anexo)";
    // Labels that may also be something else: x, #, ~, int.
    let ambiguous = "(?:[x\u{FF58}#\u{FF03}~\u{FF5E}]|int|\u{FF49}\u{FF4E}\u{FF54})";
    let before_label = "[ \u{A0}\\t,]*";
    let before_label_no_comma = "[ \u{A0}\\t]*";
    let after_label = "[:\\.\u{FF0E}]?[ \u{A0}\\t,-]*";
    [
        format!(";ext={}", extension_digits(20)),
        format!(
            "{before_label}{explicit}{after_label}{}#?",
            extension_digits(20)
        ),
        format!(
            "{before_label}{ambiguous}{after_label}{}#?",
            extension_digits(9)
        ),
        format!("[- ]+{}#", extension_digits(6)),
        // Auto-dialled extensions: ",," or ";" before the digits.
        format!(
            "{before_label_no_comma}(?:,{{2}}|;){after_label}{}#?",
            extension_digits(15)
        ),
        format!(
            "{before_label_no_comma}(?:,)+{after_label}{}#?",
            extension_digits(9)
        ),
    ]
    .join("|")
}

fn viable_pattern() -> &'static str {
    static P: OnceLock<String> = OnceLock::new();
    P.get_or_init(|| {
        format!(
            "(?i)^(?:\\p{{Nd}}{{{MIN_NSN_LENGTH}}}|[{PLUS_CHARS}]*(?:[{PUNCTUATION}*]*\\p{{Nd}}){{3,}}[{PUNCTUATION}*A-Za-z\\p{{Nd}}]*(?:{})?)$",
            extension_patterns()
        )
    })
}

fn extension_at_end_pattern() -> &'static str {
    static P: OnceLock<String> = OnceLock::new();
    P.get_or_init(|| format!("(?i)(?:{})$", extension_patterns()))
}

// ---------------------------------------------------------------------------------------------
// Steps of parsing.

/// The part of the input that can be a number: from the first plus or digit, without trailing
/// punctuation and without a second number ("… / x 123"); RFC 3966 `tel:` URIs with a
/// `phone-context` are unwrapped.
fn national_number_for_parsing(raw: &str) -> Option<String> {
    const CONTEXT: &str = ";phone-context=";
    let mut number = if let Some(at) = raw.find(CONTEXT) {
        let after = &raw[at + CONTEXT.len()..];
        let context = after.split(';').next().unwrap_or("");
        if !is_valid_phone_context(context) {
            return None;
        }
        let mut number = String::new();
        if starts_with_plus(context) {
            number.push_str(context);
        }
        let start = raw.find("tel:").map_or(0, |i| i + "tel:".len());
        if start < at {
            number.push_str(&raw[start..at]);
        }
        number
    } else {
        extract_possible_number(raw)
    };
    if let Some(at) = number.find(";isub=") {
        if at > 0 {
            number.truncate(at);
        }
    }
    Some(number)
}

fn is_valid_phone_context(context: &str) -> bool {
    let global = "^\\+[0-9\\-\\.\\(\\)]*[0-9][0-9\\-\\.\\(\\)]*$";
    let alnum = "[a-zA-Z0-9]";
    let label = format!("{alnum}(?:(?:{alnum}|-)*{alnum})?");
    let top = format!("[a-zA-Z](?:(?:{alnum}|-)*{alnum})?");
    let domain = format!("^(?:{label}\\.)*{top}\\.?$");
    !context.is_empty() && (re::is_match(global, context) || re::is_match(&domain, context))
}

fn extract_possible_number(raw: &str) -> String {
    let Some((start, _)) = re::find(r"[+\x{FF0B}\p{Nd}]", raw) else {
        return String::new();
    };
    let mut number = &raw[start..];
    if let Some((end, _)) = re::find(r"[^\p{N}\p{L}#]+$", number) {
        number = &number[..end];
    }
    if let Some((end, _)) = re::find(r"[\\/] *x", number) {
        number = &number[..end];
    }
    number.to_string()
}

fn is_viable(number: &str) -> bool {
    number.chars().count() >= MIN_NSN_LENGTH && re::is_match(viable_pattern(), number)
}

/// Removes an extension from the end of `number` and returns its digits.
fn strip_extension(number: &mut String) -> Option<String> {
    let groups = re::captures(extension_at_end_pattern(), number)?;
    let (start, _) = groups[0]?;
    if !is_viable(&number[..start]) {
        return None;
    }
    let ext = groups[1..]
        .iter()
        .flatten()
        .next()
        .map(|&(s, e)| normalize_digits(&number[s..e]));
    number.truncate(start);
    ext
}

/// The decimal value of a Unicode decimal digit (any script).
fn decimal_digit(c: char) -> Option<u32> {
    // The zero of every run of ten decimal digits (Unicode category Nd).
    const ZEROS: &[u32] = &[
        0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
        0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
        0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
        0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
        0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16A60,
        0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0,
        0x1E950, 0x1FBF0,
    ];
    let code = c as u32;
    ZEROS
        .iter()
        .find(|&&zero| (zero..zero + 10).contains(&code))
        .map(|&zero| code - zero)
}

/// Keeps the digits (of any script, as ASCII) and drops everything else.
fn normalize_digits(s: &str) -> String {
    s.chars()
        .filter_map(decimal_digit)
        .filter_map(|d| char::from_digit(d, 10))
        .collect()
}

/// The digit a letter stands for on a phone keypad.
fn keypad_digit(c: char) -> Option<char> {
    let digit = match c.to_ascii_uppercase() {
        'A'..='C' => '2',
        'D'..='F' => '3',
        'G'..='I' => '4',
        'J'..='L' => '5',
        'M'..='O' => '6',
        'P'..='S' => '7',
        'T'..='V' => '8',
        'W'..='Z' => '9',
        _ => return None,
    };
    Some(digit)
}

/// Digits only; a vanity number (three letters or more, "1-800-FLOWERS") has its letters
/// turned into keypad digits.
fn normalize(s: &str) -> String {
    if re::is_match("^(?:.*?[A-Za-z]){3}.*$", s) {
        s.chars()
            .filter_map(|c| {
                if c.is_ascii_digit() {
                    Some(c)
                } else {
                    keypad_digit(c)
                }
            })
            .collect()
    } else {
        normalize_digits(s)
    }
}

enum CodeError {
    /// A plus or an international prefix is not followed by a known country code.
    Invalid,
    /// Nothing worth a number after the international prefix.
    TooShort,
}

/// Finds the country code: after a plus, after the default region's international prefix
/// ("810 49 …" from Russia), or at the start of a number that is not valid without it
/// ("7 916 123 45 67" in Russia). Returns (0, _) when the number is written nationally.
fn extract_country_code(
    number: &str,
    default: Option<&Region>,
) -> Result<(u16, String), CodeError> {
    let (full, international) = if starts_with_plus(number) {
        (normalize(number.trim_start_matches(is_plus)), true)
    } else {
        let mut full = normalize(number);
        let stripped = default.is_some_and(|d| d.strip_international_prefix(&mut full));
        (full, stripped)
    };
    if international {
        if full.len() <= MIN_NSN_LENGTH {
            return Err(CodeError::TooShort);
        }
        return match split_country_code(&full) {
            Some((code, rest)) => Ok((code, rest.to_string())),
            None => Err(CodeError::Invalid),
        };
    }
    if let Some(default) = default {
        let code = default.country_code.to_string();
        if let Some(rest) = full.strip_prefix(code.as_str()) {
            let mut potential = rest.to_string();
            default.strip_national_prefix(&mut potential);
            if (!default.general.pattern_matches(&full)
                && default.general.pattern_matches(&potential))
                || default.test_length(&full) == LengthCheck::TooLong
            {
                return Ok((default.country_code, potential));
            }
        }
    }
    Ok((0, String::new()))
}

/// Splits a leading known country code (1 to 3 digits) off `digits`.
fn split_country_code(digits: &str) -> Option<(u16, &str)> {
    if digits.starts_with('0') {
        return None;
    }
    (1..=MAX_COUNTRY_CODE_LENGTH.min(digits.len())).find_map(|len| {
        let code: u16 = digits[..len].parse().ok()?;
        tables()
            .by_code
            .contains_key(&code)
            .then(|| (code, &digits[len..]))
    })
}

// ---------------------------------------------------------------------------------------------
// The numbering plans, prepared for matching the way libphonenumber's compiled metadata does.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LengthCheck {
    Possible,
    LocalOnly,
    TooShort,
    InvalidLength,
    TooLong,
}

/// One number range description: a pattern the whole national number must match and the
/// lengths it can have (empty: any length).
struct Desc {
    pattern: String,
    lengths: Vec<u16>,
}

impl Desc {
    fn new(d: &Descriptor) -> Desc {
        Desc {
            pattern: format!("^(?:{})$", compact(d.national_number().as_str())),
            lengths: d.possible_length().to_vec(),
        }
    }

    fn pattern_matches(&self, nsn: &str) -> bool {
        re::is_match(&self.pattern, nsn)
    }

    fn matches(&self, nsn: &str) -> bool {
        let len = u16::try_from(nsn.len()).unwrap_or(u16::MAX);
        (self.lengths.is_empty() || self.lengths.contains(&len)) && self.pattern_matches(nsn)
    }
}

struct Region {
    id: String,
    country_code: u16,
    general: Desc,
    /// Lengths of full national numbers, over all number types.
    lengths: Vec<u16>,
    /// Lengths of numbers diallable only within an area (without the area code).
    local_lengths: Vec<u16>,
    /// Number types in the order libphonenumber tries them, before fixed line and mobile.
    special: Vec<(PhoneType, Desc)>,
    fixed_line: Option<Desc>,
    mobile: Option<Desc>,
    same_fixed_and_mobile: bool,
    /// Region-selecting prefix of numbers among the regions sharing a country code.
    leading_digits: Option<String>,
    international_prefix: Option<String>,
    national_prefix_for_parsing: Option<String>,
    national_prefix_transform: Option<String>,
}

/// Removes the whitespace that the metadata's patterns are laid out with.
fn compact(pattern: &str) -> String {
    pattern.chars().filter(|c| !c.is_whitespace()).collect()
}

impl Region {
    fn new(meta: &Metadata) -> Region {
        let d = meta.descriptors();
        let special = [
            (PhoneType::PremiumRate, d.premium_rate()),
            (PhoneType::TollFree, d.toll_free()),
            (PhoneType::SharedCost, d.shared_cost()),
            (PhoneType::Voip, d.voip()),
            (PhoneType::PersonalNumber, d.personal_number()),
            (PhoneType::Pager, d.pager()),
            (PhoneType::Uan, d.uan()),
            (PhoneType::Voicemail, d.voicemail()),
        ];
        // The general lengths are derived from every number type's lengths
        // ("noInternationalDialling" is not a type of its own).
        let typed: Vec<&Descriptor> = special
            .iter()
            .filter_map(|(_, d)| *d)
            .chain(d.fixed_line())
            .chain(d.mobile())
            .collect();
        let mut lengths: Vec<u16> = typed
            .iter()
            .flat_map(|d| d.possible_length().iter().copied())
            .collect();
        lengths.sort_unstable();
        lengths.dedup();
        let mut local_lengths: Vec<u16> = typed
            .iter()
            .flat_map(|d| d.possible_local_length().iter().copied())
            .filter(|l| !lengths.contains(l))
            .collect();
        local_lengths.sort_unstable();
        local_lengths.dedup();

        let fixed_line = d.fixed_line().map(Desc::new);
        let mobile = d.mobile().map(Desc::new);
        let same_fixed_and_mobile = fixed_line.as_ref().map(|d| d.pattern.as_str())
            == mobile.as_ref().map(|d| d.pattern.as_str());
        let mut general = Desc::new(d.general());
        general.lengths = lengths.clone();
        let national_prefix_for_parsing = meta
            .national_prefix_for_parsing()
            .map(|p| compact(p.as_str()))
            .or_else(|| meta.national_prefix().map(compact))
            .filter(|p| !p.is_empty());
        Region {
            id: meta.id().to_string(),
            country_code: meta.country_code(),
            general,
            lengths,
            local_lengths,
            special: special
                .iter()
                .filter_map(|(t, d)| d.map(|d| (*t, Desc::new(d))))
                .collect(),
            fixed_line,
            mobile,
            same_fixed_and_mobile,
            leading_digits: meta
                .leading_digits()
                .map(|p| format!("^(?:{})", compact(p.as_str()))),
            international_prefix: meta
                .international_prefix()
                .map(|p| format!("^(?:{})", compact(p.as_str()))),
            // The transform rule only applies with an explicit prefix-for-parsing.
            national_prefix_transform: meta
                .national_prefix_for_parsing()
                .and(meta.national_prefix_transform_rule())
                .map(str::to_string)
                .filter(|r| !r.is_empty()),
            national_prefix_for_parsing: national_prefix_for_parsing.map(|p| format!("^(?:{p})")),
        }
    }

    /// Whether a number of this length is possible in the region.
    fn test_length(&self, nsn: &str) -> LengthCheck {
        let (Some(&min), Some(&max)) = (self.lengths.first(), self.lengths.last()) else {
            return LengthCheck::InvalidLength;
        };
        let len = u16::try_from(nsn.len()).unwrap_or(u16::MAX);
        if self.local_lengths.contains(&len) {
            LengthCheck::LocalOnly
        } else if len < min {
            LengthCheck::TooShort
        } else if len > max {
            LengthCheck::TooLong
        } else if self.lengths.contains(&len) {
            LengthCheck::Possible
        } else {
            LengthCheck::InvalidLength
        }
    }

    /// Strips the international prefix ("00", "810" …) and tells whether there was one; a prefix
    /// followed by 0 is not one (no country code starts with 0).
    fn strip_international_prefix(&self, digits: &mut String) -> bool {
        let Some(pattern) = &self.international_prefix else {
            return false;
        };
        let Some(groups) = re::captures(pattern, digits) else {
            return false;
        };
        let Some((_, end)) = groups[0] else {
            return false;
        };
        if digits[end..].starts_with('0') {
            return false;
        }
        digits.replace_range(..end, "");
        true
    }

    /// Strips the national (trunk) prefix, e.g. Russia's 8 or France's 0, applying the region's
    /// transform rule where it has one — unless the number is valid as written and would not be
    /// without the prefix ("8 800 …" keeps its 8 when written after +7).
    fn strip_national_prefix(&self, nsn: &mut String) {
        let Some(pattern) = &self.national_prefix_for_parsing else {
            return;
        };
        if nsn.is_empty() {
            return;
        }
        let Some(groups) = re::captures(pattern, nsn) else {
            return;
        };
        let Some((_, end)) = groups[0] else {
            return;
        };
        let viable_as_written = self.general.pattern_matches(nsn);
        // The last group, or the whole match when the pattern has no groups.
        let last_group = groups.last().copied().flatten();
        let stripped = match (&self.national_prefix_transform, last_group) {
            (Some(rule), Some(_)) => {
                let mut out = expand(rule, &groups, nsn);
                out.push_str(&nsn[end..]);
                out
            }
            _ => nsn[end..].to_string(),
        };
        if viable_as_written && !self.general.pattern_matches(&stripped) {
            return;
        }
        *nsn = stripped;
    }

    fn number_type(&self, nsn: &str) -> PhoneType {
        if !self.general.matches(nsn) {
            return PhoneType::Unknown;
        }
        if let Some((kind, _)) = self.special.iter().find(|(_, d)| d.matches(nsn)) {
            return *kind;
        }
        let mobile = || self.mobile.as_ref().is_some_and(|d| d.matches(nsn));
        if self.fixed_line.as_ref().is_some_and(|d| d.matches(nsn)) {
            if self.same_fixed_and_mobile || mobile() {
                return PhoneType::FixedLineOrMobile;
            }
            return PhoneType::FixedLine;
        }
        if !self.same_fixed_and_mobile && mobile() {
            return PhoneType::Mobile;
        }
        PhoneType::Unknown
    }
}

/// Expands `$n` group references of a replacement rule.
fn expand(rule: &str, groups: &[Option<(usize, usize)>], text: &str) -> String {
    let mut out = String::new();
    let mut chars = rule.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        // As many digits as still name an existing group.
        let mut group: Option<usize> = None;
        while let Some(&(_, d)) = chars.peek() {
            let Some(v) = d.to_digit(10) else { break };
            let next = group.unwrap_or(0) * 10 + v as usize;
            if group.is_some() && next >= groups.len() {
                break;
            }
            group = Some(next);
            chars.next();
        }
        match group {
            Some(g) => {
                if let Some(Some((s, e))) = groups.get(g) {
                    out.push_str(&text[*s..*e]);
                }
            }
            None => out.push('$'),
        }
    }
    out
}

struct Tables {
    /// Plans by country code, the main region first.
    by_code: HashMap<u16, Vec<Region>>,
    /// (country code, index) of each geographic region.
    by_id: HashMap<String, (u16, usize)>,
}

impl Tables {
    fn region(&self, id: &str) -> Option<&Region> {
        let (code, i) = self.by_id.get(id)?;
        self.by_code.get(code)?.get(*i)
    }

    fn main_region(&self, code: u16) -> Option<&Region> {
        self.by_code.get(&code)?.first()
    }

    /// The region a number belongs to, among those sharing its country code.
    fn region_for_number(&self, code: u16, nsn: &str) -> Option<&Region> {
        let regions = self.by_code.get(&code)?;
        if regions.len() == 1 {
            return regions.first();
        }
        regions.iter().find(|r| match &r.leading_digits {
            Some(pattern) => re::is_match(pattern, nsn),
            None => r.number_type(nsn) != PhoneType::Unknown,
        })
    }
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut by_code = HashMap::new();
        let mut by_id = HashMap::new();
        for code in 1..1000u16 {
            let Some(plans) = DATABASE.by_code(&code) else {
                continue;
            };
            let regions: Vec<Region> = plans.into_iter().map(Region::new).collect();
            for (i, r) in regions.iter().enumerate() {
                if r.id != NON_GEO_REGION {
                    by_id.insert(r.id.clone(), (code, i));
                }
            }
            by_code.insert(code, regions);
        }
        Tables { by_code, by_id }
    })
}

/// Regular expressions of the numbering plan, compiled once per thread: no lock on the hot path.
mod re {
    use regex::Regex;
    use std::cell::RefCell;
    use std::collections::HashMap;

    thread_local! {
        static CACHE: RefCell<HashMap<String, Option<Regex>>> = RefCell::new(HashMap::new());
    }

    fn with_regex<T>(pattern: &str, f: impl FnOnce(&Regex) -> T) -> Option<T> {
        CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if !c.contains_key(pattern) {
                c.insert(pattern.to_string(), Regex::new(pattern).ok());
            }
            c.get(pattern).and_then(|r| r.as_ref()).map(f)
        })
    }

    pub fn is_match(pattern: &str, text: &str) -> bool {
        with_regex(pattern, |re| re.is_match(text)).unwrap_or(false)
    }

    /// Byte range of the first match.
    pub fn find(pattern: &str, text: &str) -> Option<(usize, usize)> {
        with_regex(pattern, |re| re.find(text).map(|m| (m.start(), m.end()))).flatten()
    }

    /// Byte ranges of the whole first match (index 0) and of each group.
    pub fn captures(pattern: &str, text: &str) -> Option<Vec<Option<(usize, usize)>>> {
        with_regex(pattern, |re| {
            re.captures(text).map(|c| {
                c.iter()
                    .map(|m| m.map(|m| (m.start(), m.end())))
                    .collect::<Vec<_>>()
            })
        })
        .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(raw: &str, region: &str) -> Option<(String, bool)> {
        parse(raw, region)
    }

    #[test]
    fn russian_trunk_prefix_and_toll_free() {
        for raw in [
            "8 (800) 123-45-67",
            "+7 800 123-45-67",
            "+78001234567",
            "8-800-123-45-67",
        ] {
            let p = parse_number(raw, "RU").unwrap();
            assert_eq!(p.e164, "+78001234567", "{raw}");
            assert!(p.valid, "{raw}");
            assert_eq!(p.kind, PhoneType::TollFree, "{raw}");
        }
        let p = parse_number("8 (916) 123-45-67", "RU").unwrap();
        assert_eq!(
            (p.e164.as_str(), p.kind),
            ("+79161234567", PhoneType::Mobile)
        );
        // Written with +7 from anywhere.
        assert_eq!(e164("+7 800 123-45-67", "NL").unwrap().0, "+78001234567");
        assert_eq!(e164("7 916 123 45 67", "RU").unwrap().0, "+79161234567");
    }

    #[test]
    fn international_prefix_of_the_default_region() {
        assert_eq!(e164("810 49 30 123456", "RU").unwrap().0, "+4930123456");
        assert_eq!(
            e164("00 31 6 12345678", "NL").unwrap(),
            ("+31612345678".into(), true)
        );
        assert_eq!(
            e164("011 44 20 7946 0958", "US").unwrap().0,
            "+442079460958"
        );
    }

    #[test]
    fn extensions_are_split_off() {
        let p = parse_number("8 (495) 123-45-67 доб. 123", "RU").unwrap();
        assert_eq!(p.e164, "+74951234567");
        assert_eq!(p.extension.as_deref(), Some("123"));
        let p = parse_number("+1 650 253 0000 ext. 12", "US").unwrap();
        assert_eq!(
            (p.e164.as_str(), p.extension.as_deref()),
            ("+16502530000", Some("12"))
        );
    }

    #[test]
    fn not_numbers() {
        for raw in ["", "abc", "1", "+", "++7", "not a phone", "@@@"] {
            assert_eq!(parse(raw, "RU"), None, "{raw:?}");
        }
        // A national number needs a known default region.
        assert_eq!(parse("916 123 45 67", ""), None);
        assert_eq!(parse("916 123 45 67", "ZZ"), None);
        assert_eq!(parse("+7 916 123 45 67", "").unwrap().0, "+79161234567");
    }

    #[test]
    fn invalid_but_parseable() {
        assert_eq!(e164("12345", "RU").unwrap(), ("+712345".into(), false));
        assert_eq!(
            e164("0000000000", "FR").unwrap(),
            ("+33000000000".into(), false)
        );
    }

    #[test]
    fn vanity_numbers_and_unicode_digits() {
        assert_eq!(e164("1-800-FLOWERS", "US").unwrap().0, "+18003569377");
        assert_eq!(
            e164("\u{FF18}\u{FF19}\u{FF11}\u{FF16}\u{FF11}\u{FF12}\u{FF13}\u{FF14}\u{FF15}\u{FF16}\u{FF17}", "RU")
                .unwrap()
                .0,
            "+79161234567"
        );
    }

    #[test]
    fn rfc3966_uris_and_region_case() {
        assert_eq!(
            e164("tel:253-0000;phone-context=+1-650", "").unwrap().0,
            "+16502530000"
        );
        let p = parse_number("tel:+1-650-253-0000;ext=123", "US").unwrap();
        assert_eq!(
            (p.e164.as_str(), p.extension.as_deref()),
            ("+16502530000", Some("123"))
        );
        assert_eq!(parse("tel:253-0000;phone-context=", "US"), None);
        assert_eq!(e164("8 916 123-45-67", "ru").unwrap().0, "+79161234567");
    }

    #[test]
    fn region_of_shared_country_codes() {
        let kz = parse_number("+7 701 123 45 67", "RU").unwrap();
        assert_eq!(
            (kz.region.as_deref(), kz.kind),
            (Some("KZ"), PhoneType::Mobile)
        );
        let ru = parse_number("8 495 123 45 67", "KZ").unwrap();
        assert_eq!(
            (ru.e164.as_str(), ru.region.as_deref()),
            ("+74951234567", Some("RU"))
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(raw in "\\PC{0,40}", region in "[A-Za-z0-9]{0,3}") {
            let _ = parse_number(&raw, &region);
        }

        #[test]
        fn e164_is_plus_and_digits(raw in "[0-9+() -]{0,20}") {
            if let Some(p) = parse_number(&raw, "RU") {
                proptest::prop_assert!(p.e164.starts_with('+'));
                proptest::prop_assert!(p.e164[1..].chars().all(|c| c.is_ascii_digit()));
                proptest::prop_assert_eq!(p.valid, p.kind != PhoneType::Unknown);
            }
        }
    }

    #[test]
    fn type_names() {
        assert_eq!(
            PhoneType::FixedLineOrMobile.as_str(),
            "FIXED_LINE_OR_MOBILE"
        );
        assert_eq!(PhoneType::TollFree.to_string(), "TOLL_FREE");
    }
}

/// The dialling prefix of a region ("RU" → "+7"), for the phone field's country selector.
pub fn dial_prefix(region: &str) -> Option<String> {
    tables()
        .region(&region.trim().to_ascii_uppercase())
        .map(|r| format!("+{}", r.country_code))
}

#[cfg(test)]
mod dial_tests {
    #[test]
    fn prefixes_of_regions() {
        assert_eq!(super::dial_prefix("ru").as_deref(), Some("+7"));
        assert_eq!(super::dial_prefix("NL").as_deref(), Some("+31"));
        assert_eq!(super::dial_prefix("XX"), None);
    }
}
