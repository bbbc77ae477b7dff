//! An operator's theme (`[theme]`, validated with the rest of the configuration): colours for the stylesheet's
//! custom properties and a logo held in memory. The pages that use it are the server's.

/// The validated theme.
#[derive(Debug, Clone, Default)]
pub struct Theme {
    /// (the stylesheet's custom property, e.g. `--accent`; a validated `#rrggbb` or `#rgb`)
    pub colours: Vec<(&'static str, String)>,
    /// The logo's bytes and media type.
    pub logo: Option<(bytes::Bytes, &'static str)>,
    pub logo_alt: String,
}

impl Theme {
    /// The CSS that puts the colours in force over the stylesheet's own.
    pub fn css(&self) -> String {
        if self.colours.is_empty() {
            return String::new();
        }
        let decls: Vec<String> = self.colours.iter().map(|(var, v)| format!("{var}: {v};")).collect();
        format!("\n/* [theme] */\n:root {{ {} }}\n", decls.join(" "))
    }
}
