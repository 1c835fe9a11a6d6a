//! Whole-word phrase matching, the one way rules look for words in text:
//! any case, punctuation ignored, "is down" matches "the site IS down!" but
//! "down" does not match "download".

/// Text as lower-case words, ready to be searched for phrases.
pub struct Words(Vec<String>);

impl Words {
    pub fn of(text: &str) -> Self {
        Words(split(text))
    }

    /// Whether the phrase's words stand here in a row.
    pub fn has(&self, phrase: &str) -> bool {
        let needle = split(phrase);
        !needle.is_empty() && self.0.windows(needle.len()).any(|w| w == needle.as_slice())
    }

    /// The first of the phrases found here.
    pub fn first_of<'a>(&self, phrases: &'a [String]) -> Option<&'a str> {
        phrases.iter().find(|p| self.has(p)).map(String::as_str)
    }
}

fn split(text: &str) -> Vec<String> {
    text.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_match_whole_words_in_any_case() {
        let w = Words::of("The site IS down, since the download.");
        assert!(w.has("is down") && w.has("DOWN") && w.has("download"));
        assert!(!w.has("own") && !w.has("site down") && !w.has("  "));
        assert_eq!(w.first_of(&["nope".into(), "since".into()]), Some("since"));
    }
}
