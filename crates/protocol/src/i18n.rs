//! Which language a page is shown in: the client's `ui_locales` for this sign-in first (OIDC
//! Core §3.1.2.1: space-separated BCP 47 tags, most preferred first), then the browser's
//! `Accept-Language` (RFC 9110 §12.5.4: weighted by `q`), then English. Tags match on their
//! primary subtag (`de-CH` is German), case-insensitively.

/// The languages pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    De,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::De];

    /// The BCP 47 tag, for `<html lang>` and `Content-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// The language of a BCP 47 tag, by its primary subtag.
    pub fn of_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?;
        Lang::ALL.into_iter().find(|l| l.tag().eq_ignore_ascii_case(primary))
    }
}

/// The language to use; see the module documentation.
pub fn negotiate(ui_locales: Option<&str>, accept_language: Option<&str>) -> Lang {
    if let Some(lang) = ui_locales.into_iter().flat_map(str::split_whitespace).find_map(Lang::of_tag) {
        return lang;
    }
    let mut weighted: Vec<(u16, Lang)> = accept_language
        .into_iter()
        .flat_map(|h| h.split(','))
        .filter_map(|item| {
            let mut parts = item.split(';');
            let lang = Lang::of_tag(parts.next()?)?;
            let q = parts.find_map(|p| p.trim().strip_prefix("q=").map(quality)).unwrap_or(Some(1000))?;
            (q > 0).then_some((q, lang))
        })
        .collect();
    // Stable: among equal weights the header's order decides.
    weighted.sort_by_key(|(q, _)| std::cmp::Reverse(*q));
    weighted.first().map_or(Lang::En, |(_, l)| *l)
}

/// An RFC 9110 `qvalue` in thousandths; `None` when malformed (the item is then ignored).
fn quality(q: &str) -> Option<u16> {
    let q = q.trim();
    let (int, frac) = q.split_once('.').unwrap_or((q, ""));
    if !matches!(int, "0" | "1") || frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{frac:0<3}").parse::<u16>().ok()?;
    let value = if int == "1" { 1000 } else { thousandths };
    (value <= 1000 && (int == "0" || thousandths == 0)).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_locales_come_first_in_their_own_order() {
        assert_eq!(negotiate(Some("fr-CA de en"), Some("en")), Lang::De);
        assert_eq!(negotiate(Some("en-GB de"), Some("de")), Lang::En);
        assert_eq!(negotiate(Some("fr ja"), Some("de-AT")), Lang::De, "none supported: the browser decides");
    }

    #[test]
    fn accept_language_is_weighted() {
        assert_eq!(negotiate(None, Some("fr;q=0.9, de;q=0.8, en;q=0.7")), Lang::De);
        assert_eq!(negotiate(None, Some("en;q=0.5, DE-ch")), Lang::De);
        assert_eq!(negotiate(None, Some("de;q=0, en;q=0.1")), Lang::En);
        assert_eq!(negotiate(None, Some("de;q=0")), Lang::En, "q=0 means not acceptable");
        assert_eq!(negotiate(None, Some("de, en")), Lang::De, "equal weights keep the header's order");
        assert_eq!(negotiate(None, Some("*")), Lang::En);
    }

    #[test]
    fn malformed_input_falls_back_to_english() {
        for h in ["", ";;;", "de;q=2", "de;q=abc", "de;q=0.1234", ",,,", "\u{fffd}"] {
            assert_eq!(negotiate(None, Some(h)), Lang::En, "{h:?}");
        }
        assert_eq!(negotiate(Some(""), None), Lang::En);
    }

    #[test]
    fn quality_values_follow_the_grammar() {
        assert_eq!(quality("1"), Some(1000));
        assert_eq!(quality("1.000"), Some(1000));
        assert_eq!(quality("0.5"), Some(500));
        assert_eq!(quality("0.05"), Some(50));
        assert_eq!(quality("0"), Some(0));
        assert_eq!(quality("1.5"), None);
        assert_eq!(quality(".5"), None);
    }
}
