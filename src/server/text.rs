//! Text folding shared by search and tag lookup.

use unicode_normalization::UnicodeNormalization;

/// NFKC, then lower case, then trimmed: `Ｐｙｔｈｏｎ` → `python`, `ｶﾀｶﾅ` → `カタカナ`.
pub fn normalize(s: &str) -> String {
    s.nfkc().collect::<String>().to_lowercase().trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn full_width_latin_folds_to_ascii_lower_case() {
        assert_eq!(normalize("Ｐｙｔｈｏｎ"), "python");
    }

    #[test]
    fn half_width_katakana_folds_to_full_width() {
        assert_eq!(normalize("ﾃｽﾄ"), "テスト");
    }

    #[test]
    fn symbols_that_distinguish_languages_survive() {
        assert_eq!(normalize(" C# "), "c#");
        assert_ne!(normalize("C++"), normalize("C"));
    }
}
