//! Salesforce-style error excerpts: the offending line, a caret, and `ERROR at Row:R:Column:C`.

/// Formats `message` the way Salesforce prefixes SOQL errors:
/// `"\n<line>\n<spaces>^\nERROR at Row:R:Column:C\n<message>"`, where R and C are 1-based and
/// C counts characters (not bytes) of the line holding byte `offset`.
pub(crate) fn located(text: &str, offset: usize, message: &str) -> String {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let row = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |p| offset + p);
    let line = &text[line_start..line_end];
    let column = text[line_start..offset].chars().count() + 1;
    format!(
        "\n{line}\n{caret:>width$}\nERROR at Row:{row}:Column:{column}\n{message}",
        caret = "^",
        width = column
    )
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_documented_invalid_field_excerpt() {
        assert_eq!(
            located("SELECT Foo FROM Account", 7, "No such column"),
            "\nSELECT Foo FROM Account\n       ^\nERROR at Row:1:Column:8\nNo such column"
        );
    }

    #[test]
    fn reports_row_and_column_on_later_lines() {
        let text = "SELECT Id\nFROM Account\nWHERE Foo = 1";
        let off = text.find("Foo").unwrap();
        assert_eq!(
            located(text, off, "m"),
            "\nWHERE Foo = 1\n      ^\nERROR at Row:3:Column:7\nm"
        );
    }
}
