//! Tags: a team's own labels on leads ("VIP", "выставка-2026"), in any script. A tag is kept as
//! first written and compared case-folded, so "VIP" and "vip" are one tag.

/// The most characters of a tag.
pub const MAX_TAG: usize = 40;
/// The most tags on one lead.
pub const MAX_TAGS_PER_LEAD: usize = 20;

/// Why a tag cannot be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error("a tag needs a letter or a digit")]
    Empty,
    #[error("a tag has at most {MAX_TAG} characters")]
    TooLong,
}

/// A tag as kept: control characters dropped, spaces collapsed and trimmed.
pub fn clean_tag(raw: &str) -> Result<String, TagError> {
    let tag = raw
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !tag.chars().any(char::is_alphanumeric) {
        return Err(TagError::Empty);
    }
    if tag.chars().count() > MAX_TAG {
        return Err(TagError::TooLong);
    }
    Ok(tag)
}

/// What tags are compared by: the kept tag, case-folded.
pub fn tag_key(tag: &str) -> String {
    tag.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_kept_tidy_and_compared_without_case() {
        assert_eq!(clean_tag("  VIP \t клиент\u{7} ").unwrap(), "VIP клиент");
        assert_eq!(tag_key("VIP Клиент"), tag_key("vip КЛИЕНТ"));
        assert_eq!(tag_key("Ёж"), "ёж");
        assert_eq!(clean_tag("выставка-2026").unwrap(), "выставка-2026");
        assert_eq!(clean_tag("   "), Err(TagError::Empty));
        assert_eq!(clean_tag("-- !"), Err(TagError::Empty));
        assert_eq!(
            clean_tag(&"я".repeat(MAX_TAG)).unwrap().chars().count(),
            MAX_TAG
        );
        assert_eq!(clean_tag(&"я".repeat(MAX_TAG + 1)), Err(TagError::TooLong));
    }
}
