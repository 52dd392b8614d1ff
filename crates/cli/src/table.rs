//! Lists as tables: a header row, columns aligned, long cells wrapped to the
//! terminal's width when stdout is one (comfy-table). One style for every
//! list the command line prints.

use comfy_table::{presets, ContentArrangement, Table};

/// `rows` under `headers`, ending with a newline.
pub(crate) fn table<const N: usize>(
    headers: [&str; N],
    rows: impl IntoIterator<Item = [String; N]>,
) -> String {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(headers);
    for row in rows {
        table.add_row(row);
    }
    // Two spaces between columns, none before the first.
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    let mut text: String = table.lines().map(|line| line.trim_end().to_owned() + "\n").collect();
    if text.is_empty() {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::table;

    #[test]
    fn columns_line_up_under_their_headers() {
        let text = table(
            ["NAME", "ROLE"],
            [["alice".to_owned(), "admin".to_owned()], ["bo".to_owned(), "viewer".to_owned()]],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines, ["NAME   ROLE", "alice  admin", "bo     viewer"]);
    }
}
